"""PDF files to text: the text layer page by page, running headers/footers and page numbers
removed, paragraphs found from line gaps, hyphenation across line ends undone."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rag.errors import UnreadableFile
from rag.ingest.decode import BAD_CHARS, normalise_newlines

_PAGE_NUMBER_LINE = re.compile(
    r"(?i)^\s*(?:(?:side|page|s\.)\s*\d+\s*(?:af|of|/)\s*\d+|-\s*\d+\s*-|\d+\s*/\s*\d+)\s*$"
)
_DIGITS = re.compile(r"\d+")
_EDGE_LINES = 4  # lines at the top and bottom of a page where running lines are looked for
_PARAGRAPH_GAP = 1.3  # a vertical gap this many times the usual line pitch starts a paragraph
_LIGATURES = {ord(c): unicodedata.normalize("NFKC", c) for c in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"}
_PDF_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad]")  # controls and soft hyphens (mid-line)

Page = list[list[str]]  # a page: paragraphs, each a list of lines


def pdf_text(data: bytes) -> str:
    _quiet_pypdf()
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if b"%PDF-" not in data[:1024]:
        looks = " – ligner HTML" if re.search(rb"(?i)<(!doctype|html)", data[:1024]) else ""
        raise UnreadableFile(f"beskadiget PDF (ikke en PDF-fil{looks})")
    if b"%%EOF" not in data[-64 * 1024 :]:
        raise UnreadableFile("beskadiget PDF (filen er afkortet)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except DependencyError:
                raise UnreadableFile("krypteret PDF (krypteringen kan ikke læses her)") from None
            if decrypted == PasswordType.NOT_DECRYPTED:
                raise UnreadableFile("krypteret PDF (kræver adgangskode)")
        if len(reader.pages) == 0:
            raise UnreadableFile("beskadiget PDF (ingen sider)")
        pages = [_pdf_page(page) for page in reader.pages]
    except UnreadableFile:
        raise
    except FileNotDecryptedError:
        raise UnreadableFile("krypteret PDF (kræver adgangskode)") from None
    except DependencyError:  # AES needs the `cryptography` package
        raise UnreadableFile("krypteret PDF (krypteringen kan ikke læses her)") from None
    except RecursionError:
        raise UnreadableFile("beskadiget PDF (for dybt indlejret)") from None
    except MemoryError:
        raise UnreadableFile("beskadiget PDF (for stor til at læse)") from None
    except Exception:  # pypdf raises many kinds on broken files
        raise UnreadableFile("beskadiget PDF (filen kan ikke læses)") from None

    raw = "".join(line for page in pages for para in page for line in para)
    if raw.strip() and len(BAD_CHARS.findall(raw)) > 0.3 * len(raw.strip()):
        raise UnreadableFile("PDF med ulæseligt tekstlag – kræver OCR")
    pages = remove_running_lines(pages)
    text = "\n\n".join(_join_pages(pages))
    text = unicodedata.normalize("NFC", text).strip("\n")
    if not text.strip():
        raise UnreadableFile("PDF uden tekstlag – kræver OCR")
    return text


_pypdf_quieted = False


def _quiet_pypdf() -> None:
    """Keep pypdf's warnings about sloppy PDFs off stderr (once; only if not configured)."""
    global _pypdf_quieted
    if not _pypdf_quieted:
        logger = logging.getLogger("pypdf")
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.CRITICAL)
        _pypdf_quieted = True


def _pdf_page(page: Any) -> Page:
    """One page's text as paragraphs of lines, from pypdf's plain extraction.

    The y position of each line (from pypdf's visitor callback) decides where
    paragraphs start; if that bookkeeping does not add up, the page is one
    paragraph per line block without gaps.
    """
    chunks: list[tuple[str, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], *_: Any) -> None:
        if text:
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            chunks.append((text, float(y)))

    out = page.extract_text(visitor_text=visit)
    out = normalise_newlines(out)
    lines: list[tuple[str, float | None]] = []
    if normalise_newlines("".join(t for t, _ in chunks)) == out:
        cur, cur_y = "", None
        for text, y in chunks:
            parts = normalise_newlines(text).split("\n")
            for k, part in enumerate(parts):
                if k:
                    lines.append((cur, cur_y))
                    cur, cur_y = "", None
                if part.strip() and cur_y is None:
                    cur_y = y
                cur += part
        lines.append((cur, cur_y))
    else:
        lines = [(line, None) for line in out.split("\n")]

    lines = [(_clean_pdf_line(t), y) for t, y in lines]
    lines = [(t, y) for t, y in lines if t]
    pitches = [
        round(a[1] - b[1], 1)
        for a, b in zip(lines, lines[1:], strict=False)
        if a[1] is not None and b[1] is not None and a[1] - b[1] > 0.5
    ]
    pitch = min(Counter(pitches).most_common(), key=lambda kv: (-kv[1], kv[0]))[0] if pitches else None
    paragraphs: Page = []
    prev_y: float | None = None
    for line, line_y in lines:
        new_paragraph = not paragraphs
        if not new_paragraph and pitch is not None and line_y is not None and prev_y is not None:
            dy = prev_y - line_y
            new_paragraph = dy > _PARAGRAPH_GAP * pitch or dy < -0.5 * pitch
        if new_paragraph:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
        if line_y is not None:
            prev_y = line_y
    return paragraphs


def _clean_pdf_line(line: str) -> str:
    line = line.translate(_LIGATURES)  # "ﬁ" -> "fi"
    ends_soft = line.rstrip().endswith("\u00ad")
    line = _PDF_JUNK.sub("", line).strip()
    return line + "\u00ad" if ends_soft and line else line  # keep a final soft hyphen for joining


def _running_key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()))


def remove_running_lines(pages: list[Page], edge: int = _EDGE_LINES) -> list[Page]:
    """Drop running headers/footers and page numbers from a PDF's pages.

    A line is looked at only among the first and last `edge` lines of its
    page. It is dropped there when, with digits masked ("Side 2 af 5" and
    "Side 3 af 5" are the same line), it occurs on at least 60 % of the pages
    of a document with 3 or more pages, or on both pages of a 2-page one; or,
    whatever the page count, when it is a page number of the forms
    "Side 2 af 5", "Page 2 of 5", "2/5" or "- 2 -". Paragraphs left empty go.
    """
    n = len(pages)
    needed = n if n == 2 else max(2, -(-6 * n // 10))  # ceil(0.6 n)

    def edge_positions(page: Page) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        flat = [(i, j) for i, para in enumerate(page) for j in range(len(para))]
        return set(flat[:edge]), set(flat[-edge:])

    edges = [edge_positions(p) for p in pages]
    # headers are counted among top lines, footers among bottom lines
    counts: Counter[tuple[int, str]] = Counter()
    for page, sides in zip(pages, edges, strict=True):
        for side, positions in enumerate(sides):
            counts.update({(side, _running_key(page[i][j])) for i, j in positions})
    running = {key for key, c in counts.items() if n >= 2 and c >= needed}

    def drop(line: str, pos: tuple[int, int], sides: tuple[set[tuple[int, int]], ...]) -> bool:
        at = [side for side, positions in enumerate(sides) if pos in positions]
        if not at:
            return False
        key = _running_key(line)
        return bool(_PAGE_NUMBER_LINE.match(line)) or any((side, key) in running for side in at)

    result: list[Page] = []
    for page, sides in zip(pages, edges, strict=True):
        new_page: Page = []
        for i, para in enumerate(page):
            kept = [line for j, line in enumerate(para) if not drop(line, (i, j), sides)]
            if kept:
                new_page.append(kept)
        result.append(new_page)
    return result


_FIRST_WORD = re.compile(r"[^\W\d_]+")
_SUSPENDED_HYPHEN_NEXT = {"og", "eller", "samt", "and", "or"}


def _hyphen_join(line: str, nxt: str) -> str | None:
    """`line` + `nxt` as one line if `line` ends in a word broken by hyphenation."""
    if len(line) < 2:
        return None
    if line[-1] == "\u00ad":  # a soft hyphen only ever marks a break
        return line[:-1] + nxt
    if line[-1] not in "-\u2010" or not line[-2].islower():
        return None
    first = _FIRST_WORD.match(nxt)
    if not first or not first.group()[0].islower() or first.group() in _SUSPENDED_HYPHEN_NEXT:
        return None
    return line[:-1] + nxt


def join_hyphenated(lines: list[str]) -> list[str]:
    """Join words hyphenated across line ends: "bør-" + "nesager," -> "børnesager,".

    The rule: a line ending in a lower-case letter and "-" (or U+2010) joins
    the next line when that starts with a lower-case letter and its first
    word is not "og", "eller", "samt" ("Social-" / "og Boligstyrelsen" is a
    real hyphen); a line ending in a soft hyphen always joins. The hyphen is
    dropped. Known limit: a real compound broken at its hyphen before a
    lower-case part ("Først-" / "aftalen") loses its hyphen.
    """
    out: list[str] = []
    for line in lines:
        if out:
            joined = _hyphen_join(out[-1], line)
            if joined is not None:
                out[-1] = joined
                continue
        out.append(line)
    return [line.replace("\u00ad", "") for line in out]


def _join_pages(pages: list[Page]) -> list[str]:
    """Page texts with hyphenation undone, also across a page break."""
    texts: list[list[list[str]]] = [[join_hyphenated(para) for para in page] for page in pages]
    for k in range(len(texts) - 1):
        this, nxt = texts[k], texts[k + 1]
        if this and nxt:
            joined = _hyphen_join(this[-1][-1], nxt[0][0])
            if joined is not None:
                this[-1][-1] = joined
                nxt[0].pop(0)
                if not nxt[0]:
                    nxt.pop(0)
    return ["\n\n".join("\n".join(para).replace("\u00ad", "") for para in page) for page in texts if page]
