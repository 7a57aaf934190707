"""Scale benchmark: the dense index `rag.dense.choose_dense_index` picks, on synthetic vectors.

For each corpus size (a prefix of the synthetic vectors from `bench.synth`):
exact top-10 by brute force (the ground truth), then the chosen index is
built with `rag.dense.build_dense_index`, exactly as `rag index` would, and
measured: build time, memory (resident growth while building, and the
index's own size), size on disk, single-query latency p50/p95 with 1 and 2
FAISS threads, recall@10 against exact, a sweep over nprobe, and a filtered
search (10 % of passages allowed, through `rag.dense.dense_search_params`).
The exact (flat) index's single-query latency is measured for comparison.

    python -m bench.synth --from-index /tmp/ix --n 1000000 --out /tmp/synth1m
    python -m bench.scale --data /tmp/synth1m --sizes 100000,1000000 --json /tmp/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def rss_mb() -> float:
    """Current resident memory of this process, MB (Linux)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError):
        return 0.0


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int = 10, allowed: np.ndarray | None = None,
               chunk: int = 100_000) -> np.ndarray:
    """Exact top-k rows by inner product (the ground truth), scanning `vectors` in chunks."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(queries), k), -1, dtype=np.int64)
    for a in range(0, len(vectors), chunk):
        s = queries @ np.asarray(vectors[a:a + chunk]).T
        if allowed is not None:
            s[:, ~allowed[a:a + chunk]] = -np.inf
        ids = np.broadcast_to(np.arange(a, a + s.shape[1]), s.shape)
        all_s = np.concatenate([best_s, s], axis=1)
        all_i = np.concatenate([best_i, ids], axis=1)
        top = np.argpartition(-all_s, k, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, top, axis=1)
        best_i = np.take_along_axis(all_i, top, axis=1)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_i, order, axis=1)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def latencies(index: Any, queries: np.ndarray, k: int = 10, params: Any = None) -> tuple[list[float], np.ndarray]:
    """Per-query wall times (ms), one query at a time, and the results."""
    times = []
    out = np.empty((len(queries), k), dtype=np.int64)
    for i in range(len(queries)):
        t = time.perf_counter()
        _, rows = index.search(queries[i:i + 1], k, params=params)
        times.append((time.perf_counter() - t) * 1000)
        out[i] = rows[0]
    return times, out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def measure(vectors: np.ndarray, queries: np.ndarray, fractions: list[float],
            flat_queries: int = 100) -> dict[str, Any]:
    import faiss

    from rag.dense import build_dense_index, choose_dense_index, dense_search_params, tune_for_queries

    n, dim = vectors.shape
    res: dict[str, Any] = {"n": n, "dim": dim, "queries": len(queries)}
    t = time.perf_counter()
    truth = exact_topk(vectors, queries)
    res["exact_ground_truth_seconds"] = round(time.perf_counter() - t, 1)

    # the exact index for comparison (float32 copy of every vector)
    faiss.omp_set_num_threads(1)
    flat = faiss.IndexFlatIP(dim)
    for a in range(0, n, 100_000):
        flat.add(np.ascontiguousarray(vectors[a:a + 100_000]))
    ft, _ = latencies(flat, queries[:flat_queries])
    res["flat"] = {"p50_ms": pct(ft, 0.5), "p95_ms": pct(ft, 0.95), "memory_mb": n * dim * 4 / 1e6}
    del flat

    choice = choose_dense_index(n, dim)
    res["choice"] = {"factory": choice.factory, "nprobe": choice.nprobe}
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    before = rss_mb()
    t = time.perf_counter()
    index = build_dense_index(np.asarray(vectors), choice)
    res["build_seconds"] = round(time.perf_counter() - t, 1)
    res["rss_growth_mb"] = round(rss_mb() - before, 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dense.faiss"
        faiss.write_index(index, str(path))
        res["disk_mb"] = round(path.stat().st_size / 1e6, 1)
        t = time.perf_counter()
        index = tune_for_queries(faiss.read_index(str(path)))  # as rag.store.load_generation does
        res["load_seconds"] = round(time.perf_counter() - t, 2)

    for threads in (1, os.cpu_count() or 1):
        faiss.omp_set_num_threads(threads)
        times, found = latencies(index, queries)
        res[f"threads_{threads}"] = {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
                                     "mean_ms": statistics.fmean(times), "recall@10": recall_at(found, truth)}
    faiss.omp_set_num_threads(1)
    if not choice.exact:
        ivf = faiss.extract_index_ivf(index)
        sweep = []
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        for nprobe in sorted({max(1, round(f * ivf.nlist)) for f in fractions}):
            ivf.nprobe = nprobe
            times, found = latencies(index, queries)
            sweep.append({"nprobe": nprobe, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
                          "recall@10": recall_at(found, truth)})
        ivf.nprobe = choice.nprobe
        res["nprobe_sweep"] = sweep
        faiss.omp_set_num_threads(1)
    # a filter that keeps 10 % of the passages, through the same parameters retrieve.py uses
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(1)
    allowed = rng.random(n) < 0.10
    ids = np.flatnonzero(allowed).astype(np.int64)
    params = dense_search_params(index, faiss.IDSelectorBatch(ids))
    fq = queries[:200]
    ftruth = exact_topk(vectors, fq, allowed=allowed)
    times, found = latencies(index, fq, params=params)
    res["filtered_10pct"] = {"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95),
                             "recall@10": recall_at(found, ftruth),
                             "only_allowed": bool(np.all(allowed[found[found >= 0]]))}
    return res


def format_markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| passages | index | build s | memory (RSS growth) | disk | p50 / p95 ms, 1 thread | "
             "p50 / p95 ms, 2 threads | recall@10 | exact flat p50 / p95 ms (1 thread) | "
             "filtered 10 %: recall, p95 ms |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        t1, t2, f, fl = r["threads_1"], r.get("threads_2", r["threads_1"]), r["flat"], r["filtered_10pct"]
        lines.append(
            f"| {r['n']:,} | `{r['choice']['factory']}`, nprobe {r['choice']['nprobe']} | {r['build_seconds']} | "
            f"{r['rss_growth_mb']:.0f} MB | {r['disk_mb']:.0f} MB | {t1['p50_ms']:.2f} / {t1['p95_ms']:.2f} | "
            f"{t2['p50_ms']:.2f} / {t2['p95_ms']:.2f} | {t1['recall@10']:.3f} | "
            f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} | {fl['recall@10']:.3f}, {fl['p95_ms']:.2f} |")
    for r in results:
        if r.get("nprobe_sweep"):
            lines += ["", f"nprobe sweep at {r['n']:,} passages ({r['choice']['factory']}, 2 threads):", "",
                      "| nprobe | recall@10 | p50 ms | p95 ms |", "|---|---|---|---|"]
            lines += [f"| {s['nprobe']} | {s['recall@10']:.3f} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} |"
                      for s in r["nprobe_sweep"]]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder written by bench.synth")
    ap.add_argument("--sizes", default="1000000", help="comma-separated corpus sizes (prefixes of the data)")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--fractions", default="0.0625,0.125,0.25,0.333,0.5",
                    help="nprobe values to sweep, as fractions of the number of lists")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    vectors = np.load(args.data / "vectors.npy", mmap_mode="r")
    queries = np.load(args.data / "queries.npy")[: args.queries]
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"n = {size:,} ...", file=sys.stderr, flush=True)
        results.append(measure(vectors[:size], queries, [float(x) for x in args.fractions.split(",")]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(format_markdown(results))


if __name__ == "__main__":
    main()
