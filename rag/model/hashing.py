"""FOR TESTS ONLY: a model-free embedder (`--model hashing`), so unit tests run in seconds.

Deterministic bag-of-words vectors (each word hashed to a signed slot, normalised):
similar wording gives similar vectors, which is all the tests need. It knows no
meaning at all; never use it for real questions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)
def _slot(word: str) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return h, 1.0 if (h >> 32) & 1 else -1.0


class HashingEmbedder:
    """Hashed, signed, normalised word counts (test-only; see the module docstring)."""

    model_id = "hashing-256"
    fingerprint = "hashing-v1"
    backend = "hashing"
    dim = 256
    max_tokens = 120

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            h, sign = _slot(word)
            vec[h % self.dim] += sign
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)
