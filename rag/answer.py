"""`ask()`: the one entry point the CLI, the web UI and Python users call, and `describe_index()`
for what they show about the index that answers."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from rag.cite import cite
from rag.config import Settings
from rag.errors import IndexProblem, InputError, SettingError
from rag.lexical import analyse
from rag.model.embedder import Embedder, load_embedder
from rag.model.engines import BUNDLED_MODEL_ID
from rag.rank import LinearModel, probability
from rag.records import Answer, Hit
from rag.retrieve import Filters, RankedDocument, SearchResult, evidence_spans, find
from rag.store import Index, current_generation, load_generation
from rag.text import capitalised
from rag.timing import stage

NO_ANSWER = "Jeg fandt ingen svar, der handler om det."
UNSURE = "Måske relevant: jeg er ikke sikker på, at disse passager svarer på spørgsmålet."
MAX_QUESTION_CHARS = 2000  # the model reads ~512 tokens; longer questions are cut for embedding



@dataclass(frozen=True)
class Calibration:
    """The confidence model for one embedding model (logistic, over rag.rank.CONFIDENCE_FEATURES)
    and its two thresholds, fitted on the tuning half by scripts/fit_ranking.py (see BENCHMARKS.md)."""

    weights: tuple[tuple[str, float], ...]
    bias: float
    abstain_below: float  # say nothing below this confidence
    unsure_below: float  # quote under "Måske relevant" below this one


CALIBRATIONS: dict[str, Calibration] = {
    # fitted 2026-11-30 on the tuning half; cross-validated there: 47 % of unanswerable questions
    # abstained at 3.4 % false abstention (BENCHMARKS.md, "Retrieval on questions it was not tuned on")
    BUNDLED_MODEL_ID: Calibration(
        weights=(("score", 0.0848), ("gap", 0.0323), ("cos_max", 11.5729), ("cos_answer", 13.397),
                 ("cos_question", 9.2816), ("spread", 4.5206), ("bm25_max", 0.5043), ("bm25_answer", 0.7746),
                 ("coverage", 0.8184), ("coverage_answer", 0.8464), ("parts", 0.5798), ("missing_max", -0.622),
                 ("missing_share", -1.1489), ("missing_count", 0.152), ("unseen", -0.0653), ("unknown", -0.8465),
                 ("dense_first", 0.0297), ("lexical_first", -0.0537), ("minister", -0.095)),
        bias=-39.8147, abstain_below=0.370, unsure_below=0.747),
}


def ask(question: str, k: int = 5, *, filters: Filters | None = None, settings: Settings | None = None,
        index_dir: Path | str | None = None) -> Answer:
    """Answer `question` with up to `k` documents' verbatim passages and citations, best first.

    Returns an `Answer`; `answer.abstained` is True (with a Danish `message`)
    when nothing relevant was found, `answer.unsure` when the quotes may not answer it.
    Raises InputError for an empty question (or one without a letter or digit) or
    k < 1, IndexProblem for a missing or unusable index, SettingError/ModelError for
    a model that cannot be used; all are `rag.errors.RagError` with a Danish line.
    """
    settings = _settings(settings, index_dir)
    question = _checked(question, k)
    index, found = _search(question, k, filters, settings)
    if not found.documents:
        return Answer(question=question, hits=(), abstained=True, message=NO_ANSWER)
    confidence, abstain, unsure = _judge(index, found, settings)
    if abstain:
        return Answer(question=question, hits=(), abstained=True, message=NO_ANSWER, confidence=confidence)
    hits = _hits(index, question, found.documents, settings)
    return Answer(question=question, hits=hits, confidence=confidence, unsure=unsure,
                  message=UNSURE if unsure else None)


def timeline(question: str, limit: int = 50, *, filters: Filters | None = None, settings: Settings | None = None,
             index_dir: Path | str | None = None) -> Answer:
    """What has been answered on `question` over time: every document that passes `ask()`'s relevance
    decision (at most `limit`, the most relevant ones when there are more), oldest first, documents
    without a date last. Each hit carries its own `confidence`; the answer's is that of the best
    document, and when `ask()` would abstain, so does the timeline. Raises as `ask()` does.
    """
    settings = _settings(settings, index_dir)
    question = _checked(question, limit)
    search = replace(settings.search, rerank_depth=max(settings.search.rerank_depth, limit))
    index, found = _search(question, limit, filters, replace(settings, search=search))
    if not found.documents:
        return Answer(question=question, hits=(), abstained=True, message=NO_ANSWER, order="date")
    confidence, abstain, unsure = _judge(index, found, settings)
    if abstain:
        return Answer(question=question, hits=(), abstained=True, message=NO_ANSWER, confidence=confidence,
                      order="date")
    calibration = CALIBRATIONS.get(index.manifest["model"]["id"])
    threshold = _thresholds(calibration, settings)[0] if calibration else 0.0
    kept, scores = [], {}
    for r in found.documents:
        signals = None if r.by_identifier or calibration is None else found.signals_of(r.file)
        p = 1.0 if r.by_identifier else (_probability(calibration, signals) if calibration and signals is not None
                                          else None)
        if p is None or p >= threshold:
            kept.append(r)
            scores[r.file] = p
    hits = _hits(index, question, kept, settings, scores)
    hits = tuple(sorted(hits, key=lambda h: (h.document.dato is None, h.document.dato or date.min, h.document.file)))
    return Answer(question=question, hits=hits, confidence=confidence, unsure=unsure,
                  message=UNSURE if unsure else None, order="date")


def _settings(settings: Settings | None, index_dir: Path | str | None) -> Settings:
    settings = settings or Settings()
    return replace(settings, index_dir=Path(index_dir)) if index_dir is not None else settings


def _search(question: str, k: int, filters: Filters | None, settings: Settings) -> tuple[Index, SearchResult]:
    index = open_index(settings.index_dir)
    embedder = embedder_for(index, settings)
    query_vector = None
    if settings.search.mode != "lexical":
        with stage("embed"):
            query_vector = embedder.embed_query(question[:MAX_QUESTION_CHARS])
    with stage("fusion"):
        return index, find(index, query_vector, question, k, filters, settings.search)


def _hits(index: Index, question: str, ranked: Sequence[RankedDocument], settings: Settings,
          confidence: dict[str, float | None] | None = None) -> tuple[Hit, ...]:
    with stage("evidence"):
        idf = index.lexical.idf(analyse(question)) if settings.evidence else {}
        hits = []
        for r in ranked:
            doc = index.documents[r.file]
            passages = tuple(index.passages[p.index] for p in r.passages)
            evidence = evidence_spans(passages[0].text, question, idf) if settings.evidence else ()
            hits.append(Hit(document=doc, passages=passages, scores=tuple(p.score for p in r.passages),
                            citation=cite(doc), evidence=evidence, similarity=r.passages[0].cosine,
                            confidence=(confidence or {}).get(r.file)))
    return tuple(hits)


_UNUSABLE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _checked(question: object, k: object) -> str:
    """The question without control characters and lone surrogates, or InputError.

    A command line that is not valid UTF-8 reaches Python as lone surrogates, which
    the model's tokenizer and the JSON output cannot take; they become U+FFFD.
    """
    if not isinstance(question, str) or not question.strip():
        raise InputError("Skriv et spørgsmål – feltet er tomt.")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise InputError(f"Antal svar skal være mindst 1 (fik {k}).")
    question = _UNUSABLE_CHARS.sub(lambda m: "\ufffd" if m[0] >= "\ud800" else " ", question).strip()
    if not question:
        raise InputError("Skriv et spørgsmål – feltet er tomt.")
    if not any(c.isalnum() for c in question):
        raise InputError("Spørgsmålet indeholder ingen ord – skriv det med bogstaver eller tal.")
    return question


def _judge(index: Index, found: SearchResult, settings: Settings) -> tuple[float | None, bool, bool]:
    """(confidence, abstain, unsure) for the search's best document. A question that names a case or
    question number is answered by that document; a model without a calibration never abstains."""
    if any(r.by_identifier for r in found.documents):
        return 1.0, False, False
    calibration = CALIBRATIONS.get(index.manifest["model"]["id"])
    if calibration is None or found.signals is None:
        return None, False, False
    confidence = _probability(calibration, found.signals)
    abstain_below, unsure_below = _thresholds(calibration, settings)
    return confidence, confidence < abstain_below, confidence < unsure_below


def _probability(calibration: Calibration, signals: np.ndarray) -> float:
    return probability(LinearModel(calibration.weights, calibration.bias), signals)


def _thresholds(calibration: Calibration, settings: Settings) -> tuple[float, float]:
    """(abstain below, unsure below): the settings' values where given, else the calibration's."""
    a = settings.abstention
    return (calibration.abstain_below if a.min_confidence is None else a.min_confidence,
            calibration.unsure_below if a.unsure_below is None else a.unsure_below)


# ---------------------------------------------------------------------------
# Loaded indexes and models, shared by every call in this process

_indexes: dict[Path, Index] = {}
_lock = threading.Lock()


def open_index(index_dir: Path | str) -> Index:
    """The current generation of `index_dir`, reloaded when `rag index` has swapped in a new one.

    While a newer generation cannot be read, the one already loaded keeps answering.
    """
    key = Path(index_dir).resolve()
    try:
        generation = current_generation(key)
    except IndexProblem:
        with _lock:
            cached = _indexes.get(key)
        if cached is not None:
            return cached
        raise
    if generation is None:
        raise IndexProblem(f"Der er intet indeks i {index_dir}. Byg det først: rag index corpus/ --index {index_dir}")
    with _lock:
        cached = _indexes.get(key)
        if cached is None or cached.generation != generation:
            try:
                loaded = load_generation(key)
            except IndexProblem:
                if cached is not None:
                    return cached
                raise
            if loaded is None:
                raise IndexProblem(f"Der er intet indeks i {index_dir}. Byg det først: rag index corpus/")
            _indexes[key] = loaded
        return _indexes[key]


def index_exists(index_dir: Path | str) -> bool:
    """Is there an index in `index_dir` (raises IndexProblem when its CURRENT pointer is damaged)?"""
    return current_generation(Path(index_dir)) is not None


def embedder_for(index: Index, settings: Settings) -> Embedder:
    """The embedder that matches `index`; refuses a model other than the one it was built with."""
    built = index.manifest["model"]
    setting = settings.model.name or built["setting"]
    embedder = load_embedder(setting, settings.model.backend, settings.cache_dir)
    if embedder.model_id != built["id"] or embedder.fingerprint != built["fingerprint"]:
        raise SettingError(
            f"Indekset i {index.path.parent} er bygget med modellen '{built['id']}' "
            f"(fingeraftryk {built['fingerprint'][:12]}), men modellen nu er '{embedder.model_id}' "
            f"(fingeraftryk {embedder.fingerprint[:12]}). Byg indekset igen: "
            f"rag index corpus/ --index {index.path.parent} --model {setting}")
    return embedder


# ---------------------------------------------------------------------------
# What the shells show about the index


@dataclass(frozen=True)
class IndexInfo:
    """The index that answers: its size, model, age, and the values its documents have for each filter."""

    path: Path
    generation: str
    documents: int
    passages: int
    model_id: str
    model_setting: str
    created: str  # ISO time (UTC) the generation was written
    ministers: tuple[str, ...]
    udvalg: tuple[str, ...]
    parties: tuple[str, ...]
    manifest: dict[str, Any]


_PARTY = re.compile(r"\(([^()]+)\)\s*$")
_NAME_IN_PARENS = re.compile(r"\s*\([^()]*\)\s*$")


def describe_index(index_dir: Path | str | None = None) -> IndexInfo:
    """What `ask()` would answer from: the index in `index_dir` (default: the settings' index folder).

    Uses the index `ask()` has loaded (reloaded when a new generation is current).
    Raises IndexProblem when there is no usable index.
    """
    index = open_index(Path(index_dir) if index_dir is not None else Settings().index_dir)
    ministers: set[str] = set()
    udvalg: set[str] = set()
    parties: set[str] = set()
    for doc in index.documents.values():
        for m in (doc.minister_addressed, doc.answering_minister):
            if m:
                ministers.add(capitalised(_NAME_IN_PARENS.sub("", m)))
        if doc.udvalg:
            udvalg.add(doc.udvalg)
        if doc.spoerger and (party := _PARTY.search(doc.spoerger)):
            parties.add(party.group(1).strip())
    model = index.manifest.get("model", {})
    return IndexInfo(path=index.path.parent, generation=index.generation, documents=len(index.documents),
                     passages=len(index.passages), model_id=str(model.get("id", "")),
                     model_setting=str(model.get("setting", "")), created=str(index.manifest.get("created", "")),
                     ministers=tuple(sorted(ministers)), udvalg=tuple(sorted(udvalg)),
                     parties=tuple(sorted(parties)), manifest=index.manifest)
