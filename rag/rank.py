"""Rank candidate documents by a small learned model over signals of each document.

For a question, every candidate document (the documents of the best dense and BM25
passages) gets a feature vector: how close its best passage, answer passage and question
passage are in meaning (cosine), how well they match in words (BM25), how much of the
question's rare vocabulary the document holds (exactly, and in parts of compound words:
"børnesager" / "sager om børn"), whether it is by the minister or from the period the
question names, whether it is only a preliminary answer. A linear model over these
(weights in `rag.config.RankSettings`, fitted on the tuning half of tests/eval/questions.jsonl)
orders the documents; a second one decides whether the best of them answers at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rag.lexical import analyse
from rag.question import minister_subjects, named_ministers, named_period
from rag.records import Document
from rag.store import Index

FEATURES = ("cos_max", "cos_answer", "cos_question", "cos_top2", "bm25_max", "bm25_answer", "coverage",
            "coverage_answer", "parts", "minister", "period", "preliminary", "fused", "missing_max", "missing_share",
            "missing_count", "dense_rank", "lexical_rank")


@dataclass(frozen=True)
class Candidates:
    """The candidate documents of one question and their features (rows of `x` follow `files`)."""

    files: list[str]
    x: np.ndarray  # (documents, len(FEATURES))
    query_terms: int  # distinct content terms in the question
    unseen_terms: float  # idf-weighted share of the question's terms that no candidate document holds
    unknown_terms: float  # share of the question's terms the corpus never uses
    spread: float = 0.0  # best passage cosine minus the mean of the best 50 (over all passages)


def candidates(index: Index, query_vector: np.ndarray | None, lexical: np.ndarray | None, question: str,
               files: list[str], allowed: np.ndarray | None, spread: float = 0.0,
               lexical_weight: float = 0.03) -> Candidates:
    """Features of `files` for `question`. `lexical` holds every passage's BM25 score for the question
    (0 where not `allowed`); cosines are computed for the candidates' passages only."""
    if lexical is None:
        lexical = np.zeros(len(index.passages), dtype=np.float32)
    terms = sorted(set(analyse(question)))
    idf = index.lexical.idf(terms)
    unseen = math.log(1.0 + len(index.passages) + 0.5)  # a term the corpus never uses is as rare as can be
    weight = {t: idf.get(t, unseen) for t in terms}
    total = sum(weight.values()) or 1.0
    ministers = named_ministers(question)
    period = named_period(question)
    grams = {t: _grams(t) for t in terms if len(t) >= 5}
    peak = float(lexical.max()) if len(lexical) and lexical.max() > 0 else 1.0
    rows = []
    held: set[str] = set()
    for f in files:
        ids = [i for i in index.rows_by_file[f] if allowed is None or allowed[i]]
        kinds = [index.passages[i].kind for i in ids]
        cos = _cosines(index, query_vector, ids)
        bm = lexical[ids] if ids else np.zeros(1)
        answer = [j for j, k in enumerate(kinds) if k != "question"]
        asked = [j for j, k in enumerate(kinds) if k == "question"]
        doc_terms = _terms(index, tuple(ids))
        answer_terms = _terms(index, tuple(ids[j] for j in answer))
        held |= doc_terms
        doc = index.documents[f]
        doc_grams = _doc_grams(index, tuple(ids))
        top2 = np.sort(cos)[-2:]
        # words the corpus knows but this document lacks, even as part of a compound: a question
        # about "Bornholm" that a document about another island answers only in part
        missing = [weight[t] for t in terms if t in idf and t not in doc_terms
                   and not (t in grams and len(grams[t] & doc_grams) >= 0.7 * len(grams[t]))]
        rows.append([
            float(cos.max()),
            float(cos[answer].max()) if answer else 0.0,
            float(cos[asked].max()) if asked else float(cos.max()),  # no printed question: its best passage
            float(top2.mean()),
            float(bm.max()) / peak,
            float(bm[answer].max()) / peak if answer else 0.0,
            sum(w for t, w in weight.items() if t in doc_terms) / total,
            sum(w for t, w in weight.items() if t in answer_terms) / total,
            sum(weight[t] * len(g & doc_grams) / len(g) for t, g in grams.items() if g) / total,
            _minister(ministers, question, doc),
            _period(period, doc),
            float(doc.preliminary),
            float((cos + lexical_weight * bm / peak).max()),  # the linear fusion that ranked documents before
            max(missing, default=0.0) / unseen,
            sum(missing) / total,
            float(len(missing)),
        ])
    x = np.asarray(rows, dtype=np.float32).reshape(len(files), len(FEATURES) - 2)
    dense_rank = _reciprocal_rank(x[:, 0])
    lexical_rank = _reciprocal_rank(x[:, 4])
    x = np.column_stack([x, dense_rank, lexical_rank]).astype(np.float32)
    unseen_share = sum(w for t, w in weight.items() if t not in held) / total
    unknown = sum(1 for t in terms if t not in idf) / max(len(terms), 1)
    return Candidates(files, x, len(terms), unseen_share, unknown, spread)


def _cosines(index: Index, query_vector: np.ndarray | None, ids: list[int]) -> np.ndarray:
    if not ids or query_vector is None:
        return np.zeros(max(len(ids), 1), dtype=np.float32)
    return np.asarray(index.vectors[ids] @ query_vector, dtype=np.float32)


def _reciprocal_rank(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[order] = 1.0 / (1.0 + np.arange(len(values)))
    return ranks


def _minister(named: list[frozenset[str]], question: str, doc: Document) -> float:
    """+1 when the question names the document's minister (by title or name), -1 when it names another
    minister and the document says who answered, 0 when the question names none."""
    people = [p for p in (doc.signer, _in_parentheses(doc.answering_minister)) if p]
    lowered = question.lower()
    if any(p.lower() in lowered or (len(p.split()) > 1 and re.search(rf"\b{re.escape(p.split()[-1])}\b", question))
           for p in people):
        return 1.0
    if not named:
        return 0.0
    titles = [minister_subjects(t) for t in (doc.minister_addressed, doc.answering_minister, doc.signer_title) if t]
    titles = [t for t in titles if t]
    if not titles:
        return 0.0
    return 1.0 if any(q <= t or t <= q for q in named for t in titles) else -1.0


def _in_parentheses(text: str | None) -> str | None:
    m = re.search(r"\(([^()]+)\)\s*$", text or "")
    return m.group(1) if m else None


def _period(period: tuple | None, doc: Document) -> float:
    """+1 when the document is dated in the period the question names (a fortnight's slack), -1 outside."""
    if period is None or doc.dato is None:
        return 0.0
    start, end = period
    slack = 15
    inside = (start - doc.dato).days <= slack and (doc.dato - end).days <= slack
    return 1.0 if inside else -1.0


def _grams(term: str, n: int = 4) -> frozenset[str]:
    return frozenset(term[i:i + n] for i in range(len(term) - n + 1))


def _terms(index: Index, ids: tuple[int, ...]) -> frozenset[str]:
    """The analysed terms of passages `ids` (kept on the index: a document's are asked for again and again)."""
    cache = index.derived.setdefault("rank.terms", {})
    if ids not in cache:
        passage = index.derived.setdefault("rank.passage_terms", {})
        for i in ids:
            if i not in passage:
                passage[i] = frozenset(analyse(index.passages[i].text))
        cache[ids] = frozenset().union(*(passage[i] for i in ids))
    return cache[ids]


def _doc_grams(index: Index, ids: tuple[int, ...]) -> frozenset[str]:
    cache = index.derived.setdefault("rank.grams", {})
    if ids not in cache:
        cache[ids] = frozenset(g for t in _terms(index, ids) for g in _grams(t))
    return cache[ids]


# ---------------------------------------------------------------------------
# The two linear models


@dataclass(frozen=True)
class LinearModel:
    """score = sum of weight * feature + bias, over named features (raw units, no scaling)."""

    weights: tuple[tuple[str, float], ...]
    bias: float = 0.0

    def score(self, x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        w = dict(self.weights)
        unknown = set(w) - set(names)
        if unknown:
            raise ValueError(f"features the model does not know: {sorted(unknown)}")
        return x @ np.asarray([w.get(n, 0.0) for n in names], dtype=np.float32) + self.bias


def rerank(c: Candidates, weights: tuple[tuple[str, float], ...]) -> tuple[list[str], np.ndarray]:
    """The candidates' files best first by the linear model with `weights`, with their scores in that order."""
    scores = LinearModel(weights).score(c.x, FEATURES)
    order = np.argsort(-scores, kind="stable")
    return [c.files[i] for i in order], scores[order]


CONFIDENCE_FEATURES = ("score", "gap", "cos_max", "cos_answer", "cos_question", "spread", "bm25_max", "bm25_answer",
                       "coverage", "coverage_answer", "parts", "missing_max", "missing_share", "missing_count",
                       "unseen", "unknown", "dense_first", "lexical_first", "minister")


def confidence_features(c: Candidates, scores: np.ndarray, files: list[str], at: int = 0) -> np.ndarray:
    """What tells "this answers it" from "nothing here does", for the document at position `at` of the
    reranked `files` (`scores` in the same order; default the best): its score and its lead over the
    best other one (negative below the top), its cosine and word coverage,
    how far the best passage stands out from the crowd, the share of the question's rare terms no
    candidate holds, whether dense and BM25 both put it
    first, whether it is by the minister the question names."""
    value = dict(zip(FEATURES, c.x[c.files.index(files[at])].tolist(), strict=True))
    others = np.delete(scores, at)
    value.update(score=float(scores[at]), gap=float(scores[at] - others.max()) if len(others) else 1.0,
                 spread=c.spread, unseen=c.unseen_terms, unknown=c.unknown_terms,
                 dense_first=float(value["dense_rank"] == 1.0), lexical_first=float(value["lexical_rank"] == 1.0))
    return np.asarray([value[name] for name in CONFIDENCE_FEATURES], dtype=np.float32)


def probability(model: LinearModel, features: np.ndarray) -> float:
    """The logistic confidence model's probability that the best document answers the question."""
    z = float(model.score(features.reshape(1, -1), CONFIDENCE_FEATURES)[0])
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
