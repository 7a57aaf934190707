"""Offline Q&A over the Danish Folketing's parliamentary answers.

    from rag import ask
    answer = ask("Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?")
    for hit in answer.hits:
        print(hit.text, hit.citation)

Importing this package is cheap: torch, faiss and gradio load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# torch and faiss each bring an OpenMP runtime; with the default busy-waiting
# their idle threads starve each other on a 2-core laptop (a 15 ms query
# embedding took 500+ ms once faiss had run). Must be set before either loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
__all__ = ["ask", "Answer", "Hit", "Passage", "Document", "Settings", "__version__"]

if TYPE_CHECKING:
    from rag.answer import Settings, ask
    from rag.types import Answer, Document, Hit, Passage


def __getattr__(name: str) -> Any:
    if name in ("ask", "Settings"):
        from rag import answer

        return getattr(answer, name)
    if name in ("Answer", "Hit", "Passage", "Document"):
        from rag import types

        return getattr(types, name)
    raise AttributeError(name)
