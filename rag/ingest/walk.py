"""Find the documents under the folders a user names: recursively, safely, with their sidecar metadata.

Hidden files and folders are ignored, no symlink is followed out of its root, a
file reached twice is indexed once, and a `manifest.csv` beside documents
supplies per-file metadata (see `rag.ingest.parse`). Files that cannot be used
are reported with a Danish reason instead.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rag.ingest.load import SUPPORTED_SUFFIXES, unsupported_reason

SIDECAR_NAMES = ("manifest.csv",)  # per-folder metadata, not documents


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
                skipped.append((file_id, unsupported_reason(path.suffix)))
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
