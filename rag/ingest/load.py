"""Read a file of any supported format into plain text (one module per format beside this one).

`load_text(path)` returns a document's text as a `str`, or raises
`rag.errors.UnreadableFile` whose `str()` is a one-line reason in Danish for end users
("tom fil", "PDF uden tekstlag – kræver OCR", ...).

What "the text" is, per format (line endings are always "\\n"):

- .txt / .md: the file's characters, decoded. UTF-8 first (a BOM is dropped;
  UTF-16/32 with a BOM are read too); a file that is not UTF-8 is read as
  Windows-1252 (or DOS cp850 when that fits the text clearly better); a file
  that is UTF-8 with a few stray Windows-1252 bytes keeps its UTF-8 and gets
  the stray bytes as Windows-1252. "\\r\\n" and "\\r" become "\\n"; nothing else
  is changed.
- .pdf: the text layer, page by page, pages joined by "\\n\\n". Lines of one
  paragraph are joined by "\\n", paragraphs (a vertical gap clearly larger
  than the page's usual line pitch) by "\\n\\n". Running headers, footers and
  page numbers are removed and words hyphenated across a line end are joined
  again (rules at `remove_running_lines` and `join_hyphenated`).
- .docx: the body's paragraphs (text boxes, content controls and tracked
  insertions included; page headers, footers, footnotes and comments not)
  joined by "\\n\\n"; a table gives one paragraph per row, cells joined by "\\t".
- .html / .htm: the visible text; scripts, styles and the <head> dropped,
  block elements become paragraphs joined by "\\n\\n", <br> a "\\n", spaces
  collapsed as a browser would, entities decoded. The encoding comes from a
  BOM, then <meta charset> (as a browser reads it: "iso-8859-1" means
  Windows-1252), then detection as for .txt.

The text of PDF, DOCX and HTML files is put in Unicode NFC; text files are
not touched beyond line endings.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import UnreadableFile
from rag.ingest.decode import decode_bytes, normalise_newlines

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".pdf", ".docx", ".html", ".htm"})
UNSUPPORTED_HINTS = {
    ".doc": " (gammelt Word-format – gem som .docx)",
    ".rtf": " (gem som .docx)",
    ".odt": " (gem som .docx)",
}
MAX_FILE_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused before they are read."""


def unsupported_reason(suffix: str) -> str:
    """The Danish reason a file of this suffix is not read."""
    if not suffix:
        return "ukendt filtype (ingen filendelse)"
    return f"ukendt filtype {suffix}{UNSUPPORTED_HINTS.get(suffix.lower(), '')}"


def load_text(path: Path | str) -> str:
    """The text of the document at `path`, by its suffix; raises `UnreadableFile`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(unsupported_reason(path.suffix))
    data = _read(path)
    if suffix in (".txt", ".md"):
        text = normalise_newlines(decode_bytes(data))
        if not text.strip():
            raise UnreadableFile("tom fil")
        return text
    if suffix == ".pdf":
        from rag.ingest.pdf import pdf_text

        return pdf_text(data)
    if suffix == ".docx":
        from rag.ingest.docx import docx_text

        return docx_text(data)
    from rag.ingest.html import html_text

    return html_text(data)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise UnreadableFile("er en mappe, ikke en fil")
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(
                f"for stor fil ({size / 1024 / 1024:.0f} MB; grænsen er {MAX_FILE_BYTES // 1024 // 1024} MB)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile("filen findes ikke") from None
    except PermissionError:
        raise UnreadableFile("ingen adgang til filen") from None
    except OSError as exc:
        raise UnreadableFile(f"filen kan ikke læses ({exc.strerror or type(exc).__name__})") from None
    if not data.strip():
        raise UnreadableFile("tom fil")
    return data
