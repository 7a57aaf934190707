"""The Folketing's standing committees, current and former: their names and the abbreviations
ft.dk and the ministries write ("SUU alm. del spm. 940").

Names come from the Folketing's open data (the Aktør records of committees since 2004) and from
ft.dk's committee pages; one abbreviation may have had several names over the years (SUU:
Sundhedsudvalget, Sundheds- og Forebyggelsesudvalget, Sundheds- og Ældreudvalget).
"""

from __future__ import annotations

import re
from functools import cache

COMMITTEES: dict[str, tuple[str, ...]] = {
    "AMU": ("Arbejdsmarkedsudvalget",),
    "BEU": ("Beskæftigelsesudvalget",),
    "BOU": ("Boligudvalget",),
    "BUU": ("Børne- og Undervisningsudvalget",),
    "BYB": ("By- og Boligudvalget",),
    "DIU": ("Udvalget for Digitalisering og It", "Digitaliseringsudvalget"),
    "EFK": ("Energi-, Forsynings- og Klimaudvalget",),
    "EPI": ("Epidemiudvalget",),
    "EPU": ("Det Energipolitiske Udvalg", "Energipolitisk Udvalg"),
    "ERU": ("Erhvervsudvalget", "Erhvervs-, Vækst- og Eksportudvalget"),
    "EUU": ("Europaudvalget", "Markedsudvalget"),
    "FIU": ("Finansudvalget",),
    "FIV": ("Udvalget for Forskning, Innovation og Videregående Uddannelser",),
    "FLF": ("Udvalget for Fødevarer, Landbrug og Fiskeri", "Fødevareudvalget"),
    "FOU": ("Forsvarsudvalget",),
    "FÆU": ("Færøudvalget",),
    "GRU": ("Grønlandsudvalget",),
    "IFU": ("Indfødsretsudvalget",),
    "INU": ("Indenrigsudvalget",),
    "KEB": ("Klima-, Energi- og Bygningsudvalget",),
    "KEF": ("Klima-, Energi- og Forsyningsudvalget",),
    "KEU": ("Klima- og Energiudvalget",),
    "KIU": ("Kirkeudvalget",),
    "KOU": ("Kommunaludvalget",),
    "KUU": ("Kulturudvalget",),
    "LIU": ("Ligestillingsudvalget",),
    "MIU": ("Miljøudvalget",),
    "MOF": ("Miljø- og Fødevareudvalget",),
    "MPU": ("Miljø- og Planlægningsudvalget",),
    "PØU": ("Det Politisk-Økonomiske Udvalg", "Politisk-Økonomisk Udvalg"),
    "REU": ("Retsudvalget",),
    "SAU": ("Skatteudvalget",),
    "SOU": ("Socialudvalget", "Social- og Indenrigsudvalget", "Social-, Indenrigs- og Børneudvalget",
            "Social- og Ældreudvalget", "Social-, Bolig- og Ældreudvalget"),
    "SUU": ("Sundhedsudvalget", "Sundheds- og Forebyggelsesudvalget", "Sundheds- og Ældreudvalget"),
    "TRU": ("Transportudvalget", "Trafikudvalget", "Transport- og Bygningsudvalget",
            "Transport-, Bygnings- og Boligudvalget"),
    "UDU": ("Uddannelsesudvalget",),
    "UFO": ("Udvalget for Forretningsordenen",),
    "UFS": ("Udvalget for Småøer",),
    "UFU": ("Uddannelses- og Forskningsudvalget",),
    "ULØ": ("Udvalget for Landdistrikter og Øer", "Landdistriktsudvalget"),
    "UNU": ("Undervisningsudvalget",),
    "UPN": ("Det Udenrigspolitiske Nævn",),
    "URU": ("Udenrigsudvalget",),
    "UUI": ("Udlændinge- og Integrationsudvalget", "Udvalget for Udlændinge- og Integrationspolitik",
            "Udlændinge-, Integrations- og Boligudvalget", "Integrationsudvalget"),
    "UVP": ("Udvalget til Valgs Prøvelse", "Udvalget til Prøvelse af Valgene"),
    "UVT": ("Udvalget for Videnskab og Teknologi",),
    "ÆLU": ("Ældreudvalget",),
}
ABBREVIATIONS = frozenset(COMMITTEES)


def _key(name: str) -> str:
    """A committee name reduced to what tells committees apart: lower case, no 'Folketingets', no
    definite or genitive ending, no spaces or punctuation ('Folketingets Sundheds- og Ældreudvalgs'
    -> 'sundhedsogældreudvalg')."""
    name = re.sub(r"(?i)^folketingets\s+", "", " ".join(name.split()))
    name = re.sub(r"(?i)(udvalg|nævn)(et|ets|s)\b", r"\1", name)
    return re.sub(r"[^\wæøå]", "", name.casefold())


@cache
def _by_key() -> dict[str, str]:
    return {_key(name): abbr for abbr, names in COMMITTEES.items() for name in names}


def abbreviation(name: str | None) -> str | None:
    """'Folketingets Socialudvalg' -> 'SOU'; 'SOU' -> 'SOU'; None for a name not known."""
    if not name:
        return None
    cleaned = " ".join(name.split())
    if cleaned.upper() in ABBREVIATIONS:
        return cleaned.upper()
    return _by_key().get(_key(cleaned))


@cache
def name_pattern() -> re.Pattern[str]:
    """A committee name anywhere in running text (any known name, definite or genitive, with or
    without 'Folketingets'), tolerant of line breaks between its words."""
    names = sorted({n for names in COMMITTEES.values() for n in names}, key=len, reverse=True)
    alternatives = []
    for name in names:
        words = [re.escape(w) for w in name.removeprefix("Det ").split()]
        words = [r"Udvalg(?:et)?" if w == "Udvalget" else w for w in words]
        stem = r"\s*".join(words)  # PDF extraction glues words: "Fødevarer,Landbrug"
        stem = re.sub(r"(udvalg|Udvalg|Nævn)(?:et)?$", r"\1(?:ets|et|s)?", stem)
        alternatives.append(stem)
    return re.compile(r"(?:Folketingets\s*)?(?:Det\s+)?(?:" + "|".join(alternatives) + r")(?![a-zæøå])",
                      re.IGNORECASE)


def find_names(text: str) -> list[tuple[str, re.Match[str]]]:
    """Every committee named in `text`: (abbreviation, match), in text order."""
    out = []
    for m in name_pattern().finditer(text):
        abbr = abbreviation(m.group(0))
        if abbr:
            out.append((abbr, m))
    return out
