"""Where fetched answers go: one folder per samling and committee, a PDF per answer, and the
folder's `manifest.csv` with what the open data says about each (read by `rag index`).

    corpus/20231/SUU/SUU_940_oda2787231.pdf
    corpus/20231/SUU/manifest.csv      file,url,samling,udvalg_kode,…,oda_fil_opdateret

A file is written under a hidden temporary name and renamed when whole, and the manifest is
rewritten the same way after each file: a run stopped at any moment leaves finished files and a
manifest that describes them, never half a file under its final name.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from rag.fetch.answers import OdaAnswer

MANIFEST = "manifest.csv"
COLUMNS = ("file", "url", "samling", "udvalg_kode", "udvalg", "spm_type", "spm_nr", "s_nr", "sag", "spoergsmaal",
           "spoerger", "minister", "besvaret_af", "stillet", "dato", "titel", "pdf_url", "oda_dokument_id",
           "oda_spoergsmaal_id", "oda_sag_id", "oda_fil_id", "oda_fil_opdateret")


def folder_of(root: Path, answer: OdaAnswer) -> Path:
    """root/<samling>/<committee, or the kind when there is none>/"""
    samling = answer.samling or (str(answer.dato.year) if answer.dato else "ukendt-samling")
    group = answer.udvalg_kode or {"§ 20": "paragraf-20", "L": "lovforslag", "B": "beslutningsforslag"}.get(
        answer.kind, _safe(answer.kind) or "andet")
    return root / _safe(samling) / _safe(group)


def file_name(answer: OdaAnswer) -> str:
    """'SUU_940_oda2787231.pdf', 'S_1753_oda828494.pdf', 'L126_46_oda1622959.pdf', 'svar_oda123.pdf'."""
    if answer.kind == "§ 20" and answer.number:
        stem = answer.number.replace(" ", "_")
    elif answer.sag and answer.number:
        stem = f"{answer.sag.replace(' ', '').replace('.', '')}_{answer.number}"
    elif answer.number:
        stem = f"{answer.udvalg_kode or 'spm'}_{answer.number}"
    else:
        stem = "svar"
    return f"{_safe(stem)}_oda{answer.dokument_id}.pdf"


def row_of(name: str, answer: OdaAnswer) -> dict[str, str]:
    """The manifest row of a fetched answer (column names as rag.ingest.parse reads them)."""
    s20 = answer.kind == "§ 20"
    return {
        "file": name, "url": answer.page_url, "samling": answer.samling, "udvalg_kode": answer.udvalg_kode,
        "udvalg": answer.udvalg, "spm_type": answer.kind, "spm_nr": "" if s20 else answer.number,
        "s_nr": answer.number if s20 else "", "sag": answer.sag, "spoergsmaal": answer.question,
        "spoerger": answer.asker, "minister": answer.minister_asked, "besvaret_af": answer.answered_by,
        "stillet": answer.asked.isoformat() if answer.asked else "",
        "dato": answer.dato.isoformat() if answer.dato else "", "titel": answer.title,
        "pdf_url": answer.fil_url or "", "oda_dokument_id": str(answer.dokument_id),
        "oda_spoergsmaal_id": str(answer.question_id or ""), "oda_sag_id": str(answer.sag_id or ""),
        "oda_fil_id": str(answer.fil_id or ""), "oda_fil_opdateret": answer.fil_updated,
    }


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """file name -> row of `folder/manifest.csv` (empty when there is none or it cannot be read)."""
    path = folder / MANIFEST
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return {row["file"]: row for row in csv.DictReader(f) if row.get("file")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return {}


def write_manifest(folder: Path, rows: dict[str, dict[str, str]]) -> None:
    """Replace `folder/manifest.csv` atomically; columns of rows not written by us are kept."""
    columns = list(COLUMNS) + sorted({k for r in rows.values() for k in r} - set(COLUMNS))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for name in sorted(rows):
        writer.writerow({k: rows[name].get(k, "") for k in columns})
    write_atomic(folder / MANIFEST, out.getvalue().encode("utf-8"))


def unchanged(folder: Path, row: dict[str, str] | None, answer: OdaAnswer) -> bool:
    """Is the file of manifest `row` in `folder` this answer's, as the open data has it now (same file,
    same update time)?"""
    return (row is not None and (folder / row["file"]).is_file() and row.get("oda_fil_id") == str(answer.fil_id or "")
            and row.get("oda_fil_opdateret") == answer.fil_updated)


def pdf_problem(body: bytes, content_type: str) -> str | None:
    """Why `body` is not a whole PDF, in Danish; None when it is one."""
    head = body[:1024].lstrip()
    if not head.startswith(b"%PDF-"):
        if b"<html" in head.lower() or "html" in content_type.lower():
            return "ikke en PDF: serveren sendte en HTML-side"
        return f"ikke en PDF ({content_type or 'ukendt indhold'})"
    if b"%%EOF" not in body[-2048:]:
        return f"PDF'en er afkortet ({len(body)} bytes uden afslutning)"
    return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a hidden temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.del")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _safe(text: str) -> str:
    """A file or folder name: letters, digits, '-', '_' and '.' only."""
    return re.sub(r"[^0-9A-Za-zÆØÅæøå._-]+", "_", text).strip("._") or ""
