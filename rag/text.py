"""Small text helpers every stage shares: spans, whitespace, sentences and Danish dates.

Spans are (start, end) character offsets into an unchanged text, so whatever is cut
with them is verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import PurePosixPath

# ---------------------------------------------------------------------------
# Spans and whitespace


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow [start, end) so that text[start:end] == text[start:end].strip()."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def flat(text: str) -> str:
    """Whitespace runs (the source's line and page breaks) as single spaces."""
    return " ".join(text.split())


def capitalised(s: str) -> str:
    """'social- og boligministeren' -> 'Social- og boligministeren' (the rest unchanged)."""
    return s[:1].upper() + s[1:]


def clip(s: str, limit: int = 60) -> str:
    """`s` on one line, cut to `limit` characters with '…' where it was cut."""
    s = flat(s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def shorten(s: str, limit: int = 60) -> str:
    """`s` on one line, quoted, cut to `limit` characters: for notes about unreadable values."""
    return repr(clip(s, limit))


# ---------------------------------------------------------------------------
# Sentences

# A sentence ends at . ! or ? (perhaps followed by a closing quote or bracket) when the next
# word starts with a capital letter or a digit, perhaps after an opening quote or bracket.
SENTENCE_END = re.compile(r"""[.!?]["”»)]?(?=\s+["“„«(]?[A-ZÆØÅ0-9])""")


def split_spans(text: str, separator: re.Pattern[str], start: int = 0, end: int | None = None,
                keep_separator: bool = False) -> Iterator[tuple[int, int]]:
    """The pieces of text[start:end] between matches of `separator`, whitespace trimmed, empty ones skipped.

    With keep_separator the match ends the piece before it (a sentence's full stop);
    without, it belongs to no piece (a blank line between paragraphs).
    """
    end = len(text) if end is None else end
    cursor = start
    for m in separator.finditer(text, start, end):
        s, e = strip_span(text, cursor, m.end() if keep_separator else m.start())
        if e > s:
            yield s, e
        cursor = m.end()
    s, e = strip_span(text, cursor, end)
    if e > s:
        yield s, e


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end], whitespace trimmed, empty ones skipped."""
    return split_spans(text, SENTENCE_END, start, end, keep_separator=True)


# ---------------------------------------------------------------------------
# Danish dates

MONTH_NAMES = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
               "oktober", "november", "december")
MONTHS = {name: n for n, name in enumerate(MONTH_NAMES, start=1)} | {
    "jan": 1, "feb": 2, "febr": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dec": 12,
}  # fmt: skip

# Numeric forms: 22-05-2018, 22.05.2018, 22/5 2018, 2018-05-22.
_DMY = re.compile(r"(\d{1,2})\s*[-./]\s*(\d{1,2})\s*[-./ ]\s*(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DM_YY = re.compile(r"(\d{1,2})/(\d{1,2})[ -](\d{2})")  # "17/2 04" in older Folketing documents
# Words: "7. september 2021", "Den 27. maj 2024", "10 marts 2010", "17. feb. 2010", "1.juli 2012".
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.?\s*([^\W\d_]+)\.?,?\s*(\d{4})")

# A date of any of those forms inside running text (for finding, not for checking).
DATE_IN_TEXT = re.compile(
    r"(?<!\d)(?:\d{1,2}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{4}|\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\.?\s*(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")(?:\b|(?=\d))\.?,?\s*\d{4})(?!\d)",
    re.IGNORECASE,
)


def parse_date(value: str) -> date | None:
    """A date written the way Danish documents and users write it; None when it is not a real date.

    Accepts 2018-05-22, 22-05-2018 (also with . or /), '17/2 04', '24. september 2024', 'Den 27. maj 2024',
    '10 marts 2010' and abbreviated months ('17. feb. 2010'); markdown stars and a time of day
    after an ISO date ('2024-04-30T12:00') are ignored.
    """
    s = flat(value.replace("*", " ")).strip(" ,.")
    s = re.sub(r"(?i)^(?:den|d\.)\s+", "", s)
    s = re.sub(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]\d.*$", r"\1", s)
    try:
        if m := _YMD.fullmatch(s):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DMY.fullmatch(s):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := _DM_YY.fullmatch(s):
            year = int(m[3])
            return date(2000 + year if year < 70 else 1900 + year, int(m[2]), int(m[1]))
        if m := _DAY_MONTH_YEAR.fullmatch(s):
            month = MONTHS.get(m[2].lower())
            if month is not None:
                return date(int(m[3]), month, int(m[1]))
    except ValueError:  # 31 February
        return None
    return None


def to_date(value: object) -> date | None:
    """A date from a form field or API argument: a date, a datetime, a Unix time or text; None when empty.

    Raises ValueError for text that is not a date.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value).date()
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValueError(str(value))
    return parsed


def danish_date(d: date | None) -> str:
    """date(2024, 4, 3) -> '3. april 2024'; '' for None."""
    return f"{d.day}. {MONTH_NAMES[d.month - 1]} {d.year}" if d else ""


def file_stem(file: str) -> str:
    """'sub/dir/svar 12.txt' -> 'svar 12': a document's fallback title."""
    return PurePosixPath(str(file).replace("\\", "/")).stem or str(file)
