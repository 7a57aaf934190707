"""200 questions from 20 concurrent gradio_client users against the running app: zero errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from load_test import dev_questions, free_port, run_load  # noqa: E402


@pytest.mark.slow
def test_two_hundred_questions_from_twenty_clients_without_errors(hashing_index: Path) -> None:
    from rag import Settings
    from rag.web.access import Access
    from rag.web.app import build_app
    from rag.web.serve import launch

    demo = build_app(Settings(index_dir=hashing_index))
    url = launch(demo, Access("127.0.0.1"), free_port(), block=False)
    try:
        result = run_load(url, dev_questions(), total=200, clients=20)
    finally:
        demo.close(verbose=False)
    assert result.errors == [], result.errors[:3]
    assert len(result.latencies) == 200
