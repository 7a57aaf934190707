"""Parse one oral § 20 question exchange from Folketingets spørgetid.

Input is the text of one segment cut from the plenary record (PDF text
extraction): it runs from a ``Spm. nr. S <n>`` heading to the next question.
Layout:

    Spm. nr. S 101 [(omtrykt)]
    13) Til miljøministeren af:
    Mai Villadsen (EL) [(medspørger: Rosa Lund (EL))]:
    <printed question>
    [Skriftlig begrundelse
     <written motivation>]
    [(Spørgsmålet er udgået ...).]
    Den fg. formand (Annette Lind):
    <chair's words>
                                                  Kl. 14:36
    Miljøministeren (Magnus Heunicke):
    <the minister's answer>
                                                  Kl. 14:38
    ...

PDF extraction noise is kept as it is, so the parser has to cope with lines
run together: ``S 51013) Til ...`` (S number glued to the agenda number),
``af:Peder Hvelplund (EL):``, ``(EL):Det ser ud ...``, ``2022.Den fg. formand
(Annette Lind):`` and ``Kl. 14:39Den fg. formand (Annette Lind):``.

All spans are character offsets into the unchanged text, so
``text[s.start:s.end]`` is the verbatim turn (leading/trailing whitespace
stripped). Display clean-up (joining lines, dropping indents) belongs
elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from rag.ingest.turns import Turn, find_timestamps, iter_turns
from rag.records import Document, Section
from rag.text import flat, parse_date, strip_span

__all__ = ["parse_s20"]

# --- patterns ---------------------------------------------------------------

# The question heading; must occur near the start of the text.
_HEADING_WINDOW = 300
_SPM_RE = re.compile(r"(?m)^[ \t\ufeff]*Spm\.\s*nr\.\s*S\s?(?P<digits>\d+)(?P<omtrykt>\s*\(omtrykt\))?")
# What follows the S number: optional agenda number, addressed minister, asker.
_AGENDA_RE = re.compile(r"\s*(?P<agenda>\d{1,3})\)\s*")
# "Til miljøministeren af:"; a written answer of 2004 adds the date asked: "Til statsministeren (14/1 04) af:"
_TIL_RE = re.compile(r"Til\s+(?P<minister>[^\n]+?)(?:\s*\((?P<asked>\d{1,2}/\d{1,2}\s*\d{2,4})\))?\s+af:\s*")
# The headings of a written answer, with its date: "Svar (21/1 04)", "Supplerende svar (17/2 04)".
_WRITTEN_ANSWER_RE = re.compile(
    r"(?m)^[ \t]*(?:Supplerende\s+)?[Ss]var(?:\s*\((?P<date>\d{1,2}/\d{1,2}\s*\d{2,4})\))?[ \t]*$")
_PARTY = r"[A-ZÆØÅ]{1,4}"
_ASKER_RE = re.compile(
    r"(?P<asker>[^\W\d_][^\n():]{0,80}? \((?P<party>" + _PARTY + r")\))"
    r"(?P<med> \(medspørger: [^()\n]{1,80}\([^()\n]{1,10}\)\))?:"
)

# May be glued to the question's last line or to the text that follows it.
_SKRIFTLIG_RE = re.compile(r"Skriftlig begrundelse")
# The printed withdrawal note, "(Spørgsmålet er udgået af dagsordenen)." or
# "(Spørgsmålet er udgået, da det er taget tilbage af spørgeren)."; it may stand
# under the chair's heading. Unparenthesised, it only counts before the first turn.
_WITHDRAWN_RE = re.compile(r"\(?Spørgsmålet er (?:udgået|trukket tilbage|taget tilbage|bortfaldet)")
_WITHDRAWN_NOTE_RE = re.compile(r"\(Spørgsmålet er (?:udgået|trukket tilbage|taget tilbage|bortfaldet)")

_FILE_RE = re.compile(r"(?:^|_)(?P<samling>\d{5})_S(?P<nr>\d+)_(?P<date>\d{4}-\d{2}-\d{2})(?:\.\w+)?$")

# --- the header ---------------------------------------------------------------


@dataclass
class _Header:
    s_digits: str
    agenda: int | None
    minister: str | None
    asker: str | None
    medspoerger: str | None
    question_start: int  # after the asker heading (or after the "Til ... af:" line)
    notes: list[str]
    asked: str | None = None  # the date asked, where printed ("14/1 04")


def _split_glued(digits: str, known_nr: str | None) -> tuple[str, int | None, str | None]:
    """Split "51013" (S number run into agenda number "13)") into ("510", 13).

    With the S number known (from meta or the file name) the split is exact;
    otherwise it is a guess: agenda numbers are small (at most 60) and the
    S numbers of 2023 have three digits.
    """
    if known_nr and digits.startswith(known_nr) and len(digits) > len(known_nr):
        rest = digits[len(known_nr) :]
        if not rest.startswith("0"):
            return known_nr, int(rest), None
    splits = [
        (digits[:i], int(digits[i:]))
        for i in range(1, len(digits))
        if not digits[i:].startswith("0") and 1 <= int(digits[i:]) <= 60
    ]
    if not splits:
        return digits, None, "S-nummeret hænger sammen med dagsordenens nr. og kunne ikke skilles ad"
    three = [sp for sp in splits if len(sp[0]) == 3]
    nr, agenda = three[0] if three else max(splits, key=lambda sp: len(sp[0]))
    return nr, agenda, "S-nummeret hænger sammen med dagsordenens nr.; adskillelsen er gættet"


def _parse_header(text: str, m_spm: re.Match[str], known_nr: str | None) -> _Header:
    notes: list[str] = []
    digits = m_spm.group("digits")
    pos = m_spm.end()
    agenda: int | None = None
    if not m_spm.group("omtrykt") and text.startswith(")", pos):
        # "Spm. nr. S 51013) Til ...": the agenda number is glued to the S number.
        digits, agenda, note = _split_glued(digits, known_nr)
        if note:
            notes.append(note)
        pos += 1
        while pos < len(text) and text[pos] in " \t":
            pos += 1
    else:
        m_ag = _AGENDA_RE.match(text, pos)
        if m_ag:
            agenda = int(m_ag.group("agenda"))
            pos = m_ag.end()
        else:
            while pos < len(text) and text[pos].isspace():
                pos += 1

    minister = asker = med = None
    m_til = _TIL_RE.match(text, pos)
    asked = None
    if m_til:
        minister = m_til.group("minister").strip()
        asked = m_til.group("asked")
        pos = m_til.end()
    else:
        notes.append("ingen linje 'Til <minister> af:'")
    m_ask = _ASKER_RE.match(text, pos)
    if m_ask:
        asker = m_ask.group("asker").strip()
        if m_ask.group("med"):
            med = m_ask.group("med").strip()[len("(medspørger: ") : -1]
        pos = m_ask.end()
    else:
        notes.append("ingen spørger efter 'Til ... af:'")
    return _Header(digits, agenda, minister, asker, med, pos, notes, asked)


def _question_span(text: str, start: int, turns: list[Turn]) -> tuple[int, int]:
    """The printed question: from `start` to before "Skriftlig begrundelse",
    the withdrawal note, the first time stamp or the first speaker turn."""
    ends = [len(text)]
    for rx in (_SKRIFTLIG_RE, _WITHDRAWN_RE, _WRITTEN_ANSWER_RE):
        m = rx.search(text, start)
        if m:
            ends.append(m.start())
    stamps = find_timestamps(text, start)
    if stamps:
        ends.append(stamps[0])
    if turns:
        ends.append(turns[0].head_start)
    return strip_span(text, start, min(ends))


# --- meta ---------------------------------------------------------------------


def _get(meta: Mapping[str, object], *keys: str) -> str | None:
    """The first non-blank value among `keys`, stripped, as a string."""
    for key in keys:
        value = meta.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1", "yes", "ja", "y", "t"}



# --- the parser ---------------------------------------------------------------


def parse_s20(text: str, file: str, meta: Mapping[str, str] | None = None) -> Document | None:
    """Parse one § 20 exchange, or return None if `text` is not one.

    `meta` is an optional row of the corpus's manifest.csv (keys file,
    samling, moede, date, spm, to_minister, asker, withdrawn, question,
    ft_referat_url). Without it, samling and date come from the file name
    (``ft_s20_20222_S101_2023-01-18.txt``).
    """
    m_spm = _SPM_RE.search(text[:_HEADING_WINDOW])
    if not m_spm:
        return None

    meta = meta or {}
    notes: list[str] = []
    m_file = _FILE_RE.search(PurePosixPath(file.replace("\\", "/")).name)
    meta_nr = (_get(meta, "spm") or "").removeprefix("S").strip() or None
    known_nr = meta_nr or (m_file.group("nr") if m_file else None)

    hdr = _parse_header(text, m_spm, known_nr)
    notes.extend(hdr.notes)
    s_nr = f"S {hdr.s_digits}"
    if meta_nr and meta_nr != hdr.s_digits:
        notes.append(f"S-nummer i teksten ({s_nr}) afviger fra manifestet (S {meta_nr})")

    meta_minister, meta_asker = _get(meta, "to_minister"), _get(meta, "asker")
    minister_addressed = hdr.minister or meta_minister
    if meta_minister and hdr.minister and flat(meta_minister).casefold() != flat(hdr.minister).casefold():
        notes.append(f"adresseret minister afviger fra manifestet: {meta_minister!r}")
    spoerger = hdr.asker or meta_asker
    if meta_asker and hdr.asker and flat(meta_asker).casefold() != flat(hdr.asker).casefold():
        notes.append(f"spørger afviger fra manifestet: {meta_asker!r}")

    turns = iter_turns(text, hdr.question_start)
    q_start, q_end = _question_span(text, hdr.question_start, turns)
    sections: list[Section] = []
    if q_end > q_start:
        sections.append(Section("question", q_start, q_end))
    else:
        notes.append("intet trykt spørgsmål fundet")

    answering: str | None = None
    for t in turns:
        if t.role != "minister":
            continue
        if t.end <= t.start:
            notes.append(f"tom ministertur (tegn {t.head_start})")
            continue
        sections.append(Section("answer", t.start, t.end, speaker=t.speaker))
        if answering is None:
            answering = t.speaker

    # The printed note "(Spørgsmålet er udgået ...)" comes before any turn.
    before_turns = turns[0].head_start if turns else len(text)
    withdrawn = (
        _truthy(_get(meta, "withdrawn"))
        or bool(_WITHDRAWN_RE.search(text, hdr.question_start, before_turns))
        or bool(_WITHDRAWN_NOTE_RE.search(text, hdr.question_start))
    )
    if not withdrawn and answering is None:
        notes.append("ingen ministertur fundet")

    samling = _get(meta, "samling") or (m_file.group("samling") if m_file else None)
    meta_date = _get(meta, "date", "dato")
    dato = parse_date(meta_date) if meta_date else None
    if meta_date and dato is None:
        notes.append(f"ugyldig dato i manifestet: {meta_date!r}")
    if dato is None and m_file:
        dato = parse_date(m_file.group("date"))
    written = [m["date"] for m in _WRITTEN_ANSWER_RE.finditer(text, hdr.question_start) if m["date"]]
    if dato is None and written:
        dato = parse_date(written[-1])  # the last (final) written answer
    moede = _get(meta, "moede")
    url = _get(meta, "ft_referat_url", "url")

    title = f"§ 20-spørgsmål {s_nr}"
    if minister_addressed:
        title += f" til {minister_addressed}"

    return Document(
        file=file,
        kind="s20",
        text=text,
        title=title,
        sections=tuple(sections),
        dato=dato,
        asked_date=parse_date(hdr.asked) if hdr.asked else None,
        minister_addressed=minister_addressed,
        spoerger=spoerger,
        question=text[q_start:q_end] if q_end > q_start else None,
        s_nr=s_nr,
        samling=samling,
        moede=moede,
        answering_minister=answering,
        withdrawn=withdrawn,
        url=url,
        notes=tuple(notes),
    )
