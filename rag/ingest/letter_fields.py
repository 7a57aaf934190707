"""The fields of an answer letter, each read where letters of any ministry and year print it.

Every reader takes the letter's search view (`rag.ingest.layout.View`) or its lines and
returns the value as printed, or None: nothing is guessed. A value may be found in
several places (the ft.dk stamp lines, the heading, the opening sentence, the letterhead);
each reader tries them from the most to the least reliable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rag.ingest import committees
from rag.ingest.layout import ONE_LINE_LETTER, View, lines, physical_line
from rag.text import DATE_IN_TEXT, MONTHS, flat, parse_date

# ---------------------------------------------------------------------------
# What the question is: kind, case, number, committee, samling

_CASE = re.compile(
    r"""(?x)(?<![\w.])(?:
        (?P<L>L)\s?(?P<ln>\d{1,3})(?![\d,.]\d)
      | (?P<B>B)\s?(?P<bn>\d{1,3})(?![\d,.]\d)
      | Akt(?:stk|stykke)?\.?\s*(?P<an>\d{1,3})
      | (?P<eu>KOM|SEK|COM|JOIN|SWD)\s*\((?P<ey>\d{4})\)\s*(?P<en>\d{1,4})
    )(?![\w])""")
_S_NUMBER = re.compile(r"(?<![\w.])S\s?(?P<n>\d{1,4})(?!\d)")
_PARAGRAPH = re.compile(r"§\s?(?P<p>20|5)(?![\d])")
_ALM_DEL = re.compile(r"(?i)alm\.?\s*del")
_NUMBER = re.compile(
    r"(?i)(?:spørgsmål|spm)\.?[\s,]*(?:nr\.?)?\s*(?P<s>S\s?)?(?P<n>\d{1,4})(?!\s*[-/.]\s*\d)(?!\d)")
# ft.dk's running title and stamp: "SAU, Alm.del - 2022-23 - Endeligt svar på spørgsmål 85: …"
_TITLE_NUMBER = re.compile(r"(?i)svar\s+på\s+spørgsmål\s+(?P<n>\d{1,4})\b")
_STAMP_COMMITTEE = re.compile(
    r"^(?P<name>.{3,90}?)\s+(?P<y1>(?:19|20)\d\d)-(?P<y2>\d\d)(?:\s*\((?P<n>\d)\.\s*samling\))?$")
_STAMP_ABBR = re.compile(r"^(?P<abbr>[A-ZÆØÅ]{2,4}),?\s+(?:Alm\.?\s*del|[LB]\s?\d|Aktstk|§)")
_URL = re.compile(r"ft\.dk/samling/(?P<samling>\d{5})/(?P<kind>[a-z]+)/(?P<case>[^/\s]+)(?:/spm/(?P<n>\d+))?",
                  re.IGNORECASE)
_CASE_ABBR = re.compile(r"(?<![\w])(?P<abbr>[A-ZÆØÅ]{2,4})(?:\s*[–-]\s*|\s+|,\s*)(?:alm\.?\s*del|[LB]\s?\d|"
                        r"Aktstk|§\s?\d|spm)", re.IGNORECASE)


@dataclass
class Identity:
    """What the question is, as far as the letter (and its address) tells."""

    kind: str | None = None  # "alm. del", "§ 20", "§ 5", "L", "B", "aktstykke", "KOM"
    case: str | None = None  # "L 146", "B 104", "Aktstk. 159", "KOM (2016) 0128"
    number: int | None = None
    s_nr: str | None = None  # "S 1024" for a § 20 question
    udvalg: str | None = None  # the committee's name as printed
    udvalg_kode: str | None = None  # its abbreviation
    samling: str | None = None  # "20191"


def _case_of(m: re.Match[str]) -> tuple[str, str]:
    if m["L"]:
        return "L", f"L {m['ln']}"
    if m["B"]:
        return "B", f"B {m['bn']}"
    if m["an"]:
        return "aktstykke", f"Aktstk. {m['an']}"
    return "KOM", f"{m['eu'].upper()} ({m['ey']}) {m['en']}"


def stamp_lines(text: str) -> list[str]:
    """ft.dk's stamp lines ("Sundhedsudvalget 2017-18", "SUU Alm.del", "L 146", "Offentligt") and running
    titles ("… - 2017-18 - Endeligt svar på spørgsmål 58: …"), wherever the page put them."""
    out = []
    for s, e in lines(text):
        line = text[s:e]
        if _STAMP_COMMITTEE.match(line) and ("udvalg" in line.lower() or "nævn" in line.lower()):
            out.append(line)
        elif re.search(r"(?i)\d{4}-\d{2}.{0,30}?svar\s+på\s+spørgsmål\s+\d", line) or re.match(
                r"(?i)^(?:[A-ZÆØÅ]{2,4}\s+Alm\.?\s*del|L\s?\d+)\s*-?\s*(?:endeligt\s+)?svar\s+på\s+spørgsmål", line):
            out.append(line)
        elif _STAMP_ABBR.match(line) or re.fullmatch(r"(?:[LBS]\s?\d{1,4}|Aktstk\.?\s*\d+)(?:\s+Bilag\s+\d+)?", line):
            out.append(line)
    return out


def identity(view: View, head: str, question_marker: str, meta_url: str | None) -> Identity:
    """Kind, case, number, committee and samling, from the stamp lines, the letter's own heading and
    opening (`head`: the text before the question), the question marker, and an ft.dk address
    (printed in the text, or from the sidecar's `url`)."""
    ident = Identity()
    stamps = stamp_lines(view.original)
    for line in stamps:
        m = _STAMP_COMMITTEE.match(line)
        if m and ident.samling is None:
            ident.samling = f"{m['y1']}{m['n'] or 1}"
            ident.udvalg = ident.udvalg or flat(m["name"])
        m = _STAMP_ABBR.match(line)
        if m and committees.abbreviation(m["abbr"]):
            ident.udvalg_kode = ident.udvalg_kode or committees.abbreviation(m["abbr"])
            if _ALM_DEL.search(line) and not _CASE.search(line):
                ident.kind = ident.kind or "alm. del"
        case = _CASE.search(line)
        if case and line.split()[0] in ("L", "B", "Aktstk.", "Aktstk", line.split()[0]) and len(line) < 30:
            ident.kind, ident.case = _case_of(case)
        s = _S_NUMBER.fullmatch(line)
        if s:
            ident.kind, ident.s_nr = "§ 20", f"S {s['n']}"
    # The number: the question's own heading, else ft.dk's running title, else the opening sentence.
    marker_number = _NUMBER.search(question_marker)
    title_number = next((m for line in stamps for m in [_TITLE_NUMBER.search(line)] if m), None)
    if marker_number is None and title_number is not None and not _S_NUMBER.search(question_marker):
        ident.number = int(title_number["n"])
    # The committee that asked, as the letter itself names it, before the page it is filed on.
    stamp_udvalg, stamp_kode = ident.udvalg, ident.udvalg_kode
    ident.udvalg = ident.udvalg_kode = None
    own = "\n".join(line for line in head.split("\n") if line not in stamps)
    # addresses are read below as addresses: "…/lovforslag/L196/bilag/4/…" names a bill, not the question's kind
    _from_words(ident, re.sub(r"https?://\S+", " ", question_marker + "\n" + own))
    ident.udvalg = ident.udvalg or stamp_udvalg
    ident.udvalg_kode = ident.udvalg_kode or stamp_kode
    for url in [meta_url, *re.findall(r"https?://\S*ft\.dk/samling/\S+", view.original)]:
        if url:
            _from_url(ident, url)
    if ident.udvalg_kode is None and ident.udvalg:
        ident.udvalg_kode = committees.abbreviation(ident.udvalg)
    if ident.kind is None and ident.udvalg_kode and ident.number is not None:
        # A committee's numbered question about no bill, aktstykke or EU proposal is, by the
        # Folketing's rules, an "alm. del" question even where the letter does not say so.
        ident.kind = "alm. del"
    return ident


def _from_words(ident: Identity, text: str) -> None:
    """Fill what is still missing from the heading, opening sentence and question marker."""
    if ident.number is None:
        for m in _NUMBER.finditer(text):
            if m["s"]:
                ident.kind, ident.s_nr = "§ 20", f"S {m['n']}"
            ident.number = int(m["n"])
            break
    if ident.s_nr is None and ident.kind in (None, "§ 20"):
        s = re.search(r"(?i)(?:nr\.|spørgsmål|spm\.?)\s*S\s?(?P<n>\d{1,4})\b", text)
        if s:
            ident.kind, ident.s_nr, ident.number = "§ 20", f"S {s['n']}", int(s["n"])
    if ident.kind is None or (ident.kind == "alm. del" and ident.case is None):
        case = _CASE.search(text)
        paragraph = _PARAGRAPH.search(text)
        if case and ident.kind is None:
            ident.kind, ident.case = _case_of(case)
        elif paragraph and ident.kind is None:
            ident.kind = f"§ {paragraph['p']}"
        elif _ALM_DEL.search(text) and ident.kind is None:
            ident.kind = "alm. del"
    names = committees.find_names(text)
    if names and ident.udvalg is None:
        # The committee that asked: the one named with "Folketingets", else the first one named.
        best = next((n for n in names if n[1].group(0).lower().startswith("folketingets")), names[0])
        ident.udvalg = flat(best[1].group(0))
        ident.udvalg_kode = ident.udvalg_kode or best[0]
    if ident.udvalg_kode is None:
        for m in _CASE_ABBR.finditer(text):
            if committees.abbreviation(m["abbr"]) and m["abbr"].isupper():
                ident.udvalg_kode = committees.abbreviation(m["abbr"])
                break


_URL_KINDS = {"almdel": "alm. del", "spoergsmaal": "§ 20", "lovforslag": "L", "beslutningsforslag": "B",
              "aktstykke": "aktstykke", "kommissionsforslag": "KOM"}


def _from_url(ident: Identity, url: str) -> None:
    """ft.dk/samling/20171/almdel/suu/spm/940/... : samling, kind, committee, number."""
    m = _URL.search(url)
    if not m:
        return
    ident.samling = ident.samling or m["samling"]
    kind = _URL_KINDS.get(m["kind"].lower())
    case = m["case"]
    if kind == "§ 20":
        s = re.fullmatch(r"(?i)s(\d+)", case)
        if s and ident.s_nr is None:
            ident.kind, ident.s_nr, ident.number = "§ 20", f"S {s[1]}", ident.number or int(s[1])
        return
    if kind == "alm. del":
        ident.kind = ident.kind or kind
        ident.udvalg_kode = ident.udvalg_kode or committees.abbreviation(case.upper())
    elif kind and ident.kind is None:
        c = _CASE.search(case.replace(".", ". ").replace("(", " ("))
        ident.kind = kind
        if c:
            ident.case = ident.case or _case_of(c)[1]
    if m["n"] and ident.number is None:
        ident.number = int(m["n"])


# ---------------------------------------------------------------------------
# Dates

_ASKED = re.compile(
    r"(?i)(?:(?:ved\s+|i\s+)?brev\s+af|har(?:\s+(?:den|d\.))?|stillet\s+(?:den|d\.)?|\baf(?:\s+den)?|udvalget\s+(?:den|d\.))\s*"
    r"(?P<date>" + DATE_IN_TEXT.pattern + r")|\bden\s+(?P<date2>" + DATE_IN_TEXT.pattern + r")\s+(?=stillet|til\b)"
    r"|stillet\b[^.]{0,160}?\bden\s+(?P<date3>" + DATE_IN_TEXT.pattern + ")")
# "har d. 7. februar stillet": a date without its year, which the letter's own date gives
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_ASKED_NO_YEAR = re.compile(r"(?i)\b(?:den|d\.|brev\s+af)\s+(?P<day>\d{1,2})\.\s*(?P<month>" + _MONTH_NAMES
                            + r")\b\.?(?:\s+(?P<yy>\d{2}))?\s+(?=stillet)")  # or a two-digit year: "28. januar 13"


# The minister's own letter, named by an enclosure sheet: "Bilag til udenrigsministerens skrivelse af
# 23. januar 2006" (ft.dk's stamp lines may stand between the words)
_OWN_LETTER = re.compile(r"(?i)ministerens\s+(?:\S+\s+){0,2}?skrivelse\s+af\s+(?P<date>" + DATE_IN_TEXT.pattern + ")")


def asked_date(intro: str, letter: date | None = None) -> tuple[date | None, str | None]:
    """The date the question was asked, from the opening sentence ("har den 3. maj 2018 stillet",
    "i brev af 12. maj 2020", "stillet den 23. januar 2024", "spørgsmål ... af 26. august 2014"),
    and the text found there (kept for a note when it is no real date). A date without a year
    ("har d. 7. februar stillet") takes the year of the `letter`'s date, or the year before when
    that would put the question after the answer."""
    own = _OWN_LETTER.search(intro)
    m = next((m for m in _ASKED.finditer(intro)
              if not (own and m.start() < own.end() and m.end() > own.start("date"))), None)
    if m:
        raw = m["date"] or m["date2"] or m["date3"]
        return parse_date(raw), raw
    m = _ASKED_NO_YEAR.search(intro)
    if m and letter:
        month = MONTHS[m["month"].lower()]
        year = letter.year - (1 if (month, int(m["day"])) > (letter.month, letter.day) else 0)
        if m["yy"]:  # the latest year ending so that is not after the letter
            year = letter.year // 100 * 100 + int(m["yy"])
            year -= 100 if year > letter.year else 0
        return parse_date(f"{m['day']}. {m['month']} {year}"), m.group(0).strip()
    m = re.search(r"(?i)\b(?:den|d\.)\s+(?P<raw>\d\S*(?:\s+\S+){0,2}?)\s+stillet\b", intro)
    if m:  # "har d. 99. smeptember 20x4 stillet": a date was meant, but it cannot be read
        return None, m["raw"]
    m = re.search(r"\((?P<d>\d{1,2}/\d{1,2}\s+\d{2,4})\)", intro)  # "Til statsministeren (14/1 04) af:"
    return (parse_date(m["d"]), m["d"]) if m else (None, None)


def letter_date(view: View, labelled: str | None, skip: list[tuple[int, int]]) -> date | None:
    """The letter's own date: its "Dato" label (also glued: "STATSMINISTERIETDato: 17. feb. 2010"),
    else the first date outside the question and answer (`skip`, original offsets) that is not the
    date the question was asked ("har den 3. maj 2018 stillet", "i brev af …")."""
    if labelled:
        d = parse_date(labelled)
        if d:
            return d
    own = _OWN_LETTER.search(view.text)
    if own and parse_date(own["date"]):
        return parse_date(own["date"])
    asked = [m.span() for m in _ASKED.finditer(view.text)]
    for m in DATE_IN_TEXT.finditer(view.text):
        at = view.at(m.start())
        inside = any(a <= at < b for a, b in skip)
        if (inside and not _in_one_line_letterhead(view.text, m.start())) or any(a <= m.start() < b for a, b in asked):
            continue
        d = parse_date(m.group(0))
        if d:
            return d
    return None


_SENTENCE_END = re.compile(r"[a-zæøå]{3,}[.?!:]\s+[A-ZÆØÅ]")  # not "J.nr. SN 2001-101"


def _in_one_line_letterhead(text: str, at: int) -> bool:
    """Whether `at` lies in the letterhead of a letter printed on one line, before its first sentence
    ("… ERHVERVSMINISTEREN 11. maj 2022 Besvarelse af spørgsmål 9 …"), where a question found too
    early may have taken it."""
    start, end = physical_line(text, at)
    first = _SENTENCE_END.search(text, start, end)
    return end - start >= ONE_LINE_LETTER and (first is None or at < first.start())
