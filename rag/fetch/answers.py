"""Ministers' answers in the open data: which to fetch, and what the open data says about each.

An answer is a `Dokument` of type "Svar" with its files (`Fil`, a direct PDF address). What a
citation needs is spread over linked records, read here once per answer:

- the case (`SagDokument` -> `Sag`): its type ("Alm. del", "§ 20-spørgsmål", "Lovforslag", …),
  its number ("S 1753", "L 126") and its samling (`Periode.kode`, "20231");
- the actors (`DokumentAktør` -> `Aktør`) of the answer and of the question it answers
  (`Dokument.spørgsmålsid`): the committee (an actor of type "Udvalg"), the asking MP (role
  "Spørger"), the minister asked (a minister title on the question) and who answered;
- the question's wording (`spørgsmålsordlyd`) and date.

Type, role and actor-type ids are looked up by name, never assumed. The question number of a
committee question is not a field of the open data; it is read from the ft.dk file address
(`…/almdel/suu/spm/940/svar/…`), else from the question's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rag.errors import FetchError
from rag.fetch.oda import OdaClient, datetime_literal, string_literal
from rag.text import flat

# Case types as the open data names them -> the kind our citations use
KINDS = {"alm. del": "alm. del", "almindelig del": "alm. del", "§ 20-spørgsmål": "§ 20", "lovforslag": "L",
         "beslutningsforslag": "B", "aktstykke": "aktstykke", "kommissionsforslag": "KOM", "§ 5-spørgsmål": "§ 5"}


@dataclass
class OdaAnswer:
    """One answer in the open data, and what a citation and the index's filters need from it."""

    dokument_id: int
    title: str
    dato: date | None  # the answer's date
    fil_id: int | None
    fil_url: str | None
    fil_updated: str  # the file's `opdateringsdato`: a changed file is fetched again
    # read by describe()
    samling: str = ""
    udvalg_kode: str = ""
    udvalg: str = ""
    kind: str = ""  # "alm. del", "§ 20", "L", "B", "aktstykke", …
    number: str = ""  # "940"; for § 20 "S 1753"
    sag: str = ""  # "L 126" for a bill question
    question: str = ""
    asker: str = ""  # "Name (Party)"
    minister_asked: str = ""
    answered_by: str = ""
    asked: date | None = None
    question_id: int | None = None
    sag_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def page_url(self) -> str:
        """The answer's page on ft.dk (…/svar/<id>/<nr>/index.htm) when the file lies there, else the file."""
        url = self.fil_url or ""
        m = re.match(r"(https?://(?:www\.)?ft\.dk/.+/svar/\d+/\d+)\.pdf$", url, re.IGNORECASE)
        return f"{m.group(1)}/index.htm" if m else url


class Lookups:
    """Ids of types and roles by name, and actors by id, read once per run."""

    def __init__(self, client: OdaClient) -> None:
        self.client = client
        self._tables: dict[str, dict[int, str]] = {}
        self._actors: dict[int, dict[str, Any]] = {}
        self._periods: dict[int, str] = {}

    def table(self, entity: str, column: str) -> dict[int, str]:
        """id -> name of a small table (Dokumenttype.type, DokumentAktørRolle.rolle, …)."""
        if entity not in self._tables:
            self._tables[entity] = {int(r["id"]): str(r.get(column) or "") for r in self.client.rows(entity)}
        return self._tables[entity]

    def id_of(self, entity: str, column: str, name: str) -> int | None:
        wanted = name.casefold()
        return next((i for i, n in self.table(entity, column).items() if n.casefold() == wanted), None)

    def actor(self, actor_id: int, known: dict[str, Any] | None = None) -> dict[str, Any]:
        if known is not None:
            self._actors.setdefault(actor_id, known)
        if actor_id not in self._actors:
            self._actors[actor_id] = self.client.one("Aktør", actor_id) or {}
        return self._actors[actor_id]

    def samling(self, periode_id: int | None) -> str:
        if periode_id is None:
            return ""
        if periode_id not in self._periods:
            row = self.client.one("Periode", periode_id) or {}
            self._periods[periode_id] = str(row.get("kode") or "")
        return self._periods[periode_id]


# ---------------------------------------------------------------------------
# Which answers


@dataclass(frozen=True)
class Wanted:
    """The user's filters, as `rag fetch` takes them."""

    udvalg: tuple[str, ...] = ()  # committee abbreviations ("SUU")
    date_from: date | None = None
    date_to: date | None = None
    samling: str | None = None  # "20231"
    minister: str | None = None  # part of a minister's title or name
    kinds: tuple[str, ...] = ()  # from KINDS' values


def candidates(client: OdaClient, lookups: Lookups, wanted: Wanted) -> list[OdaAnswer]:
    """The answers in the period (and, when a committee or minister is named, on their documents),
    oldest first, before the per-answer filters (kind, committee of the case)."""
    svar = lookups.id_of("Dokumenttype", "type", "Svar")
    if svar is None:
        raise FetchError("De åbne data kender ingen dokumenttype 'Svar'.")
    start, end = wanted.date_from, wanted.date_to
    if wanted.samling:
        start, end = _samling_dates(client, wanted.samling, start, end)
    conditions = [f"typeid eq {svar}"]
    if start:
        conditions.append(f"dato ge {datetime_literal(start)}")
    if end:
        conditions.append(f"dato le {datetime_literal(end)}")
    actor_ids = _actors_named(client, lookups, wanted, start, end)
    if actor_ids is None:
        rows = client.rows("Dokument", filter=" and ".join(conditions), expand="Fil", orderby="dato asc,id asc")
        documents = list(rows)
    else:  # the documents the named actors are on; the type and dates checked here
        documents = []
        seen: set[int] = set()
        for actor_id in sorted(actor_ids):
            for link in client.rows("DokumentAktør", filter=f"aktørid eq {actor_id}", expand="Dokument/Fil"):
                doc = link.get("Dokument") or {}
                if doc.get("id") in seen or doc.get("typeid") != svar or not _in_period(doc, start, end):
                    continue
                seen.add(doc["id"])
                documents.append(doc)
        documents.sort(key=lambda d: (str(d.get("dato") or ""), d.get("id") or 0))
    return [_answer(doc) for doc in documents]


def _samling_dates(client: OdaClient, samling: str, start: date | None, end: date | None
                   ) -> tuple[date | None, date | None]:
    row = next(client.rows("Periode", filter=f"kode eq {string_literal(samling)}", limit=1), None)
    if row is None:
        raise FetchError(f"De åbne data kender ingen samling '{samling}' (skriv fx 20231 for 2023-24, 1. samling).")
    first, last = _date(row.get("startdato")), _date(row.get("slutdato"))
    return (max(d for d in (start, first) if d) if (start or first) else None,
            min(d for d in (end, last) if d) if (end or last) else None)


def _actors_named(client: OdaClient, lookups: Lookups, wanted: Wanted, start: date | None, end: date | None
                  ) -> set[int] | None:
    """Ids of the named committees (the row of each samling that overlaps the period: a committee has
    one per samling since 1953) and ministers; None when none is named."""
    if not wanted.udvalg and not wanted.minister:
        return None
    ids: set[int] = set()
    udvalg_type = lookups.id_of("Aktørtype", "type", "Udvalg")
    for code in wanted.udvalg:
        rows = client.rows("Aktør", filter=f"typeid eq {udvalg_type} and gruppenavnkort eq {string_literal(code)}")
        ids |= {int(r["id"]) for r in rows if _overlaps(r, start, end)}
    if wanted.minister:
        text = wanted.minister.casefold()
        for type_name in ("Ministertitel", "Person"):
            type_id = lookups.id_of("Aktørtype", "type", type_name)
            if type_id is None:
                continue
            # substringof is OData 3's "contains" (needle first); names are compared case-blind here too
            rows = client.rows("Aktør", filter=f"typeid eq {type_id} and "
                                               f"substringof({string_literal(text)},tolower(navn))")
            ids |= {int(r["id"]) for r in rows if text in str(r.get("navn") or "").casefold()}
    return ids


def _overlaps(actor: dict[str, Any], start: date | None, end: date | None) -> bool:
    first, last = _date(actor.get("startdato")), _date(actor.get("slutdato"))
    return not ((end and first and first > end) or (start and last and last < start))


def _in_period(doc: dict[str, Any], start: date | None, end: date | None) -> bool:
    day = _date(doc.get("dato"))
    return day is not None and (start is None or day >= start) and (end is None or day <= end)


def _answer(doc: dict[str, Any]) -> OdaAnswer:
    files = [f for f in (doc.get("Fil") or []) if isinstance(f, dict)]
    pdfs = [f for f in files if str(f.get("format") or "").upper() == "PDF" or str(f.get("filurl") or "")
            .lower().endswith(".pdf")]
    # the primary variant ("P") first, the newest first within it
    pdfs.sort(key=lambda f: str(f.get("opdateringsdato") or ""), reverse=True)
    pdfs.sort(key=lambda f: str(f.get("variantkode") or "") != "P")
    best = pdfs[0] if pdfs else None
    return OdaAnswer(dokument_id=int(doc["id"]), title=flat(str(doc.get("titel") or "")), dato=_date(doc.get("dato")),
                     fil_id=int(best["id"]) if best else None, fil_url=str(best.get("filurl") or "") if best else None,
                     fil_updated=str(best.get("opdateringsdato") or "") if best else "",
                     question=flat(str(doc.get("spørgsmålsordlyd") or "")),
                     question_id=doc.get("spørgsmålsid") if isinstance(doc.get("spørgsmålsid"), int) else None)


# ---------------------------------------------------------------------------
# What the open data says about one answer


def describe(client: OdaClient, lookups: Lookups, answer: OdaAnswer) -> OdaAnswer:
    """Fill in `answer`'s case, committee, number, people, question and dates from the open data."""
    roles = lookups.table("DokumentAktørRolle", "rolle")
    actors = _actors_of(client, lookups, answer.dokument_id, roles)
    question_actors: list[tuple[str, dict[str, Any]]] = []
    if answer.question_id:
        question = client.one("Dokument", answer.question_id) or {}
        answer.asked = _date(question.get("dato"))
        answer.question = answer.question or flat(str(question.get("spørgsmålsordlyd") or question.get("titel") or ""))
        question_actors = _actors_of(client, lookups, answer.question_id, roles)
        if not answer.number:
            answer.number = _number_in(str(question.get("titel") or ""))
    link = next(client.rows("SagDokument", filter=f"dokumentid eq {answer.dokument_id}", expand="Sag", limit=1), None)
    sag = (link or {}).get("Sag") or {}
    if sag:
        answer.sag_id = sag.get("id")
        answer.samling = lookups.samling(sag.get("periodeid"))
        kind = lookups.table("Sagstype", "type").get(int(sag.get("typeid") or 0), "")
        answer.kind = KINDS.get(kind.casefold(), "")
        number = flat(str(sag.get("nummer") or ""))
        if answer.kind == "§ 20" and number:
            answer.number = number if number.startswith("S") else f"S {number}"
        elif answer.kind in ("L", "B", "aktstykke") and number:
            answer.sag = number
    _from_file_address(answer)
    udvalg_type = lookups.id_of("Aktørtype", "type", "Udvalg")
    title_type = lookups.id_of("Aktørtype", "type", "Ministertitel")
    person_type = lookups.id_of("Aktørtype", "type", "Person")
    for role, actor in question_actors + actors:
        kind_id = actor.get("typeid")
        if kind_id == udvalg_type and not answer.udvalg_kode:
            answer.udvalg_kode = str(actor.get("gruppenavnkort") or "").upper()
            answer.udvalg = flat(str(actor.get("navn") or ""))
        elif role in ("spørger", "stiller") and kind_id == person_type and not answer.asker:
            answer.asker = _person(actor)
    for role, actor in question_actors:
        if role in ("minister", "til") and actor.get("typeid") == title_type and not answer.minister_asked:
            answer.minister_asked = flat(str(actor.get("navn") or ""))
    by = {role: actor for role, actor in actors if role in ("besvaret af", "afsender", "minister")}
    person = next((a for a in by.values() if a.get("typeid") == person_type), None)
    title = next((a for a in by.values() if a.get("typeid") == title_type), None)
    if title and person:
        answer.answered_by = f"{_capital(str(title.get('navn') or ''))} ({flat(str(person.get('navn') or ''))})"
    elif title or person:
        answer.answered_by = _capital(flat(str((title or person or {}).get("navn") or "")))
    return answer


def _actors_of(client: OdaClient, lookups: Lookups, dokument_id: int, roles: dict[int, str]
               ) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for link in client.rows("DokumentAktør", filter=f"dokumentid eq {dokument_id}", expand="Aktør"):
        actor_id = link.get("aktørid")
        if not isinstance(actor_id, int):
            continue
        actor = lookups.actor(actor_id, link.get("Aktør") if isinstance(link.get("Aktør"), dict) else None)
        out.append((roles.get(int(link.get("rolleid") or 0), "").casefold(), actor))
    return out


_ADDRESS = re.compile(r"/samling/(?P<samling>\d{5})/(?:almdel/(?P<udvalg>[a-zæøå]+)/spm/(?P<nr>\d+)|"
                      r"spoergsmaal/s(?P<s>\d+)|(?:lovforslag|beslutningsforslag)/(?P<sag>[lb]\d+)/spm/(?P<bnr>\d+)|"
                      r"aktstykke/aktstk(?P<akt>\d+)/spm/(?P<anr>\d+))/", re.IGNORECASE)


def _from_file_address(answer: OdaAnswer) -> None:
    """Samling, committee, kind and number from an ft.dk file address, where the records lack them."""
    m = _ADDRESS.search(answer.fil_url or "")
    if not m:
        return
    answer.samling = answer.samling or m["samling"]
    if m["udvalg"]:
        answer.udvalg_kode = answer.udvalg_kode or m["udvalg"].upper()
        answer.kind = answer.kind or "alm. del"
        answer.number = answer.number or m["nr"]
    elif m["s"]:
        answer.kind = answer.kind or "§ 20"
        answer.number = answer.number or f"S {m['s']}"
    elif m["sag"]:
        answer.kind = answer.kind or m["sag"][0].upper()
        answer.sag = answer.sag or f"{m['sag'][0].upper()} {m['sag'][1:]}"
        answer.number = answer.number or m["bnr"]
    elif m["akt"]:
        answer.kind = answer.kind or "aktstykke"
        answer.sag = answer.sag or f"Aktstk. {m['akt']}"
        answer.number = answer.number or m["anr"]


def _number_in(title: str) -> str:
    m = re.search(r"(?i)\b(?:spm|spørgsmål)\.?\s*(?:nr\.?\s*)?(\d{1,4})\b", title)
    return m.group(1) if m else ""


def _person(actor: dict[str, Any]) -> str:
    """'Magnus Heunicke (S)': the name, with the party from the biography's title when it has one."""
    name = flat(str(actor.get("navn") or ""))
    bio = str(actor.get("biografi") or "")
    m = re.search(r"<title>[^<(]*\(([^()<]{1,8})\)</title>", bio)
    return f"{name} ({m.group(1)})" if m and name else name


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _date(value: Any) -> date | None:
    """'2019-03-20T19:21:12.267' -> date(2019, 3, 20); None for anything else."""
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", str(value or ""))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
