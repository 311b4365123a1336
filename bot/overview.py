"""Questions about a whole article (这篇报道主要讲了什么, 他的核心观点有哪些): the answer is the article's
gist, not the few sentences that repeat the question's words — those are its title and byline.

Such a question names its article (by title, person or topic) well enough for retrieval to rank one of
its chunks first. This module then (1) swaps the retrieved passages for that article's most
representative chunks, so an LLM summarises from the body of the article, and (2) gives the extractive
provider the article's most central sentences: those made of the words the article uses most
(SumBasic: each pick discounts its words, so the next one adds something new), with a small bonus for
the lead, where news puts the gist, and for the question's own words when it names a topic
(薛澜觉得…有哪些问题).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import jieba

from bot.evidence import Sentence, chunk_sentences, coverage
from bot.lexicon import CJK, ENDS, STOPWORDS
from bot.question import Question
from bot.textnorm import normalize
from bot.types import Chunk, Hit

# "概括一下，薛澜觉得有哪些问题" asks for one topic's points, answered by the question's own words, not
# for the article as a whole: 概括 alone does not make a whole-article question (``bot.lexicon.INTENTS``).
LEAD_SHARE = 0.15  # the first 15% of an article counts as its lead
LEAD_BONUS = 1.3
FOCUS_WEIGHT = 1.0  # how much the question's own topic words lift a sentence
MIN_CHARS = 20  # shorter "sentences" are headings, bylines, captions


def _words(text: str) -> set[str]:
    return {w for w in jieba.lcut(normalize(text)) if len(w) >= 2 and w not in STOPWORDS and not w.isdigit()
            and re.search(f"[{CJK}A-Za-z]", w)}


def _opens_sentence(start: int, chunks: list[Chunk]) -> bool:
    """False for the later pieces of an over-long sentence (bot.chunk cuts those at a comma)."""
    for chunk in chunks:
        if chunk.start < start <= chunk.end:
            return chunk.text[start - chunk.start - 1] not in ",，、"
    return True  # nothing before it in these chunks: take it as it comes


def central(question: Question, chunks: list[Chunk], n: int) -> list[Sentence]:
    """The n most central sentences of the chunks (one article), in document order."""
    spans = chunk_sentences(chunks)
    if not spans:
        return []
    title = normalize(chunks[0].title)
    words = [_words(s.text) for s in spans]
    counts = Counter(w for ws in words for w in ws)
    total = sum(counts.values()) or 1
    weight = {w: c / total for w, c in counts.items()}
    focus = question.focus
    length = spans[-1].end or 1
    eligible = [i for i, s in enumerate(spans)
                if words[i] and len(s.text.strip()) >= MIN_CHARS and normalize(s.text).strip() not in title
                and _opens_sentence(s.start, chunks)
                and s.text.rstrip()[-1:] in ENDS and s.text.rstrip()[-1:] not in "?？"]  # not a heading, nor a question
    # one pick per equal stretch of the article, so the answer follows the whole of it (a report's later
    # sections, an interview's later answers) rather than circling its most frequent words
    chosen: list[int] = []
    for part in range(n):
        stretch = [i for i in eligible if part * length <= n * spans[i].start < (part + 1) * length]
        if not stretch:
            continue
        best = max(stretch, key=lambda i: _score(i, words, weight, spans, focus, length))
        chosen.append(best)
        for w in words[best]:
            weight[w] **= 2
    return [spans[i] for i in sorted(chosen)]


def _score(i: int, words: list[set[str]], weight: dict[str, float], spans: list[Sentence],
           focus: dict[str, float], length: int) -> float:
    base = sum(weight[w] for w in words[i]) / len(words[i])
    base *= LEAD_BONUS if spans[i].start < LEAD_SHARE * length else 1.0
    return base * (1 + FOCUS_WEIGHT * coverage(focus, normalize(spans[i].text)))


def expand(question: Question, hits: list[Hit], article: list[Chunk], k: int) -> list[Hit]:
    """The top hit's article seen through its k most representative chunks (document order): those
    holding its most central sentences, then the retrieved ones of that article."""
    picked: list[int] = []
    for sentence in central(question, article, k):
        if sentence.hit not in picked:
            picked.append(sentence.hit)
    retrieved = {h.chunk.id: h for h in hits}
    for chunk_id in (h.chunk.id for h in hits if h.chunk.source == article[0].source):
        i = next(j for j, c in enumerate(article) if c.id == chunk_id)
        if len(picked) < k and i not in picked:
            picked.append(i)
    out = []
    for rank, i in enumerate(sorted(picked), 1):
        hit = retrieved.get(article[i].id)
        out.append(replace(hit, rank=rank) if hit else Hit(chunk=article[i], score=0.0, rank=rank))
    return out


def key_sentences(question: Question, hits: list[Hit], n: int) -> list[Sentence]:
    """The n most central sentences of the passages, as the extractive provider's answer."""
    return central(question, [h.chunk for h in hits], n)
