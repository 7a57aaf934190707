"""`rag eval`: measure retrieval on a JSONL question set, and on questions the documents ask themselves.

Each line: {"question": ..., "gold_file": <file name or "">, "gold_quote": <verbatim text or "">}
and optionally "set" (a group reported separately) and "split" ("tune" or "test").

Per set and overall: doc-level Recall@1, Recall@5, MRR@10 (a hit is a returned document whose
file name is gold_file); quote-hit@5 (one of the top-5 documents' returned passages covers at
least half of gold_quote's non-whitespace characters); abstention rate on rows without
gold_file; false-abstention rate on rows with one; ask() latency p50/p95.

`self_questions` is the mechanical benchmark that needs no hand-written questions: every parsed
document's own printed question (the MP's) is asked (i) with that document's question passages
hidden, so only its answer can match, and (ii) with the whole document hidden, where the right
behaviour is to say nothing (unless another document answers the same question).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag import AbstentionSettings, Answer, Filters, Settings, ask, open_index


@dataclass(frozen=True)
class Row:
    question: str
    gold_file: str
    gold_quote: str
    set: str
    split: str = ""
    id: str = ""


@dataclass(frozen=True)
class Outcome:
    row: Row
    rank: int | None  # 1-based rank of gold_file among returned documents
    quote_hit: bool
    abstained: bool
    seconds: float
    top_cosine: float
    confidence: float | None = None  # ask()'s confidence that something answers (see Answer.confidence)


def load_rows(path: Path, split: str | None = None) -> list[Row]:
    """The questions of a JSONL file, only those of `split` ("tune"/"test") when given."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            rows.append(Row(d["question"], d.get("gold_file") or "", d.get("gold_quote") or "",
                            d.get("set") or "all", d.get("split") or "", d.get("id") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: ugyldig linje ({exc})") from None
    return [r for r in rows if split in (None, "all") or r.split == split]


def quote_span(document_text: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` occurs in the document, ignoring differences in whitespace."""
    words = quote.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), document_text)
    return (m.start(), m.end()) if m else None


def covers_quote(answer: Answer, row: Row, top: int = 5) -> bool:
    """True when a passage returned for gold_file covers ≥ half the quote's non-space characters."""
    for hit in answer.hits[:top]:
        if Path(hit.document.file).name != row.gold_file:
            continue
        span = quote_span(hit.document.text, row.gold_quote)
        if span is None:
            return False
        text = hit.document.text
        needed = sum(1 for c in text[span[0]:span[1]] if not c.isspace())
        for p in hit.passages:
            lo, hi = max(p.start, span[0]), min(p.end, span[1])
            if hi > lo and sum(1 for c in text[lo:hi] if not c.isspace()) * 2 >= needed:
                return True
    return False


def run(rows: Iterable[Row], settings: Settings, k: int = 10, filters: Filters | None = None) -> list[Outcome]:
    outcomes = []
    for row in rows:
        started = time.perf_counter()
        answer = ask(row.question, k=k, settings=settings, filters=filters)
        seconds = time.perf_counter() - started
        outcomes.append(_outcome(row, answer, seconds))
    return outcomes


def _outcome(row: Row, answer: Answer, seconds: float) -> Outcome:
    files = [Path(h.document.file).name for h in answer.hits]
    rank = files.index(row.gold_file) + 1 if row.gold_file in files else None
    quote_hit = bool(row.gold_quote) and covers_quote(answer, row)
    top_cosine = max((float(h.similarity) for h in answer.hits), default=0.0)
    return Outcome(row, rank, quote_hit, answer.abstained, seconds, top_cosine, answer.confidence)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Metrics per set and overall."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.row.set, []).append(o)
    report = {name: _metrics(group) for name, group in sorted(groups.items())}
    report["overall"] = _metrics(outcomes)
    return report


def _metrics(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.row.gold_file]
    unanswerable = [o for o in outcomes if not o.row.gold_file]
    quoted = [o for o in answerable if o.row.gold_quote]
    m: dict[str, Any] = {"questions": len(outcomes)}
    if answerable:
        n = len(answerable)
        m["recall@1"] = sum(o.rank == 1 for o in answerable) / n
        m["recall@5"] = sum(o.rank is not None and o.rank <= 5 for o in answerable) / n
        m["mrr@10"] = sum(1 / o.rank for o in answerable if o.rank is not None and o.rank <= 10) / n
        m["false_abstention"] = sum(o.abstained for o in answerable) / n
    if quoted:
        m["quote_hit@5"] = sum(o.quote_hit for o in quoted) / len(quoted)
    if unanswerable:
        m["abstention"] = sum(o.abstained for o in unanswerable) / len(unanswerable)
    times = [o.seconds * 1000 for o in outcomes]
    m["latency_ms_p50"] = _percentile(times, 0.5)
    m["latency_ms_p95"] = _percentile(times, 0.95)
    return m


METRICS = ("questions", "recall@1", "recall@5", "mrr@10", "quote_hit@5", "abstention", "false_abstention",
           "latency_ms_p50", "latency_ms_p95")


def format_table(report: dict[str, Any], metrics: tuple[str, ...] = METRICS) -> str:
    """A Markdown table: one row per set, one column per metric."""
    lines = ["| sæt | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for name, m in report.items():
        cells = []
        for key in metrics:
            v = m.get(key)
            cells.append("–" if v is None else (f"{v:.0f}" if key.startswith(("questions", "latency", "n_"))
                                               else f"{v:.3f}"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The documents' own questions


def self_questions(settings: Settings, kinds: tuple[str, ...] = ("letter", "s20"), limit: int | None = None,
                   k: int = 10) -> dict[str, list[Outcome]]:
    """(i) "answer": each document's printed question asked with its own question passages hidden, gold =
    the document; (ii) "gone": the same with the whole document hidden, where nothing should be quoted
    unless another document was asked the same (a row's gold_file is then "" and abstaining is right).

    Abstention is always computed (the settings' threshold), and the confidence recorded, so a curve of
    abstention against false abstention can be drawn from the outcomes.
    """
    index = open_index(settings.index_dir)
    docs = [d for d in index.documents.values() if d.kind in kinds and d.question and not d.withdrawn
            and any(index.passages[i].kind == "answer" for i in index.rows_by_file[d.file])]
    docs.sort(key=lambda d: d.file)
    if limit:
        docs = docs[:limit]
    out: dict[str, list[Outcome]] = {"answer": [], "gone": []}
    for doc in docs:
        question = " ".join((doc.question or "").split())[:1000]
        row = Row(question, Path(doc.file).name, "", doc.kind, "", doc.file)
        for name, filters in (("answer", Filters(hide_questions_of=frozenset({doc.file}))),
                              ("gone", Filters(exclude_files=frozenset({doc.file})))):
            started = time.perf_counter()
            answer = ask(question, k=k, settings=settings, filters=filters)
            seconds = time.perf_counter() - started
            gold = row if name == "answer" else replace(row, gold_file="", set=f"{doc.kind}-gone")
            out[name].append(_outcome(gold, answer, seconds))
    return out


def abstention_curve(answered: list[Outcome], unanswered: list[Outcome],
                     thresholds: Iterable[float]) -> list[dict[str, float]]:
    """For each confidence threshold: the share of `unanswered` that would be abstained on, and the share
    of `answered` (right document first) that would be wrongly abstained on."""
    def below(o: Outcome, t: float) -> bool:
        return o.confidence is not None and o.confidence < t  # None: no calibrated model, never abstains

    return [{"threshold": t,
             "abstention": sum(below(o, t) for o in unanswered) / max(len(unanswered), 1),
             "false_abstention": sum(below(o, t) for o in answered) / max(len(answered), 1)}
            for t in thresholds]


def no_abstention(settings: Settings) -> Settings:
    """`settings` that never abstain (to measure ranking alone)."""
    return replace(settings, abstention=AbstentionSettings(min_confidence=0.0))
