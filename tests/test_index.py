from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, build

from rag import ModelSettings, Settings, ask
from rag import RagError as AskError
from rag.errors import IndexProblem
from rag.store import CURRENT, load_generation


def _hits(index_dir: Path, question: str, k: int = 5) -> list[tuple[str, int, int]]:
    answer = ask(question, k=k, settings=Settings(index_dir=index_dir))
    return [(h.document.file, h.passage.start, h.passage.end) for h in answer.hits]


def test_index_holds_every_seed_with_verbatim_passages(hashing_index: Path) -> None:
    index = load_generation(hashing_index)
    assert index is not None
    assert sorted(index.documents) == sorted(p.name for p in CORPUS.glob("*.txt"))
    for p in index.passages:
        assert index.documents[p.file].text[p.start:p.end] == p.text
    kinds = {p.kind for p in index.passages}
    assert kinds == {"question", "answer"}, f"letters should yield question and answer passages, got {kinds}"
    manifest = index.manifest
    assert manifest["model"]["id"] == "hashing-256" and manifest["format_version"] == 1
    assert set(manifest["documents"]) == set(index.documents)
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())


def test_faiss_top_k_equals_numpy_brute_force(hashing_index: Path) -> None:
    from rag.model.hashing import HashingEmbedder

    index = load_generation(hashing_index)
    assert index is not None
    q = HashingEmbedder().embed_query("puljen til kommuner med mange børnesager")
    scores, rows = index.dense.search(q.reshape(1, -1), 10)
    brute = index.vectors @ q
    expected = np.argsort(-brute, kind="stable")[:10]
    assert np.allclose(scores[0], brute[expected], atol=1e-5)
    assert set(rows[0]) == set(expected) or np.allclose(np.sort(brute[rows[0]]), np.sort(brute[expected]))


def test_save_load_same_hits(hashing_index: Path, tmp_path: Path) -> None:
    before = _hits(hashing_index, "kvalitetsramme opholdssteder")
    copy = tmp_path / "copy"
    shutil.copytree(hashing_index, copy)
    assert _hits(copy, "kvalitetsramme opholdssteder") == before
    assert before, "expected hits"


def test_incremental_update_embeds_only_changes(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build([corpus_copy], index_dir)
    assert first.embedded == first.passages > 0
    again = build([corpus_copy], index_dir)
    assert again.embedded == 0 and again.reused == first.passages

    (corpus_copy / "003_1910b02496250044.txt").unlink()
    changed = corpus_copy / "004_7ee536a8ed030cbd.txt"
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("Med venlig hilsen", "Et nyt afsnit om handicapområdet.\n\nMed venlig hilsen"),
                       encoding="utf-8")
    (corpus_copy / "new.md").write_text("Et helt nyt notat om plejefamilier og kvalitet.", encoding="utf-8")
    update = build([corpus_copy], index_dir)
    assert update.removed == ["003_1910b02496250044.txt"]
    assert 0 < update.embedded <= 3, f"only the changed and new passages should be embedded: {update}"
    index = load_generation(index_dir)
    assert index is not None
    assert "003_1910b02496250044.txt" not in index.documents and "new.md" in index.documents
    assert index.documents["new.md"].kind == "text"
    assert any("nyt afsnit om handicapområdet" in p.text for p in index.passages)
    assert len(index.vectors) == len(index.passages)
    # Only the current generation is left on disk.
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [index.generation]


def test_model_mismatch_is_refused(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    with pytest.raises(AskError, match="bygget med modellen 'hashing-256'.*rag index"):
        ask("kvalitetsramme", settings=Settings(index_dir=index_dir, model=ModelSettings(name="bundled")))


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    gen = index_dir / (index_dir / CURRENT).read_text().strip()
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format_version"] = 99
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match="formatversion 99.*rag index"):
        load_generation(index_dir)


def test_truncated_vectors_are_detected(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build([CORPUS], index_dir)
    gen = index_dir / (index_dir / CURRENT).read_text().strip()
    vectors = gen / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-100])
    with pytest.raises(IndexProblem, match="beskadiget.*rag index"):
        load_generation(index_dir)


def test_missing_index_and_bad_questions_give_clear_errors(hashing_index: Path, tmp_path: Path) -> None:
    with pytest.raises(AskError, match="intet indeks.*rag index"):
        ask("hej", settings=Settings(index_dir=tmp_path / "nowhere"))
    for question in ("", "   \n"):
        with pytest.raises(AskError, match="tomt"):
            ask(question, settings=Settings(index_dir=hashing_index))
    with pytest.raises(AskError, match="mindst 1"):
        ask("kvalitet", k=0, settings=Settings(index_dir=hashing_index))


def test_empty_folder_gives_empty_index_and_no_hits(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    summary = build([tmp_path / "docs"], tmp_path / "index")
    assert summary.documents == 0
    answer = ask("noget", settings=Settings(index_dir=tmp_path / "index"))
    assert answer.hits == () and answer.abstained


def test_new_chunk_settings_rechunk_but_reuse_identical_passages(tmp_path: Path) -> None:
    from rag.build import build_index
    from rag.config import ChunkSettings
    from rag.model.embedder import load_embedder

    embedder = load_embedder("hashing")
    index_dir = tmp_path / "index"
    first = build_index([CORPUS], index_dir, embedder, "hashing", ChunkSettings(target_tokens=60, max_tokens=116),
                        progress=False)
    second = build_index([CORPUS], index_dir, embedder, "hashing",
                         ChunkSettings(target_tokens=61, max_tokens=116), progress=False)
    assert second.passages == first.passages
    # Paragraphs pack the same way unless a pack lands between 60 and 61 tokens.
    assert second.reused > 0.8 * second.passages
    index = load_generation(index_dir)
    assert index is not None and index.manifest["chunker"]["target_tokens"] == 61


def test_sidecar_manifest_supplies_date_minister_and_url(corpus_copy: Path, tmp_path: Path) -> None:
    (corpus_copy / "manifest.csv").write_text(
        "file,dato,minister,url\n"
        "001_221ceb91d594fab5.txt,2025-01-07,social- og boligministeren,https://www.ft.dk/samling/20241/spm238\n",
        encoding="utf-8")
    build([corpus_copy], tmp_path / "index")
    answer = ask("spm. nr. 238", settings=Settings(index_dir=tmp_path / "index"))
    doc = answer.hits[0].document
    assert (doc.dato.isoformat() if doc.dato else None, doc.url) == ("2025-01-07",
                                                                     "https://www.ft.dk/samling/20241/spm238")
    assert answer.hits[0].citation == "SOU alm. del spm. 238 · 07-01-2025 · Social- og boligministeren"
