"""Text -> `Document`: a § 20 exchange, else an answer letter, else plain text; sidecar metadata applied.

Never raises: a parser that fails on a strange file leaves a note and the file
is indexed as plain text, so one bad file never stops the indexer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

from rag.ingest.letter import parse_letter
from rag.ingest.load import load_text
from rag.ingest.s20 import parse_s20
from rag.records import Document, Section
from rag.text import file_stem, flat, parse_date, shorten, strip_span

NOT_A_LETTER = "ligner ikke et svarbrev; indekseret som almindelig tekst"


def parse_document(text: str, file: str, meta: Mapping[str, str] | None = None) -> Document:
    """The indexer's entry point: § 20 exchange, else answer letter, else plain text.

    `meta` is the file's row of a sidecar manifest.csv; its "dato"/"date",
    "minister", "url", "title" and "udvalg" values override what was parsed from
    a letter or plain text.  Values that cannot be used end up in `notes`.
    """
    if not text.strip():
        return Document(file=file, kind="text", text=text, title=file_stem(file), notes=("tom fil",))
    notes: list[str] = []
    try:
        s20 = parse_s20(text, file, meta)
    except Exception as exc:  # noqa: BLE001 - a bad file must not stop the indexer
        notes.append(f"§ 20-fortolkning fejlede ({type(exc).__name__}: {exc})")
    else:
        if s20 is not None:
            return s20
    try:
        address = str((meta or {}).get("url") or (meta or {}).get("source_url") or "").strip()
        url = address if re.fullmatch(r"https?://\S+", address) else None
        doc = parse_letter(text, file, url) or plain_text_document(text, file, (NOT_A_LETTER,))
    except Exception as exc:  # noqa: BLE001 - last line of defence, see test_parse.py
        doc = plain_text_document(
            text, file, (f"fejl under fortolkning ({type(exc).__name__}: {exc}); indekseret som tekst",))
    if notes:
        doc = dataclasses.replace(doc, notes=tuple(notes) + doc.notes)
    if meta is not None:
        doc = _apply_meta(doc, meta)
    return doc


def read_document(path: Path | str, meta: Mapping[str, str] | None = None, file: str | None = None) -> Document:
    """The document at `path`, read and parsed as `rag index` does (`file`: its id, default the file name).

    Raises UnreadableFile (a RagError) when the file cannot be read."""
    path = Path(path)
    return parse_document(load_text(path), file or path.name, meta)


def plain_text_document(text: str, file: str, notes: tuple[str, ...] = ()) -> Document:
    """A document without fields: its whole (stripped) text is one body section."""
    start, end = strip_span(text, 0, len(text))
    return Document(file=file, kind="text", text=text, title=file_stem(file),
                    sections=(Section("body", start, end),) if end > start else (), notes=notes)


def _apply_meta(doc: Document, meta: Mapping[str, str]) -> Document:
    """Override parsed fields with a manifest row; unusable values become notes."""
    if doc.kind not in ("letter", "text"):
        return doc
    notes = list(doc.notes)
    changes: dict[str, object] = {}
    try:
        items = [(str(k).strip().lower(), v) for k, v in meta.items()]
    except Exception as exc:  # noqa: BLE001 - a broken manifest row must not stop indexing
        return dataclasses.replace(doc, notes=(*notes, f"manifestets række kunne ikke læses ({exc})"))
    # "dato" wins over "date" when a row has both.
    items.sort(key=lambda kv: kv[0] == "dato")
    for key, raw in items:
        if raw is None:
            continue
        value = str(raw).strip()
        if not value:
            continue
        if key in ("dato", "date"):
            d = parse_date(value)
            if d is None:
                notes.append(f"manifestets {key} kunne ikke læses: {shorten(value)}")
            else:
                changes["dato"] = d
        elif key == "minister":
            changes["minister_addressed"] = flat(value)
        elif key in ("url", "source_url"):
            if re.fullmatch(r"https?://\S+", value):
                changes["url"] = value
            else:
                notes.append(f"manifestets url er ikke en http(s)-adresse: {shorten(value)}")
        elif key == "title":
            changes["title"] = flat(value)
        elif key == "udvalg":
            changes["udvalg"] = flat(value)
    return dataclasses.replace(doc, notes=tuple(notes), **changes)  # type: ignore[arg-type]
