"""The index on disk: build it, update it, load it.

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
by the next successful one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import ChunkSettings, chunk_document
from rag.embed import Embedder
from rag.types import Document, Passage

FORMAT_VERSION = 1
PARSER_VERSION = 2  # bump when parsing or chunking changes what a file yields
CURRENT = "CURRENT"
LOCK = ".lock"
SIDECAR_NAMES = ("manifest.csv",)  # per-folder metadata, not documents


class IndexProblem(Exception):
    """An index cannot be used or written. `str()` is a Danish message saying what to do."""


@dataclass
class IndexSummary:
    """What `build_index` did, for the end-of-run report."""

    documents: int = 0
    passages: int = 0
    embedded: int = 0  # passages embedded in this run
    reused: int = 0  # passage vectors taken over from the previous index
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, Danish reason)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, Danish remark)
    seconds: float = 0.0
    generation: str = ""  # the generation written; "" when nothing was written (see allow_empty)


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

    def __post_init__(self) -> None:
        if not self.rows_by_file:
            for i, p in enumerate(self.passages):
                self.rows_by_file.setdefault(p.file, []).append(i)
        for file in self.documents:
            self.rows_by_file.setdefault(file, [])

    @property
    def generation(self) -> str:
        return self.path.name


# ---------------------------------------------------------------------------
# Finding and reading source files


@dataclass(frozen=True)
class SourceFile:
    path: Path
    file: str  # id: path relative to its root, POSIX style
    meta: dict[str, str]


def iter_source_files(roots: Iterable[Path], skipped: list[tuple[str, str]]) -> Iterator[SourceFile]:
    """Every candidate document under `roots`, recursively.

    Hidden files and folders are ignored, and no symlink is followed out of its
    root. A `manifest.csv` beside documents supplies per-file metadata.
    """
    from rag.load import _UNSUPPORTED_HINTS, SUPPORTED_SUFFIXES

    seen: set[str] = set()
    seen_paths: dict[Path, str] = {}  # resolved path -> id, so a file reached twice is indexed once
    for root in roots:
        root = Path(root)
        if root.is_file():
            candidates = [(root.parent, root)]
            base = root.parent
        elif root.is_dir():
            base = root
            candidates = list(_walk(root))
        else:
            skipped.append((_display_name(str(root)), "findes ikke"))
            continue
        base_resolved = base.resolve()
        metas: dict[Path, dict[str, dict[str, str]]] = {}
        for folder, path in candidates:
            if path.name in SIDECAR_NAMES:
                continue
            rel = _display_name(path.relative_to(base).as_posix())
            file_id = rel if rel not in seen else f"{_display_name(base.name)}/{rel}"
            if path.is_symlink() and not _inside(path.resolve(), base_resolved):
                skipped.append((file_id, "symbolsk link ud af mappen – følges ikke"))
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                hint = _UNSUPPORTED_HINTS.get(path.suffix.lower(), "")
                skipped.append((file_id, f"ukendt filtype {path.suffix or '(ingen)'}{hint}"))
                continue
            if not path.exists():
                skipped.append((file_id, "symbolsk link til en fil, der ikke findes"))
                continue
            if not path.is_file():  # a named pipe would block the reader forever
                skipped.append((file_id, "ikke en almindelig fil (fx en pipe eller en enhed)"))
                continue
            real = path.resolve()
            if real in seen_paths:
                skipped.append((file_id, f"samme fil som {seen_paths[real]}"))
                continue
            if file_id in seen:
                skipped.append((file_id, "en anden fil har allerede dette navn i indekset"))
                continue
            seen_paths[real] = file_id
            if folder not in metas:
                metas[folder] = _read_sidecar(folder, skipped)
            seen.add(file_id)
            yield SourceFile(path=path, file=file_id, meta=metas[folder].get(path.name, {}))


def _walk(root: Path) -> Iterator[tuple[Path, Path]]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(folder), Path(folder) / name


def _display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (an old archive's cp1252 name) read as cp1252.

    `os` hands such bytes over as lone surrogates, which cannot be written to the index or printed.
    """
    if not _SURROGATE.search(name):
        return name
    name = _ESCAPED_BYTE.sub(lambda m: bytes([ord(m[0]) - 0xDC00]).decode("cp1252", "replace"), name)
    return _SURROGATE.sub("\ufffd", name)


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # how os.fsdecode shows a byte that is not UTF-8


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _read_sidecar(folder: Path, skipped: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Rows of `folder/manifest.csv` keyed by file name (empty if there is none)."""
    path = folder / "manifest.csv"
    if not path.is_file():
        return {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return {row["file"]: {k: v for k, v in row.items() if k and v}
                    for row in csv.DictReader(f) if row.get("file")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as exc:
        skipped.append((str(path), f"manifest.csv kunne ikke læses ({exc})"))
        return {}


# ---------------------------------------------------------------------------
# Building


def build_index(roots: Iterable[Path], index_dir: Path, embedder: Embedder, model_setting: str,
                chunk_settings: ChunkSettings | None = None, progress: bool = True,
                allow_empty: bool = True) -> IndexSummary:
    """Index every document under `roots` into `index_dir`, reusing what is unchanged.

    Vectors of passages whose text was already embedded by the same model are
    taken over from the current generation; everything else is embedded.
    With allow_empty=False a run that finds no readable document writes nothing,
    so a mistyped folder cannot replace a good index with an empty one.
    Raises IndexProblem when another run holds the lock.
    """
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    if chunk_settings is None:
        limit = min(ChunkSettings.max_tokens, embedder.max_tokens - 4)
        chunk_settings = ChunkSettings(target_tokens=min(ChunkSettings.target_tokens, limit), max_tokens=limit)
    index_dir = Path(index_dir)
    lock = FileLock(str(index_dir / LOCK), timeout=0)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise IndexProblem(f"Et andet 'rag index' skriver allerede til {index_dir}. "
                           "Vent til det er færdigt, og prøv igen.") from None
    except OSError as exc:
        raise IndexProblem(f"Indeksmappen {index_dir} kan ikke bruges ({exc.strerror or exc}).") from None
    try:
        return _build_locked(list(roots), index_dir, embedder, model_setting, chunk_settings,
                             progress, started, allow_empty)
    finally:
        lock.release()


def _build_locked(roots: list[Path], index_dir: Path, embedder: Embedder, model_setting: str,
                  chunk_settings: ChunkSettings, progress: bool, started: float,
                  allow_empty: bool = True) -> IndexSummary:
    from tqdm import tqdm

    from rag.load import UnreadableFile, load_text
    from rag.parse import parse_document

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
    summary.generation = _write_generation(index_dir, manifest, documents, passages, vectors)
    _remove_stale_generations(index_dir, keep=summary.generation)
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
    batch = 64
    with tqdm(total=len(todo), desc="Indlejrer passager", unit="passage", disable=not progress or not todo,
              file=sys.stderr) as bar:
        for b in range(0, len(todo), batch):
            ids = todo[b:b + batch]
            vectors[ids] = embedder.embed_passages([passages[i].text for i in ids])
            bar.update(len(ids))
    return vectors


def _manifest(embedder: Embedder, model_setting: str, chunk_settings: ChunkSettings,
              documents: list[Document], passages: list[Passage], hashes: dict[str, str]) -> dict[str, Any]:
    from rag import __version__

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


def _write_generation(index_dir: Path, manifest: dict[str, Any], documents: list[Document],
                      passages: list[Passage], vectors: np.ndarray) -> str:
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

    from rag.lexical import LexicalIndex

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


def _remove_stale_generations(index_dir: Path, keep: str) -> None:
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

    from rag.lexical import LexicalIndex

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


# ---------------------------------------------------------------------------
# The dense (vector) index: chosen by corpus size

FLAT_LIMIT = 50_000  # below this, exact search takes a few ms; above, IVF (see BENCHMARKS.md, "Scale")


@dataclass(frozen=True)
class DenseChoice:
    """A FAISS index layout for a corpus size (inner product on L2-normalised vectors = cosine)."""

    factory: str  # faiss.index_factory string
    nprobe: int = 0  # IVF lists scanned per query (0: not IVF)

    @property
    def exact(self) -> bool:
        return self.factory == "Flat"


def choose_dense_index(n: int, dim: int) -> DenseChoice:
    """The index type for `n` vectors of `dim` dimensions.

    - fewer than FLAT_LIMIT: `Flat`, exact search (50,000 x 384 floats: ~5 ms a query).
    - more: `IVF<nlist>,SQfp16`: vectors stored as float16 (half the memory, no measurable
      loss of recall), grouped into nlist ~ 4 sqrt(n) clusters (a power of two) by spherical
      k-means; a query scans the nprobe = nlist / 3 nearest clusters. e5 vectors have a high
      intrinsic dimension (and questions sit apart from passages), so a third of the lists is
      what recall@10 >= 0.95 takes: on a million synthetic vectors fitted to ours, recall@10
      0.97 at p95 17 ms on 2 cores, vs 111 ms exact (BENCHMARKS.md, "Scale"). HNSW needed
      efSearch > 1000 for the same recall, and 6 minutes to build instead of 42 s.
    """
    if n < FLAT_LIMIT:
        return DenseChoice("Flat")
    nlist = 1 << max(8, min(16, round(math.log2(4 * math.sqrt(n)))))
    nlist = min(nlist, 1 << int(math.log2(max(n // 39, 256))))  # k-means wants >= 39 points a cluster
    return DenseChoice(f"IVF{nlist},SQfp16", nprobe=max(16, nlist // 3))


def tune_for_queries(dense: Any) -> Any:
    """Settings FAISS does not save: an IVF index splits one query's lists over the threads."""
    import faiss

    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is not None:
        ivf.parallel_mode = 1  # parallel over the probed lists, not over queries (we ask one at a time)
    return dense


def build_dense_index(vectors: np.ndarray, choice: DenseChoice | None = None) -> Any:
    """A trained FAISS index holding `vectors` (rows = passages), per `choose_dense_index`."""
    import faiss

    n, dim = vectors.shape
    choice = choice or choose_dense_index(n, dim)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dense: Any
    if choice.exact:
        dense = faiss.IndexFlatIP(dim)
    else:
        dense = faiss.index_factory(dim, choice.factory, faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(dense)
        ivf.cp.spherical = True  # centroids on the unit sphere, like the vectors
        ivf.cp.max_points_per_centroid = 64  # a 256k-vector sample trains 4096 lists in ~1 min
        ivf.nprobe = choice.nprobe  # saved with the index
        dense.train(vectors)
    for a in range(0, n, 100_000):
        dense.add(vectors[a:a + 100_000])
    return tune_for_queries(dense)


def dense_search_params(dense: Any, selector: Any) -> Any:
    """faiss search parameters restricting `dense` to `selector`, keeping the index's own
    nprobe/efSearch (IVF and HNSW indexes reject the generic SearchParameters)."""
    import faiss as faiss_module

    faiss: Any = faiss_module  # the stubs lack the keyword constructors

    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
    if hasattr(dense, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=dense.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)
