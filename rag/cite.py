"""Citation strings, e.g. `Sagsnr. 2024 - 7010 · SOU alm. del spm. 687 · 20-10-2024 · Social- og boligministeren`."""

from __future__ import annotations

from rag.records import Document
from rag.text import capitalised

SEPARATOR = " · "

# Folketinget's abbreviations of committee names, as used in "SOU alm. del spm. 687".
_COMMITTEE_ABBREVIATIONS = {
    "socialudvalg": "SOU",
    "social- og ældreudvalg": "SOU",
    "social- og indenrigsudvalg": "SOU",
    "sundhedsudvalg": "SUU",
    "sundheds- og ældreudvalg": "SUU",
    "beskæftigelsesudvalg": "BEU",
    "børne- og undervisningsudvalg": "BUU",
    "retsudvalg": "REU",
    "finansudvalg": "FIU",
    "udlændinge- og integrationsudvalg": "UUI",
    "miljø- og fødevareudvalg": "MOF",
    "kulturudvalg": "KUU",
    "skatteudvalg": "SAU",
    "transportudvalg": "TRU",
    "boligudvalg": "BOU",
    "kommunaludvalg": "KOU",
    "uddannelses- og forskningsudvalg": "UFU",
    "erhvervsudvalg": "ERU",
    "forsvarsudvalg": "FOU",
    "udenrigsudvalg": "URU",
    "klima-, energi- og forsyningsudvalg": "KEF",
}


def committee_abbreviation(udvalg: str | None) -> str | None:
    """'Folketingets Socialudvalg' -> 'SOU'; None for committees we do not know."""
    if not udvalg:
        return None
    name = udvalg.lower().removeprefix("folketingets ").strip()
    name = name.removesuffix("et")  # "Socialudvalget" -> "Socialudvalg"
    return _COMMITTEE_ABBREVIATIONS.get(name)


def cite(doc: Document) -> str:
    """The one-line citation shown under every quote of `doc`."""
    parts: list[str] = []
    if doc.kind == "letter":
        if doc.sagsnr:
            parts.append(f"Sagsnr. {doc.sagsnr}")
        if doc.spm_nr is not None:
            committee = committee_abbreviation(doc.udvalg) or doc.udvalg
            question = " ".join(x for x in (committee, doc.spm_type, f"spm. {doc.spm_nr}") if x)
            parts.append(question)
        elif doc.udvalg:
            parts.append(doc.udvalg)
        if doc.dato:
            parts.append(doc.dato.strftime("%d-%m-%Y"))
        minister = doc.minister_addressed or doc.signer_title
        if minister:
            parts.append(capitalised(minister))
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
    if not parts:
        parts.append(doc.file)
    return SEPARATOR.join(parts)
