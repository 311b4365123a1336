"""The keyword side of retrieval: BM25 (bm25s) over jieba words of the normalised (simplified) text.

Chinese has no spaces, so words come from jieba's search-mode cut, which also emits the parts of long
words (人工智能 → 人工, 智能, 人工智能) and lets a question match a text that words things differently.
jieba's dictionary lacks much of the newer vocabulary (算力 is cut into 算 / 力加), so character bigrams of
every CJK run are added too, as Lucene's CJK analyzer does: a term jieba mis-cuts still matches.
Tokens are computed once at ingest and stored with each chunk in Chroma, so any app replica — also one
talking to a Chroma server — rebuilds this index from the collection without re-running jieba.
"""
from __future__ import annotations

import logging
import math
import re
from functools import lru_cache

import bm25s
import jieba
import numpy as np

from bot.lexicon import CJK_RUN, STOPWORDS
from bot.textnorm import normalize

jieba.setLogLevel(logging.WARNING)

_WORDLIKE = re.compile(r"[\w\u3400-\u9fff%]")


@lru_cache(maxsize=1)
def _init_jieba() -> None:
    jieba.initialize()


def tokenize(text: str) -> list[str]:
    """Search-mode jieba words plus CJK character bigrams of the normalised text, minus stop words."""
    _init_jieba()
    norm = normalize(text)
    words = [w for w in (w.strip() for w in jieba.lcut_for_search(norm)) if w and _WORDLIKE.search(w)]
    bigrams = [run[i : i + 2] for run in CJK_RUN.findall(norm) for i in range(len(run) - 1)]
    return [w for w in words + bigrams if w not in STOPWORDS]


class LexicalIndex:
    """BM25 over pre-tokenised chunks; ``search`` returns (position, score) pairs, best first."""

    def __init__(self, token_lists: list[list[str]]) -> None:
        self.size = len(token_lists)
        self._bm25 = bm25s.BM25()
        if self.size:
            self._bm25.index(token_lists, show_progress=False)
        self._vocab = set(self._bm25.vocab_dict) if self.size else set()

    def doc_freq(self, token: str) -> int:
        """How many chunks contain the token."""
        if token not in self._vocab:
            return 0
        indptr = self._bm25.scores["indptr"]
        i = self._bm25.vocab_dict[token]
        return int(indptr[i + 1] - indptr[i])

    def idf(self, token: str) -> float:
        """Inverse document frequency; a word the collection has never seen gets the highest value."""
        return float(np.log(1 + self.size / (1 + self.doc_freq(token))))

    def share(self, token: str) -> float:
        """Share of the chunks that contain the token (0 for one the collection never uses)."""
        return self.doc_freq(token) / self.size if self.size else 0.0

    def ceiling(self, query_tokens: list[str]) -> float:
        """The score a passage made of exactly the query's words would get (each once, average length): what
        the best score of a query is measured against, so that "how well the passages match" means the same
        in a collection of five articles or of a million chunks. Words the collection never uses count too,
        at the highest weight: no passage can match them."""
        n = self.size
        return sum(math.log(1 + (n - df + 0.5) / (df + 0.5)) for df in map(self.doc_freq, query_tokens))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        known = [t for t in query_tokens if t in self._vocab]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def search(self, query_tokens: list[str], k: int) -> list[tuple[int, float]]:
        scores = self.scores(query_tokens)
        if not len(scores):
            return []
        top = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
