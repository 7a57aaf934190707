"""The labelled values of a letter's header: Dato, Sagsnr./J.nr., Dok.nr. (and the contact labels
whose values must be told apart from them), in every layout letters use.

    header_values("Sagsnr.\n2023 - 3926\nDato\n7. september 2021").values
        -> {"sagsnr": "2023 - 3926", "dato": "7. september 2021"}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.ingest.layout import LABEL, lines
from rag.text import DATE_IN_TEXT, MONTHS, flat, shorten, strip_span

_LABELS = {
    "sagsnr": r"sags?\.?\s*nr|sagsnummer|sags?-?\s*id|sag(?:\s*/\s*id)?(?:\s*nr)?(?=\s*\.?\s*(?::|\n|$))|"
              r"j\.?\s*nr|journ?\.?\s*nr|journal\s*nr|journalnummer|ref\.?-?\s*nr|"
              r"vor(?:es)?\s+(?:ref(?:erence)?|sag|j\.?\s*nr)|ref(?:erence)?(?=\s*\.?\s*(?::|\n|$))|eksp\.?\s*nr",
    "doknr": r"dok(?:ument)?\.?\s*(?:nr|id)|doknr|dok(?=\s*\.?\s*(?::|$))",
    "dato": r"dato",
    "bilag": r"bilag(?=\s*\.?\s*(?::|\n|$))",  # a count of enclosures ("1"), above or beside the case number
    # labels whose values only need to be told apart from the ones above
    "cvr": r"cvr-?\s*nr|cvr",
    "aktid": r"akt-?id",
    "tel": r"tlf|telefon|tel(?=\s*\.?\s*(?::|$))",
    "fax": r"telefax|fax",
    "mail": r"e-?mail|mail(?=\s*\.?\s*(?::|$))",
    "web": r"web(?=\s*\.?\s*(?::|$))",
}
# A label starts with a capital and may be glued to what precedes it ("STATSMINISTERIETDato:", "2010Sags nr.:").
_LABEL_ANY = re.compile(r"(?=[A-ZÆØÅ])(?i:(?P<label>"
                        + "|".join(f"(?P<{k}>{v})" for k, v in _LABELS.items()) + r"))\.?\s*:?[ \t]*")
_VALUE = {
    "sagsnr": re.compile(r"(?:[A-ZÆØÅ]{1,5}[ -])?\d(?:[\d/.-]|[A-Z](?=[\d.]))*"
                         r"(?:\s*[-–]\s*(?:[a-zA-Z]{1,3}(?=\d))?\d[\d/.-]*)*"  # "004- u18 - 001317" too
                         r"(?:\s*\+\s*\d[\d\s-]*\d)?"),
    "doknr": re.compile(r"[A-Z]{0,4}\d[\d/.-]*"),
    "dato": DATE_IN_TEXT,
    "bilag": re.compile(r"\d{1,2}(?![\d.])"),
    "cvr": re.compile(r"\d{2}\s?-?\d{2}\s?-?\d{2}\s?-?\d{2}"),
    "aktid": re.compile(r"\d{4,}"),
    "tel": re.compile(r"\+?\d[\d ]{6,}\d"),
    "fax": re.compile(r"\+?\d[\d ]{6,}\d"),
    "mail": re.compile(r"\S+@\S+|\[email protected\]"),
    "web": re.compile(r"(?:https?://|www\.)\S+|\S+\.dk"),
}


# A date glued to the digits before it ("2009-458114. juni 2009"): the day is read as two digits if it can be.
_DATE_THEN_ANY = re.compile(r"(?:[12]\d|3[01]|0?[1-9])\.\s*(?:" + "|".join(sorted(MONTHS, key=len, reverse=True))
                            + r")\.?,?\s*\d{4}", re.IGNORECASE)  # "19. januar 201110/34767": digits may follow
_GLUED_DATE = re.compile(_DATE_THEN_ANY.pattern + r"(?!\d)", re.IGNORECASE)


@dataclass
class Header:
    """Labelled values of a letter's header, and notes on labels whose value could not be read."""

    values: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_NAMES = {"sagsnr": "Sagsnr.", "doknr": "Doknr.", "dato": "Dato"}


def header_values(text: str, exclude: Sequence[tuple[int, int]] = ()) -> Header:
    """Values printed after their labels, in any of the layouts letters use: on the same line
    ("Sagsnr.: 2206199"), on the next line ("Sagsnr.\\n2023 - 3926"), glued ("Sagsnr.1208657Doknr.
    1017528Dato29. august 2012"), or a block of labels with the values below in the same order.
    `exclude` are spans (the question and answer sections) where labels are not looked for."""
    header = Header()
    found = header.values
    rows: list[tuple[str, list[str] | None]] = []  # (line, the label keys it holds, or None for a value line)
    for s, e in _outside(text, exclude):
        line = text[s:e].replace("*", "").strip()  # markdown emphasis, as in "**Sagsnr.**"
        if LABEL.match(line) or re.fullmatch(r"(?i)(?:[a-zæøå.\-]+\s*:\s*){2,}", line) or _glued_labels(line):
            # labels alone (one, or several glued: "Dato:Kontor:Sagsbeh:Sagsnr.:Dok.:"): values follow
            rows.append((line, _keys(line)))
        elif not re.fullmatch(r"[:;.,]*", line):  # a lone ":" left by a two-column layout is no value
            rows.append((line, None))
    waiting: list[str] = []
    in_order = False
    for i, (line, keys) in enumerate(rows):
        if keys is not None:
            waiting += keys
            values = next((j for j in range(i + 1, len(rows)) if rows[j][1] is not None), len(rows)) - i - 1
            in_order = values >= len(waiting) > 1  # labels in a block, values below in the same order
            continue
        if waiting:
            had = "sagsnr" in found
            _assign_waiting(line, waiting, found, header.notes, in_order)
            if not had and found.get("sagsnr") == line.strip(" .,"):
                found["sagsnr"] = _continued(found["sagsnr"], [r for r, _ in rows[i + 1:i + 3]])
            if not _LABEL_ANY.search(line, 1):
                continue  # else labels glued into the values go on: "…MichaëlisSagsnr.: 2012-0032-0266Dok.:456921"
        row = _label_row(line, found)
        for m in _LABEL_ANY.finditer(line):
            key = next(k for k in _LABELS if m[k])
            if key in found or (row and row[0] <= m.start() < row[1]):
                continue  # a label of the row read above
            rest = line[m.end():]
            v = _VALUE[key].match(rest)
            if v is None or re.match(r"[a-zæøå]", rest[v.end():v.end() + 1]) or not _plausible(key, v.group(0)):
                if rest.strip() and key in _NAMES:
                    header.notes.append(f"{_NAMES[key]} kunne ikke læses: {shorten(rest)}")
                continue
            value = v.group(0)
            glued = _GLUED_DATE.search(rest, 1, v.end() + 20) if key != "dato" else None
            if glued and glued.start() < v.end():  # "J.nr. 2009-458114. juni 2009": a date glued on
                value = rest[:glued.start()]
                found.setdefault("dato", glued.group(0))
            found[key] = value.strip(" .,")
    for key in waiting:
        if key in _NAMES and key not in found:
            header.notes.append(f"{_NAMES[key]} står i brevhovedet uden værdi")
    return header


def _continued(value: str, after: list[str]) -> str:
    """A case number broken over lines at its dash ("409" / "-" / "16"), joined as printed."""
    if len(after) == 2 and re.fullmatch(r"[-–/]", after[0]) and re.fullmatch(r"\d[\d/.-]*", after[1]):
        return f"{value}\n{after[0]}\n{after[1]}"
    return value


# A table's row of labels and its row of values flattened onto one line, as PDF extraction and
# one-line copies of letters leave them: "Bilag Sag/ID Nr. Enhed Dato 2022 - 8657 SP 21. februar 2022"
# (the Bilag cell is empty), "Tel. Mail Web CVR-nr. Sags nr. Akt-id 6198 4000 uim@uim.dk www.uim.dk
# 36977191 2023 - 1234 6198". Each label's value is read in the row's order by its type.
_ROW_LABELS = {
    "sagsnr": r"Sag\s?/\s?ID(?:\s?Nr\.?)?|Sags?\.?\s?nr\.?|Sagsnummer|J\.\s?nr\.?|Journal(?:nummer|\s?nr\.?)|"
              r"Ref\.-nr\.|Vor(?:es)?\s+ref\.?|Sag(?![\wæøå])",
    "doknr": r"Dok(?:ument)?\.?\s?(?:nr|id)\.?|Doknr\.?|Dok\.?(?=\s*:)",
    "dato": r"Dato",
    "tel": r"Tlf\.?(?:\s?nr\.?)?|Tel\.?|Telefon",
    "fax": r"Telefax|Fax",
    "mail": r"E-?mail|E-post|Mail",
    "web": r"Web",
    "cvr": r"CVR(?:-|\s)?(?:nr\.?)?",
    "ean": r"EAN(?:\s?nr\.?)?",
    "aktid": r"Akt-?\s?id",
    "bilag": r"Bilag",
    "-": r"Enhed|Kontor|Sagsbeh(?:andler)?\.?|Initialer|Afdeling|Deres\s+ref\.?",
}
# capitalised, in any case after that ("Dato", "DATO", "J. NR.")
_ROW_LABEL = (r"(?=[A-ZÆØÅ])(?i:" + "|".join(f"(?P<{k if k != '-' else 'other'}>{v})" for k, v in _ROW_LABELS.items())
              + r")\s*:?")
_ROW_ONE = re.compile(_ROW_LABEL)
_ANY_ROW_LABEL = r"(?=[A-ZÆØÅ])(?i:" + "|".join(_ROW_LABELS.values()) + r")\s*:?"
# labels apart or glued ("DatoJ. nr.", "Dato:Kontor:Sagsnr.:Dok.:"), then a space before the values
_LABEL_ROW = re.compile(rf"(?<!\S)(?:{_ANY_ROW_LABEL}\s*)+{_ANY_ROW_LABEL}\s+(?=\S)")
_PHONE = re.compile(r"(?:\+45\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d)")
_ROW_VALUE = {
    "sagsnr": _VALUE["sagsnr"], "doknr": _VALUE["doknr"], "dato": _DATE_THEN_ANY,  # "19. april 20102010 - 2200"
    "tel": _PHONE, "fax": _PHONE,
    "mail": _VALUE["mail"], "web": _VALUE["web"], "cvr": re.compile(r"\d{2}\s?-?\d{2}\s?-?\d{2}\s?-?\d{2}(?!\d)"),
    "ean": re.compile(r"\d{13}(?!\d)"), "aktid": re.compile(r"\d{4,}"), "bilag": re.compile(r"\d{1,2}(?=\s|$)"),
}


# A date and a labelled case or document number after it, inside running text: a one-line letter's
# header or footer ("… tilendebragt. 23. marts 2020 J.nr. 2020 - 1474 Venlig hilsen")
_DATED_LABEL = re.compile(r"(?<=[.!?”\"»)]\s)(?:" + DATE_IN_TEXT.pattern + r")\s+(?:"
                          + _ROW_LABELS["sagsnr"] + "|" + _ROW_LABELS["doknr"] + r")\s*:?\s*\S*\d")
_TRAILING_DATE = re.compile(r"(?<=[.!?”\"»)]\s)(?:" + DATE_IN_TEXT.pattern + r")\s*$")
# a date and the ministry's name or unit after it, after a sentence or a table's last number
_DATED_SENDER = re.compile(r"(?<=[.!?”\"»)\d]\s)(?:" + DATE_IN_TEXT.pattern + r")\s+(?=(?:\S+\s+){0,3}?"
                           r"\S*(?:ministeri|afdeling|kontor|styrelse|departement|sekretariat|Koncern))")


def label_row_start(text: str, start: int, end: int, one_line: bool = False) -> int | None:
    """Where a one-line letter's letterhead starts inside text[start:end]: a flattened row of labels
    ("Tel. Mail Web CVR-nr. Sagsnr."); in a letter on one line (`one_line`) also a date with a labelled
    number or the ministry's name after it, or a date that ends the line."""
    patterns = [_LABEL_ROW]
    if one_line:  # a whole letter on one line, not a line of a letter
        patterns += [_DATED_LABEL, _TRAILING_DATE, _DATED_SENDER]
    found = [m.start() for m in (p.search(text, start, end) for p in patterns) if m]
    return min(found) if found else None


def _label_row(line: str, found: dict[str, str]) -> tuple[int, int] | None:
    """Values of a flattened row of labels, in the row's order: a label whose kind of value (date,
    case number, phone, e-mail …) stands next takes it, else its cell was empty; a label we do not
    read ("Enhed", "Kontor") takes one word. Where the order breaks down, a date, case number or
    document number label takes the first value after the row that looks like one. Returns the
    row's span in `line`, or None."""
    m = _LABEL_ROW.search(line)
    if m is None:
        return None
    keys = []
    for one in _ROW_ONE.finditer(m.group(0)):
        keys.append(next(k for k in _ROW_LABELS if one[k if k != "-" else "other"]))
    zone, pos = line[m.end():m.end() + 160], 0
    read: dict[str, str] = {}
    for i, key in enumerate(keys):
        pos = len(zone) - len(zone[pos:].lstrip(" :"))
        if key == "sagsnr" and "sagsnr" in read:
            continue  # read with the document number glued before it
        if key == "-":
            nxt = next((k for k in keys[i + 1:] if k != "-"), None)
            word = re.match(r"\S+", zone[pos:])
            if word and (not re.search(r"\d", word.group(0)) or not (nxt and _ROW_VALUE[nxt].match(zone, pos))):
                pos += word.end()
            continue
        if key == "doknr" and keys[i + 1:i + 2] == ["sagsnr"]:  # "927053004-u18-1346": both, glued
            word = re.match(r"\S+", zone[pos:])
            if word and (split := _glued_doc_and_case(word.group(0))):
                read["doknr"], read["sagsnr"] = split
                pos += word.end()
                continue
        v = _ROW_VALUE[key].match(zone, pos)
        if v and _plausible(key, v.group(0)) and not (key in ("sagsnr", "doknr") and DATE_IN_TEXT.match(zone, pos)):
            read[key] = v.group(0).strip(" .,")
            pos = v.end()
    for key in ("sagsnr", "doknr", "dato"):
        if key in keys and key not in read:
            value = _first_after(zone, key)
            if value and value not in read.values():
                read[key] = value
    glued = _CASE_THEN_DOC.fullmatch(read.get("sagsnr", ""))
    if glued and glued[2] and "doknr" in keys:  # "2012-0032-0156377495": the document number glued after it
        read["sagsnr"], read["doknr"] = glued.groups()
    for key, value in read.items():
        if key in ("sagsnr", "doknr", "dato"):
            found.setdefault(key, value)
    return m.span()


def _first_after(zone: str, key: str) -> str | None:
    """The first value in `zone` that looks like a `key` (date, case or document number)."""
    if key == "dato":
        d = DATE_IN_TEXT.search(zone)
        return d.group(0) if d else None
    for v in _VALUE[key].finditer(zone):
        if not DATE_IN_TEXT.match(zone, v.start()) and (len(re.findall(r"\d", v.group(0))) >= 5
                                                           or re.search(r"\d[-./]\s?\w", v.group(0))):
            return v.group(0).strip(" .,")
    return None


# The ministries' journal numbers, "2022-5074" / "2023 - 3926", on a line of their own
_JOURNAL_LINE = re.compile(r"(?:19|20)\d{2}\s?-\s?\d{3,6}")


def unlabelled_sagsnr(text: str, exclude: Sequence[tuple[int, int]] = ()) -> str | None:
    """A case number printed with no label: a line outside `exclude` that holds only a journal number
    ("2022-5074" under the letter's date). On the 129 development letters every such line was the
    letter's case number."""
    for s, e in _outside(text, exclude):
        line = text[s:e].replace("*", "").strip()
        if _JOURNAL_LINE.fullmatch(line):
            return line
    return None


def _outside(text: str, exclude: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The lines of `text`, less what lies in the `exclude` spans (a letter on one line keeps its header)."""
    out = []
    for s, e in lines(text):
        pieces = [(s, e)]
        for a, b in exclude:
            pieces = [p for ps, pe in pieces for p in ((ps, min(pe, a)), (max(ps, b), pe)) if p[1] > p[0]]
        out += [strip_span(text, ps, pe) for ps, pe in pieces if text[ps:pe].strip()]
    return out


# A ministry's case number, and the document number that may be glued after it ("…2010-156-0268MCO41088")
_CASE_THEN_DOC = re.compile(r"(?<!\d)(\d{4}-\d{3,4}-\d{4})([A-Z]{0,4}\d+)?")
_UNKNOWN_LABEL = re.compile(r"[^:]*?(?=:|$|" + _LABEL_ANY.pattern + ")")  # up to the next label


def _glued_labels(line: str) -> bool:
    """Known labels glued with nothing between them, and nothing else: "DatoDok.idJ. nr."."""
    keys = _keys(line) if len(line) < 40 else []
    return len(keys) >= 2 and "-" not in keys


def _keys(line: str) -> list[str]:
    """The labels of a line of labels, in order: "Sag/ID Nr." is one, "Dato:Kontor:Sagsnr.:" three,
    "DatoDok.idJ. nr." (glued, no colons) three. A label we do not know ("Enhed", "Kontor") is kept
    as "-" so the values below stay in step."""
    keys, pos, line = [], 0, line.strip()
    while pos < len(line):
        if line[pos] in ": \t":
            pos += 1
            continue
        m = _LABEL_ANY.match(line, pos)
        if m and m.end() > pos:
            keys.append(next(k for k in _LABELS if m[k]))
            pos = m.end()
            continue
        nxt = _UNKNOWN_LABEL.match(line, pos + 1)  # always matches (it may stop at the end)
        keys.append("-")
        pos = nxt.end() if nxt else len(line)
    return keys


def _assign_waiting(line: str, waiting: list[str], found: dict[str, str], notes: list[str], in_order: bool) -> None:
    """Give `line` to a waiting label: in a block of labels, the first whose value it looks like (the
    labels before it stayed empty); else the label just above it. A glued value line ("5. maj 2014Asyl-
    og VisumkontoretThomas Højgaard2014-0032-12211122785") may fill several."""
    if len(waiting) > 1:
        d = DATE_IN_TEXT.search(line)
        glued = _CASE_THEN_DOC.search(line)
        if d and glued and d.end() < len(line.strip()):
            if "dato" in waiting and "dato" not in found:
                found["dato"] = d.group(0)
            if "sagsnr" in waiting and "sagsnr" not in found:
                found["sagsnr"] = glued.group(1)
            if glued.group(2) and "doknr" in waiting and "doknr" not in found:
                found["doknr"] = glued.group(2)
            waiting.clear()
            return
        # "19. januar 201110/34767": a date glued to the value of the next label
        d = _DATE_THEN_ANY.match(line.strip())
        if d and "dato" in waiting and "dato" not in found and len(line.strip()) > d.end():
            found["dato"] = d.group(0)
            waiting.remove("dato")
            _assign_waiting(line.strip()[d.end():], waiting, found, notes, in_order)
            return
    value = line.strip()
    split = _glued_doc_and_case(value) if waiting[:2] == ["doknr", "sagsnr"] else None
    if split:
        found.setdefault("doknr", split[0])
        found.setdefault("sagsnr", split[1])
        del waiting[:2]
        return
    order = range(len(waiting)) if in_order else range(len(waiting) - 1, -1, -1)
    for i in order:
        key = waiting[i]
        if key in _VALUE and key not in found and _VALUE[key].fullmatch(value) and _plausible(key, value):
            found[key] = value.strip(" .,")
            # in a block, the labels before it stayed empty; else every other waiting label did
            skipped = waiting[:i] if in_order else waiting[:i] + waiting[i + 1:]
            notes += [f"{_NAMES[k]} står i brevhovedet uden værdi" for k in skipped if k in _NAMES and k not in found]
            del waiting[:i + 1 if in_order else len(waiting)]
            return
    if in_order and waiting[0] in _NUMERIC and not re.search(r"\d", value):
        return  # the second line of the value above ("Kontoret for Organiseret / Kriminalitet"), not this one's
    if in_order and waiting[0] in _NAMES and "-" in waiting:
        waiting.remove("-")  # no value of ours: a column we do not read ("Enhed", "Kontor") had it
        return
    key = waiting.pop(0 if in_order else len(waiting) - 1)
    if key in _NAMES and key not in found:
        notes.append(f"{_NAMES[key]} kunne ikke læses: {shorten(value)}")


def _plausible(key: str, value: str) -> bool:
    """A case number has at least three digits ("601-31", "2022 - 2977"); a lone "1" below "Sag/ID Nr."
    belongs to the column beside it."""
    return key != "sagsnr" or len(re.findall(r"\d", value)) >= 3


def _glued_doc_and_case(value: str) -> tuple[str, str] | None:
    """'790380004-u18-852' under "Dok.id" and "J. nr.": the document number glued to the dashed case
    number after it. The case number starts with a year where one fits ('…2010-156-0268'), else with
    three digits ('004-u18-852'); the document number keeps at least four."""
    m = re.fullmatch(r"(\d{7,})-(\S+)", value)
    if m is None:
        return None
    digits = m[1]
    year = digits[-4:]
    size = 4 if re.fullmatch(r"(?:19|20)\d\d", year) else 3
    return digits[:-size], f"{digits[-size:]}-{m[2]}"


_NUMERIC = {"sagsnr", "doknr", "dato", "cvr", "aktid", "tel", "fax"}  # labels whose values hold digits


def normalise_sagsnr(value: str) -> str:
    """'2024 - 7010' -> '2024-7010': spaces around dashes and slashes removed, for comparing."""
    return re.sub(r"\s*([-–/])\s*", lambda m: "-" if m[1] == "–" else m[1], flat(value))
