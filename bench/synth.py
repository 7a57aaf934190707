"""A synthetic corpus for scale benchmarks: passages that look like ours, by the million.

Texts: words drawn from the real corpus's vocabulary with its word frequencies,
passage lengths drawn from the real passage-length distribution (so BM25 and
storage see Danish-like text of realistic length). Vectors: clustered random
vectors fitted to the real embeddings: the mean and covariance of the real
index's vectors (e5 vectors are anisotropic: unrelated passages still have
cosine ~0.85), split into a per-cluster part and a per-passage part, so
passages of one "topic" are near each other as in real data. Queries are new
points drawn the same way (a cluster's centre plus fresh noise).

    python -m bench.synth --from-index /tmp/ix --n 1000000 --out /tmp/synth1m [--texts]

writes vectors.npy (n x 384 float32, L2-normalised), queries.npy, meta.json
and, with --texts, texts.jsonl. For benchmarks only; nothing in `rag/` uses it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def real_statistics(index_dir: Path) -> dict[str, Any]:
    """Mean, covariance, vocabulary and passage lengths (in words) of a real index."""
    from rag.store import load_generation

    index = load_generation(Path(index_dir))
    if index is None:
        raise SystemExit(f"intet indeks i {index_dir}")
    vectors = np.asarray(index.vectors, dtype=np.float64)
    words: Counter[str] = Counter()
    lengths = []
    for p in index.passages:
        tokens = p.text.split()
        words.update(tokens)
        lengths.append(len(tokens))
    return {"mean": vectors.mean(axis=0), "cov": np.cov(vectors.T), "words": words,
            "lengths": np.asarray(lengths), "n_real": len(vectors)}


class ClusteredVectors:
    """v = normalise(mean + S (sqrt(share) c_k + sqrt(1 - share) e)), S S^T = real covariance,
    c_k a cluster's latent point, e per-passage noise (both standard normal)."""

    def __init__(self, mean: np.ndarray, cov: np.ndarray, clusters: int, share: float = 0.5,
                 seed: int = 0) -> None:
        w, u = np.linalg.eigh(cov)
        self.root = (u * np.sqrt(np.clip(w, 0, None))).astype(np.float32)  # S, with S S^T = cov
        self.mean = mean.astype(np.float32)
        self.dim = len(mean)
        self.rng = np.random.default_rng(seed)
        self.share = share
        # Zipf-like cluster sizes: some topics are asked about far more than others
        self.centres = self.rng.standard_normal((clusters, self.dim)).astype(np.float32)
        weights = 1.0 / np.arange(1, clusters + 1) ** 0.5
        self.p = weights / weights.sum()

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(n vectors, their cluster ids)."""
        k = self.rng.choice(len(self.centres), size=n, p=self.p)
        z = np.sqrt(self.share) * self.centres[k] + np.sqrt(1 - self.share) * self.rng.standard_normal(
            (n, self.dim), dtype=np.float32)
        v = self.mean + z @ self.root.T
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v.astype(np.float32), k


def texts(n: int, words: Counter[str], lengths: np.ndarray, seed: int = 0) -> Iterator[str]:
    """n passages of real-corpus words at real-corpus lengths."""
    rng = np.random.default_rng(seed)
    vocab = np.array(list(words))
    freq = np.array([words[w] for w in vocab], dtype=np.float64)
    freq /= freq.sum()
    batch = 10_000
    for a in range(0, n, batch):
        m = min(batch, n - a)
        sizes = rng.choice(lengths, size=m)
        flat = rng.choice(len(vocab), size=int(sizes.sum()), p=freq)
        pos = 0
        for s in sizes:
            yield " ".join(vocab[flat[pos:pos + s]])
            pos += s


def generate(stats: dict[str, Any], n: int, out: Path, queries: int = 1000, with_texts: bool = False,
             seed: int = 0, per_cluster: int = 7) -> dict[str, Any]:
    """Write the synthetic corpus to `out`. Clusters of ~`per_cluster` passages (a document's worth:
    our real index has 7.3 passages a document) reproduce the real index's neighbour
    statistics: mean pairwise cosine 0.856 vs 0.854, median nearest-neighbour cosine 0.938 vs
    0.929, median 10th-neighbour cosine 0.902 vs 0.907 (at the real index's size)."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    clusters = max(16, n // per_cluster)
    gen = ClusteredVectors(stats["mean"], stats["cov"], clusters, seed=seed)
    dim = len(stats["mean"])
    vectors = np.lib.format.open_memmap(out / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, dim))
    step = 50_000
    for a in range(0, n, step):
        vectors[a:a + step], _ = gen.sample(min(step, n - a))
    vectors.flush()
    del vectors
    q, _ = gen.sample(queries)
    np.save(out / "queries.npy", q)
    if with_texts:
        with (out / "texts.jsonl").open("w", encoding="utf-8") as f:
            for t in texts(n, stats["words"], stats["lengths"], seed):
                f.write(json.dumps(t, ensure_ascii=False) + "\n")
    meta = {"n": n, "dim": dim, "clusters": clusters, "cluster_share": gen.share, "queries": queries,
            "seed": seed, "texts": with_texts, "fitted_on_real_vectors": stats["n_real"],
            "median_words": float(np.median(stats["lengths"])), "vocabulary": len(stats["words"]),
            "seconds": round(time.perf_counter() - started, 1)}
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-index", type=Path, required=True, help="a real index to fit vectors and words to")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--texts", action="store_true", help="also write texts.jsonl (about 1 KB a passage)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    meta = generate(real_statistics(args.from_index), args.n, args.out, args.queries, args.texts, args.seed)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
