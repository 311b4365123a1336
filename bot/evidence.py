"""Sentences of the retrieved passages, and how much of a set of terms a text contains.

The sentence is the unit every answer decision works on: the ranker (``bot.ranker``) scores them, the
relevance gate (``bot.gate``) judges the best ones, the extractive provider quotes them, and
``bot.citations`` finds the one that supports what an LLM wrote.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.chunk import sentences
from bot.textnorm import normalize
from bot.types import Chunk, Hit


def coverage(terms: dict[str, float], text: str) -> float:
    """Share of the terms' weight found in ``text`` (0..1)."""
    total = sum(terms.values())
    if not total:
        return 0.0
    norm = normalize(text)
    return sum(w for t, w in terms.items() if t in norm) / total


@dataclass
class Sentence:
    hit: int  # 0-based position in the hits list
    start: int  # offsets in the chunk's document
    end: int
    text: str
    score: float = 0.0  # the ranker's probability that it is the sentence that answers
    cosine: float | None = None  # its embedding cosine to the question, under its article's title (the ranker's)


def chunk_sentences(chunks: list[Chunk]) -> list[Sentence]:
    """The sentences of chunks of one article, once each, in document order (``hit`` is the chunk's
    position in ``chunks``). Overlapping chunks repeat sentences, and a chunk that starts inside an
    over-long sentence repeats its tail: each is kept once, from where it starts."""
    found: dict[int, Sentence] = {}
    for i, chunk in enumerate(chunks):
        for span in sentences(chunk.text):
            start, end = chunk.start + span.start, chunk.start + span.end
            if end not in found or start < found[end].start:
                found[end] = Sentence(i, start, end, chunk.text[span.start : span.end])
    return [found[k] for k in sorted(found)]


def passage_sentences(hits: list[Hit]) -> list[Sentence]:
    """Every sentence of the retrieved passages once, attributed to the best-ranked passage holding it
    (overlapping chunks repeat sentences), passages in rank order."""
    seen: set[tuple[str, int]] = set()
    out: list[Sentence] = []
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        for span in sentences(chunk.text):
            where = (chunk.source, chunk.start + span.start)
            if where in seen:
                continue
            seen.add(where)
            out.append(Sentence(i, chunk.start + span.start, chunk.start + span.end, chunk.text[span.start : span.end]))
    return out
