"""HTML files to text: the visible text, block elements as paragraphs, the encoding found the way a
browser finds it (BOM, <meta charset>, then detection as for text files)."""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Any

from rag.errors import UnreadableFile
from rag.ingest.decode import BOMS, check_decoded, decode_bytes, normalise_newlines, sniff_binary

_META_CHARSET = re.compile(rb"""(?is)<meta\b[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+-]+)""")
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_:.+-]+)""", re.I)
# what a browser reads these labels as (WHATWG Encoding Standard)
_HTML_ALIASES = {"latin_1": "cp1252", "ascii": "cp1252", "iso8859_1": "cp1252", "iso8859_9": "cp1254"}


def _html_decode(data: bytes) -> str:
    if any(data.startswith(bom) for bom, _ in BOMS):
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
            sniff_binary(data)
            if encoding != "utf_8" and not data.isascii():
                # "charset=iso-8859-1" on a page that is really UTF-8 is a common slip;
                # valid multi-byte UTF-8 does not happen by accident.
                try:
                    return check_decoded(data.decode("utf-8"), legacy=False)
                except UnicodeDecodeError:
                    pass
            try:
                return check_decoded(data.decode(encoding), legacy=False)
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


def html_text(data: bytes) -> str:
    markup = normalise_newlines(_html_decode(data))
    try:
        import warnings

        from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

        _quiet_bs4(warnings, (MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning))
        soup = BeautifulSoup(markup, "html.parser")
        blocks = _html_blocks(soup)
    except RecursionError:
        raise UnreadableFile("beskadiget HTML (for dybt indlejret)") from None
    text = unicodedata.normalize("NFC", normalise_newlines("\n\n".join(blocks)))
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
