"""Citation strings: what a user pastes into their own text after a quote.

    Sagsnr. 2024 - 7010 · SOU alm. del spm. 687 · 20-10-2024 · Social- og boligministeren
    TRU L 126 spm. 46 · 09-12-2015 · Transportministeren
    FIU Aktstk. 159 spm. 13 · 13-05-2020
    § 20-spørgsmål S 1024 · 20-09-2018 · Undervisningsministeren
    SUU alm. del spm. 940 · 22-05-2018 · Sundhedsministeren · foreløbigt svar
"""

from __future__ import annotations

from rag.records import Document
from rag.text import capitalised

SEPARATOR = " · "


def question_label(doc: Document) -> str | None:
    """'SOU alm. del spm. 687', 'TRU L 126 spm. 46', '§ 20-spørgsmål S 231'; None without a number."""
    if doc.s_nr:
        return f"§ 20-spørgsmål {doc.s_nr}"
    if doc.spm_nr is None:
        return None
    committee = doc.udvalg_kode or doc.udvalg
    kind = doc.sag if doc.sag else (doc.spm_type if doc.spm_type in ("alm. del", "§ 5") else None)
    return " ".join(x for x in (committee, kind, f"spm. {doc.spm_nr}") if x)


def cite(doc: Document) -> str:
    """The one-line citation shown under every quote of `doc`."""
    parts: list[str] = []
    if doc.kind == "letter":
        if doc.sagsnr:
            parts.append(f"Sagsnr. {doc.sagsnr}")
        label = question_label(doc)
        parts.append(label or doc.udvalg or doc.title or doc.file)
        if doc.dato:
            parts.append(doc.dato.strftime("%d-%m-%Y"))
        minister = doc.minister_addressed or doc.answering_minister or doc.signer_title
        if minister:
            parts.append(capitalised(minister))
        if doc.preliminary:
            parts.append("foreløbigt svar")
    elif doc.kind == "s20":
        parts.append(f"§ 20-spørgsmål {doc.s_nr}" if doc.s_nr else "§ 20-spørgsmål")
        if doc.dato:
            parts.append(doc.dato.strftime("%d-%m-%Y"))
        minister = doc.answering_minister or doc.minister_addressed
        if minister:
            parts.append(capitalised(minister))
    else:
        parts.append(doc.title or doc.file)
        if doc.dato:
            parts.append(doc.dato.strftime("%d-%m-%Y"))
    return SEPARATOR.join(p for p in parts if p) or doc.file
