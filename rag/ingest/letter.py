"""Parse a minister's written answer to a question from the Folketing into a `Document`.

Real letters come in every layout: each ministry has its own letterhead, the opening sentence
takes a dozen forms, "Spørgsmål"/"Svar" headings may be missing or glued to the text, and
ft.dk's copies add stamp lines, image names and running titles. So the parser does not fit a
template; it finds landmarks that all letters share:

1. the answer marker ("Svar:", "Svar", "Endeligt svar:", glued "SvarDer …") and the question
   marker before it ("Spørgsmål nr. 13:", "FOU B8 spørgsmål 1:", "… følgende spørgsmål:”…");
   without markers, the quoted question after the opening sentence;
2. the question: the text between the two; the answer: from the answer marker to the
   sign-off, leaving out every line that is letterhead, address, stamp, footer, page number,
   date or label (`rag.ingest.layout.boilerplate`), so none of them is ever quoted;
3. the fields, each read where letters print it (`letter_fields`, `letter_people`).

Patterns run on a search view with hyphenation and whitespace normalised; every section is
mapped back to a verbatim span of the original text. A field the letter does not print is
None; nothing is guessed. Nothing here raises on any input; a text that is not an answer
letter gives None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.ingest import letter_fields as fields
from rag.ingest import letter_header as labels
from rag.ingest import letter_people as people
from rag.ingest.layout import ONE_LINE_LETTER, View, boilerplate, lines, physical_line
from rag.records import Document, Section
from rag.text import DATE_IN_TEXT, file_stem, flat, shorten, strip_span

__all__ = ["normalise_sagsnr", "parse_letter", "titled"]

# Where a heading may start: a line start, or right after the end of a sentence, a quote or a colon
# (PDF extraction glues headings to the text before them).
_AFTER = r"(?:(?<=\n)|^|(?<=[.:?!”\"»)])\s?|(?<=\n\d )|(?<=\n\d\d ))"  # also after a page number: "\n2 Spørgsmål"
_HEADING = (r"(?P<marker>(?:Ad\s+)?"
            r"(?:(?:[A-ZÆØÅ]{2,4}\s*[–-]?\s*(?:[LB]\s?\d{1,3}|alm\.?\s*del)\s*[–-]?\s*|§\s?\d+\s+"
            r"|[A-ZÆØÅ]{2,4}\s+(?=[Ss]pørgsmål\s*(?:nr\.?\s*)?\d{1,4}\s*:))[Ss]|S)pørgsmål"  # "URU spørgsmål 23:"
            r"(?:\s*nr\.?)?\s*(?:S\s?)?\d{0,4}(?:\s*\([^()\n]{1,40}\))?"
            # the case after the number: "Spørgsmål nr. 4 KOM (2013) 0173"
            r"(?:\s+(?:ad\s+)?(?:KOM\s*\(\d{4}\)\s*\d{1,4}|[LB]\s?\d{1,3}|alm\.\s*del))?"
            # what it is about, up to the colon before the quoted question: "Spørgsmål nr. 76 vedrørende
            # forslag til lov om … (L 163) fra Folketingets Retsudvalg:\n”Ministeren …"
            r"(?:\s+(?:vedrørende|vedr\.)\s+[^:”\"»]{1,600}?:(?=\s*[”\"»“„])|\s+(?:til|ad|fra|af)\s+[^:\n”\"»]{1,100})?)"
            r"\s*(?::|(?=\n)|(?=[”\"»“„])|(?=\s[A-ZÆØÅ][a-zæøå]))")
_QUESTION = re.compile(
    # "Ad" ("re:") marks a heading wherever it stands: "Den 6. januar 2005 Ad EUU alm. del - Spørgsmål 10"
    r"(?:" + _AFTER + r"|(?<=\s)(?=Ad\s))" + _HEADING
    # a heading glued to the word before it: "…tiludenrigsministerenSpørgsmål 140:”Ministeren …", "L 195Spørgsmål 41:"
    + r"|(?<=[a-zæøå\d])(?P<glued>Spørgsmål(?:\s*nr\.?)?\s*\d{1,4}\s*:)"
    + r"|(?P<following>(?i:følgende\s+spørgsmål|besvarelse\s+af\s+spørgsmål)(?:\s*nr\.?\s*\d+)?\s*:\s*)(?=[”\"»“„'’])")
_ANSWER = re.compile(
    _AFTER + r"(?P<label>(?:Endeligt\s+|Endelig\s+|Foreløbigt\s+|Supplerende\s+)?[Ss]var)"
    r"(?:\s*\(\d{1,2}/\d{1,2}\s*\d{2,4}\))?\s*(?::|(?=\n)|(?=[A-ZÆØÅ”\"»])|(?=\s[A-ZÆØÅ\"”»]))")
_INTRO = re.compile(r"(?i)spørgsmål|spm\.|besvar|svar\s+på")
_STRONG_INTRO = re.compile(r"(?i)stillet\s*(?:mig\s*)?følgende\s*spørgsmål|besvarelse\s+af\s+spørgsmål|"
                           r"svar\s+på\s+(?:§\s*20-)?spørgsmål")
_QUOTED = re.compile(r"[”\"»“„](?P<q>[^”\"»“„]{10,2000}?)[”\"«“]")
_QUOTES = "\"“”„«»'’‘"


def normalise_sagsnr(s: str) -> str | None:
    """'2024 - 7010' -> '2024-7010': a case number without the spaces around its dashes and slashes."""
    if not isinstance(s, str) or not re.search(r"\d", s):
        return None
    return labels.normalise_sagsnr(s.replace("*", ""))


@dataclass
class _Markers:
    question: re.Match[str] | None  # on the view
    answer_start: int  # view offset where the answer marker starts
    answer_end: int  # view offset where the answer text starts
    question_start: int  # view offset where the question text starts


def _markers(v: str) -> _Markers | None:
    answers = list(_ANSWER.finditer(v))
    questions = list(_QUESTION.finditer(v))
    if answers:
        a = next((m for m in answers if any(q.end() <= m.start() for q in questions)), answers[0])
        before = [m for m in questions if m.end() <= a.start()]
        # A heading ("Spørgsmål nr. 13:") beats "… følgende spørgsmål:", which may be quoted inside a question.
        headings = [m for m in before if not m["following"]]
        q = max(headings or before, key=lambda m: m.end(), default=None)
        head = v[:q.start() if q else a.start()]
        if q is None and not _INTRO.search(head):
            return None
        start = q.end() if q else _intro_end(v, a.start())
        return _Markers(q, a.start(), a.end(), start)
    intro = _STRONG_INTRO.search(v)
    quoted = _QUOTED.search(v, intro.end()) if intro else None
    if quoted is None:
        return None
    return _Markers(None, quoted.end(), quoted.end(), quoted.start())


def _intro_end(v: str, limit: int) -> int:
    """Where the opening sentence(s) end, when the question has no heading of its own."""
    ends = [m.end() for m in re.finditer(r"(?i)(?:hermed\s+(?:skal\s+)?besvar\w*|efter\s+ønske\s+fra[^.\n]*?"
                                         r"\([A-ZÆØÅ]{1,4}\))\s*\.|følgende\s+spørgsmål\s*:", v[:limit])]
    if ends:
        return ends[-1]
    # no opening the parser knows: the question quoted last before the answer, else all before it
    quoted = [m for m in _QUOTED.finditer(v, 0, limit) if _substantive(m["q"])]
    return quoted[-1].start() if quoted else 0


def parse_letter(text: str, file: str, url: str | None = None) -> Document | None:
    """Parse an answer letter; None when `text` is not one.

    `url` is the letter's address (from a sidecar manifest.csv), used for what the text does not
    print (committee, samling, number). The Document has the question's identity (kind, case,
    number, committee, samling), the header (sagsnr, doknr, dato), the opening (asked date,
    asker, minister asked), the signature (signer, title, answering minister), whether the answer
    is preliminary, and the question and answer as verbatim spans (also as `sections`).
    """
    plain = text.translate(_ODD_SPACES)  # the same length: every span found in it fits `text`
    doc = _parse(plain, file, url)
    if doc is None or plain == text:
        return doc
    return replace(doc, text=text, question=_joined(text, doc.sections, "question"),
                   answer=_joined(text, doc.sections, "answer"))


# No-break, thin and other fixed-width spaces (web pages' "&nbsp;") read as plain spaces, one for one
_ODD_SPACES = str.maketrans({c: " " for c in "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"})


def _joined(text: str, sections: Sequence[Section], kind: str) -> str | None:
    """The text of the sections of one kind, blank lines between them; None when there are none."""
    return "\n\n".join(text[s.start:s.end] for s in sections if s.kind == kind) or None


def _parse(text: str, file: str, url: str | None) -> Document | None:
    view = View.of(text)
    v = view.text
    marks = _markers(v)
    if marks is None:
        return _partial(view, file, url)
    notes: list[str] = []
    head = v[:marks.question.start() if marks.question else marks.answer_start]
    q_span = _question_span(view, marks)
    answer_spans, answer_end = _answer_spans(view, marks.answer_end)
    if marks.answer_start == marks.answer_end and len(" ".join(text[a:b] for a, b in answer_spans).split()) < 3:
        answer_spans = []  # no "Svar" heading: a few letters after the question are not an answer
    if not answer_spans:
        notes.append("svarets tekst mangler")
    sections = ([Section("question", *q_span)] if q_span else []) + [Section("answer", s, e) for s, e in answer_spans]
    doc = _document(view, file, url, head, marks.question.group(0) if marks.question else "", sections,
                    answer_end, notes)
    return titled(doc)


def _partial(view: View, file: str, url: str | None) -> Document | None:
    """A letter whose question cannot be found (no heading, no opening the parser knows): the
    fields it prints where no layout needs knowing (stamp lines, labelled header values, an ft.dk
    address, the lines before its first sentence), its answer when a "Svar" heading exists, else its
    prose as one body section. None unless it shows a question number and a labelled date or case
    number (or an address): without them it is not known to be an answer letter."""
    v = view.text
    head_end = next((s for s, e in lines(v) if boilerplate(v[s:e]) is None and _substantive(v[s:e])), len(v))
    answer = next((m for m in _ANSWER.finditer(v) if m.start() >= head_end), None)
    spans, answer_end = _answer_spans(view, answer.end() if answer else head_end)
    sections = [Section("answer" if answer else "body", s, e) for s, e in spans]
    before = view.span(head_end, answer.start()) if answer else (0, 0)
    if before[1] > before[0]:  # the prose before "Svar" (most likely the question) is kept as body
        sections.insert(0, Section("body", *before))
    notes = ["spørgsmålet kunne ikke findes i brevet" + ("" if answer else "; teksten er indekseret som ét afsnit")]
    doc = _document(view, file, url, v[:head_end], "", sections, answer_end, notes)
    known = doc.spm_nr is not None or doc.s_nr is not None
    printed = doc.dato is not None or doc.sagsnr is not None or url is not None or doc.samling is not None
    return titled(doc) if known and printed and spans else None


def _document(view: View, file: str, url: str | None, head: str, question_marker: str, sections: list[Section],
              answer_end: int, notes: list[str]) -> Document:
    """The letter's fields around its located sections (`head`: the view's text before the question)."""
    text = view.original
    spans = [(s.start, s.end) for s in sections]
    q_span = next(((s.start, s.end) for s in sections if s.kind == "question"), None)
    answer_spans = [(s.start, s.end) for s in sections if s.kind == "answer"]
    ident = fields.identity(view, head, question_marker, url)
    if ident.number is None:
        notes = notes + ["spørgsmålets nummer står ikke i brevet"]
    header = labels.header_values(text, exclude=spans)
    notes = notes + header.notes
    if q_span and not {"sagsnr", "dato"} <= header.values.keys():
        # a question found too early may hold the letterhead (its heading was missed): read the labels
        # before the answer once more, for what the first reading lacks
        before = labels.header_values(text[:answer_spans[0][0] if answer_spans else len(text)])
        header.values.update({k: v for k, v in before.values.items()
                              if k in ("sagsnr", "dato") and k not in header.values})
    sagsnr, doknr = header.values.get("sagsnr"), header.values.get("doknr")
    if sagsnr is None:
        sagsnr = labels.unlabelled_sagsnr(text, exclude=spans)
    cover = (0, q_span[0]) if q_span else None
    after = people.signoff(text, answer_end) or people.signoff(text, 0)
    signer, signer_title, acting = people.signature(text, after.end() if after else answer_end, cover)
    answer_text = _joined(text, sections, "answer") or ""
    dato = fields.letter_date(view, header.values.get("dato"), spans)
    asked, asked_raw = fields.asked_date(head, dato)
    if asked is None and asked_raw:
        notes.append(f"spørgsmålets dato kunne ikke læses: {shorten(asked_raw)}")
    if dato is None and header.values.get("dato"):
        notes.append(f"brevets dato kunne ikke læses: {shorten(header.values['dato'])}")
    heading = "\n".join(fields.stamp_lines(text)) + "\n" + head
    return Document(
        file=file, kind="letter", text=text, title="", sections=tuple(sections),
        sagsnr=flat(sagsnr) if sagsnr else None, sagsnr_norm=normalise_sagsnr(sagsnr) if sagsnr else None,
        doknr=doknr, dato=dato, udvalg=ident.udvalg, udvalg_kode=ident.udvalg_kode, asked_date=asked,
        spm_nr=ident.number, spm_type=ident.kind, sag=ident.case, s_nr=ident.s_nr, samling=ident.samling,
        minister_addressed=people.minister_asked(head), spoerger=people.asker(head),
        question=_joined(text, sections, "question"), answer=answer_text or None,
        signer=signer, signer_title=signer_title, signer_acting=acting,
        answering_minister=people.answering_minister(head, signer_title),
        bilag=people.enclosures(text, after.end() if after else answer_end),
        preliminary=people.preliminary(heading, View.of(answer_text).text), url=url, notes=tuple(notes))


def _question_span(view: View, marks: _Markers) -> tuple[int, int] | None:
    """The question's text between its marker (or the opening) and the answer marker, unquoted,
    without letterhead lines at its edges."""
    s, e = view.span(marks.question_start, marks.answer_start)
    text = view.original
    found = list(lines(text, s, e))
    runs: list[list[tuple[int, int]]] = [[]]  # prose lines, split where letterhead or a page break comes between
    for i, (a, b) in enumerate(found):
        if not boilerplate(text[a:b]) or _continues(text, found[i - 1] if i else None, a, b):
            runs[-1].append((a, b))
        elif runs[-1]:
            runs.append([])
    runs = [r for r in runs if r]
    if not runs:
        return None
    # The question goes on after a page break only where prose follows (not "Integrationskontor"
    # between a letterhead's date and its address).
    kept = runs[0] + [line for r in runs[1:] if _substantive(text[r[0][0]:r[-1][1]]) for line in r]
    last = next(i for i, r in enumerate(runs) if r[-1] == kept[-1])
    kept = [line for r in runs[:last + 1] for line in r]
    s, e = _unquote(text, kept[0][0], kept[-1][1])
    return (s, e) if e > s else None


def _unquote(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop the quote marks around a question (and a trailing '.' after the closing one)."""
    start, end = strip_span(text, start, end)
    if end - start >= 2 and text[end - 1] == "." and text[end - 2] in _QUOTES:
        end -= 1
    if end - start >= 2 and text[start] in _QUOTES and text[end - 1] in _QUOTES:
        return strip_span(text, start + 1, end - 1)
    count = sum(text[start:end].count(q) for q in _QUOTES if q not in "'’")
    if count % 2 == 1:
        if text[start] in _QUOTES:
            return strip_span(text, start + 1, end)
        if text[end - 1] in _QUOTES:
            return strip_span(text, start, end - 1)
    return start, end


def _answer_spans(view: View, start: int) -> tuple[list[tuple[int, int]], int]:
    """The answer's prose as verbatim spans, and where the answer ends in the original text.

    It runs from the answer marker to the sign-off or a signature (or the end); lines that are
    letterhead, address, stamp, footer, page number, date or label are left out. After a page
    break (stamp lines, page number) the answer goes on; after letterhead or contact lines only
    if real prose follows (an address block printed in the middle of a long answer)."""
    text = view.original
    begin = view.at(start)
    stop_match = people.signoff(text, begin)
    stop = stop_match.start() if stop_match else len(text)
    found = list(lines(text, begin, stop))
    spans: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    gap = ""  # the kind of lines since the last prose line: "", "page" or "letterhead"
    for i, (s, e) in enumerate(found):
        cut = people.inline_signature(text, s, e)
        if cut is not None:  # a letter on one line: its answer stops where the signature starts
            found[i + 1:] = []
            s, e = strip_span(text, s, cut)
        line_start, line_end = physical_line(text, s, e)
        row = labels.label_row_start(text, s, e, one_line=line_end - line_start >= ONE_LINE_LETTER)
        if row is not None and row > s:  # a letter on one line: this line's prose stops at its letterhead
            s, e = strip_span(text, s, row)
        line = text[s:e]
        nxt = text[found[i + 1][0]:found[i + 1][1]] if i + 1 < len(found) else ""
        if people.signature_line(line, nxt) or (not run and spans and people.lone_name(line)):
            break
        kind = boilerplate(line)
        if kind and not _continues(text, found[i - 1] if i else None, s, e) and not _table_cell(found, i, text):
            if len(run) > 1 and kind == "letterhead" and _broken_into(text[run[-1][0]:run[-1][1]], line):
                run.pop()  # "Miljø-" / "og Fødevareministeriet • Slotsholmsgade 12": the word goes on in the footer
            if run:
                spans.append((run[0][0], run[-1][1]))
                run = []
            gap = "letterhead" if kind == "letterhead" or gap == "letterhead" else "page"
            continue
        broken = spans and text[spans[-1][1] - 1] == "-" and line[:1].islower()  # "samfunds-" / footer / "økonomiske"
        if gap == "letterhead" and spans and not run and not _substantive(line) and not broken:
            continue
        run.append((s, e))
        gap = ""
    if run:
        spans.append((run[0][0], run[-1][1]))
    if spans and people.lone_name(text[spans[-1][0]:spans[-1][1]].rsplit("\n", 1)[-1]):
        # a name on the last line, after the prose ("… kommissoriet.\nMette Bock"): the signature
        s, e = spans.pop()
        cut = text.rfind("\n", s, e)
        if cut > s:
            spans.append(strip_span(text, s, cut))
    return spans, (spans[-1][1] if spans else begin)


def _broken_into(fragment: str, letterhead: str) -> bool:
    """A short line whose last word is broken and goes on in the letterhead line after it ("Miljø-" /
    "og Fødevareministeriet • …"); not a word broken across a page, where the footer is whole."""
    return bool(re.search(r"\w-$", fragment)) and len(fragment.split()) <= 3 and letterhead[:1].islower()


def _continues(text: str, previous: tuple[int, int] | None, start: int, end: int) -> bool:
    """A date on a line of its own that finishes a sentence ("… lov nr. 447 af" / "31. maj 2000.")."""
    if previous is None:
        return False
    before = text[previous[0]:previous[1]].rstrip()
    mid_sentence = bool(before) and (before[-1].islower() or before[-1] == ",")
    return mid_sentence and bool(DATE_IN_TEXT.match(text[start:end]))


def _table_cell(found: list[tuple[int, int]], i: int, text: str) -> bool:
    """A number in a table of numbers (its neighbours are numbers too), not a lone page number."""
    def number(j: int) -> bool:
        return 0 <= j < len(found) and bool(re.fullmatch(r"-?\d[\d.,]*", text[found[j][0]:found[j][1]]))
    return number(i) and (number(i - 1) or number(i + 1))


def _substantive(segment: str) -> bool:
    return len(re.findall(r"[a-zæøå]{3,}", segment)) >= 6


def titled(doc: Document) -> Document:
    """`doc` with the title its identity gives: 'Svar på SUU alm. del spm. 940'."""
    what = f"spm. {doc.s_nr or doc.spm_nr}" if (doc.s_nr or doc.spm_nr is not None) else "spørgsmål"
    where = " ".join(x for x in (doc.udvalg_kode, doc.sag or (doc.spm_type if doc.spm_type != "§ 20" else None))
                     if x)
    title = f"Svar på {where + ' ' if where else ''}{what}"
    if doc.spm_nr is None and doc.udvalg is None and doc.s_nr is None:
        title = f"Svar ({file_stem(doc.file)})"
    return replace(doc, title=title)

