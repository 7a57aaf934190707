from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
S20_DIR = SHARED / "corpora" / "folketinget-s20-2023"


def build(paths: list[Path], index_dir: Path, model: str = "hashing"):  # type: ignore[no-untyped-def]
    from rag.build import build_index
    from rag.model.embedder import load_embedder

    return build_index(paths, index_dir, load_embedder(model), model, progress=False)


@pytest.fixture(scope="session")
def hashing_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """corpus/ indexed with the deterministic hashing embedder (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("hashing") / "index"
    build([CORPUS], index_dir)
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ for tests that add, change or delete files."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """corpus/ indexed with the real bundled multilingual model."""
    index_dir = tmp_path_factory.mktemp("real") / "index"
    build([CORPUS], index_dir, model="bundled")
    return index_dir


@pytest.fixture(scope="session")
def s20_dir() -> Path:
    if not S20_DIR.is_dir():
        pytest.skip(f"the shared § 20 corpus is not beside the repo ({S20_DIR})")
    return S20_DIR


@pytest.fixture(scope="session")
def real_s20_index(tmp_path_factory: pytest.TempPathFactory, s20_dir: Path) -> Path:
    """corpus/ and the 375 § 20 exchanges (~2,800 passages) indexed with the real bundled model."""
    index_dir = tmp_path_factory.mktemp("real-s20") / "index"
    build([CORPUS, s20_dir], index_dir, model="bundled")
    return index_dir
