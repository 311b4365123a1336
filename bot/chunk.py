"""Chinese-aware chunking: sentences packed into chunks by a tiktoken budget, with overlap.

Sentences end at 。！？；… and at their half-width forms (these articles mostly use ``? ! ;``), optionally
followed by a closing quote, but not inside a 《title》. Every sentence and chunk keeps character offsets
into the cleaned document, so ``document.text[start:end]`` gives back the exact text and a quote can
always be located again.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot import tokens
from bot.types import Chunk, Document

# a title in 《》 is one unit: the ！ of 《卡拉OK.LIVE！‧台北‧我》 does not end the sentence that names it
_SENTENCE = re.compile(r"(?:《[^》\n]{1,60}》|[^。！？!?；;…\n])*(?:[。！？!?；;…]+[”’」』）)]*|\n+|$)")
MAX_SENTENCE_CHARS = 160  # an unpunctuated run (captions, lists) is cut at a comma or gap beyond this
_CUT = re.compile(r"(?<!\d),|,(?!\d)|[， ]")  # where a long run may be cut: not inside a figure (2,800米)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sentences(text: str) -> list[Span]:
    """Sentence spans of ``text``, white space trimmed off each end; long runs cut at , ， or spaces
    (never at the comma of a figure such as 2,800)."""
    spans: list[Span] = []
    for match in _SENTENCE.finditer(text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.extend(_cut_long(text, start, end))
    return spans


def _cut_long(text: str, start: int, end: int) -> list[Span]:
    out: list[Span] = []
    while end - start > MAX_SENTENCE_CHARS:
        window = text[start : start + MAX_SENTENCE_CHARS]
        cut = max((m.start() for m in _CUT.finditer(window)), default=-1)
        if cut < MAX_SENTENCE_CHARS // 3:
            cut = MAX_SENTENCE_CHARS - 1
        out.append(Span(start, start + cut + 1))
        start += cut + 1
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append(Span(start, end))
    return out


# Bump when what is stored with a chunk changes (cleaning, BM25 tokens, embedding model): every chunk then
# gets a new id, so the next ``qabot ingest`` re-indexes everything instead of keeping stale entries.
INDEX_FORMAT = "3"


def chunk_id(source: str, text: str, start: int) -> str:
    """A content hash: the same text at the same place of the same file always gets the same id."""
    return hashlib.sha256(f"{INDEX_FORMAT}\x00{source}\x00{start}\x00{text}".encode()).hexdigest()[:32]


def chunk_document(doc: Document, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Pack whole sentences up to ``max_tokens``; the next chunk starts with the last sentences of the
    previous one, up to ``overlap_tokens``, so a fact straddling a boundary is whole in some chunk."""
    spans = sentences(doc.text)
    sizes = [tokens.count(doc.text[s.start : s.end]) for s in spans]
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        j, used = i, 0
        while j < len(spans) and (j == i or used + sizes[j] <= max_tokens):
            used += sizes[j]
            j += 1
        start, end = spans[i].start, spans[j - 1].end
        text = doc.text[start:end]
        chunks.append(Chunk(chunk_id(doc.source, text, start), doc.source, doc.title, text, start, end))
        if j >= len(spans):
            break
        back, kept = j, 0  # step back over whole sentences for the overlap, but always move forward
        while back - 1 > i and kept + sizes[back - 1] <= overlap_tokens:
            back -= 1
            kept += sizes[back]
        i = back
    return chunks
