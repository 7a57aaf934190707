"""`rag eval-parse DIR`: how well letters are parsed, against hand-written gold fields.

DIR holds letters and either `gold.jsonl` (tests/fixtures/letters/*: every field as printed) or a
`manifest.csv` with `*_as_printed` columns (the shared ft-svar-sample: number, case number, date).
Each field is scored only on the letters that print it. "recognized" counts letters parsed as
answer letters (or § 20 answers); "answer found" needs the gold answer's first and last words
inside the parsed answer sections (and "question found" likewise); "citation names the number"
checks the citation a user would copy.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag import Document, RagError, citation, read_document

FIELDS = ("recognized", "number", "citation_number", "question_found", "answer_found", "kind", "case",
          "udvalg", "sagsnr", "doknr", "date", "asked_date", "asker", "minister_asked", "signer", "preliminary")
LABELS = {
    "recognized": "genkendt som svarbrev", "number": "spørgsmålets nummer", "citation_number":
    "kildehenvisning nævner nummeret", "question_found": "spørgsmålets tekst fundet", "answer_found":
    "svarets tekst fundet", "kind": "spørgsmålstype", "case": "sag (L/B/Aktstk./KOM)", "udvalg": "udvalg",
    "sagsnr": "sagsnr. (hvor trykt)", "doknr": "dok.nr. (hvor trykt)", "date": "brevets dato (hvor trykt)",
    "asked_date": "spørgsmålets dato", "asker": "spørger", "minister_asked": "adspurgt minister",
    "signer": "underskriver", "preliminary": "foreløbigt/endeligt",
}


@dataclass
class Scores:
    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    misses: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # (file, field, expected, got)

    def add(self, file: str, name: str, ok: bool, expected: Any = None, got: Any = None) -> None:
        self.total[name] = self.total.get(name, 0) + 1
        self.right[name] = self.right.get(name, 0) + int(ok)
        if not ok:
            self.misses.append((file, name, expected, got))

    def rate(self, name: str) -> float | None:
        return self.right.get(name, 0) / self.total[name] if self.total.get(name) else None


def _squash(value: Any) -> str:
    """A printed value for comparing: hyphenation and whitespace gone, case folded."""
    text = re.sub(r"-\s*\n\s*", "", str(value))
    return re.sub(r"[\s\-–.,:;()]+", "", text).casefold()


def _number(doc: Document) -> str | None:
    if doc.s_nr:
        return doc.s_nr
    return str(doc.spm_nr) if doc.spm_nr is not None else None


def _sections_text(doc: Document, kind: str) -> str:
    return " ".join(doc.text[s.start:s.end] for s in doc.sections if s.kind == kind)


def score_letter(doc: Document, gold: dict[str, Any], scores: Scores) -> None:
    """Compare one parsed document with its gold fields."""
    f = doc.file
    scores.add(f, "recognized", doc.kind in ("letter", "s20"), "letter", doc.kind)
    number = gold.get("number")
    if number:
        got = _number(doc)
        scores.add(f, "number", got is not None and _squash(got) == _squash(number), number, got)
        digits = re.sub(r"\D", "", str(number))
        label = citation(doc)
        scores.add(f, "citation_number", bool(re.search(rf"(?<!\d){digits}(?!\d)", label)), number, label)
    for part, key in (("question", "question_found"), ("answer", "answer_found")):
        head, tail = gold.get(f"{part}_head"), gold.get(f"{part}_tail")
        if head:
            found = _squash(_sections_text(doc, part))
            ok = _squash(head) in found and (not tail or _squash(tail) in found)
            scores.add(f, key, ok, f"{head[:30]!r} … {str(tail)[-30:]!r}", _sections_text(doc, part)[:60])
    compare = {
        "kind": (gold.get("kind"), "§ 20" if doc.kind == "s20" else doc.spm_type),
        "case": (gold.get("case"), doc.sag),
        "udvalg": (gold.get("udvalg"), doc.udvalg_kode),
        "sagsnr": (gold.get("sagsnr_printed"), doc.sagsnr),
        "doknr": (gold.get("doknr_printed"), doc.doknr),
        "date": (gold.get("date"), doc.dato.isoformat() if doc.dato else None),
        "asked_date": (gold.get("asked_date"), doc.asked_date.isoformat() if doc.asked_date else None),
        "asker": (gold.get("asker"), doc.spoerger),
        "minister_asked": (gold.get("minister_asked"), doc.minister_addressed),
        "signer": (gold.get("signer"), doc.signer or _name_in_parentheses(doc.answering_minister)),
    }
    for name, (expected, got) in compare.items():
        if expected:
            scores.add(f, name, got is not None and _squash(expected) == _squash(got), expected, got)
    if "preliminary" in gold:
        scores.add(f, "preliminary", bool(gold["preliminary"]) == doc.preliminary, gold["preliminary"],
                   doc.preliminary)


def _name_in_parentheses(speaker: str | None) -> str | None:
    m = re.search(r"\(([^()]+)\)\s*$", speaker or "")
    return m.group(1) if m else None


def _gold_rows(folder: Path) -> Iterable[dict[str, Any]]:
    gold = folder / "gold.jsonl"
    if gold.is_file():
        for line in gold.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)
        return
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        raise RagError(f"{folder} har hverken gold.jsonl eller manifest.csv med de trykte værdier.")
    with manifest.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            number = (row.get("spm_nr_as_printed") or "").split(" (")[0].strip()
            sagsnr = (row.get("sagsnr_as_printed") or "").split(" (")[0]
            sagsnr = re.sub(r"^(?:J\.nr\.|Sagsnr\.)\s*", "", sagsnr).strip()
            if "split unknown" in (row.get("layout_notes") or ""):
                sagsnr = ""  # glued to the document number; the manifest does not know where it ends
            yield {"file": row["file"], "source_url": row.get("source_url"), "number": number or None,
                   "sagsnr_printed": None if not sagsnr or "/" in sagsnr or "+" in sagsnr else sagsnr,
                   "date": _iso(row.get("date_as_printed"))}


def _iso(value: str | None) -> str | None:
    from rag.text import parse_date

    d = parse_date(value) if value else None
    return d.isoformat() if d else None


def evaluate_folder(folder: Path, with_url: bool = False) -> Scores:
    """Parse every letter of `folder` as the indexer does and score it against the gold fields.

    With `with_url`, each letter gets its ft.dk address as a sidecar would give it."""
    scores = Scores()
    for gold in _gold_rows(folder):
        meta = {"url": gold["source_url"]} if with_url and gold.get("source_url") else {}
        try:
            doc = read_document(folder / gold["file"], meta)
        except RagError as exc:
            scores.add(gold["file"], "recognized", False, "letter", str(exc))
            continue
        score_letter(doc, gold, scores)
    return scores


def combined(results: dict[str, Scores]) -> Scores:
    """The folders' scores together, as one set."""
    out = Scores()
    for s in results.values():
        for key, n in s.total.items():
            out.total[key] = out.total.get(key, 0) + n
            out.right[key] = out.right.get(key, 0) + s.right.get(key, 0)
        out.misses += s.misses
    return out


def format_scores(results: dict[str, Scores]) -> str:
    """A Markdown table: one row per field, one column per folder (share right, and n), and with
    several folders a last column for all of them together ("i alt")."""
    if len(results) > 1:
        results = {**results, "i alt": combined(results)}
    names = list(results)
    rows = ["| felt | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in FIELDS:
        cells = []
        for name in names:
            s = results[name]
            rate = s.rate(key)
            cells.append("–" if rate is None else f"{rate:.2f} ({s.right.get(key, 0)}/{s.total[key]})")
        if any(c != "–" for c in cells):
            rows.append(f"| {LABELS[key]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
