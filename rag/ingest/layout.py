"""Reading a letter's layout: a search view of its text, and which lines are not prose.

`View` is the text as patterns want to see it, with a map back to the original offsets:
words hyphenated across a line end joined ("spørgs-\\nmål" -> "spørgsmål", also where PDF
extraction lost the line break: "spørgs-mål"), markdown
stars dropped, and each run of whitespace one space (or one newline when it holds a
line break). Patterns run on the view; every span they find is mapped back, so what
is cut out of the letter is always a verbatim span of the original text.

`boilerplate(line)` says whether a line is letterhead, address, contact details,
an ft.dk stamp, a running footer, a page number, a date or label on its own, a rule:
lines that belong to no question and no answer, so they never end up in a quote.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from rag.text import DATE_IN_TEXT, strip_span

# A word broken at a line end: "spørgs-" + "mål", also where a copy put the lines together with a space
# ("okto- ber 2020"). Not before "og"/"eller"/"samt"/"til", where the hyphen is a real one ("Social-" /
# "og Boligstyrelsen", "sygehus- til praksissektoren").
_HYPHEN_BREAK = re.compile(r"(?<=[a-zæøå])[-\u00ad](?:[ \t]*\n[ \t]*|[ \t]+)?(?=[a-zæøå])(?!(?:og|eller|samt|til)\b)")
_SPACE = re.compile(r"[\s\u00a0]+")


# What the view leaves out or shortens: a hyphenated line break, a markdown star, a run of whitespace.
# (A single plain space is left in the text: it stays what it is, unless it follows another space.)
_SPECIAL = re.compile(rf"(?P<hyphen>{_HYPHEN_BREAK.pattern})|\*|(?P<space>[\s\u00a0]{{2,}}|[^\S ]|\u00a0)")


@dataclass(frozen=True)
class View:
    """The search view of `text`: `.text`, and a map from view offsets back to the original ones.

    The map is stored as runs: from view offset `starts[k]` on, original = view + `shifts[k]`, so
    a 50 MB plain text costs a few numbers per change of shift, not one per character."""

    original: str
    text: str
    starts: array
    shifts: array

    @classmethod
    def of(cls, original: str) -> View:
        out: list[str] = []
        starts, shifts = array("q"), array("q")
        size = 0

        def emit(piece: str, at: int) -> None:
            nonlocal size
            if piece[0] == " " and (not out or out[-1][-1] in " \n"):
                piece, at = piece[1:], at + 1  # a space after a space (a star between them) or at the start
                if not piece:
                    return
            if not shifts or shifts[-1] != at - size:
                starts.append(size)
                shifts.append(at - size)
            out.append(piece)
            size += len(piece)

        pos = 0
        for m in _SPECIAL.finditer(original):
            if m.start() > pos:
                emit(original[pos:m.start()], pos)
            pos = m.end()
            if m["space"] is None:
                continue  # a hyphenated break or a star: left out
            last = out[-1][-1] if out else ""
            if last and last not in " \n":
                emit("\n" if "\n" in m["space"] else " ", m.start())
            elif last == " " and "\n" in m["space"]:
                out[-1] = out[-1][:-1] + "\n"
        if pos < len(original):
            emit(original[pos:], pos)
        return cls(original, "".join(out), starts, shifts)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of view[start:end], whitespace trimmed."""
        if end <= start:
            at = self.at(start)
            return at, at
        return strip_span(self.original, self.at(start), self.at(end - 1) + 1)

    def at(self, start: int) -> int:
        """The original offset of view position `start`."""
        if start >= len(self.text):
            return len(self.original)
        return start + self.shifts[bisect_right(self.starts, start) - 1]


# A physical line this long is a whole letter on one line (polspy.org, eu.dk copies), not a line of a letter
ONE_LINE_LETTER = 300


def physical_line(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """(start, end) of the whole line (between newlines) that holds text[start:end]."""
    stop = text.find("\n", start if end is None else end)
    return text.rfind("\n", 0, start) + 1, len(text) if stop < 0 else stop


def lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line of text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl
        s, e = strip_span(text, pos, stop)
        if e > s:
            yield s, e
        pos = stop + 1


# ---------------------------------------------------------------------------
# Lines that are not prose

_STAMP = re.compile(
    r"""(?x)^(?:
        Offentligt
      | \d{5,}_\d{4}\.png
      | [A-ZÆØÅ]{2,4},?\s+Alm\.?\s*del\b.*                       # SUU Alm.del, SOU Alm.del - endeligt svar på ...
      | (?:L|B|S|F|V|R)\s?\d{1,4}(?:\s+Bilag\s+\d+)?            # L 146, S 1753
      | Aktstk\.?\s*\d+(?:\s+Bilag\s+\d+)?
      | (?:KOM|SEK|COM|JOIN|SWD|EUU)\s*\(\d{4}\)\s*\d+.*
      | .{3,90}?(?:udvalg|Udvalg|Nævn)(?:et|en)?\s+\d{4}-\d{2}(?:\s*\(\d\.\s*samling\))?   # Forsvarsudvalget 2012-13
      | .{0,40}-\s*\d{4}-\d{2}\s*-\s*.{0,40}svar\s+på\s+spørgsmål.*                      # running title of ft.dk
      | PDF\s+to\s+HTML.*
    )$""")
_CONTACT = re.compile(
    r"""(?xi)(?:
        \b(?:tlf|telefon|telefax|fax|tel|e-?mail|e-post|mail|web|www|cvr|ean|giro)\b\.?
      | ^[TFMEW]\s*\+?\d[\d\s]{6,}$ | ^[TFMEW]\s+\S+@\S+$ | ^W\s+\S+\.dk$
      | \S+@\S+\.\w+ | \[email\s+protected\] | https?://[^/\s]+/?$ | www\.\S+ | \.dk\b
      | \b(?:DK-)?\d{4}\s+København\b | \bKøbenhavn\s+[KVSØNC]\b | Christiansborg | Postboks
      | ^(?:Folketinget|Departementet|Ministeren|Lovsekretariatet)$
      | ^[A-ZÆØÅ][\wæøå.'-]*(?:\s[\wæøå.'-]+){0,3}\s\d{1,3}(?:\s?[A-F])?(?:[,.]\s*\d\.?(?:\s*sal)?)?$  # Kanal 22
    )""")
_PAGE = re.compile(r"(?i)^(?:side\s*\d*(?:\s*(?:af|/)\s*\d+)?|\d{1,3}|\d{1,2}\s*/\s*\d{1,2}|-\s*\d+\s*-|\./\.)$")
_RULED = re.compile(r"^[_=]{10,}")
_RULE = re.compile(r"^[_\-–=.•·\s]{6,}$|^[•·]$")
LABEL = re.compile(
    r"(?i)^(?:dato|enhed|kontor|sagsbeh(?:andler)?|sags?\.?\s*nr|sagsnummer|sags?-?\s*id|sag(?:\s*/\s*id)?(?:\s*nr)?|"
    r"j\.?\s*nr|journ?\.?\s*nr|journal\s*nr|journalnummer|dok(?:ument)?\.?\s*(?:nr|id)?|akt-?id|bilag|ref\.?-?\s*nr|"
    r"ref(?:erence)?|vor(?:es)?\s+(?:ref(?:erence)?|sag|j\.?\s*nr)|deres\s+ref(?:erence)?|eksp\.?\s*nr|"
    r"fil-?navn|nr|post|tel|tlf|telefon|fax|telefax|e-?mail|mail|web|cvr-?nr|ean|initialer|afdeling)\.?\s*:?\s*$")
# "J.nr. 2013-0001770", "Dokument nr.: 121702/13…", "Dato: 10. februar 2010Sags nr.: 1001071…"
_LABELLED = re.compile(r"(?i)^(?:j\.?\s*nr|journ?\.?\s*nr|sags?\.?\s*nr|sagsnummer|dok(?:ument)?\.?\s*nr|dato|"
                       r"ref\.?-?\s*nr|vor(?:es)?\s+ref(?:erence)?|cvr-?\s*nr)"
                       r"\.?\s*:?\s*\S*\d")
_LABEL_IN_LINE = re.compile(r"(?:Dato|Sags?\s?nr|Dok\.?\s?nr|J\.\s?nr|Enhed|Kontor|Sagsbeh)\.?\s?:")
_MINISTRY = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ\s,.-]*MINISTER(?:IET|EN)$|^\S*ministeriet$|^Ministeriet\s+for\s.+$")
# A footer's fields between bullets: "og Fødevareministeriet • Slotsholmsgade 12 • 1216"
# (bullets only: cells between "|" are a table's, and a table row may end in a year)
_FOOTER_FIELDS = re.compile(r"(?i)^(?=(?:.*\s•\s){2})"
                            r"(?=.*(?:ministeri|gade\b|vej\b|plads\b|\btlf|\bcvr\b|www\.|@|københavn|postboks))")
_DATE_LINE = re.compile(r"(?i)^(?:københavn|aarhus)?,?\s*(?:den|d\.)?\s*(?:dato:?\s*)?$")


def boilerplate(line: str) -> str | None:
    """What kind of non-prose this (stripped) line is: "page" (ft.dk stamp, running title, page
    number, image name, rule: a page break) or "letterhead" (address, contact, label, date,
    ministry name); None for prose."""
    line = line.replace("*", "").strip()  # markdown emphasis, as in "**Sagsnr.**"
    if not line:
        return "page"
    ruled = _RULED.match(line)  # a footer glued to the rule above it: "_____HOLMENS KANAL 42…TELEFON: …"
    if ruled and line[ruled.end():].strip():
        return boilerplate(line[ruled.end():]) or None
    if _STAMP.match(line) or _PAGE.match(line) or _RULE.match(line):
        return "page"
    if _LABELLED.match(line) or len(_LABEL_IN_LINE.findall(line)) >= 2 or LABEL.match(line) or _MINISTRY.match(line):
        return "letterhead"
    if len(line) <= 160 and _CONTACT.search(line) and not _prose(line):
        return "letterhead"
    if _FOOTER_FIELDS.search(line):
        return "letterhead"
    m = DATE_IN_TEXT.search(line)
    if m and _DATE_LINE.match(line[: m.start()]) and len(line) - m.end() <= 2:
        return "letterhead"
    return None


def _prose(line: str) -> bool:
    """A line that reads as a sentence: several lower-case words, ending like a sentence, or more
    words still, addresses left out ("… kommentere artiklen på www.bt.dk den 26. september 2016")."""
    words = re.findall(r"[a-zæøå]{3,}", line)
    if len(words) >= 6 and line.rstrip()[-1:] in ".?!:;,”\"»)":
        return True
    return len(re.findall(r"\b[a-zæøå]{2,}\b", re.sub(r"\S+@\S+|(?:https?://|www\.)\S+|\S+\.dk\b", " ", line))) >= 6
