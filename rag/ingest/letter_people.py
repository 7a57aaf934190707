"""Who is who in an answer letter: the asking MP, the minister asked, the answering minister and the
signer; and whether the answer is preliminary. Read from the search view's opening (`intro`) and the
lines around the signature, as printed (normalised only in whitespace and line-end hyphenation)."""

from __future__ import annotations

import re

from rag.ingest import committees
from rag.ingest.layout import boilerplate, lines
from rag.text import flat

_WORD = r"[A-ZÆØÅÄÖÜÉÈÁÓÍÚÇ][\w'’.\-]*"  # "Özlem Sara Cekic" too
_NAME = rf"{_WORD}(?:\s+(?:{_WORD}|von|van|de|la|af|den|der))" + r"{0,5}"
_PARTY = r"\(\s*[A-ZÆØÅ][A-Za-zÆØÅæøå]{0,4}\s*\)"
_NAMES = rf"{_NAME}\s*{_PARTY}(?:\s*(?:,|og)\s*{_NAME}\s*{_PARTY})*"
# a member of the Folketing who is not on the committee: "(MFU)", "ikke-medlem af udvalget (MFU)"
_MFU = r"(?:(?i:ikke-?\s?medlem\s+af\s+udvalget)\s*)?(?:\(MFU\)\s*)?"
_ASKER = [
    re.compile(rf"(?i:efter\s*ønske\s*(?:af\s+fra|fra|af))\s*{_MFU}(?P<who>{_NAMES}|{_NAME})"),
    re.compile(rf"(?i:medlem\s+af\s+folketinget)\s+(?P<who>{_NAMES})"),
    re.compile(rf"(?i:folketingsmedlem)\s+(?P<who>{_NAMES}|{_NAME}(?=\s+har\b))"),
    re.compile(rf"(?i:stillet\s*af)\s*{_MFU}(?P<who>{_NAMES})"),  # also glued: "stillet afKarin Nødgaard (DF)"
    re.compile(rf"\bMF\s+(?P<who>{_NAME})(?=\s+spørgsmål)"),  # "svar på MF Sjúrður Skaale spørgsmål af …"
    # "Johanne Schmidt-Nielsen (EL) har den 29. september 2015 stillet følgende spørgsmål"
    re.compile(rf"(?m:^)(?P<who>{_NAMES})\s+har\s+(?:(?:den|d\.)\s+[^\n]{{1,30}}?\s+)?stillet\b"),
    re.compile(rf"(?i:spørgsmål(?:\s+\S+)?\s+fra)\s+(?P<who>{_NAMES}|{_NAME}(?=\s+stillet\b))"),
    re.compile(rf"(?i:spørger):[ \t]*(?P<who>{_WORD}(?:[ \t]+{_WORD}){{0,4}})"),
    re.compile(rf"af:\s*(?P<who>{_NAMES})\s*:"),
    re.compile(rf"\d{{4}}\s+af\s+(?P<who>{_NAMES}|{_NAME}(?=\s+til\s+\S*minister))"),
]
_NOT_A_PERSON = re.compile(r"(?i)udvalg|folketing|minister|regering|christiansborg|kommission")


def asker(intro: str) -> str | None:
    """'Claus Kvist Hansen (DF)' (or several, 'A (V) og B (V)'), from "efter ønske fra …",
    "Medlem af Folketinget …", "stillet af …", "Spørger: …" and the like; None when a committee asked."""
    for pattern in _ASKER:
        m = pattern.search(intro)
        if m and not _NOT_A_PERSON.search(m["who"]) and not committees.find_names(m["who"]):
            return flat(m["who"]).rstrip(".,")
    return None


_MINISTER_ASKED = [
    # ft.dk's record of the question, as copies such as polspy.org print it: "- Minister: kulturministeren"
    re.compile(r"(?m)^[-–•]?\s*Minister:\s*(?P<m>[a-zæøå][a-zæøå,\- ]{0,60}?ministeren)\s*$"),
    re.compile(r"(?i)\btil\s+(?P<m>ministeren\s+for\s+[^.:()]{3,80}?)(?=\s*,?\s*(?:\bsom\b|\bden\b|\baf\b|\.|\(|$))"),
    # a title: words joined by "-", "," and "og" ("udlændinge-, integrations- og boligministeren"), also glued
    # to "til" ("tilforsvarsministeren"); not any words that happen to end in one ("til en …, fra justitsministeren")
    re.compile(r"(?i)\btil\s*(?P<m>(?:[a-zæøå]+-,?\s*|og\s+)*[a-zæøå]*ministeren)\b"),
]


def minister_asked(intro: str) -> str | None:
    """'social- og boligministeren', from "… til social- og boligministeren, som hermed besvares"."""
    for pattern in _MINISTER_ASKED:
        m = pattern.search(intro)
        if m:
            return flat(m["m"])
    return None


_POSSESSIVE = re.compile(
    r"(?P<m>(?:[A-ZÆØÅ][a-zæøå\-]*minister(?:en)?(?:\s+for\s+[^']{3,50}?)?|Ministeren\s+for\s+[^']{3,60}?|"
    r"Statsminister))(?:s|’s|'s)?\s+(?:[A-ZÆØÅ][\wæøå]+\s+){0,3}?(?:[A-ZÆØÅ][\wæøå]+(?:s|’s|'s)\s+)?"
    r"(?:endelige\s+|foreløbige\s+|supplerende\s+)?(?:svar|besvarelse)\b")
_LETTERHEAD_MINISTER = re.compile(r"^(?:[A-ZÆØÅ\- ]*MINISTEREN|[A-ZÆØÅ][a-zæøå\-]*ministeren|MINISTEREN)$")


def answering_minister(head: str, signer_title: str | None) -> str | None:
    """The minister who answers: the signer's title, else the letterhead ("FORSVARSMINISTEREN"), else
    the heading ("Miljøministerens besvarelse af …", "Statsminister … svar på …")."""
    if signer_title:
        return signer_title
    for s, e in lines(head):
        line = head[s:e]
        if _LETTERHEAD_MINISTER.match(line) and line.lower() != "ministeren":
            return line if not line.isupper() else line.capitalize()
    m = _POSSESSIVE.search(head)
    if m:
        title = flat(m["m"])
        return "Statsministeren" if title == "Statsminister" else title
    return None


# ---------------------------------------------------------------------------
# The signature

_SIGNOFF = re.compile(r"(?i)(?:med\s+)?venlig\s+hilsen")
_PERSON = re.compile(rf"^(?P<name>{_WORD}(?:\s+{_WORD}){{1,4}})\s*(?:/\s*(?P<co>.*))?$")
_NOT_A_NAME = re.compile(r"(?i)ministeri|udvalg|folketing|københavn|christiansborg|danmark|side\b|bilag|dato|kontor|"
                         r"holmens|kanal|gade\b|plads|sagsnr|hilsen|offentligt|svar\b|spørgsmål|alm\.|www|afdeling|"
                         r"styrelse|direktorat|sekretariat|\d|"
                         # a sentence's first words, or a lone capital: "Med A…", "Det er", "I dag"
                         r"^(?:med|det|der|den|de|jeg|vi|som|og|på|til|for|af|i|en|et|hermed|se)\s|\s[A-ZÆØÅ](?:\s|$)")
_TITLE = re.compile(r"(?i)minister|statsminister|fg\.|konstitueret")


def signoff(text: str, start: int) -> re.Match[str] | None:
    """The sign-off ("Med venlig hilsen", also split over lines) at or after `start`."""
    return _SIGNOFF.search(text, start)


def signature(text: str, after: int, cover: tuple[int, int] | None = None) -> tuple[str | None, str | None, bool]:
    """(signer, title, acting) from the lines after `after` (the sign-off or the answer's end),
    skipping letterhead and label lines; else from a signature in `cover` (a cover letter's text
    before the question: "Morten Bødskov/Anne Berg …", else "Brian Mikkelsen" on a line of its own)."""
    candidates = list(lines(text, after))[:30]
    found = _first_person(text, candidates, glued_ok=True)
    if found is None and cover:
        pool = list(lines(text, *cover))
        found = _first_person(text, pool, co_signed_only=True) or _first_person(text, pool)
    if found is None:
        return None, None, False
    name, index, pool = found
    title = None
    for s, e in pool[index + 1:index + 3]:
        line = flat(text[s:e].replace("*", ""))
        if _TITLE.search(line) and len(line) < 80 and not line.startswith("/"):
            title = line
            break
    acting = bool(title and re.search(r"(?i)\bfg\.|konstitueret", title))
    return name, title, acting


_INLINE_CO_SIGNED = re.compile(rf"(?<=[.!?”\"»])\s+(?P<name>{_WORD}(?:\s+{_WORD}){{1,3}})\s?/\s?{_WORD}")


def inline_signature(text: str, start: int, end: int) -> int | None:
    """Where a signature co-signed by an official starts inside running text: a letter flattened onto
    one line ("… denne objektive finansiering. Eva Kjer Hansen /Aksel Meyer Departementet Holmens …")."""
    for m in _INLINE_CO_SIGNED.finditer(text, start, end):
        if not _NOT_A_NAME.search(m["name"]):
            return m.start("name")
    return None


def signature_line(line: str, next_line: str) -> bool:
    """A signature where the answer's text would go on: a name co-signed by an official
    ("Karen Ellemann / Sven Koefoed-Hansen", or the official on the next line: "/Kim Holm Boesen")."""
    m = _PERSON.match(_clean(line))
    if not m or _NOT_A_NAME.search(m["name"]):
        return False
    return bool(m["co"] and _PERSON.match(m["co"].strip())) or next_line.lstrip().startswith("/")


def lone_name(line: str) -> bool:
    """A person's name alone on a line (2 to 4 capitalised words): a signature without a sign-off."""
    m = _PERSON.match(_clean(line))
    return bool(m and not m["co"] and not _NOT_A_NAME.search(m["name"]) and not m["name"].isupper()
                and len(m["name"].split()) <= 4)


def _clean(line: str) -> str:
    """A signature line without markdown stars and a rule glued to it ("Nicolai Wammen_____")."""
    return flat(re.split(r"_{3,}", line.replace("*", ""))[0])


def _first_person(text: str, pool: list[tuple[int, int]], co_signed_only: bool = False, glued_ok: bool = False
                  ) -> tuple[str, int, list[tuple[int, int]]] | None:
    for i, (s, e) in enumerate(pool):
        line = _clean(text[s:e])
        nxt = flat(text[pool[i + 1][0]:pool[i + 1][1]]) if i + 1 < len(pool) else ""
        m = _PERSON.match(line)
        if m and not _NOT_A_NAME.search(m["name"]) and not any(w.isupper() for w in m["name"].split()):
            co_signed = bool(m["co"]) or nxt.startswith("/")
            if co_signed or (not co_signed_only and not boilerplate(line)):
                return m["name"], i, pool
        if glued_ok and i == 0 and (name := _name_prefix(line)):
            return name, i, pool  # the whole letter on one line: "Med venlig hilsen Jeppe Kofod Asiatisk Plads 2 …"
    return None


def _name_prefix(line: str) -> str | None:
    """The person's name at the start of running text, stopping before an address or ministry word."""
    words = line.split()
    name: list[str] = []
    for i, w in enumerate(words[:5]):
        if not re.fullmatch(_WORD, w) or _NOT_A_NAME.search(w):
            break
        if len(name) >= 2 and any(re.search(r"\d", x) for x in words[i + 1:i + 3]):
            break  # "Asiatisk Plads 2": a street begins here
        name.append(w)
    return " ".join(name) if 2 <= len(name) <= 4 else None


_BILAG_HEAD = re.compile(r"(?im)^[ \t*]*bilag(?:er|sliste)?[ \t*]*:?[ \t*]*$")


def enclosures(text: str, after: int) -> tuple[str, ...]:
    """The list under a "Bilag:" heading after the signature, one item a line (a title wrapped onto the
    next line continues in lower case)."""
    head = _BILAG_HEAD.search(text, after)
    if head is None:
        return ()
    items: list[list[str]] = []
    for s, e in lines(text, head.end()):
        line = re.sub(r"^(?:[-–•·]|\d+\))\s+", "", flat(text[s:e].replace("*", " ")))
        if not line or boilerplate(line):
            continue
        if items and line[0].islower():
            items[-1].append(line)
        else:
            items.append([line])
    return tuple(" ".join(parts) for parts in items)


# ---------------------------------------------------------------------------
# Preliminary or final

_PRELIMINARY = re.compile(
    r"(?i)foreløbig(?:t|e)?\s+(?:svar|besvar)|besvares\s+foreløbigt|forventes\s+(?:at\s+kunne\s+)?(?:endeligt\s+)?besvaret|"
    r"forventer\s+(?:at\s+)?(?:kunne\s+)?(?:besvare|at\s+besvare)|"
    # "Jeg vender derfor tilbage", "… og vender tilbage herom"; not "sygemeldte … vender tilbage til arbejdsmarkedet"
    r"(?:jeg|vi|\w*ministeriet)\s+vender\s+(?:\S+\s+){0,2}?tilbage|vender\s+(?:\S+\s+){0,2}?tilbage(?!\s+til\b)|"
    r"endelig(?:t|e)?\s+svar\s+forventes|"
    r"endelig(?:t|e)?\s+(?:svar|besvarelse)\s*,?\s*(?:når|så\s+snart|medio|ultimo|primo|senest)|"
    r"besvare[rs]?\s+(?:spørgsmålet\s+)?endeligt\s*,?\s*(?:når|så\s+snart|medio|ultimo|primo|senest)|"
    r"ikke\s+(?:været\s+)?muligt\s+at\s+besvare\s+spørgsmål\w*\s+inden\s+(?:for\s+)?(?:svar)?fristen|"
    r"spørgsmålet\s+vil\s+blive\s+besvaret|\bvil\s+(?:\S+\s+){0,5}besvare\s+spørgsmålet")
_FINAL = re.compile(r"(?i)endelig(?:t|e)?\s+(?:svar|besvarelse)|besvares\s+endeligt|supplerende\s+svar")


def preliminary(heading: str, answer: str) -> bool:
    """A preliminary answer: it says so ("foreløbigt svar", "besvares foreløbigt") or promises the real
    answer later ("forventes besvaret ultimo juni", "vender tilbage"), and no heading calls it final."""
    if _FINAL.search(heading):
        return False
    return bool(_PRELIMINARY.search(heading) or _PRELIMINARY.search(answer))
