"""Bytes of a text file to `str`: BOMs, binary sniffing, UTF-8, Windows-1252 or cp850.

`decode_bytes` raises `UnreadableFile` with a Danish reason for binary content
and for text in an encoding that is not UTF-8 or Western European.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from rag.errors import UnreadableFile


def normalise_newlines(text: str) -> str:
    """Line endings as "\\n" ("\\r\\n" and "\\r" become "\\n")."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
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
BAD_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff\ue000-\uf8ff]")
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
    if b"\x00" in data[:4096] and not any(data.startswith(bom) for bom, _ in BOMS):
        text = _try_bomless_utf16(data)
        if text is not None:
            return text
    for bom, encoding in BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            if encoding == "utf-8":
                sniff_binary(body)
                return _decode_utf8_or_legacy(body)
            try:
                return check_decoded(body.decode(encoding), legacy=False)
            except UnicodeDecodeError:
                raise UnreadableFile(f"ugyldig tegnkodning (ikke gyldig {encoding.upper()[:6]})") from None
    sniff_binary(data)
    return _decode_utf8_or_legacy(data)


def sniff_binary(data: bytes) -> None:
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
                return check_decoded(data.decode(encoding), legacy=False)
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
        return check_decoded(data.decode("utf-8"), legacy=False)
    except UnicodeDecodeError:
        pass
    escaped = data.decode("utf-8", "surrogateescape")
    stray = len(_SURROGATE_ESCAPES.findall(escaped))
    valid_multibyte = len(_NON_ASCII.findall(escaped)) - stray
    if valid_multibyte > stray:
        # Mostly UTF-8, a few bytes from elsewhere (e.g. two files pasted together).
        return check_decoded(_unescape_as_cp1252(escaped), legacy=True)
    return check_decoded(_decode_legacy(data), legacy=True)


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
        if BAD_CHARS.match(c) or unicodedata.category(c) == "Cn":
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


def check_decoded(text: str, *, legacy: bool) -> str:
    """Refuse text that came out as mostly control/replacement characters."""
    if not text:
        return text
    bad = len(BAD_CHARS.findall(text))
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
