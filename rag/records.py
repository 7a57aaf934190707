"""The small records that flow through the pipeline.

parse -> Document (full source text + fields + sections as character spans)
chunk -> Passage  (a verbatim span of one Document's text)
retrieve/answer -> Hit, Answer

Every passage shown to a user is `document.text[passage.start:passage.end]`,
so quotes are verbatim by construction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

DocumentKind = Literal["letter", "s20", "text"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("letter", "s20", "text")
SectionKind = Literal["question", "answer", "body"]


@dataclass(frozen=True)
class Section:
    """A character span of a document's text with a role.

    A letter has one question and one answer section; a § 20 exchange has
    the printed question and one answer section per minister's turn; a plain
    text document has one body section.
    """

    kind: SectionKind
    start: int
    end: int
    speaker: str | None = None


@dataclass(frozen=True)
class Document:
    """One source file, parsed. `text` is the decoded file content, unchanged."""

    file: str  # path relative to the indexed folder, POSIX style; the document's id
    kind: DocumentKind
    text: str
    title: str
    sections: tuple[Section, ...] = ()
    # Answer letters (ministers' written answers to committee questions)
    sagsnr: str | None = None  # as printed, e.g. "2024 - 7010"
    sagsnr_norm: str | None = None  # e.g. "2024-7010"
    doknr: str | None = None
    dato: date | None = None  # date of the answer letter
    udvalg: str | None = None  # e.g. "Folketingets Socialudvalg"
    udvalg_kode: str | None = None  # the committee's abbreviation, e.g. "SOU"
    asked_date: date | None = None  # date the committee asked the question
    spm_nr: int | None = None  # e.g. 687
    spm_type: str | None = None  # the kind of question: "alm. del", "§ 20", "§ 5", "L", "B", "aktstykke", "KOM"
    sag: str | None = None  # the bill or case it is about: "L 126", "B 49", "Aktstk. 159", "KOM (2016) 0128"
    minister_addressed: str | None = None  # e.g. "social- og boligministeren"
    spoerger: str | None = None  # e.g. "Charlotte Bromann Mølbæk (SF)"
    question: str | None = None
    answer: str | None = None
    signer: str | None = None  # e.g. "Sophie Hæstorp Andersen"
    signer_title: str | None = None  # e.g. "Social- og boligminister"
    signer_acting: bool = False  # signed by an acting minister ("fg.", "konstitueret")
    preliminary: bool = False  # a preliminary answer ("foreløbigt svar"; the real answer follows later)
    bilag: tuple[str, ...] = ()
    # § 20 exchanges (oral questions in the chamber)
    s_nr: str | None = None  # e.g. "S 122"
    samling: str | None = None  # e.g. "20222"
    moede: str | None = None  # sitting id, e.g. "20222M012"
    answering_minister: str | None = None  # e.g. "Miljøministeren (Magnus Heunicke)"
    withdrawn: bool = False
    url: str | None = None
    # What the parser could not make sense of, for the index summary.
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self, include_text: bool = False) -> dict[str, Any]:
        """The document's fields as JSON-ready values (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "text" and not include_text:
                continue
            value = getattr(self, f.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif f.name == "sections":
                value = [dataclasses.asdict(s) for s in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Document:
        """Inverse of `to_dict(include_text=True)`."""
        kwargs = dict(data)
        for name in ("dato", "asked_date"):
            if kwargs.get(name):
                kwargs[name] = date.fromisoformat(kwargs[name])
        kwargs["sections"] = tuple(Section(**s) for s in kwargs.get("sections", ()))
        kwargs["bilag"] = tuple(kwargs.get("bilag", ()))
        kwargs["notes"] = tuple(kwargs.get("notes", ()))
        return Document(**kwargs)


@dataclass(frozen=True)
class Passage:
    """A verbatim span of a document: `document.text[start:end] == text`."""

    file: str
    kind: SectionKind
    section: int  # index into the document's sections
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """One retrieved document with its best passage(s), best first.

    `evidence` holds (start, end) spans *relative to the best passage's text*
    marking the sentence(s) that best answer the question.
    """

    document: Document
    passages: tuple[Passage, ...]
    scores: tuple[float, ...]
    citation: str
    evidence: tuple[tuple[int, int], ...] = ()
    similarity: float = 0.0  # cosine between the question and the best passage
    confidence: float | None = None  # in a timeline: how sure this document answers (see Answer.confidence)

    @property
    def passage(self) -> Passage:
        return self.passages[0]

    @property
    def score(self) -> float:
        return self.scores[0]

    @property
    def text(self) -> str:
        return self.passages[0].text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by `rag ask --json` and the web API."""
        best = self.passages[0]
        return {
            "file": self.document.file,
            "text": best.text,
            "start": best.start,
            "end": best.end,
            "score": round(self.score, 6),
            "similarity": round(self.similarity, 6),
            "citation": self.citation,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "evidence": [list(span) for span in self.evidence],
            "passages": [
                {"text": p.text, "start": p.start, "end": p.end, "kind": p.kind, "score": round(s, 6)}
                for p, s in zip(self.passages, self.scores, strict=True)
            ],
            "document": self.document.to_dict(),
        }


@dataclass(frozen=True)
class Answer:
    """What `ask()` and `timeline()` return: the hits (best first, or oldest first), or an explicit abstention."""

    question: str
    hits: tuple[Hit, ...]
    abstained: bool = False
    message: str | None = None  # Danish text for the user: nothing to quote, or unsure of the quotes
    # how sure ask() is that the best document answers, 0..1 (what abstention decides on);
    # None when the index's model has no calibrated confidence model
    confidence: float | None = None
    unsure: bool = False  # the hits are shown as "Måske relevant": relevant, perhaps, but not surely
    order: Literal["relevance", "date"] = "relevance"  # "date": a timeline, oldest first

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "abstained": self.abstained, "message": self.message,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "unsure": self.unsure, "order": self.order, "hits": [h.to_dict() for h in self.hits]}
