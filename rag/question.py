"""What a question says about the answer it wants, besides its words: a minister, a period.

    named_ministers("Hvad sagde social- og ældreministeren i foråret 2022 …")  -> {"social", "ældre"}
    named_period("Hvad sagde … i foråret 2022 …")  -> (date(2022, 3, 1), date(2022, 5, 31))

Both are soft signals for ranking (`rag.retrieve`): a document by the named minister, or dated in
the named period, is more likely the one meant; nothing is filtered out.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from rag.text import MONTHS

# "social- og boligministeren", "ministeren for fødevarer, landbrug og fiskeri", "statsministerens"
_TITLE = re.compile(
    r"(?i)(?<![\wæøå])(?P<t>(?:[a-zæøå]+-,?\s+(?:[a-zæøå]+-,?\s+)*og\s+)?[a-zæøå]*minister(?:en|ens|s)?"
    r"(?:\s+for\s+[a-zæøå]+(?:,\s*[a-zæøå]+)*(?:\s+og\s+[a-zæøå]+)?)?)(?![\wæøå])")
_FILLER = {"og", "for", "minister", "ministeren", "ministerens", "ministers", "fg", "konstitueret"}


def minister_subjects(title: str | None) -> frozenset[str]:
    """The areas a minister's title names: 'Social- og boligministeren' -> {'social', 'bolig'};
    'ministeren for fødevarer, landbrug og fiskeri' -> {'fødevarer', 'landbrug', 'fiskeri'};
    'Statsministeren (Mette Frederiksen)' -> {'stats'}. Empty for a bare 'ministeren'."""
    if not title:
        return frozenset()
    title = re.sub(r"\([^()]*\)", " ", title).lower()
    words = re.split(r"[\s,\-]+", title)
    out = set()
    for w in words:
        w = re.sub(r"minister(?:en|ens|s)?$", "", w)
        w = re.sub(r"s$", "", w) if len(w) > 5 else w  # "beskæftigelses" -> "beskæftigelse"
        if len(w) >= 3 and w not in _FILLER:
            out.add(w)
    return frozenset(out)


def named_ministers(question: str) -> list[frozenset[str]]:
    """The minister titles a question names, each as the areas it covers (bare "ministeren" is none)."""
    out = []
    for m in _TITLE.finditer(question):
        subjects = minister_subjects(m["t"])
        if subjects:
            out.append(subjects)
    return out


_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_SEASONS = {"foråret": (3, 5), "forår": (3, 5), "sommeren": (6, 8), "sommer": (6, 8), "efteråret": (9, 11),
            "efterår": (9, 11), "vinteren": (12, 2), "vinter": (12, 2), "begyndelsen": (1, 4), "starten": (1, 4),
            "slutningen": (9, 12), "midten": (5, 8)}
_PERIOD = re.compile(
    rf"(?i)(?:(?:\bi|\bfra|\bomkring|\bsiden|\bunder)\s+)?(?:(?P<season>{'|'.join(_SEASONS)})(?:\s+af)?\s+|"
    rf"(?P<month>{_MONTH_NAMES})\.?\s+)?(?P<year>(?:19|20)\d\d)(?!\d|-)")


def named_period(question: str) -> tuple[date, date] | None:
    """The period a question names: "i januar 2023", "oktober 2024", "i foråret 2022", "i 2021"
    (a bare year counts only after "i", "fra", "omkring", "siden" or "under")."""
    for m in _PERIOD.finditer(question):
        year = int(m["year"])
        if m["month"]:
            month = MONTHS[m["month"].lower()]
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if m["season"]:
            first, last = _SEASONS[m["season"].lower()]
            if first > last:  # the winter of 2023: December 2022 to February 2023
                return date(year - 1, first, 1), date(year, last, calendar.monthrange(year, last)[1])
            return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
        if re.match(r"(?i)(?:i|fra|omkring|siden|under)\s", m.group(0)):
            return date(year, 1, 1), date(year, 12, 31)
    return None
