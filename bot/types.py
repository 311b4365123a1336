"""The data passed between modules. The CLI's ``--json``, the Gradio API and ``qabot eval`` all serialise
the same :class:`Answer`, so a field added here shows up everywhere at once."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One cleaned article. ``text`` is the cleaned original (what quotes are cut from)."""

    source: str  # file name, e.g. "000_56f6738d973ede18.txt"
    title: str
    text: str
    sha256: str  # of the raw file bytes: a changed file gets new chunks


@dataclass(frozen=True)
class Chunk:
    """A span of a :class:`Document`: ``text == document.text[start:end]``."""

    id: str
    source: str
    title: str
    text: str
    start: int
    end: int


@dataclass
class Hit:
    """A retrieved chunk with its fused score and the per-retriever evidence behind it."""

    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None  # cosine similarity, if the dense side found it
    lexical: float | None = None  # BM25 score, if the keyword side found it


@dataclass
class Citation:
    """What an ``[n]`` marker in an answer points at: a verbatim quote of the cleaned source."""

    n: int
    source: str
    title: str
    quote: str
    score: float
    start: int  # offsets of the quote in the cleaned document text
    end: int


@dataclass
class Answer:
    question: str
    text: str
    refused: bool
    provider: str
    rewritten: str | None = None  # the standalone question actually retrieved for (follow-ups)
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str | None = None  # e.g. the LLM was unavailable and the extractive answer stands in
    gate: dict[str, Any] | None = None  # the relevance gate's decision (bot.gate.Decision.to_dict): why
    parts: list[dict[str, Any]] = field(default_factory=list)  # a multi-part question: each part's outcome
    emphasis: str | None = None  # the span of the first sentence that answers (shown emphasised)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (``qabot ask --json``, the ``ask`` API, eval's items.jsonl)."""
        return {
            "question": self.question,
            "rewritten": self.rewritten,
            "answer": self.text,
            "refused": self.refused,
            "provider": self.provider,
            "notice": self.notice,
            "gate": self.gate,
            "parts": self.parts,
            "emphasis": self.emphasis,
            "citations": [asdict(c) for c in self.citations],
            "retrieved": [
                {
                    "source": h.chunk.source,
                    "title": h.chunk.title,
                    "text": h.chunk.text,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "score": round(h.score, 6),
                    "dense": h.dense,
                    "lexical": h.lexical,
                }
                for h in self.retrieved
            ],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
