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
import re
from functools import lru_cache

import bm25s
import jieba
import numpy as np

from bot.textnorm import normalize

jieba.setLogLevel(logging.WARNING)

_WORDLIKE = re.compile(r"[\w\u3400-\u9fff%]")
# Function words and question words that say nothing about which passage answers.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 都 就 而 但 又 把 被 让 给 对 从 到 为 以 于 之 其 这 那 这个 那个 这些 那些 "
    "什么 多少 哪些 哪个 哪里 怎么 怎么样 怎样 如何 为什么 为啥 是否 有没有 吗 呢 吧 啊 么 几 哪 谁 "
    "一个 一些 有 没有 说 讲 提到 认为 觉得 文章 文中 里 中 上 下 我 你 他 她 它 我们 你们 他们 "
    "分别 具体 到底 大概 大约 一下 请问 请 能 会 要 可以 还 跟 比 怎么回事 回事 "
    "the a an of to in on and or is are was were what which who how when why does did do".split()
)


@lru_cache(maxsize=1)
def _init_jieba() -> None:
    jieba.initialize()


_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")


def tokenize(text: str) -> list[str]:
    """Search-mode jieba words plus CJK character bigrams of the normalised text, minus stop words."""
    _init_jieba()
    norm = normalize(text)
    words = [w for w in (w.strip() for w in jieba.lcut_for_search(norm)) if w and _WORDLIKE.search(w)]
    bigrams = [run[i : i + 2] for run in _CJK_RUN.findall(norm) for i in range(len(run) - 1)]
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
