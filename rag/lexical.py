"""BM25 over Danish text: lower-cased words, Danish stop words removed, Snowball-stemmed.

A thin layer over bm25s so the rest of the code sees `scores(question)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("danish")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DANISH

    return frozenset(STOPWORDS_DANISH)


def analyse(text: str) -> list[str]:
    """Text -> the stemmed terms BM25 indexes (numbers kept, stop words dropped)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _stopwords() and w != "_"]
    return list(_stemmer().stemWords(words))


class LexicalIndex:
    """BM25 scores for every passage, persisted without pickle."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self._model = model

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        import bm25s

        model = bm25s.BM25()
        # bm25s cannot index an empty corpus; one placeholder keeps shapes consistent.
        corpus = [analyse(t) or ["\x00"] for t in texts] or [["\x00"]]
        model.index(corpus, show_progress=False)
        return cls(model)

    def save(self, directory: Path) -> None:
        self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False, mmap=False))

    def scores(self, question: str, n: int) -> np.ndarray:
        """BM25 score of `question` against each of the first `n` passages."""
        terms = [t for t in analyse(question) if t in self._model.vocab_dict]
        if not terms or n == 0:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._model.get_scores(terms), dtype=np.float32)[:n]

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known term (BM25's formula); unknown terms get none."""
        scores = self._model.scores
        n_docs = float(scores["num_docs"])
        indptr = scores["indptr"]
        out: dict[str, float] = {}
        for t in terms:
            tid = self._model.vocab_dict.get(t)
            if tid is not None:
                df = float(indptr[tid + 1] - indptr[tid])
                out[t] = float(np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)))
        return out
