"""The FAISS (vector) index, chosen by corpus size: exact below FLAT_LIMIT passages, IVF above.

Cosine similarity = inner product of L2-normalised vectors: every index here uses
METRIC_INNER_PRODUCT on the normalised passage vectors the indexer stores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FLAT_LIMIT = 50_000  # below this, exact search takes a few ms; above, IVF (see BENCHMARKS.md, "Scale")


@dataclass(frozen=True)
class DenseChoice:
    """A FAISS index layout for a corpus size (inner product on L2-normalised vectors = cosine)."""

    factory: str  # faiss.index_factory string
    nprobe: int = 0  # IVF lists scanned per query (0: not IVF)

    @property
    def exact(self) -> bool:
        return self.factory == "Flat"


def choose_dense_index(n: int, dim: int) -> DenseChoice:
    """The index type for `n` vectors of `dim` dimensions.

    - fewer than FLAT_LIMIT: `Flat`, exact search (50,000 x 384 floats: ~5 ms a query).
    - more: `IVF<nlist>,SQfp16`: vectors stored as float16 (half the memory, no measurable
      loss of recall), grouped into nlist ~ 4 sqrt(n) clusters (a power of two) by spherical
      k-means; a query scans the nprobe = nlist / 3 nearest clusters. e5 vectors have a high
      intrinsic dimension (and questions sit apart from passages), so a third of the lists is
      what recall@10 >= 0.95 takes: on a million synthetic vectors fitted to ours, recall@10
      0.97 at p95 17 ms on 2 cores, vs 111 ms exact (BENCHMARKS.md, "Scale"). HNSW needed
      efSearch > 1000 for the same recall, and 6 minutes to build instead of 42 s.
    """
    if n < FLAT_LIMIT:
        return DenseChoice("Flat")
    nlist = 1 << max(8, min(16, round(math.log2(4 * math.sqrt(n)))))
    nlist = min(nlist, 1 << int(math.log2(max(n // 39, 256))))  # k-means wants >= 39 points a cluster
    return DenseChoice(f"IVF{nlist},SQfp16", nprobe=max(16, nlist // 3))


def tune_for_queries(dense: Any) -> Any:
    """Settings FAISS does not save: an IVF index splits one query's lists over the threads."""
    import faiss

    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is not None:
        ivf.parallel_mode = 1  # parallel over the probed lists, not over queries (we ask one at a time)
    return dense


def build_dense_index(vectors: np.ndarray, choice: DenseChoice | None = None) -> Any:
    """A trained FAISS index holding `vectors` (rows = passages), per `choose_dense_index`."""
    import faiss

    n, dim = vectors.shape
    choice = choice or choose_dense_index(n, dim)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dense: Any
    if choice.exact:
        dense = faiss.IndexFlatIP(dim)
    else:
        dense = faiss.index_factory(dim, choice.factory, faiss.METRIC_INNER_PRODUCT)
        ivf = faiss.extract_index_ivf(dense)
        ivf.cp.spherical = True  # centroids on the unit sphere, like the vectors
        ivf.cp.max_points_per_centroid = 64  # a 256k-vector sample trains 4096 lists in ~1 min
        ivf.nprobe = choice.nprobe  # saved with the index
        dense.train(vectors)
    for a in range(0, n, 100_000):
        dense.add(vectors[a:a + 100_000])
    return tune_for_queries(dense)


def dense_search_params(dense: Any, selector: Any) -> Any:
    """faiss search parameters restricting `dense` to `selector`, keeping the index's own
    nprobe/efSearch (IVF and HNSW indexes reject the generic SearchParameters)."""
    import faiss as faiss_module

    faiss: Any = faiss_module  # the stubs lack the keyword constructors

    ivf = faiss.try_extract_index_ivf(dense)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
    if hasattr(dense, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=dense.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)
