"""Quotes that travel: an `Answer` as text to paste, as Markdown and as CSV.

    quote_for_copy(hit)      -> '»Puljen på i alt 14,3 mio. kr. …« (Sagsnr. 2024 - 2715 · SOU alm. del spm. 391 ·
                                30-04-2024 · Social- og boligministeren, https://www.ft.dk/…)'
    answer_markdown(answer)  -> "# Hvor mange kommuner …\n\n## 1. Sagsnr. … \n\n> Puljen på …"
    answer_csv(answer)       -> "spørgsmål,dato,minister,kildehenvisning,citat,adresse\r\n…"

Every quote is the passage's own text with its whitespace runs shown as one space (as the chat
shows it): the characters are the document's, nothing is rephrased or cut. The address is the
document's web address when it has one (ft.dk), else its file in the index.
"""

from __future__ import annotations

import csv
import io
import re

from rag.records import Answer, Hit
from rag.text import flat

CSV_COLUMNS = ("spørgsmål", "dato", "minister", "kildehenvisning", "citat", "adresse")


def address(hit: Hit) -> str:
    """Where the quoted document is: its web address, else its file in the index."""
    url = hit.document.url
    return url if url and url.startswith(("https://", "http://")) else hit.document.file


def quote_for_copy(hit: Hit) -> str:
    """»quote« (citation, address): what a copy button puts on the clipboard."""
    return f"»{flat(hit.text)}« ({hit.citation}, {address(hit)})"


def minister(hit: Hit) -> str:
    """Who answered: the signer, else the answering minister, else the minister asked."""
    doc = hit.document
    return doc.signer or doc.answering_minister or doc.minister_addressed or ""


def answer_markdown(answer: Answer) -> str:
    """The question, then each quote as a block quote under its citation and address."""
    lines = [f"# {flat(answer.question)}", ""]
    if answer.order == "date":
        lines += ["Tidslinje: svarene i datoorden, ældste først.", ""]
    if answer.abstained or not answer.hits:
        return "\n".join([*lines, answer.message or "", ""])
    if answer.unsure and answer.message:
        lines += [f"*{answer.message}*", ""]
    for n, hit in enumerate(answer.hits, start=1):
        date = hit.document.dato.isoformat() if hit.document.dato else "uden dato"
        lines += [f"## {n}. {_markdown_text(hit.citation)}", "",
                  f"{date} · {_markdown_text(minister(hit)) or 'ukendt minister'}", "",
                  f"> {flat(hit.text)}", "",
                  f"Kilde: {address(hit)}", ""]
    return "\n".join(lines)


def answer_csv(answer: Answer) -> str:
    """One row per quote: question, date (ISO), minister, citation, quote, address."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for hit in answer.hits:
        writer.writerow([flat(answer.question), hit.document.dato.isoformat() if hit.document.dato else "",
                         minister(hit), hit.citation, flat(hit.text), address(hit)])
    return out.getvalue()


def _markdown_text(text: str) -> str:
    """A heading or line that shows its characters: markdown's own marks escaped."""
    return re.sub(r"([\\`*_\[\]#<>|])", r"\\\1", text)
