"""DOCX files to text: the body's paragraphs (text boxes, content controls and tracked insertions
included; headers, footers, footnotes and comments not), a table row per paragraph."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any

from rag.errors import UnreadableFile
from rag.ingest.decode import normalise_newlines

_MAX_DOCX_UNPACKED = 1024 * 1024 * 1024  # a .docx that unpacks to more is refused
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_W_P, _W_TBL, _W_TR, _W_TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_W_TXBX = _W + "txbxContent"
# elements whose content is not part of the paragraph's running text
_DOCX_SKIP = {_MC_FALLBACK, _W_TXBX, _W + "del", _W + "moveFrom", _W + "pPr", _W + "rPr", _W + "instrText"}
_DOCX_CHARS = {
    _W + "tab": "\t",
    _W + "ptab": "\t",
    _W + "br": "\n",
    _W + "cr": "\n",
    _W + "noBreakHyphen": "-",
}


def docx_text(data: bytes) -> str:
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnreadableFile("krypteret eller gammelt Word-dokument (.doc) – gem som .docx uden adgangskode")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnreadableFile("beskadiget DOCX-fil (ikke en gyldig Word-fil)") from None
    if unpacked > _MAX_DOCX_UNPACKED:
        raise UnreadableFile("for stor fil (DOCX-filen fylder over 1 GB udpakket)")
    try:
        import docx

        body = docx.Document(io.BytesIO(data)).element.body
        blocks = list(_docx_blocks(body))
    except RecursionError:
        raise UnreadableFile("beskadiget DOCX-fil (for dybt indlejret)") from None
    except Exception:  # python-docx / lxml / zipfile raise many kinds
        raise UnreadableFile("beskadiget DOCX-fil (filen kan ikke læses)") from None
    text = "\n\n".join(b for b in blocks if b)
    text = unicodedata.normalize("NFC", normalise_newlines(text))
    if not text.strip():
        raise UnreadableFile("tom fil (ingen tekst i dokumentet)")
    return text


def _docx_children(el: Any) -> Iterator[Any]:
    """Block-level children, looking through content controls and custom XML."""
    for child in el:
        tag = child.tag
        if tag in (_W + "sdt", _W + "customXml"):
            content = child.find(_W + "sdtContent") if tag == _W + "sdt" else child
            if content is not None:
                yield from _docx_children(content)
        else:
            yield child


def _docx_blocks(container: Any) -> Iterator[str]:
    for child in _docx_children(container):
        if child.tag == _W_P:
            yield _docx_paragraph(child).strip()
            for box in _docx_text_boxes(child):
                yield from _docx_blocks(box)
        elif child.tag == _W_TBL:
            for row in _docx_children(child):
                if row.tag != _W_TR:
                    continue
                cells = [
                    "\n".join(b for b in _docx_blocks(tc) if b)
                    for tc in _docx_children(row)
                    if tc.tag == _W_TC
                ]
                yield "\t".join(c for c in cells if c)


def _docx_paragraph(p: Any) -> str:
    parts: list[str] = []

    def walk(el: Any) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _DOCX_SKIP:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag in _DOCX_CHARS:
                parts.append(_DOCX_CHARS[tag])
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _docx_text_boxes(el: Any) -> Iterator[Any]:
    """Text boxes anchored in `el`, in document order (the modern copy, not the VML fallback)."""
    for child in el:
        if not isinstance(child.tag, str) or child.tag == _MC_FALLBACK:
            continue
        if child.tag == _W_TXBX:
            yield child
        else:
            yield from _docx_text_boxes(child)
