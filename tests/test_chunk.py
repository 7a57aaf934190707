from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_document, chunk_span, word_count
from rag.config import ChunkSettings
from rag.records import Document, Section

SMALL = ChunkSettings(target_tokens=12, max_tokens=20, min_tokens=3)


def _doc(text: str) -> Document:
    return Document(file="x.txt", kind="text", text=text, title="x", sections=(Section("body", 0, len(text)),))


def test_page_break_inside_a_sentence_is_joined() -> None:
    text = ("Aftalekredsen vil blive inddraget, når der skal tages stilling til den konkrete"
            "\n\n\n\nudmøntning af midlerne.")
    spans = chunk_span(text, 0, len(text), word_count, ChunkSettings())
    assert spans == [(0, len(text))], f"expected one passage across the page break, got {spans}"


def test_paragraphs_are_split_and_short_ones_packed() -> None:
    paras = ["Første afsnit har en del ord i sig her.", "Kort.", "Tredje afsnit er også ret langt, ja."]
    text = "\n\n".join(paras)
    spans = chunk_span(text, 0, len(text), word_count, ChunkSettings(target_tokens=10, max_tokens=20, min_tokens=1))
    texts = [text[s:e] for s, e in spans]
    assert texts == [paras[0] + "\n\n" + paras[1], paras[2]], texts


def test_indented_line_starts_a_paragraph() -> None:
    text = "Det er første afsnit, som slutter her.\n   Derfor er dette et nyt afsnit med flere ord."
    spans = chunk_span(text, 0, len(text), word_count, ChunkSettings(target_tokens=8, max_tokens=20, min_tokens=1))
    assert len(spans) == 2, spans


def test_long_paragraph_split_at_sentences_within_limit() -> None:
    sentence = "Ministeren har oplyst at puljen er udmøntet til ni kommuner. "
    text = sentence * 30
    spans = chunk_span(text, 0, len(text), word_count, SMALL)
    assert len(spans) > 1
    for s, e in spans:
        assert word_count(text[s:e]) <= SMALL.max_tokens
        assert text[s:e].endswith("."), f"split mid-sentence: {text[s:e]!r}"


def test_one_huge_word_run_is_split_without_losing_text() -> None:
    text = "ord\n" * 1000  # 1,000 one-word lines
    passages = chunk_document(_doc(text), word_count, SMALL)
    assert all(word_count(p.text) <= SMALL.max_tokens for p in passages)
    assert sum(word_count(p.text) for p in passages) == 1000


def test_chunks_follow_sections() -> None:
    text = "Spørgsmål: Hvad nu?\n\nSvar: Det ved vi ikke endnu."
    doc = Document(file="x.txt", kind="letter", text=text, title="x",
                   sections=(Section("question", 11, 19), Section("answer", 27, len(text))))
    passages = chunk_document(doc)
    assert [(p.kind, p.text) for p in passages] == [("question", "Hvad nu?"), ("answer", "Det ved vi ikke endnu.")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
       st.sampled_from([SMALL, ChunkSettings(target_tokens=3, max_tokens=5, min_tokens=1), ChunkSettings()]))
def test_spans_are_verbatim_ordered_and_bounded(text: str, cs: ChunkSettings) -> None:
    passages = chunk_document(_doc(text), word_count, cs)
    last_end = 0
    for p in passages:
        assert text[p.start:p.end] == p.text
        assert 0 <= p.start < p.end <= len(text)
        assert p.start >= last_end, "passages overlap or go backwards"
        assert word_count(p.text) <= cs.max_tokens
        assert p.text == p.text.strip()
        last_end = p.end
    # Nothing but whitespace is lost.
    covered = "".join(p.text for p in passages)
    assert "".join(covered.split()) == "".join(text.split())


def test_short_last_passage_joins_its_neighbour() -> None:
    text = "Første afsnit har en del ord i sig her.\n\nKort."
    spans = chunk_span(text, 0, len(text), word_count, ChunkSettings(target_tokens=9, max_tokens=20, min_tokens=3))
    assert spans == [(0, len(text))], spans
