"""Offline Q&A over the Danish Folketing's parliamentary answers.

    from rag import ask, timeline
    answer = ask("Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?")
    for hit in answer.hits:
        print(hit.text, hit.citation)
    for hit in timeline("store bededag").hits:  # every answer, oldest first
        print(hit.document.dato, hit.citation)

This is the public surface: the CLI, the web app, `rag eval` and `rag bench` use
only these names, so everything behind them may change. The pipeline reads
records <- ingest <- store <- retrieve <- answer <- shells (cli, web); config,
errors and text sit below everything. Importing this package is cheap: torch,
faiss and gradio load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from rag.version import __version__

# torch and faiss each bring an OpenMP runtime; with the default busy-waiting
# their idle threads starve each other on a 2-core laptop (a 15 ms query
# embedding took 500+ ms once faiss had run). Must be set before either loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = [
    "AbstentionSettings", "Answer", "ChunkSettings", "Document", "Filters", "Hit", "IndexInfo", "IndexSummary",
    "InputError", "ModelSettings", "Passage", "RagError", "SearchSettings", "Section", "Settings", "__version__",
    "ask", "citation", "describe_index", "index_exists", "load_embedder", "open_index", "read_document",
    "answer_csv", "answer_markdown", "quote_for_copy", "record_stages", "timeline", "update_index",
    "FetchError", "FetchSettings", "FetchSummary", "Wanted", "fetch_answers",
]

# name -> module that defines it; imported on first use
_EXPORTS = {
    "ask": "rag.answer", "timeline": "rag.answer", "describe_index": "rag.answer", "IndexInfo": "rag.answer",
    "open_index": "rag.answer", "index_exists": "rag.answer",
    "update_index": "rag.build", "IndexSummary": "rag.build",
    "Settings": "rag.config", "ModelSettings": "rag.config", "ChunkSettings": "rag.config",
    "SearchSettings": "rag.config", "AbstentionSettings": "rag.config",
    "RagError": "rag.errors", "InputError": "rag.errors",
    "Filters": "rag.retrieve",
    "Answer": "rag.records", "Hit": "rag.records", "Section": "rag.records", "Passage": "rag.records",
    "Document": "rag.records",
    "load_embedder": "rag.model.embedder",
    "citation": "rag.cite:cite", "read_document": "rag.ingest.parse",
    "record_stages": "rag.timing",
    "answer_csv": "rag.export", "answer_markdown": "rag.export", "quote_for_copy": "rag.export",
    "fetch_answers": "rag.fetch", "Wanted": "rag.fetch", "FetchSummary": "rag.fetch", "FetchSettings": "rag.config",
    "FetchError": "rag.errors",
}

if TYPE_CHECKING:
    from rag.answer import IndexInfo, ask, describe_index, index_exists, open_index, timeline
    from rag.build import IndexSummary, update_index
    from rag.cite import cite as citation
    from rag.config import AbstentionSettings, ChunkSettings, FetchSettings, ModelSettings, SearchSettings, Settings
    from rag.errors import FetchError, InputError, RagError
    from rag.export import answer_csv, answer_markdown, quote_for_copy
    from rag.fetch import FetchSummary, Wanted, fetch_answers
    from rag.ingest.parse import read_document
    from rag.model.embedder import load_embedder
    from rag.records import Answer, Document, Hit, Passage, Section
    from rag.retrieve import Filters
    from rag.timing import record_stages


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    import importlib

    module, _, attr = module.partition(":")
    value = getattr(importlib.import_module(module), attr or name)
    globals()[name] = value
    return value
