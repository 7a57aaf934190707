"""Build or update an index: files -> documents -> passages -> vectors -> a new generation on disk.

Only what changed is redone: a file whose bytes (and sidecar row) are unchanged
keeps its parsed document and passages when parsing and chunking are unchanged,
and a passage whose text was already embedded by the same model keeps its vector.
`update_index` is the public entry point (the CLI, the web app's first start);
`build_index` does the work for a given embedder.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import chunk_document
from rag.config import ChunkSettings, Settings
from rag.errors import IndexProblem, UnreadableFile
from rag.ingest.load import load_text
from rag.ingest.parse import parse_document
from rag.ingest.walk import iter_source_files
from rag.model.embedder import BUNDLED, Embedder, load_embedder
from rag.model.engines import BULK_BATCH
from rag.records import Document, Passage
from rag.store import (
    FORMAT_VERSION,
    Index,
    current_manifest,
    load_generation,
    remove_stale_generations,
    write_generation,
    writer_lock,
)
from rag.version import __version__

PARSER_VERSION = 7  # bump when parsing or chunking changes what a file yields


@dataclass
class IndexSummary:
    """What an indexing run did, for the end-of-run report."""

    documents: int = 0
    passages: int = 0
    embedded: int = 0  # passages embedded in this run
    reused: int = 0  # passage vectors taken over from the previous index
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, Danish reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, Danish remark)
    kinds: dict[str, list[str]] = field(default_factory=dict)  # how each file was understood: kind -> files
    seconds: float = 0.0
    embed_seconds: float = 0.0  # of which embedding passages
    generation: str = ""  # the generation written; "" when nothing was written (see allow_empty)
    model: str = ""  # the model setting the index was built with
    had_index: bool = False  # an index was there before this run (and is kept when nothing was written)


def update_index(paths: Iterable[Path | str], settings: Settings | None = None, progress: bool = True,
                 allow_empty: bool = False) -> IndexSummary:
    """Index every document under `paths` into `settings.index_dir`, reusing what is unchanged.

    The model is `settings.model.name`, else the one the current index was built
    with, else the bundled one. A run that finds no readable document writes
    nothing unless `allow_empty`, so a mistyped folder cannot replace a good
    index with an empty one. Raises RagError subclasses with a Danish line.
    """
    settings = settings or Settings()
    previous = index_model_setting(settings.index_dir)
    model = settings.model.name or previous or BUNDLED
    embedder = load_embedder(model, settings.model.backend, settings.cache_dir)
    summary = build_index([Path(p) for p in paths], settings.index_dir, embedder, model, settings.chunk,
                          progress=progress, allow_empty=allow_empty)
    summary.model = model
    summary.had_index = previous is not None
    return summary


def index_model_setting(index_dir: Path) -> str | None:
    """The model setting the current index in `index_dir` was built with (None without a usable index)."""
    manifest = current_manifest(index_dir)
    try:
        return str(manifest["model"]["setting"]) if manifest else None
    except (KeyError, TypeError):
        return None


def build_index(roots: Iterable[Path], index_dir: Path, embedder: Embedder, model_setting: str,
                chunk_settings: ChunkSettings | None = None, progress: bool = True,
                allow_empty: bool = True) -> IndexSummary:
    """Index every document under `roots` into `index_dir` with `embedder`, reusing what is unchanged.

    Vectors of passages whose text was already embedded by the same model are
    taken over from the current generation; everything else is embedded.
    With allow_empty=False a run that finds no readable document writes nothing.
    Raises IndexProblem when another run holds the lock.
    """
    started = time.perf_counter()
    chunk_settings = _fit_to_model(chunk_settings or ChunkSettings(), embedder)
    index_dir = Path(index_dir)
    with writer_lock(index_dir):
        return _build_locked(list(roots), index_dir, embedder, model_setting, chunk_settings,
                             progress, started, allow_empty)


def _fit_to_model(settings: ChunkSettings, embedder: Embedder) -> ChunkSettings:
    """Passages never longer than the model reads (less a few tokens of slack)."""
    limit = min(settings.max_tokens, embedder.max_tokens - 4)
    return replace(settings, target_tokens=min(settings.target_tokens, limit), max_tokens=limit)


def _build_locked(roots: list[Path], index_dir: Path, embedder: Embedder, model_setting: str,
                  chunk_settings: ChunkSettings, progress: bool, started: float,
                  allow_empty: bool = True) -> IndexSummary:
    from tqdm import tqdm

    summary = IndexSummary()
    previous = _previous_for_reuse(index_dir, embedder)
    old_docs: dict[str, dict[str, Any]] = previous.manifest["documents"] if previous else {}
    # Parsed documents are reusable only if parsing and chunking are unchanged; vectors of
    # identical passage texts are reused either way.
    docs_reusable = previous is not None and previous.manifest["parser_version"] == PARSER_VERSION \
        and previous.manifest["chunker"] == chunk_settings.to_dict()

    documents: list[Document] = []
    passages: list[Passage] = []
    hashes: dict[str, str] = {}
    sources = list(iter_source_files(roots, summary.skipped))
    old_passages: dict[str, list[Passage]] = {}
    for p in previous.passages if previous else ():
        old_passages.setdefault(p.file, []).append(p)
    for src in tqdm(sources, desc="Læser dokumenter", unit="fil", disable=not progress, file=sys.stderr):
        try:
            digest = _file_digest(src.path, src.meta)
            if previous and docs_reusable and old_docs.get(src.file, {}).get("sha256") == digest:
                doc = previous.documents[src.file]
                doc_passages = old_passages.get(src.file, [])
            else:
                doc = parse_document(load_text(src.path), src.file, src.meta)
                doc_passages = chunk_document(doc, embedder.count_tokens, chunk_settings)
        except UnreadableFile as exc:
            summary.skipped.append((src.file, str(exc)))
            continue
        except OSError as exc:
            summary.skipped.append((src.file, f"kunne ikke læses ({exc.strerror or exc})"))
            continue
        documents.append(doc)
        summary.kinds.setdefault(doc.kind, []).append(doc.file)
        passages.extend(doc_passages)
        hashes[doc.file] = digest
        summary.notes.extend((doc.file, note) for note in doc.notes)

    if not documents and not allow_empty:
        summary.seconds = time.perf_counter() - started
        return summary
    vectors = _vectors_for(passages, previous, embedder, progress, summary)
    summary.documents = len(documents)
    summary.passages = len(passages)
    if previous:
        summary.removed = sorted(set(old_docs) - set(hashes))
    previous = None  # its vectors, FAISS and BM25 are no longer needed: free them before writing
    old_passages.clear()
    manifest = _manifest(embedder, model_setting, chunk_settings, documents, passages, hashes)
    summary.generation = write_generation(index_dir, manifest, documents, passages, vectors)
    remove_stale_generations(index_dir, keep=summary.generation)
    summary.seconds = time.perf_counter() - started
    return summary


def _file_digest(path: Path, meta: dict[str, str]) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    # Sidecar metadata changes the document too.
    h.update(json.dumps(meta, sort_keys=True).encode())
    return h.hexdigest()


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _previous_for_reuse(index_dir: Path, embedder: Embedder) -> Index | None:
    """The current generation if its vectors can be reused (built with the same model)."""
    try:
        previous = load_generation(index_dir)
    except IndexProblem:
        return None
    if previous is None:
        return None
    model = previous.manifest["model"]
    if model["id"] != embedder.model_id or model["fingerprint"] != embedder.fingerprint:
        return None
    return previous


def _vectors_for(passages: list[Passage], previous: Index | None, embedder: Embedder, progress: bool,
                 summary: IndexSummary) -> np.ndarray:
    from tqdm import tqdm

    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    known: dict[str, int] = {}
    if previous is not None:
        known = {_text_key(p.text): i for i, p in enumerate(previous.passages)}
    todo: list[int] = []
    for i, p in enumerate(passages):
        j = known.get(_text_key(p.text))
        if j is not None:
            vectors[i] = previous.vectors[j]  # type: ignore[union-attr]
        else:
            todo.append(i)
    summary.reused = len(passages) - len(todo)
    summary.embedded = len(todo)
    todo.sort(key=lambda i: len(passages[i].text))  # batches of similar length: less padding (~10 %)
    batch = BULK_BATCH
    with tqdm(total=len(todo), desc="Indlejrer passager", unit="passage", disable=not progress or not todo,
              file=sys.stderr) as bar:
        for b in range(0, len(todo), batch):
            ids = todo[b:b + batch]
            t = time.perf_counter()
            vectors[ids] = embedder.embed_passages([passages[i].text for i in ids])
            summary.embed_seconds += time.perf_counter() - t
            bar.update(len(ids))
    return vectors


def _manifest(embedder: Embedder, model_setting: str, chunk_settings: ChunkSettings,
              documents: list[Document], passages: list[Passage], hashes: dict[str, str]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for p in passages:
        counts[p.file] = counts.get(p.file, 0) + 1
    return {
        "format_version": FORMAT_VERSION,
        "parser_version": PARSER_VERSION,
        "package_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {"setting": model_setting, "id": embedder.model_id, "fingerprint": embedder.fingerprint,
                  "dim": embedder.dim},
        # Cosine similarity = inner product of L2-normalised vectors.
        "metric": "inner_product_normalised",
        "chunker": chunk_settings.to_dict(),
        "counts": {"documents": len(documents), "passages": len(passages)},
        "documents": {d.file: {"sha256": hashes[d.file], "kind": d.kind, "passages": counts.get(d.file, 0)}
                      for d in documents},
        "files": {},
    }
