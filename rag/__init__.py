"""Offline Q&A over the Danish Folketing's parliamentary answers.

    from rag import ask
    answer = ask("Hvad har ministeren sagt om kvalitetsrammen i Børnene Først?")
    for hit in answer.hits:
        print(hit.text, hit.citation)

Importing this package is cheap: torch, faiss and gradio load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
