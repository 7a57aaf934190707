"""Read files of several formats into plain text.

`load_text(path)` returns a document's text as a `str`, or raises
`UnreadableFile` whose `str()` is a one-line reason in Danish for end users
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

import codecs
import io
import logging
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "UnreadableFile",
    "decode_bytes",
    "join_hyphenated",
    "load_text",
    "remove_running_lines",
]


class UnreadableFile(Exception):
    """A file that cannot be turned into text; `str()` is the reason in Danish."""


SUPPORTED_SUFFIXES = {".txt", ".md", ".pdf", ".docx", ".html", ".htm"}

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused before they are read."""

_MAX_DOCX_UNPACKED = 1024 * 1024 * 1024  # a .docx that unpacks to more is refused


def load_text(path: Path | str) -> str:
    """The text of the document at `path`, by its suffix; raises `UnreadableFile`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        hint = _UNSUPPORTED_HINTS.get(suffix, "")
        raise UnreadableFile(
            f"ukendt filtype {suffix}{hint}" if suffix else "ukendt filtype (ingen filendelse)"
        )
    data = _read(path)
    if suffix in (".txt", ".md"):
        text = _normalise_newlines(decode_bytes(data))
        if not text.strip():
            raise UnreadableFile("tom fil")
        return text
    if suffix == ".pdf":
        return _pdf_text(data)
    if suffix == ".docx":
        return _docx_text(data)
    return _html_text(data)


_UNSUPPORTED_HINTS = {
    ".doc": " (gammelt Word-format – gem som .docx)",
    ".rtf": " (gem som .docx)",
    ".odt": " (gem som .docx)",
}


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


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------
# Bytes to str (text files, and HTML without a usable declared charset)

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_SIGNATURES = (  # binary formats often found renamed to .txt
    (b"%PDF-", "en PDF"),
    (b"\x89PNG\r\n\x1a\n", "et PNG-billede"),
    (b"\xff\xd8\xff", "et JPEG-billede"),
    (b"GIF87a", "et GIF-billede"),
    (b"GIF89a", "et GIF-billede"),
    (b"PK\x03\x04", "en ZIP-fil eller et Office-dokument"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "et gammelt Office-dokument"),
    (b"\x1f\x8b", "en gzip-fil"),
    (b"{\\rtf", "et RTF-dokument"),
)

# C0 controls other than \t \n \v \f \r, and DEL
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
# characters that do not belong in text: C0/C1 controls (not \t\n\v\f\r),
# U+FFFD, lone surrogates, private use
_BAD_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff\ue000-\uf8ff]")
_BINARY_SHARE = 0.10  # more control bytes than this: binary
_BAD_SHARE = 0.10  # more bad characters than this after decoding: wrong encoding
_SAMPLE = 1 << 20  # characters looked at when guessing a legacy encoding

_DANISH_LETTERS = frozenset("æøåÆØÅ")
# non-letters that are common in Western European text in cp1252/latin-1
_COMMON_SYMBOLS = frozenset("“”„‘’‚–—…•€§°½¼¾«»·×©®™£´¨¤¹²³±")


def decode_bytes(data: bytes) -> str:
    """Decode the bytes of a text file; raises `UnreadableFile`.

    Order: a BOM (UTF-8/16/32); binary sniffing (known magic numbers, NUL
    bytes unless the file is BOM-less UTF-16, more than 10 % control bytes);
    strict UTF-8; UTF-8 with a few stray bytes read as Windows-1252; else the
    whole file as Windows-1252 or cp850, whichever reads as more plausible
    Western European text (ties go to Windows-1252; its five undefined bytes
    are taken as Latin-1). A result with more than 10 % control or
    replacement characters, or whose letters look nothing like Western
    European text, is refused as "ugyldig tegnkodning".
    Line endings are left as they are.
    """
    if b"\x00" in data[:4096] and not any(data.startswith(bom) for bom, _ in _BOMS):
        text = _try_bomless_utf16(data)
        if text is not None:
            return text
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                _sniff_binary(body)
                return _decode_utf8_or_legacy(body)
            try:
                return _check_decoded(body.decode(encoding), legacy=False)
            except UnicodeDecodeError:
                raise UnreadableFile(f"ugyldig tegnkodning (ikke gyldig {encoding.upper()[:6]})") from None
    _sniff_binary(data)
    return _decode_utf8_or_legacy(data)


def _sniff_binary(data: bytes) -> None:
    """Raise for binary content; BOM-less UTF-16 is let through (and decoded by the caller)."""
    head = data[:16]
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            raise UnreadableFile(f"binær fil (ikke tekst – ligner {what})")
    if b"\x00" in data:
        raise UnreadableFile("binær fil (ikke tekst)")
    sample = data[: 4 * _SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > _BINARY_SHARE * len(sample):
        raise UnreadableFile("binær fil (ikke tekst)")


def _try_bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM: NUL in (nearly) every high byte, so ASCII-heavy text."""
    if len(data) < 4 or len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.9 * len(zeros) and other.count(0) <= 0.1 * len(other):
            try:
                return _check_decoded(data.decode(encoding), legacy=False)
            except (UnicodeDecodeError, UnreadableFile):
                return None
    return None


_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _unescape_as_cp1252(text: str) -> str:
    """Turn surrogate-escaped bytes into their Windows-1252 (else Latin-1) character."""

    def one(m: re.Match[str]) -> str:
        byte = bytes([ord(m.group()) - 0xDC00])
        try:
            return byte.decode("cp1252")
        except UnicodeDecodeError:
            return byte.decode("latin-1")

    return _SURROGATE_ESCAPES.sub(one, text)


def _decode_utf8_or_legacy(data: bytes) -> str:
    try:
        return _check_decoded(data.decode("utf-8"), legacy=False)
    except UnicodeDecodeError:
        pass
    escaped = data.decode("utf-8", "surrogateescape")
    stray = len(_SURROGATE_ESCAPES.findall(escaped))
    valid_multibyte = len(_NON_ASCII.findall(escaped)) - stray
    if valid_multibyte > stray:
        # Mostly UTF-8, a few bytes from elsewhere (e.g. two files pasted together).
        return _check_decoded(_unescape_as_cp1252(escaped), legacy=True)
    return _check_decoded(_decode_legacy(data), legacy=True)


def _decode_legacy(data: bytes) -> str:
    def cp1252(b: bytes) -> str:
        return _unescape_as_cp1252(b.decode("cp1252", "surrogateescape"))

    sample = data[:_SAMPLE]  # enough to tell the two apart
    if _plausibility(sample.decode("cp850")) > _plausibility(cp1252(sample)):
        return data.decode("cp850")
    return cp1252(data)


def _plausibility(text: str) -> int:
    """How much the non-ASCII characters look like Danish/Western European text."""
    score = 0
    n = len(text)
    for m in _NON_ASCII.finditer(text):
        c, i = m.group(), m.start()
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        if _BAD_CHARS.match(c) or unicodedata.category(c) == "Cn":
            score -= 3
        elif c.isalpha():
            score += 2 if c in _DANISH_LETTERS else 1
            if c.isupper() and prev.isalpha() and prev.islower():
                score -= 2  # "pÕ", "donÆt": an upper-case letter inside a word
        elif c in _COMMON_SYMBOLS:
            score += 1
        elif prev.isalpha() and nxt.isalpha():
            score -= 1  # a symbol inside a word: "f°lge", "s›r"
    return score


def _check_decoded(text: str, *, legacy: bool) -> str:
    """Refuse text that came out as mostly control/replacement characters."""
    if not text:
        return text
    bad = len(_BAD_CHARS.findall(text))
    if bad > _BAD_SHARE * len(text):
        raise UnreadableFile("ugyldig tegnkodning (teksten kan ikke afkodes)")
    if legacy:
        sample = text[:_SAMPLE]
        letters = sum(1 for c in sample if c.isalpha())
        non_ascii_letters = sum(1 for m in _NON_ASCII.finditer(sample) if m.group().isalpha())
        danish = sum(1 for c in sample if c in _DANISH_LETTERS)
        # Western European text has few non-ASCII letters; Cyrillic or Greek bytes
        # read as Windows-1252 come out as mostly accented letters, few of them æøå.
        if non_ascii_letters >= 20 and non_ascii_letters > 0.3 * letters and danish < 0.5 * non_ascii_letters:
            raise UnreadableFile("ugyldig tegnkodning (hverken UTF-8 eller vesteuropæisk tegnsæt)")
    return text


# ---------------------------------------------------------------------------
# PDF

_PAGE_NUMBER_LINE = re.compile(
    r"(?i)^\s*(?:(?:side|page|s\.)\s*\d+\s*(?:af|of|/)\s*\d+|-\s*\d+\s*-|\d+\s*/\s*\d+)\s*$"
)
_DIGITS = re.compile(r"\d+")
_EDGE_LINES = 4  # lines at the top and bottom of a page where running lines are looked for
_PARAGRAPH_GAP = 1.3  # a vertical gap this many times the usual line pitch starts a paragraph
_LIGATURES = {ord(c): unicodedata.normalize("NFKC", c) for c in "\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"}
_PDF_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad]")  # controls and soft hyphens (mid-line)

Page = list[list[str]]  # a page: paragraphs, each a list of lines


def _pdf_text(data: bytes) -> str:
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
    if raw.strip() and len(_BAD_CHARS.findall(raw)) > 0.3 * len(raw.strip()):
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
    out = _normalise_newlines(out)
    lines: list[tuple[str, float | None]] = []
    if _normalise_newlines("".join(t for t, _ in chunks)) == out:
        cur, cur_y = "", None
        for text, y in chunks:
            parts = _normalise_newlines(text).split("\n")
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


# ---------------------------------------------------------------------------
# DOCX

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


def _docx_text(data: bytes) -> str:
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
    text = unicodedata.normalize("NFC", _normalise_newlines(text))
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


# ---------------------------------------------------------------------------
# HTML

_META_CHARSET = re.compile(rb"""(?is)<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)""")
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_:.+-]+)""", re.I)
# what a browser reads these labels as (WHATWG Encoding Standard)
_HTML_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252", "iso8859_9": "cp1254"}


def _html_decode(data: bytes) -> str:
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return decode_bytes(data)
    head = data[:4096]
    m = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if m:
        try:
            encoding = codecs.lookup(m.group(1).decode("ascii")).name.replace("-", "_")
        except (LookupError, UnicodeDecodeError):
            encoding = None
        encoding = _HTML_ALIASES.get(encoding or "", encoding)
        if encoding and not encoding.startswith("utf_16") and not encoding.startswith("utf_32"):
            _sniff_binary(data)
            if encoding != "utf_8" and not data.isascii():
                # "charset=iso-8859-1" on a page that is really UTF-8 is a common slip;
                # valid multi-byte UTF-8 does not happen by accident.
                try:
                    return _check_decoded(data.decode("utf-8"), legacy=False)
                except UnicodeDecodeError:
                    pass
            try:
                return _check_decoded(data.decode(encoding), legacy=False)
            except (UnicodeDecodeError, LookupError):
                pass  # the declaration is wrong: detect as for text files
    return decode_bytes(data)


_HTML_DROP = {
    "script", "style", "noscript", "template", "head", "title",
    "svg", "math", "iframe", "object", "embed", "canvas",
}  # fmt: skip
_HTML_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "center",
    "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption",
    "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p",
    "section", "summary", "table", "tbody", "tfoot", "thead", "ul",
}  # fmt: skip
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_HIDDEN_STYLE = re.compile(r"(?i)display\s*:\s*none|visibility\s*:\s*hidden")


def _html_text(data: bytes) -> str:
    markup = _normalise_newlines(_html_decode(data))
    try:
        import warnings

        from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

        _quiet_bs4(warnings, (MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning))
        soup = BeautifulSoup(markup, "html.parser")
        blocks = _html_blocks(soup)
    except RecursionError:
        raise UnreadableFile("beskadiget HTML (for dybt indlejret)") from None
    text = unicodedata.normalize("NFC", _normalise_newlines("\n\n".join(blocks)))
    if not text.strip():
        raise UnreadableFile("tom fil (ingen synlig tekst i HTML-siden)")
    return text


_bs4_quieted = False


def _quiet_bs4(warnings: Any, categories: tuple[type[Warning], ...]) -> None:
    global _bs4_quieted
    if not _bs4_quieted:
        for category in categories:
            warnings.filterwarnings("ignore", category=category)
        _bs4_quieted = True


def _html_blocks(root: Any) -> list[str]:
    """Visible text of a parsed HTML tree as paragraphs (iterative: deep trees are fine)."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    blocks: list[str] = []
    cur: list[str] = []

    def flush() -> None:
        text = "".join(cur)
        cur.clear()
        text = re.sub(r" *\n *", "\n", text).strip(" ")
        for block in re.split(r"\n{2,}", text):
            if block.strip():
                blocks.append(block.strip())

    def hidden(tag: Any) -> bool:
        return (
            tag.name in _HTML_DROP
            or tag.has_attr("hidden")
            or tag.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))
        )

    end_of_block = object()  # stack marker: flush when a block element ends
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if item is end_of_block:
            flush()
            continue
        if isinstance(item, NavigableString):
            if not isinstance(item, PreformattedString):  # comments, doctype, CDATA
                cur.append(_HTML_SPACE.sub(" ", str(item)))
            continue
        if not isinstance(item, Tag) or hidden(item):
            continue
        name = item.name
        if name == "br":
            cur.append("\n")
        elif name == "pre":
            flush()
            pre = item.get_text().strip("\n")
            if pre.strip():
                blocks.append(pre)
        elif name == "tr":
            flush()
            cells = [
                "\n".join(_html_blocks(cell))
                for cell in item.find_all(["td", "th"], recursive=False)
                if not hidden(cell)
            ]
            row = "\t".join(c for c in cells if c)
            if row:
                blocks.append(row)
        elif name in _HTML_BLOCK:
            flush()
            stack.append(end_of_block)
            stack.extend(reversed(item.contents))
        else:
            if name in ("td", "th"):
                cur.append(" ")
            stack.extend(reversed(item.contents))
    flush()
    return blocks
