"""HTML for the web UI: an `Answer` from `ask()` shown as quotes, citations and sources.

Pure functions, no gradio: everything shown comes from the `Answer`, `Hit` and
`Document` records; nothing here searches or ranks. Document text is always
HTML-escaped (the chat renders HTML with markdown switched off), so markup in
a source (`<script>`, `**`) is shown as the characters it is, never rendered.

Whitespace runs are shown as one space (the sources' line and page breaks), and
a blank line after the end of a sentence as a new paragraph; every other
character shown is the document's own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from rag import Answer, Document, Hit, IndexInfo, Section, quote_for_copy
from rag.text import danish_date

KIND_LABELS = {"letter": "Skriftligt svar", "s20": "§ 20-spørgsmål", "text": "Dokument"}
SEARCHING = "Søger …"

_TOKEN = re.compile(r"\s+|\S+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\xa0]*\n")
_SENTENCE_END = tuple(".:!?\"”»)")


def esc(text: str) -> str:
    """Text as HTML that shows exactly these characters."""
    return html.escape(text, quote=True)


def copy_button(text: str, label: str = "Kopiér citat") -> str:
    """A button that puts `text` on the clipboard (the page's script reads the hidden span after it:
    the chat's sanitiser drops data- attributes, but keeps a span and its class)."""
    return (f'<button type="button" class="rag-copy">{esc(label)}</button>'
            f'<span class="rag-copy-text">{esc(text)}</span>')


def citation_html(hit: Hit) -> str:
    """The citation, linked to the original on ft.dk when the document has a web address."""
    url = hit.document.url
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(hit.citation)}</a>'
    return esc(hit.citation)


def paragraphs(text: str, marks: Sequence[tuple[int, int, str]] = ()) -> list[list[tuple[str, str | None]]]:
    """Split `text` into display paragraphs of (characters, mark class or None) runs.

    `marks` are (start, end, css class) spans of `text`; a later span wins where
    spans overlap. Whitespace runs become one space, or a paragraph break when
    they contain a blank line after the end of a sentence.
    """
    cls: list[str | None] = [None] * len(text)
    for start, end, name in marks:
        for i in range(max(start, 0), min(end, len(text))):
            cls[i] = name
    out: list[list[tuple[str, str | None]]] = []
    current: list[tuple[str, str | None]] = []

    def add(chars: str, name: str | None) -> None:
        if current and current[-1][1] == name:
            current[-1] = (current[-1][0] + chars, name)
        else:
            current.append((chars, name))

    last_char = ""
    for m in _TOKEN.finditer(text):
        token, s, e = m.group(), m.start(), m.end()
        if token.isspace():
            if not current or e == len(text):
                continue  # no leading or trailing space in a paragraph
            if _PARAGRAPH_BREAK.search(token) and last_char.endswith(_SENTENCE_END):
                out.append(current)
                current = []
                continue
            # A space is marked only when the text on both sides of it is.
            add(" ", cls[s - 1] if cls[s - 1] == cls[e] else None)
            continue
        run_start = s
        for i in range(s + 1, e + 1):
            if i == e or cls[i] != cls[run_start]:
                add(text[run_start:i], cls[run_start])
                run_start = i
        last_char = token[-1]
    if current:
        out.append(current)
    return out


def text_html(text: str, marks: Sequence[tuple[int, int, str]] = ()) -> str:
    """`text` as HTML paragraphs, `marks` as <mark class=...> elements."""
    parts = []
    for para in paragraphs(text, marks):
        inner = "".join(f'<mark class="{name}">{esc(chars)}</mark>' if name else esc(chars)
                        for chars, name in para)
        parts.append(f"<p>{inner}</p>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# One hit: quote, citation, source


def hit_html(n: int, hit: Hit) -> str:
    """Hit number `n` (1-based): the best passage as a block quote with its evidence
    sentence(s) highlighted, the numbered citation, and the source to unfold."""
    doc = hit.document
    evidence = [(s, e, "rag-evidence") for s, e in hit.evidence]
    kind = KIND_LABELS.get(doc.kind, "Dokument")
    return (
        f'<div class="rag-hit">'
        f'<div class="rag-hit-head"><span class="rag-num">[{n}]</span> {esc(kind)} '
        f"{copy_button(quote_for_copy(hit))}</div>"
        f'<blockquote class="rag-quote">{text_html(hit.text, evidence)}</blockquote>'
        f'<p class="rag-citation"><span class="rag-num">[{n}]</span> {citation_html(hit)}</p>'
        f'<details class="rag-source"><summary>Læs spørgsmålet og hele svaret</summary>'
        f"{source_html(hit)}</details>"
        f"</div>"
    )


def source_html(hit: Hit) -> str:
    """The cited document: the question as asked, who asked it, and the full answer
    with the quoted passage marked (and its evidence sentences within it)."""
    doc = hit.document
    questions = [s for s in doc.sections if s.kind == "question"]
    answers = [s for s in doc.sections if s.kind != "question"]
    parts = [f'<p class="rag-source-head">{esc(question_heading(doc))}</p>']
    for s in questions:
        parts.append(f'<blockquote class="rag-asked">{text_html(doc.text[s.start:s.end])}</blockquote>')
    if not questions and doc.question:
        parts.append(f'<blockquote class="rag-asked">{text_html(doc.question)}</blockquote>')
    # The quoted passage, and its evidence sentences within it, as spans of doc.text.
    p = hit.passage
    marks = [(p.start, p.end, "rag-quoted")] + [(p.start + a, p.start + b, "rag-evidence")
                                                 for a, b in hit.evidence]
    if answers:
        for s in answers:
            parts.append(f'<p class="rag-source-head">{esc(answer_heading(doc, s))}</p>')
            parts.append(f'<div class="rag-fulltext">{_section_html(doc, s, marks)}</div>')
    else:  # no sections parsed: the whole document
        parts.append(f'<div class="rag-fulltext">{text_html(doc.text, marks)}</div>')
    parts.append(f'<p class="rag-file">Fil: {esc(doc.file)}</p>')
    return "".join(parts)


def _section_html(doc: Document, section: Section, marks: Iterable[tuple[int, int, str]]) -> str:
    inside = [(a - section.start, b - section.start, name) for a, b, name in marks
              if a < section.end and b > section.start]
    return text_html(doc.text[section.start:section.end], inside)


def question_heading(doc: Document) -> str:
    """'Spørgsmål nr. 391 (alm. del) fra Folketingets Socialudvalg til social- og boligministeren,
    stillet 3. april 2024 efter ønske fra Theresa Berg Andersen (SF):'"""
    if doc.kind == "s20":
        head = f"§ 20-spørgsmål {doc.s_nr}" if doc.s_nr else "§ 20-spørgsmål"
        if doc.spoerger:
            head += f" fra {doc.spoerger}"
        if doc.minister_addressed:
            head += f" til {doc.minister_addressed}"
        if doc.withdrawn:
            head += " (taget tilbage)"
        return head + ":"
    if doc.kind != "letter":
        return (doc.title or doc.file) + (f", {danish_date(doc.dato)}" if doc.dato else "") + ":"
    head = f"Spørgsmål nr. {doc.spm_nr}" if doc.spm_nr is not None else "Spørgsmål"
    if doc.spm_type:
        head += f" ({doc.spm_type})"
    if doc.udvalg:
        head += f" fra {doc.udvalg}"
    if doc.minister_addressed:
        head += f" til {doc.minister_addressed}"
    if doc.asked_date:
        head += f", stillet {danish_date(doc.asked_date)}"
    if doc.spoerger:
        head += f" efter ønske fra {doc.spoerger}"
    return head + ":"


def answer_heading(doc: Document, section: Section) -> str:
    """'Svar fra Pernille Rosenkrantz-Theil, social- og boligminister, 30. april 2024:'"""
    if section.kind == "body":
        return "Tekst:"
    if doc.kind == "s20":
        who = section.speaker or doc.answering_minister
        return f"Svar fra {who}:" if who else "Svar:"
    who = ", ".join(x for x in (doc.signer, doc.signer_title.lower() if doc.signer_title else None) if x)
    head = f"Svar fra {who}" if who else "Svar"
    if doc.dato:
        head += f", {danish_date(doc.dato)}"
    return head + ":"


# ---------------------------------------------------------------------------
# Whole replies


def answer_messages(answer: Answer) -> list[str]:
    """The chat messages for `answer`: one per hit, or the no-answer message."""
    if answer.abstained or not answer.hits:
        return [no_answer_html(answer.message or "")]
    hits = [hit_html(n, hit) for n, hit in enumerate(answer.hits, start=1)]
    if answer.unsure:
        return [f'<div class="rag-unsure"><p>{esc(answer.message or "")}</p></div>'] + hits
    return hits


def no_answer_html(message: str, filtered: bool = False) -> str:
    hint = ("Prøv at fjerne eller ændre filtrene, eller at spørge på en anden måde." if filtered
            else "Prøv at spørge på en anden måde, fx med et sagsnummer eller et spørgsmålsnummer.")
    return (f'<div class="rag-none"><p class="rag-none-message">{esc(message)}</p>'
            f'<p class="rag-hint">{esc(hint)}</p></div>')


def error_html(message: str) -> str:
    return f'<div class="rag-error"><p>{esc(message)}</p></div>'


def searching_html() -> str:
    return f'<p class="rag-searching">{esc(SEARCHING)}</p>'


def index_summary(info: IndexInfo) -> str:
    """'Indekseret: 5 dokumenter · 22 passager · model: … · bygget 23-11-2026 13:52 (UTC)'"""
    built = ""
    if info.created:
        try:
            built = " · bygget " + datetime.fromisoformat(info.created).strftime("%d-%m-%Y %H:%M") + " (UTC)"
        except ValueError:
            built = f" · bygget {info.created}"
    doc_word = "dokument" if info.documents == 1 else "dokumenter"
    passage_word = "passage" if info.passages == 1 else "passager"
    return (f"Indekseret: {info.documents} {doc_word} · {info.passages} {passage_word} · "
            f"model: {info.model_id or 'ukendt model'}{built}")
