"""Fit the document ranker and the confidence model on the TUNING half of tests/eval/questions.jsonl.

    .venv/bin/python scripts/fit_ranking.py --index /tmp/ix-eval            # fit, print the values
    .venv/bin/python scripts/fit_ranking.py --index /tmp/ix-eval --features fused minister period parts

The index is the evaluation index of tests/eval/README.md. Only rows with split "tune" are read,
plus, for the confidence model, each tuning document's own printed question (asked with its question
passages hidden: answerable; with the whole document hidden: not). Nothing of the test half is used:
the documents its questions are about are left out of the self-questions too.

Ranking: a listwise (softmax) logistic model over rag.rank.FEATURES of the reranked candidates,
scored by 5-fold cross-validation by document; the chosen feature set is then fitted on all of the
tuning half. Confidence: a logistic model over rag.rank.CONFIDENCE_FEATURES, "right document first"
against "nothing answers"; its abstention threshold is the highest that keeps cross-validated false
abstention on answerable tuning questions at or under --max-false-abstention.

Prints the values to paste into rag/config.py (SearchSettings.ranking) and rag/answer.py (CALIBRATIONS).
"""

from __future__ import annotations

import argparse
import pickle
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag import Filters, Settings, open_index
from rag.answer import embedder_for
from rag.evaluate import load_rows
from rag.rank import CONFIDENCE_FEATURES, FEATURES, confidence_features, rerank
from rag.retrieve import find

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions.jsonl"
DEPTH = 30


def collect(index_dir: Path, cache: Path | None, with_self: bool) -> dict:
    """Candidates (fused order, features) for every tuning question and tuning self-question."""
    if cache and cache.exists():
        return pickle.loads(cache.read_bytes())
    index = open_index(index_dir)
    embedder = embedder_for(index, Settings(index_dir=index_dir))
    search = replace(Settings(index_dir=index_dir).search, rerank_depth=DEPTH, ranking=(("fused", 1.0),))
    rows = load_rows(QUESTIONS)
    test_docs = {r.gold_file for r in rows if r.split == "test" and r.gold_file}

    def one(question: str, gold: str, kind: str, filters: Filters | None = None, doc: str = "") -> dict:
        vector = embedder.embed_query(question[:2000])
        found = find(index, vector, question, 10, filters, search)
        c = found.candidates
        named = any(d.by_identifier for d in found.documents)
        return {"question": question, "gold": gold, "kind": kind, "named": named, "doc": doc or gold,
                "files": [Path(f).name for f in c.files] if c else [], "c": c}

    data = [one(r.question, r.gold_file, r.set) for r in rows if r.split == "tune"]
    own = []
    for doc in sorted(index.documents.values(), key=lambda d: d.file) if with_self else ():
        name = Path(doc.file).name
        if doc.kind not in ("letter", "s20") or not doc.question or doc.withdrawn or name in test_docs:
            continue
        if not any(index.passages[i].kind == "answer" for i in index.rows_by_file[doc.file]):
            continue
        question = " ".join(doc.question.split())[:1000]
        own.append(one(question, name, "self", Filters(hide_questions_of=frozenset({doc.file}))))
        own.append(one(question, "", "self-gone", Filters(exclude_files=frozenset({doc.file})), doc=name))
    out = {"tune": data, "self": own}
    if cache:
        cache.write_bytes(pickle.dumps(out))
    return out


# ---------------------------------------------------------------------------
# Ranking


def fit_listwise(rows: list[dict], names: list[str], l2: float = 1e-2, steps: int = 400) -> dict[str, float]:
    """Softmax over each question's candidates, gold first; returns weights in raw feature units."""
    cols = [FEATURES.index(n) for n in names]
    xs = [r["c"].x[:, cols] for r in rows]
    ys = [r["files"].index(r["gold"]) for r in rows]
    stacked = np.vstack(xs)
    mu, sd = stacked.mean(0), stacked.std(0) + 1e-6
    xs = [(x - mu) / sd for x in xs]
    w = np.zeros(len(cols))
    for _ in range(steps):
        grad = l2 * w
        for x, y in zip(xs, ys, strict=False):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += (x.T @ p - x[y]) / len(xs)
        w -= 0.5 * grad
    raw = w / sd
    return {n: float(v) for n, v in zip(names, raw, strict=False)}


def rank_of(row: dict, weights: dict[str, float]) -> int | None:
    if not row["gold"] or row["gold"] not in row["files"]:
        return None
    files, _ = rerank(row["c"], tuple(weights.items()))
    return [Path(f).name for f in files].index(row["gold"]) + 1


def metrics(rows: list[dict], ranks: list[int | None]) -> tuple[float, float, float]:
    answerable = [(r, k) for r, k in zip(rows, ranks, strict=False) if r["gold"]]
    n = max(len(answerable), 1)
    r1 = sum(k == 1 for _, k in answerable) / n
    r5 = sum(k is not None and k <= 5 for _, k in answerable) / n
    mrr = sum(1 / k for _, k in answerable if k is not None and k <= 10) / n
    return round(r1, 3), round(r5, 3), round(mrr, 3)


def folds(rows: list[dict], k: int = 5) -> list[int]:
    """A fold per row, by the document it is about (the same document is in the same fold in every
    list); rows about no document go to a random fold."""
    rng = np.random.default_rng(20261130)
    return [zlib.crc32(r["doc"].encode()) % k if r["doc"] else int(rng.integers(k)) for r in rows]


def cv_ranking(rows: list[dict], names: list[str]) -> tuple[float, float, float]:
    fold = folds(rows)
    ranks: list[int | None] = [None] * len(rows)
    for k in range(5):
        train = [r for r, f in zip(rows, fold, strict=False) if f != k and r["gold"] in r["files"]]
        weights = fit_listwise(train, names)
        for i, (r, f) in enumerate(zip(rows, fold, strict=False)):
            if f == k:
                ranks[i] = rank_of(r, weights)
    return metrics(rows, ranks)


# ---------------------------------------------------------------------------
# Confidence


def confidence_rows(rows: list[dict], weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(features, label, row index): label 1 = right document first, 0 = nothing answers; rows whose
    best document is wrong but something answers, and questions naming a case, are left out."""
    xs, ys, keep = [], [], []
    for i, r in enumerate(rows):
        if r["c"] is None or r["named"]:
            continue
        files, scores = rerank(r["c"], tuple(weights.items()))
        right = bool(r["gold"]) and Path(files[0]).name == r["gold"]
        if r["gold"] and not right:
            continue
        xs.append(confidence_features(r["c"], scores, files))
        ys.append(1.0 if right else 0.0)
        keep.append(i)
    return np.asarray(xs), np.asarray(ys), keep


def fit_logistic(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, l2: float = 0.1,
                 steps: int = 2000) -> tuple[np.ndarray, float]:
    mu, sd = x.mean(0), x.std(0) + 1e-6
    z = (x - mu) / sd
    w, b = np.zeros(x.shape[1]), 0.0
    total = sample_weight.sum()
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * sample_weight
        w -= 0.5 * (z.T @ g / total + l2 * w)
        b -= 0.5 * g.sum() / total
    return w / sd, float(b - (mu / sd) @ w)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=None, help="keep the collected candidates here")
    parser.add_argument("--features", nargs="*", default=None, help="the ranking features (default: compare sets)")
    parser.add_argument("--self-weight", type=float, default=0.0,
                        help="weight of a self-question row in the confidence model (0: not used; they are "
                             "phrased like MPs' questions, and on the tuning half adding them made it worse)")
    parser.add_argument("--max-false-abstention", type=float, default=0.04)
    args = parser.parse_args()
    data = collect(args.index, args.cache, args.self_weight > 0)
    tune = data["tune"]

    print("fused order (no reranking), tuning half:", cv_ranking(tune, ["fused"]))
    sets = [args.features] if args.features else [
        ["fused"], ["fused", "minister", "period"], ["fused", "minister", "period", "parts"],
        ["fused", "minister", "period", "parts", "coverage", "coverage_answer"],
        ["fused", "minister", "period", "parts", "cos_question", "cos_answer", "bm25_answer"],
        list(FEATURES)]
    best = max(sets, key=lambda names: cv_ranking(tune, names))
    for names in sets:
        print(f"ranking CV (R@1, R@5, MRR@10) {'+'.join(names):70s}", cv_ranking(tune, names))
    weights = fit_listwise([r for r in tune if r["gold"] in r["files"]], best)
    print("\nchosen:", best)
    print("SearchSettings.ranking =", tuple((n, round(v, 4)) for n, v in weights.items()))

    # Confidence: cross-validated predictions on the tuning half pick the thresholds.
    x, y, keep = confidence_rows(tune, weights)
    sx, sy, self_keep = confidence_rows(data["self"], weights)
    fold = np.asarray(folds(tune))[keep]
    self_fold = np.asarray(folds(data["self"]), dtype=int)[self_keep] if self_keep else np.zeros(0, dtype=int)
    predicted = np.zeros(len(y))
    for k in range(5):
        train, own = fold != k, self_fold != k
        w, b = fit_logistic(np.vstack([x[train], sx[own]]) if len(sy) else x[train],
                            np.concatenate([y[train], sy[own]]),
                            np.concatenate([np.ones(train.sum()), np.full(own.sum(), args.self_weight)]))
        predicted[~train] = 1 / (1 + np.exp(-(x[~train] @ w + b)))
    positives = np.sort(predicted[y == 1])
    cut = int(np.floor(args.max_false_abstention * len(positives)))
    abstain_below = float(positives[cut]) if cut < len(positives) else 0.5
    negatives = predicted[y == 0]
    print(f"\nconfidence CV on tuning: {len(positives)} right-first, {len(negatives)} unanswerable")
    for t in sorted({abstain_below, 0.3, 0.4, 0.5, 0.6, 0.7}):
        print(f"  threshold {t:.3f}: abstained {np.mean(negatives < t):.3f}, "
              f"false abstention {np.mean(positives < t):.3f}")
    w, b = fit_logistic(np.vstack([x, sx]) if len(sy) else x, np.concatenate([y, sy]) if len(sy) else y,
                        np.concatenate([np.ones(len(y)), np.full(len(sy), args.self_weight)]))
    unsure_below = float(np.quantile(positives, 0.25))
    print("\nCalibration(")
    weights_out = tuple((n, round(float(v), 4)) for n, v in zip(CONFIDENCE_FEATURES, w, strict=True))
    print(f"    weights={weights_out!r},")
    print(f"    bias={b:.4f}, abstain_below={abstain_below:.3f}, unsure_below={max(unsure_below, abstain_below):.3f})")


if __name__ == "__main__":
    main()
