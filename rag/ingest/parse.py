"""Text -> `Document`: a § 20 exchange, else an answer letter, else plain text; sidecar metadata applied.

Never raises: a parser that fails on a strange file leaves a note and the file
is indexed as plain text, so one bad file never stops the indexer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path

from rag.ingest.letter import parse_letter, titled
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


# Sidecar columns -> Document fields; values parsed by _meta_value. The open data's columns
# (written by `rag fetch`) are the identity of the question; where the text says otherwise, they win.
_META_FIELDS = {
    "dato": "dato", "date": "dato", "minister": "minister_addressed", "url": "url", "source_url": "url",
    "title": "title", "udvalg": "udvalg", "udvalg_kode": "udvalg_kode", "samling": "samling",
    "spm_type": "spm_type", "spm_nr": "spm_nr", "s_nr": "s_nr", "sag": "sag", "spoerger": "spoerger",
    "besvaret_af": "answering_minister", "stillet": "asked_date", "spoergsmaal": "question",
}
_LABELS = {"dato": "dato", "minister_addressed": "minister", "udvalg": "udvalg", "udvalg_kode": "udvalg",
           "samling": "samling", "spm_type": "spørgsmålstype", "spm_nr": "spørgsmålets nummer",
           "s_nr": "spørgsmålets nummer", "sag": "sag", "spoerger": "spørger", "answering_minister": "minister",
           "asked_date": "spørgsmålets dato"}
_COMPARE = re.compile(r"[^0-9a-zæøå]+")


def _apply_meta(doc: Document, meta: Mapping[str, str]) -> Document:
    """Override parsed fields with a manifest row; unusable values become notes, and so does every field
    where the manifest (the open data, for `rag fetch`) says something else than the text."""
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
        target = _META_FIELDS.get(key)
        value = flat(str(raw)) if raw is not None else ""
        if target is None or not value:
            continue
        parsed, problem = _meta_value(target, key, value)
        if problem:
            notes.append(problem)
            continue
        if target == "question" and doc.question:
            continue  # the letter's own wording is kept (a span of its text); the open data's fills a gap
        changes[target] = parsed
    differs = sorted({_LABELS[f] for f, v in changes.items()
                      if f in _LABELS and getattr(doc, f) not in (None, "") and _differ(getattr(doc, f), v)})
    source = "de åbne data" if any(k == "oda_dokument_id" and v for k, v in items) else "manifest.csv"
    notes += [f"{source} afviger fra teksten ({label}); {source} er brugt" for label in differs]
    identity = {"spm_nr", "s_nr", "udvalg_kode", "sag", "spm_type"}
    if doc.kind == "text" and ("spm_nr" in changes or "s_nr" in changes):
        changes["kind"] = "letter"  # an answer the parser did not recognise: the open data says what it is
    doc = dataclasses.replace(doc, notes=tuple(notes), **changes)  # type: ignore[arg-type]
    if identity & set(changes) and doc.kind == "letter" and "title" not in changes:
        doc = titled(doc)
    return doc


def _meta_value(target: str, key: str, value: str) -> tuple[object, str | None]:
    """A manifest value as the field holds it, or a note on why it cannot be used."""
    if target in ("dato", "asked_date"):
        d = parse_date(value)
        return (d, None) if d else (None, f"manifestets {key} kunne ikke læses: {shorten(value)}")
    if target == "url":
        return (value, None) if re.fullmatch(r"https?://\S+", value) else (
            None, f"manifestets url er ikke en http(s)-adresse: {shorten(value)}")
    if target == "spm_nr":
        return (int(value), None) if value.isdigit() else (None, f"manifestets spm_nr er ikke et tal: {shorten(value)}")
    if target == "udvalg_kode":
        return value.upper(), None
    return value, None


def _differ(parsed: object, given: object) -> bool:
    if isinstance(parsed, str) and isinstance(given, str):
        return _COMPARE.sub("", parsed.lower()) != _COMPARE.sub("", given.lower())
    return parsed != given
