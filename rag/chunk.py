"""Split a parsed document into passages: verbatim character spans of its text.

Paragraphs are found inside each section (question, answer turns, body):
blank lines separate them, and so does an indented line start (the § 20
transcripts mark new paragraphs that way). A paragraph that a page break cut
in two (no sentence end before the gap, lower-case letter after it) is joined
again. Short paragraphs are packed together up to `target_tokens`; a
paragraph longer than `max_tokens` is split at sentence ends, and a sentence
longer than that at spaces. Every passage satisfies
`document.text[p.start:p.end] == p.text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from rag.config import ChunkSettings
from rag.records import Document, Passage
from rag.text import sentence_spans, split_spans

TokenCounter = Callable[[str], int]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*|\n(?=[ \t\u00a0]{2,}\S)")
_ENDS_SENTENCE = re.compile(r"""[.!?:;]["”»)]?\s*$""")
_STARTS_LOWER = re.compile(r"^\s*[a-zæøå0-9]")


def word_count(text: str) -> int:
    """A crude token counter for tests and for the hashing embedder."""
    return len(text.split())


def chunk_document(doc: Document, count_tokens: TokenCounter = word_count,
                   settings: ChunkSettings | None = None) -> list[Passage]:
    """Return the passages of `doc`, in document order, one section at a time."""
    settings = settings or ChunkSettings()
    passages: list[Passage] = []
    for index, section in enumerate(doc.sections):
        for start, end in chunk_span(doc.text, section.start, section.end, count_tokens, settings):
            passages.append(Passage(file=doc.file, kind=section.kind, section=index,
                                    start=start, end=end, text=doc.text[start:end]))
    return passages


def chunk_span(text: str, start: int, end: int, count_tokens: TokenCounter,
               settings: ChunkSettings) -> list[tuple[int, int]]:
    """Cut `text[start:end]` into (start, end) spans of at most `max_tokens` tokens."""
    return _pack(text, _pieces(text, start, end, count_tokens, settings), count_tokens, settings)


def _pieces(text: str, start: int, end: int, count_tokens: TokenCounter,
            settings: ChunkSettings) -> Iterator[tuple[int, int, int]]:
    """(start, end, tokens) of paragraphs, or of sentences/word runs of over-long ones, each within max_tokens.

    A generator, like the helpers below: a 50 MB text yields millions of pieces, which must not all
    be held at once.
    """
    for ps, pe in _paragraphs(text, start, end):
        tokens = None if _surely_too_long(pe - ps, settings.max_tokens) else count_tokens(text[ps:pe])
        if tokens is not None and tokens <= settings.max_tokens:
            yield ps, pe, tokens
        else:
            yield from _split_long(text, ps, pe, count_tokens, settings)


def _surely_too_long(chars: int, max_tokens: int) -> bool:
    """A span this long is split without counting its tokens (counting megabytes costs time and memory).

    No tokenizer packs 64 characters into one token of running text; should one do so, the span is
    merely cut at sentence ends or spaces where it need not be.
    """
    return chars > 64 * max(max_tokens, 1)


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    current: tuple[int, int] | None = None
    for s, e in split_spans(text, _PARAGRAPH_BREAK, start, end):
        # Re-join paragraphs that a page break cut mid-sentence. Spans are stripped, so a sentence
        # end is in the last two characters and the first character decides "starts lower-case":
        # looking at short ends keeps a long run of joined paragraphs linear, not quadratic.
        if current is not None and not _ENDS_SENTENCE.search(text[max(current[0], current[1] - 8):current[1]]) \
                and _STARTS_LOWER.match(text[s:min(e, s + 8)]):
            current = (current[0], e)
        else:
            if current is not None:
                yield current
            current = (s, e)
    if current is not None:
        yield current


def _split_long(text: str, start: int, end: int, count_tokens: TokenCounter,
                settings: ChunkSettings) -> Iterator[tuple[int, int, int]]:
    """Split an over-long paragraph at sentence ends, then at spaces."""
    for ss, se in sentence_spans(text, start, end):
        tokens = None if _surely_too_long(se - ss, settings.max_tokens) else count_tokens(text[ss:se])
        if tokens is not None and tokens <= settings.max_tokens:
            yield ss, se, tokens
        else:
            yield from _split_words(text, ss, se, count_tokens, settings.max_tokens)


_WORD = re.compile(r"\S+")


def _split_words(text: str, start: int, end: int, count_tokens: TokenCounter,
                 max_tokens: int) -> Iterator[tuple[int, int, int]]:
    """Split at whitespace into runs of at most `max_tokens` tokens."""
    pos = start
    lookahead = 2 * max(max_tokens, 1)
    while True:
        # The next few words only: listing every word of a 50 MB run took gigabytes.
        words: list[tuple[int, int]] = []
        for m in _WORD.finditer(text, pos, end):
            words.append(m.span())
            if len(words) == lookahead:
                break
        if not words:
            return
        # Guess how many words fit from their average, then shrink until it fits.
        ratio = max(count_tokens(text[words[0][0]:words[-1][1]]) / len(words), 1e-6)
        n = max(1, min(len(words), int(max_tokens * 0.9 / ratio)))
        while True:
            s, e = words[0][0], words[n - 1][1]
            tokens = count_tokens(text[s:e])
            if tokens <= max_tokens or n == 1:
                break
            n = max(1, int(n * 0.8))
        if tokens > max_tokens:
            # A single "word" longer than the limit (e.g. a run of symbols): cut by characters.
            yield from _split_chars(text, s, e, count_tokens, max_tokens)
        else:
            yield s, e, tokens
        pos = e


def _split_chars(text: str, start: int, end: int, count_tokens: TokenCounter,
                 max_tokens: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    step = max(1, max_tokens)
    while start < end:
        stop = min(end, start + step)
        while count_tokens(text[start:stop]) > max_tokens and stop - start > 1:
            stop = start + (stop - start) // 2
        out.append((start, stop, count_tokens(text[start:stop])))
        start = stop
    return out


def _pack(text: str, pieces: Iterable[tuple[int, int, int]], count_tokens: TokenCounter,
          settings: ChunkSettings) -> list[tuple[int, int]]:
    """Greedily join consecutive pieces up to `target_tokens` (never over `max_tokens`)."""
    spans: list[list[int]] = []  # [start, end, tokens]
    for s, e, tokens in pieces:
        if spans and spans[-1][2] + tokens <= settings.target_tokens:
            spans[-1][1] = e
            spans[-1][2] += tokens
        else:
            spans.append([s, e, tokens])
    # A short last passage is a poor retrieval unit: merge it backwards if it fits.
    if len(spans) >= 2 and spans[-1][2] < settings.min_tokens:
        merged = count_tokens(text[spans[-2][0]:spans[-1][1]])
        if merged <= settings.max_tokens:
            spans[-2][1] = spans[-1][1]
            spans[-2][2] = merged
            spans.pop()
    # Token counts were summed; the joined text can differ by a token or two.
    out: list[tuple[int, int]] = []
    for s, e, _ in spans:
        if count_tokens(text[s:e]) <= settings.max_tokens:
            out.append((s, e))
        else:
            out.extend((ws, we) for ws, we, _ in _split_words(text, s, e, count_tokens, settings.max_tokens))
    return out
