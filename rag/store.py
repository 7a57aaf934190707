"""The index on disk: write a generation atomically, find the current one, load it.

Layout of an index directory:

    index/
      CURRENT            name of the generation in use (replaced atomically)
      .lock              held while `rag index` writes
      gen-<time>-<pid>/  one complete generation
        manifest.json    format, model, chunker settings, per-document hashes, counts
        documents.jsonl  parsed documents (full text + fields)
        passages.jsonl   one passage per line: file, section, start, end
        vectors.npy      float32 passage vectors, L2-normalised, row i = passage i
        dense.faiss      FAISS inner-product index over those vectors
        lexical/         BM25 (bm25s arrays and vocabulary)

A new generation is written completely before CURRENT is switched to it with
one `os.replace`, so a reader never sees a half-written index, and a crash
leaves the previous generation in use. Leftovers of a dead run are removed
by the next successful one. What goes into a generation is decided by `rag.build`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.dense import build_dense_index, tune_for_queries
from rag.errors import IndexProblem
from rag.lexical import LexicalIndex
from rag.records import Document, Passage

FORMAT_VERSION = 1
CURRENT = "CURRENT"
LOCK = ".lock"


@dataclass
class Index:
    """A loaded generation: everything `retrieve` searches."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    vectors: np.ndarray
    dense: Any  # faiss.Index
    lexical: Any  # rag.lexical.LexicalIndex
    rows_by_file: dict[str, list[int]] = field(default_factory=dict)  # passage rows of each document
    # values derived on demand while searching (e.g. each passage's analysed terms), gone with the index
    derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rows_by_file:
            for i, p in enumerate(self.passages):
                self.rows_by_file.setdefault(p.file, []).append(i)
        for file in self.documents:
            self.rows_by_file.setdefault(file, [])

    @property
    def generation(self) -> str:
        return self.path.name


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold `index_dir/.lock` while writing; raises IndexProblem when another run holds it."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(index_dir) / LOCK), timeout=0)
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise IndexProblem(f"Et andet 'rag index' skriver allerede til {index_dir}. "
                           "Vent til det er færdigt, og prøv igen.") from None
    except OSError as exc:
        raise IndexProblem(f"Indeksmappen {index_dir} kan ikke bruges ({exc.strerror or exc}).") from None
    try:
        yield
    finally:
        lock.release()


# ---------------------------------------------------------------------------
# Writing


def write_generation(index_dir: Path, manifest: dict[str, Any], documents: list[Document],
                     passages: list[Passage], vectors: np.ndarray) -> str:
    """Write a complete generation and make it current; returns its name (hold `writer_lock`).

    Raises IndexProblem when the disk refuses; the previous generation stays current.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"gen-{stamp}-{os.getpid()}"
    tmp = index_dir / f".tmp-{name}"
    try:
        tmp.mkdir()
        _write_files(tmp, manifest, documents, passages, vectors)
        os.replace(tmp, index_dir / name)
        _write_text_atomic(index_dir / CURRENT, name + "\n")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk leaves nothing behind
        raise IndexProblem(f"Indekset i {index_dir} kunne ikke skrives ({exc.strerror or exc}). "
                           "Det hidtidige indeks er uændret.") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # nor does Ctrl-C
        raise
    return name


def _write_files(tmp: Path, manifest: dict[str, Any], documents: list[Document], passages: list[Passage],
                 vectors: np.ndarray) -> None:
    import faiss

    with (tmp / "documents.jsonl").open("w", encoding="utf-8") as f:
        for d in documents:
            f.write(json.dumps(d.to_dict(include_text=True), ensure_ascii=False) + "\n")
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps({"file": p.file, "kind": p.kind, "section": p.section, "start": p.start,
                                "end": p.end}, ensure_ascii=False) + "\n")
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    dense = build_dense_index(vectors)  # exact below FLAT_LIMIT passages, IVF above
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    del dense  # a copy of the vectors; memory is tight with a large corpus
    LexicalIndex.build([p.text for p in passages]).save(tmp / "lexical")
    manifest["files"] = {p.relative_to(tmp).as_posix(): p.stat().st_size
                         for p in sorted(tmp.rglob("*")) if p.is_file()}
    _write_json(tmp / "manifest.json", manifest)
    _fsync_tree(tmp)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_generations(index_dir: Path, keep: str) -> None:
    """Remove older generations and a dead run's temporary folders (we hold the lock)."""
    for p in index_dir.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith("gen-") or p.name.startswith(".tmp-gen-")):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith(f".{CURRENT}.") and p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Loading


def current_generation(index_dir: Path) -> str | None:
    """Name of the generation CURRENT points to, or None when there is no index."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexProblem(f"Indekset i {index_dir} kan ikke læses ({_one_line(exc)}).") from None
    except UnicodeDecodeError:
        name = "\ufffd"
    if name and not _GENERATION_NAME.fullmatch(name):
        raise IndexProblem(f"Indekset i {index_dir} er beskadiget ({CURRENT} peger ikke på en generation: "
                           f"{name[:60]!r}). {_rebuild(index_dir)}")
    return name or None


_GENERATION_NAME = re.compile(r"gen-[\w-]+")


def _rebuild(index_dir: Path) -> str:
    return f"Byg det igen: rag index corpus/ --index {index_dir}"


def _one_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's text on one line, cut short (FAISS puts C++ file positions in its messages)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_generation(index_dir: Path) -> Index | None:
    """Load the current generation of `index_dir` (None if there is none).

    Raises IndexProblem with a Danish message when it is damaged or of another format.
    A generation that a concurrent `rag index` swapped out (and deleted) while it
    was being read is not damage: the new one is loaded instead.
    """
    index_dir = Path(index_dir)
    attempts = 3
    for attempt in range(attempts):
        name = current_generation(index_dir)
        if name is None:
            return None
        try:
            return _load_named(index_dir, name)
        except IndexProblem:
            if attempt == attempts - 1 or current_generation(index_dir) == name:
                raise
    raise AssertionError("unreachable")


def _load_named(index_dir: Path, name: str) -> Index:
    path = index_dir / name
    rebuild = _rebuild(index_dir)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexProblem(f"Indekset i {index_dir} er beskadiget (manifest.json: {_one_line(exc)}). "
                           f"{rebuild}") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise IndexProblem(f"Indekset i {index_dir} er beskadiget (manifest.json er ikke et indeksmanifest). "
                           f"{rebuild}")
    if manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version")
        raise IndexProblem(f"Indekset i {index_dir} har formatversion {version}, men denne version af "
                           f"programmet læser version {FORMAT_VERSION}. {rebuild}")
    try:
        return _load_checked(path, manifest)
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError, RuntimeError,
            MemoryError) as exc:
        raise IndexProblem(f"Indekset i {index_dir} er beskadiget ({type(exc).__name__}: {_one_line(exc)}). "
                           f"{rebuild}") from None


def _load_checked(path: Path, manifest: dict[str, Any]) -> Index:
    import faiss

    for rel, size in manifest["files"].items():
        actual = (path / rel).stat().st_size
        if actual != size:
            raise ValueError(f"{rel} har {actual} bytes, manifestet siger {size}")
    documents: dict[str, Document] = {}
    with (path / "documents.jsonl").open(encoding="utf-8") as f:
        for line in f:
            d = Document.from_dict(json.loads(line))
            documents[d.file] = d
    passages: list[Passage] = []
    with (path / "passages.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            doc_text = documents[row["file"]].text
            if not 0 <= row["start"] < row["end"] <= len(doc_text):
                raise ValueError(f"en passage af {row['file']} ligger uden for dokumentet")
            text = doc_text[row["start"]:row["end"]]
            passages.append(Passage(file=row["file"], kind=row["kind"], section=row["section"],
                                    start=row["start"], end=row["end"], text=text))
    # memory-mapped: only the rows a query scores are read (a million passages are 1.5 GB)
    vectors = np.load(path / "vectors.npy", allow_pickle=False, mmap_mode="r")
    dense = tune_for_queries(faiss.read_index(str(path / "dense.faiss")))
    counts = manifest["counts"]
    dim = manifest["model"]["dim"]
    if len(documents) != counts["documents"] or len(passages) != counts["passages"]:
        raise ValueError("antallet af dokumenter eller passager passer ikke med manifestet")
    if vectors.shape != (len(passages), dim) or dense.ntotal != len(passages) or dense.d != dim:
        raise ValueError("vektorerne passer ikke med passagerne")
    lexical = LexicalIndex.load(path / "lexical")
    return Index(path=path, manifest=manifest, documents=documents, passages=passages, vectors=vectors,
                 dense=dense, lexical=lexical)


def current_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest of the current generation without loading the rest (None without a usable index)."""
    try:
        name = current_generation(index_dir)
        if name is None:
            return None
        manifest = json.loads((Path(index_dir) / name / "manifest.json").read_text(encoding="utf-8"))
    except (IndexProblem, OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None
