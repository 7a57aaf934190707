"""Find the passages that answer a question: identifiers, hybrid search, grouping, evidence.

1. Identifiers ("spm. nr. 687", "sagsnr. 2024-2715", "S 122") pick their
   documents outright; they come first whatever the embedding says.
2. Dense search (FAISS, cosine) and BM25 each rank passages; the two are fused
   linearly (cosine + a small weight times BM25 scaled by the question's best
   BM25 score), or with reciprocal rank fusion if the settings ask for it.
3. Passages are grouped by document (best first) and `k` documents returned.
4. In each document's best passage, the sentence(s) that share most of the
   question's rare words are marked as evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from rag.config import SearchSettings
from rag.dense import dense_search_params
from rag.errors import InputError
from rag.lexical import analyse
from rag.rank import Candidates, candidates, confidence_features, rerank
from rag.records import DOCUMENT_KINDS, Document, DocumentKind
from rag.store import Index
from rag.text import sentence_spans, to_date
from rag.timing import stage

EXACT_FILTERED = 20_000  # filtered searches over at most this many passages bypass an approximate index


@dataclass(frozen=True)
class Filters:
    """Restrict the search to some documents. Text filters match case-insensitively as substrings."""

    date_from: date | None = None
    date_to: date | None = None
    minister: str | None = None  # matches the addressed, answering or signing minister
    udvalg: str | None = None
    spoerger: str | None = None  # the asking MP or the party, e.g. "SF" or "Mølbæk"
    kind: DocumentKind | None = None
    exclude_files: frozenset[str] = frozenset()  # documents to leave out
    hide_questions_of: frozenset[str] = frozenset()  # documents whose printed question is not searched

    @classmethod
    def parse(cls, date_from: object = None, date_to: object = None, minister: str | None = None,
              udvalg: str | None = None, spoerger: str | None = None, kind: str | None = None) -> Filters:
        """Filters from raw values typed in a form or on a command line; empty values mean no filter.

        Dates may be dates, ISO or Danish text ('2024-04-30', '30-04-2024', '30. april 2024').
        Raises InputError with a Danish line for a value that cannot be used.
        """
        start = _filter_date(date_from, "Fra dato")
        end = _filter_date(date_to, "Til dato")
        if start and end and start > end:
            raise InputError("»Fra dato« ligger efter »Til dato«.")
        if kind and kind not in DOCUMENT_KINDS:
            raise InputError(f"Ukendt dokumenttype '{kind}' – brug {', '.join(DOCUMENT_KINDS)}.")
        return cls(date_from=start, date_to=end, minister=(minister or "").strip() or None,
                   udvalg=(udvalg or "").strip() or None, spoerger=(spoerger or "").strip() or None,
                   kind=kind or None)  # type: ignore[arg-type]

    def active(self) -> bool:
        return any(v is not None and v != "" and v != frozenset() for v in vars(self).values())

    def matches(self, doc: Document) -> bool:
        if doc.file in self.exclude_files:
            return False
        if self.kind and doc.kind != self.kind:
            return False
        if self.date_from and (doc.dato is None or doc.dato < self.date_from):
            return False
        if self.date_to and (doc.dato is None or doc.dato > self.date_to):
            return False
        if self.minister and not _contains(self.minister, doc.minister_addressed, doc.answering_minister,
                                           doc.signer, doc.signer_title):
            return False
        if self.udvalg and not _contains(self.udvalg, doc.udvalg):
            return False
        if self.spoerger:
            party = self.spoerger.strip().strip("()")
            if not (_contains(self.spoerger, doc.spoerger)
                    or (doc.spoerger and f"({party.lower()})" in doc.spoerger.lower())):
                return False
        return True


def _filter_date(value: object, label: str) -> date | None:
    try:
        return to_date(value)
    except ValueError:
        raise InputError(f"Ugyldig dato '{value}' i »{label}« – brug ÅÅÅÅ-MM-DD eller DD-MM-ÅÅÅÅ.") from None


def _contains(needle: str, *haystacks: str | None) -> bool:
    n = needle.strip().lower()
    return any(h and n in h.lower() for h in haystacks)


@dataclass(frozen=True)
class RankedPassage:
    index: int  # row in Index.passages
    score: float  # fused score (higher is better)
    cosine: float  # dense similarity to the question, for abstention


@dataclass(frozen=True)
class RankedDocument:
    file: str
    passages: tuple[RankedPassage, ...]
    by_identifier: bool = False


@dataclass(frozen=True)
class SearchResult:
    """The ranked documents, and what the confidence model reads about the best one (see rag.rank)."""

    documents: list[RankedDocument]
    signals: np.ndarray | None = None  # rag.rank.confidence_features of the best reranked document
    candidates: Candidates | None = None  # the reranked documents' features, in the fused order
    reranked: tuple[list[str], np.ndarray] | None = None  # the reranked files, best first, and their scores

    def signals_of(self, file: str) -> np.ndarray | None:
        """rag.rank.confidence_features of any reranked document (None when `file` was not reranked)."""
        if self.candidates is None or self.reranked is None or file not in self.reranked[0]:
            return None
        files, scores = self.reranked
        return confidence_features(self.candidates, scores, files, files.index(file))


# ---------------------------------------------------------------------------
# Identifiers

_SPM = re.compile(r"\b(?:spørgsmål|spm)\.?\s*(?:nr\.?\s*)?(\d{1,4})\b(?!\s*-\s*\d)", re.IGNORECASE)
_SAGSNR = re.compile(r"\b((?:19|20)\d{2})\s*-\s*(\d{1,6})\b")
_S_NR = re.compile(r"(?<![\w.])S\s?(\d{1,4})\b")


@dataclass(frozen=True)
class Identifiers:
    spm_nr: tuple[int, ...] = ()
    sagsnr: tuple[str, ...] = ()
    s_nr: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.spm_nr or self.sagsnr or self.s_nr)


def find_identifiers(question: str) -> Identifiers:
    """Case identifiers named in a question."""
    sagsnr = tuple(f"{y}-{n}" for y, n in _SAGSNR.findall(question))
    s_nr = tuple(f"S {n}" for n in _S_NR.findall(question))
    # "spørgsmål S 122" is an S-number, not a committee question number.
    spm = tuple(int(n) for n in _SPM.findall(_S_NR.sub(" ", question)))
    return Identifiers(spm_nr=spm, sagsnr=sagsnr, s_nr=s_nr)


def documents_for(ids: Identifiers, documents: Sequence[Document]) -> list[str]:
    """Files of the documents the identifiers name, in the order the question names them."""
    out: list[str] = []
    for value in ids.sagsnr:
        out += [d.file for d in documents if d.sagsnr_norm == value]
    for value in ids.s_nr:
        out += [d.file for d in documents if d.s_nr == value]
    for number in ids.spm_nr:
        out += [d.file for d in documents if d.spm_nr == number]
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------------------
# Search


def search(index: Index, query_vector: np.ndarray | None, question: str, k: int,
           filters: Filters | None = None, settings: SearchSettings | None = None) -> list[RankedDocument]:
    """The `k` best documents for `question`, each with the passages to quote, best first."""
    return find(index, query_vector, question, k, filters, settings).documents


def find(index: Index, query_vector: np.ndarray | None, question: str, k: int,
         filters: Filters | None = None, settings: SearchSettings | None = None) -> SearchResult:
    """The `k` best documents for `question`, each with the passages to quote, best first.

    Documents are first ordered by their best fused passage of any kind (the MP's question
    included: a user's question often resembles it); the best `rerank_depth` of them are then
    reordered by the ranking model over their signals (rag.rank). The passages to quote are the
    document's answer text when it has any.
    """
    settings = settings or SearchSettings()
    n = len(index.passages)
    if n == 0:
        return SearchResult([])
    allowed = _allowed_mask(index, filters)
    cosines = _dense_scores(index, query_vector, allowed, settings.candidates)
    lexical = None
    fused: dict[int, float] = {}
    if settings.mode in ("hybrid", "dense") and query_vector is not None:
        _add_ranking(fused, cosines, settings.dense_weight, settings)
    if settings.mode in ("hybrid", "lexical"):
        with stage("bm25"):
            lexical = index.lexical.scores(question, n)
        if allowed is not None:
            lexical = np.where(allowed, lexical, 0.0)
        top_lexical = {int(i): float(lexical[i]) for i in _top(lexical, settings.candidates) if lexical[i] > 0}
        if settings.fusion == "linear" and settings.mode == "hybrid":
            # Cosine plus BM25 scaled to [0, 1] by the best BM25 score of this question.
            peak = max(top_lexical.values(), default=1.0)
            fused = {i: settings.dense_weight * cosines.get(i, _cosine(index, query_vector, i))
                     + settings.lexical_weight * float(lexical[i]) / peak
                     for i in set(cosines) | set(top_lexical)}
        else:
            _add_ranking(fused, top_lexical, settings.lexical_weight, settings)

    order: list[str] = []  # documents by their best fused passage
    for i, _ in sorted(fused.items(), key=lambda item: -item[1]):
        file = index.passages[i].file
        if file not in order:
            order.append(file)
    ids = find_identifiers(question)
    named: list[str] = []
    if ids:
        named = [f for f in documents_for(ids, list(index.documents.values()))
                 if filters is None or filters.matches(index.documents[f])]
        # Several documents can carry one number (S 101 exists in two sessions): best match first.
        named.sort(key=lambda f: order.index(f) if f in order else len(order))
    rest = [f for f in order if f not in named and index.rows_by_file[f]]
    signals = c = reranked = None
    if rest and settings.rerank_depth > 0:
        with stage("rerank"):
            head = rest[:settings.rerank_depth]
            c = candidates(index, query_vector, lexical, question, head, allowed, _spread(cosines),
                           settings.lexical_weight)
            head, scores = rerank(c, settings.ranking)
            rest = head + rest[settings.rerank_depth:]
            signals = confidence_features(c, scores, head)
            reranked = (head, scores)
    files = [f for f in named if index.rows_by_file[f]] + rest
    documents = [RankedDocument(f, _passages_to_quote(index, f, query_vector, lexical, fused, settings, allowed),
                                by_identifier=f in named)
                 for f in files[:k]]
    return SearchResult(documents, signals, c, reranked)


def _spread(cosines: dict[int, float], top: int = 50) -> float:
    """How far the best passage's cosine stands out from the next 49: e5 cosines are compressed
    (unrelated Danish texts still score ~0.85), so the best cosine alone says little."""
    best = sorted(cosines.values(), reverse=True)[:top]
    return float(best[0] - np.mean(best)) if best else 0.0


def _passages_to_quote(index: Index, file: str, query_vector: np.ndarray | None, lexical: np.ndarray | None,
                       fused: dict[int, float], settings: SearchSettings,
                       allowed: np.ndarray | None = None) -> tuple[RankedPassage, ...]:
    """A document's best passages to quote: answer text first, ranked within the document.

    Ranking inside one document fuses the passages' cosine and BM25 ranks, so
    the passage that best matches the question leads even when it was not
    among the corpus-wide candidates.
    """
    rows = [i for i in index.rows_by_file[file] if allowed is None or allowed[i]] or index.rows_by_file[file]
    quotable = [i for i in rows if index.passages[i].kind != "question"] or rows
    cos = {i: _cosine(index, query_vector, i) for i in rows}
    local: dict[int, float] = {}
    if query_vector is not None:
        _add_ranking(local, {i: cos[i] for i in quotable}, settings.dense_weight, settings)
    if lexical is not None:
        _add_ranking(local, {i: float(lexical[i]) for i in quotable if lexical[i] > 0},
                     settings.lexical_weight, settings)
    best = sorted(quotable, key=lambda i: (-local.get(i, 0.0), i))[:settings.passages_per_document]
    # The document's best cosine over all its passages (question included) drives abstention.
    top_cosine = max(cos.values(), default=0.0)
    return tuple(RankedPassage(i, local.get(i, 0.0), top_cosine if j == 0 else cos[i])
                 for j, i in enumerate(best))


def _allowed_mask(index: Index, filters: Filters | None) -> np.ndarray | None:
    if filters is None or not filters.active():
        return None
    ok = {f for f, d in index.documents.items() if filters.matches(d)}
    hidden = filters.hide_questions_of
    return np.fromiter((p.file in ok and not (p.kind == "question" and p.file in hidden) for p in index.passages),
                       dtype=bool, count=len(index.passages))


def _dense_scores(index: Index, query_vector: np.ndarray | None, allowed: np.ndarray | None,
                  candidates: int) -> dict[int, float]:
    """Top passages by cosine (inner product of normalised vectors), within the filter."""
    if query_vector is None:
        return {}
    with stage("dense"):
        return _dense_search(index, query_vector, allowed, candidates)


def _dense_search(index: Index, query_vector: np.ndarray, allowed: np.ndarray | None,
                  candidates: int) -> dict[int, float]:
    import faiss

    q = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    k = min(candidates, len(index.passages))
    params = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        if len(ids) == 0:
            return {}
        k = min(k, len(ids))
        if len(ids) <= EXACT_FILTERED and not isinstance(index.dense, faiss.IndexFlat):
            # An IVF index scans only the clusters nearest the question, where a narrow filter
            # may leave nothing: score the allowed passages exactly instead (20,000 rows ~ 2 ms).
            sims = np.asarray(index.vectors[ids] @ q[0], dtype=np.float32)
            top = _top(sims, k)
            return {int(ids[i]): float(sims[i]) for i in top}
        params = dense_search_params(index.dense, faiss.IDSelectorBatch(ids))
    scores, rows = index.dense.search(q, k, params=params)
    return {int(i): float(s) for s, i in zip(scores[0], rows[0], strict=True) if i >= 0}


def _top(values: np.ndarray, k: int) -> np.ndarray:
    if len(values) <= k:
        return np.argsort(-values)
    part = np.argpartition(-values, k)[:k]
    return part[np.argsort(-values[part])]


def _add_ranking(fused: dict[int, float], scores: dict[int, float], weight: float,
                 settings: SearchSettings) -> None:
    for rank, i in enumerate(sorted(scores, key=lambda j: -scores[j]), start=1):
        fused[i] = fused.get(i, 0.0) + weight / (settings.rrf_k + rank)


def _cosine(index: Index, query_vector: np.ndarray | None, i: int) -> float:
    if query_vector is None:
        return 0.0
    return float(index.vectors[i] @ query_vector)


# ---------------------------------------------------------------------------
# Evidence sentences

def evidence_spans(text: str, question: str, document_frequency: dict[str, float] | None = None,
                   max_sentences: int = 2) -> tuple[tuple[int, int], ...]:
    """The sentence(s) of `text` that best match `question` by rare shared words.

    Returns spans relative to `text`, in text order; empty when no sentence
    shares a content word with the question.
    """
    terms = set(analyse(question))
    if not terms:
        return ()
    spans = list(sentence_spans(text))
    df = document_frequency or {}
    scored = []
    for s, e in spans:
        words = analyse(text[s:e])
        overlap = terms.intersection(words)
        score = sum(df.get(t, 1.0) for t in overlap) / math.sqrt(max(len(words), 1) / 10 + 1)
        scored.append((score, s, e))
    best = sorted(scored, key=lambda x: -x[0])
    if not best or best[0][0] <= 0:
        return ()
    chosen = [best[0]] + [b for b in best[1:max_sentences] if b[0] >= 0.6 * best[0][0]]
    return tuple(sorted((s, e) for _, s, e in chosen))
