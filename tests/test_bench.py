"""The benchmark harness (`rag bench`) and the size-dependent dense index.

Timing figures themselves come from the harness, not from tests; these tests
check that the harness measures what it says and that an approximate (IVF)
index answers like the exact one, filters included.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, build

from rag import bench


def test_percentile_and_summary() -> None:
    values = [float(v) for v in range(1, 101)]
    assert bench.percentile(values, 0.5) == 51.0  # nearest rank on 0..99
    assert bench.percentile(values, 0.95) == 95.0
    assert bench.percentile([], 0.5) == 0.0
    s = bench.summary([2.0, 4.0])
    assert s["mean"] == 3.0 and s["max"] == 4.0


def test_stages_count_nested_calls_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import record_stages, timing

    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    with timing.stage("outside"):  # no recorder: nothing is kept
        clock[0] += 5.0
    with record_stages() as times:
        with timing.stage("fusion"):
            clock[0] += 1.0
            with timing.stage("dense"):
                clock[0] += 2.0
            clock[0] += 3.0
        with timing.stage("dense"):
            clock[0] += 0.5
    assert times == {"dense": 2.5, "fusion": 4.0}  # exclusive times add up to the 6.5 s total


def test_index_size_and_machine(hashing_index: Path) -> None:
    size = bench.index_size(hashing_index)
    assert size["total"] == sum(size["files"].values()) > 0
    assert {"dense.faiss", "vectors.npy", "lexical", "manifest.json"} <= set(size["files"])
    info = bench.machine()
    assert info["cores"] >= 1 and "numpy" in info["versions"]


def test_bench_end_to_end_with_the_hashing_model(tmp_path: Path) -> None:
    """Every part runs in its own process and reports; the report renders."""
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps({"question": q}) for q in
                                   ("plejefamilier", "spm. nr. 687", "Hvad koster reformen?")), encoding="utf-8")
    index_dir = tmp_path / "index"
    report = bench.run_bench([CORPUS], index_dir, model="hashing", questions=questions, rounds=1, warmup=1,
                             cold_runs=1)
    r = report["indexing"]
    assert r["passages"] > 0 and r["embedded"] == r["passages"] and r["tokens"] > r["passages"]
    assert 0 < r["embed_seconds"] <= r["build_seconds"] <= r["total_seconds"]
    assert r["peak_rss_mb"] > 10
    s = report["serving"]
    assert s["questions"] == 3 and not s["unmeasured_stages"] and not s["torch_imported"]
    lat = s["latency_ms"]
    assert lat["total"]["p50"] > 0 and lat["embed"]["p50"] >= 0
    assert report["cold_start"]["first_answer_seconds"]["p50"] > 0
    assert report["disk"]["total"] > 0
    text = bench.format_report(report)
    assert "ask() i alt" in text and "Koldstart" in text and "Indeksering" in text
    # a second run on the same folder measures indexing in a temporary folder and keeps this index
    generation = (index_dir / "CURRENT").read_text()
    again = bench.run_bench([CORPUS], index_dir, model="hashing", questions=questions, rounds=1, warmup=0,
                            cold_runs=1)
    assert again["indexing"]["passages"] == r["passages"]
    assert (index_dir / "CURRENT").read_text() == generation


def test_cli_bench_needs_paths_or_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    assert main(["bench", "--index", str(tmp_path / "none")]) == 2
    assert "--skip-indexing" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The dense index chosen by size


def test_choose_dense_index_by_size() -> None:
    from rag.dense import FLAT_LIMIT, choose_dense_index

    assert choose_dense_index(10, 384).exact
    assert choose_dense_index(FLAT_LIMIT - 1, 384).factory == "Flat"
    big = choose_dense_index(1_000_000, 384)
    assert big.factory == "IVF4096,SQfp16" and big.nprobe == 1365
    mid = choose_dense_index(FLAT_LIMIT, 384)
    nlist = int(mid.factory[3:].split(",")[0])
    assert FLAT_LIMIT // nlist >= 39 and mid.nprobe >= 16


def test_ivf_index_searches_like_exact_with_and_without_filters(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Force an IVF index on a small real index: search, filters and reload all keep working."""
    import faiss

    from rag import Settings, ask
    from rag import dense as dense_mod
    from rag.dense import DenseChoice
    from rag.retrieve import Filters, _allowed_mask, _dense_scores
    from rag.store import load_generation

    monkeypatch.setattr(dense_mod, "choose_dense_index", lambda n, dim: DenseChoice("IVF4,SQfp16", nprobe=4))
    index_dir = tmp_path / "ivf"
    build([CORPUS], index_dir)
    index = load_generation(index_dir)
    assert index is not None and faiss.try_extract_index_ivf(index.dense) is not None
    q = index.vectors[3].copy()
    found = _dense_scores(index, q, None, 10)
    exact = np.argsort(-(np.asarray(index.vectors) @ q))[:10]
    assert set(found) == {int(i) for i in exact}  # nprobe = nlist: every list scanned
    filters = Filters(kind="letter")
    allowed = _allowed_mask(index, filters)
    assert allowed is not None
    for limit in (0, 10**9):  # through faiss' selector, and through the exact subset path
        monkeypatch.setattr("rag.retrieve.EXACT_FILTERED", limit)
        got = _dense_scores(index, q, allowed, 5)
        assert got and all(allowed[i] for i in got)
        ids = np.flatnonzero(allowed)
        best = ids[np.argsort(-(np.asarray(index.vectors)[ids] @ q))[:5]]
        assert set(got) == {int(i) for i in best}
    answer = ask("plejefamilier", settings=Settings(index_dir=index_dir), filters=filters)
    assert all(h.document.kind == "letter" for h in answer.hits)


def test_synthetic_vectors_resemble_the_real_ones(hashing_index: Path, tmp_path: Path) -> None:
    from bench.scale import exact_topk, recall_at
    from bench.synth import generate, real_statistics

    stats = real_statistics(hashing_index)
    meta = generate(stats, 500, tmp_path / "synth", queries=20, with_texts=True)
    vectors = np.load(tmp_path / "synth" / "vectors.npy")
    assert vectors.shape == (500, stats["mean"].shape[0]) and meta["n"] == 500
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    texts = [json.loads(line) for line in (tmp_path / "synth" / "texts.jsonl").open(encoding="utf-8")]
    assert len(texts) == 500 and all(t.split() for t in texts)
    queries = np.load(tmp_path / "synth" / "queries.npy")
    truth = exact_topk(vectors, queries, k=10, chunk=64)
    brute = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    assert recall_at(truth, brute) == 1.0
