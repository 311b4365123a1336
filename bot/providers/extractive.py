"""The default provider: no LLM. It answers with the sentences of the passages that best cover the
question, quoted (traditional script shown in simplified), each followed by its passage number ``[n]``.

Faithful by construction — every word of the answer is in a source — and instant, which is why it is
also the fallback whenever an LLM fails.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableGenerator

from bot import lists
from bot.config import Settings
from bot.embeddings import E5Embeddings
from bot.evidence import Sentence, chunk_sentences, question_terms, score_sentences
from bot.overview import asks_overview, key_sentences
from bot.textnorm import normalize, to_simplified
from bot.types import Hit

_OVERVIEW = re.compile(r"哪些|哪几|主要讲|概括|总结|核心观点|观点|分别|都.{0,4}怎么|什么态度|summar|overview")
_ACROSS = re.compile(r"分别|这些|这几篇|几篇|各自|两位|两篇|都.{0,6}(?:怎么|哪些|什么)|对比|比较")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_END = "。！？!?；;…”’」』)）"


def select(question: str, hits: list[Hit], limit: int) -> list[Sentence]:
    """Greedy pick: the best sentence, then those that add question terms not yet covered, while they
    stay within reach of the best score. Sentences come from the best sentence's article, or — for a
    question across articles (分别, 这些文章) — from each article that speaks of it well enough.
    Overview questions may take more sentences."""
    if asks_overview(question):
        return key_sentences(question, hits, limit + 1)
    scored = score_sentences(question, hits)
    if not _HAS_CJK.search(question):
        scored = _rescore_by_meaning(question, hits, scored)
    if not scored:
        return []
    top = scored[0].score
    norm_question = normalize(question)
    if _OVERVIEW.search(norm_question):
        limit += 2
    sources = {hits[scored[0].hit].chunk.source}
    if _ACROSS.search(norm_question):
        sources |= {hits[s.hit].chunk.source for s in scored if s.score >= 0.5 * top}
    terms = question_terms(question)
    covered: set[str] = set()
    chosen: list[Sentence] = []
    for sentence in scored:
        if len(chosen) >= limit or sentence.score < 0.3 * top:
            break
        if hits[sentence.hit].chunk.source not in sources:
            continue
        norm = normalize(sentence.text)
        new = {t for t in terms if t in norm} - covered
        if chosen and not new and sentence.score < 0.6 * top:
            continue
        chosen.append(sentence)
        covered |= new
    chosen += _continuations(chosen, hits, room=limit + 2 - len(chosen))
    if lists.asks_list(question):
        chosen += _list_items(chosen, hits)
    # each article's sentences in document order (a list reads 其一, 其二, 其三), articles by best passage
    first = {}
    for s in sorted(chosen, key=lambda s: s.hit):
        first.setdefault(hits[s.hit].chunk.source, s.hit)
    return sorted(chosen, key=lambda s: (first[hits[s.hit].chunk.source], s.start))


def _rescore_by_meaning(question: str, hits: list[Hit], scored: list[Sentence]) -> list[Sentence]:
    """A question in another language shares no words with Chinese passages: rank the sentences of the
    top passages by the multilingual embedding instead (a few dozen short sentences, so cheap)."""
    pool = [s for s in scored if s.hit < 3]
    if not pool:
        return scored
    model = E5Embeddings()
    query = model.embed_queries([question])[0]
    sims = model.embed_passages([s.text for s in pool]) @ query
    for s, sim in zip(pool, np.asarray(sims, dtype=float)):
        s.score = float(sim) + 0.02 / (s.hit + 1)
    return sorted(pool, key=lambda s: -s.score)


_ENUMERATOR = re.compile(r"^[“\"]?(?:一是|二是|三是|四是|其一|其二|其三|其四|首先|其次|再次|最后|第[一二三四五六]|此外|同时|另外|"
                         r"具体|包括|例如|比如|即|[1-9一二三四五六][、.．]|[“\"][\w+]{1,3}[”\"]是)")
ADJACENT = 3  # characters between two sentences that still follow each other (spaces, a line break)
_ANNOUNCES_LIST = re.compile(r"[有几两三四五六七八九十]大|以下|如下|分为|包括|几个方面|几方面")


def _continuations(chosen: list[Sentence], hits: list[Hit], room: int) -> list[Sentence]:
    """Sentences that complete a chosen one: the next sentence when the chosen one ends with a colon
    or semicolon, and the items of a list it announces (有四大挑战 …) — later sentences of the same
    article, within the retrieved passages, that open with an enumerator (一是, 其二, 此外, 最后 …)."""
    extra: list[Sentence] = []
    taken = {(hits[s.hit].chunk.source, s.start) for s in chosen}
    for s in list(chosen):
        source = hits[s.hit].chunk.source
        following = [f for f in _article_sentences(hits, source) if f.start >= s.end][: 10 if (
            listing := bool(_ANNOUNCES_LIST.search(s.text))) else 3]
        previous, end = s.text.rstrip(), s.end
        for f in following:
            if f.start - end > ADJACENT:  # the passages skip text here: what follows is not its continuation
                break
            joined = previous[-1:] in ":：;；"
            previous, end = f.text.rstrip(), f.end
            if len(extra) >= room:
                break
            if not (joined or _ENUMERATOR.match(f.text)):
                if listing:
                    continue
                break
            if (source, f.start) not in taken:
                taken.add((source, f.start))
                extra.append(f)
    return extra


def _list_items(chosen: list[Sentence], hits: list[Hit]) -> list[Sentence]:
    """The rest of a list a chosen sentence is in or announces (其一 chosen: 其二, 其三; 四大挑战: the four),
    wherever in the passages they are — the chain has added the passages that hold them
    (``bot.lists.complete``)."""
    taken = {(hits[s.hit].chunk.source, s.start) for s in chosen}
    extra: list[Sentence] = []
    for s in chosen:
        source = hits[s.hit].chunk.source
        later = [f for f in _article_sentences(hits, source) if f.start > s.start]
        for i in lists.members((s.start, s.text), [(f.start, f.text) for f in later]):
            if (source, later[i].start) not in taken:
                taken.add((source, later[i].start))
                extra.append(later[i])
    return extra


def _article_sentences(hits: list[Hit], source: str) -> list[Sentence]:
    """The sentences of one article found in the retrieved passages, in document order, once each."""
    mine = [i for i, h in enumerate(hits) if h.chunk.source == source]
    return [replace(s, hit=mine[s.hit]) for s in chunk_sentences([hits[i].chunk for i in mine])]


def compose(question: str, hits: list[Hit], limit: int) -> Iterator[str]:
    """The answer, one sentence at a time: chosen sentences in simplified script, each with its ``[n]``."""
    for sentence in select(question, hits, limit):
        text = to_simplified(sentence.text).strip()
        if text[-1] not in _END:
            text += "。"
        yield f"{text}[{sentence.hit + 1}]"


def runnable(settings: Settings) -> Runnable:
    def answer(inputs: Iterator[dict[str, Any]]) -> Iterator[str]:
        for item in inputs:
            yield from compose(item["question"], item["hits"], settings.answer_sentences)

    return RunnableGenerator(answer, name="extractive")
