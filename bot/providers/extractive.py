"""The default provider: no LLM. It answers with sentences of the passages, quoted (traditional script
shown in simplified), each followed by its passage number ``[n]``.

The answer leads with the sentence the ranker (``bot.ranker``) finds most likely to hold the answer. A
factoid question gets that sentence, and a second one only when the ranker finds it nearly as likely
(``SECOND``, fitted with the ranker). A question that asks for several things (a list, an answer per
article) takes more: the sentences that add question terms not yet covered, the items of a list the
best sentences announce, in the article's own order. A whole-article question gets the article's gist
(``bot.overview``). Titles, headings and bylines are never quoted as an answer.

Faithful by construction — every word of the answer is in a source — and instant, which is why it is
also the fallback whenever an LLM fails.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from langchain_core.runnables import Runnable, RunnableGenerator

from bot import lexicon, lists, overview, ranker
from bot.config import Settings
from bot.evidence import Sentence, chunk_sentences
from bot.question import Question
from bot.textnorm import normalize, to_simplified
from bot.types import Hit

ADJACENT = 3  # characters between two sentences that still follow each other (spaces, a line break)
SEVERAL = frozenset({"list", "across"})  # intents whose answers quote several sentences


def select(question: Question, hits: list[Hit], ranked: list[Sentence], limit: int,
           ratio: float | None = None) -> list[Sentence]:
    """The sentences of the answer, in the order they are quoted (see module doc). ``ratio``: how close
    to the best another sentence must score to be quoted too (default: the fitted ``second_ratio``;
    ``qabot eval fit-ranker`` tries others)."""
    ratio = ranker.second_ratio() if ratio is None else ratio
    if question.asks("overview"):
        return overview.key_sentences(question, hits, limit + 1)
    answers = ranked  # titles, headings and bylines are not candidates (bot.ranker.candidates)
    if not answers:
        return []
    if not question.intents & SEVERAL:
        chosen = answers[:1]
        second = next((s for s in answers[1:] if hits[s.hit].chunk.source == hits[answers[0].hit].chunk.source), None)
        if second is not None and second.score >= ratio * answers[0].score:
            chosen.append(second)
        return chosen + _continuations(chosen, hits, room=1, listing=False)
    return _several(question, hits, answers, limit + 2, ratio)


def _several(question: Question, hits: list[Hit], answers: list[Sentence], limit: int, ratio: float) -> list[Sentence]:
    """Greedy: the best sentence, then those that add question terms not yet covered while they stay
    within reach of the best; from each article that speaks of it well enough when the question asks
    across articles; then the continuations and list items of the chosen ones, in document order."""
    top = answers[0].score
    sources = {hits[answers[0].hit].chunk.source}
    if question.asks("across"):
        sources |= {hits[s.hit].chunk.source for s in answers if s.score >= ratio * top}
    covered: set[str] = set()
    chosen: list[Sentence] = []
    for sentence in answers:
        if len(chosen) >= limit or sentence.score < ratio ** 2 * top:
            break
        if hits[sentence.hit].chunk.source not in sources:
            continue
        norm = normalize(sentence.text)
        new = {t for t in question.terms if t in norm} - covered
        if chosen and not new:
            continue
        chosen.append(sentence)
        covered |= new
    chosen += _continuations(chosen, hits, room=limit + 2 - len(chosen), listing=True)
    if question.asks("list"):
        chosen += _list_items(chosen, hits)
    # each article's sentences in document order (a list reads 其一, 其二, 其三), articles by best passage
    first: dict[str, int] = {}
    for s in sorted(chosen, key=lambda s: s.hit):
        first.setdefault(hits[s.hit].chunk.source, s.hit)
    return sorted(chosen, key=lambda s: (first[hits[s.hit].chunk.source], s.start))


def _continuations(chosen: list[Sentence], hits: list[Hit], room: int, listing: bool) -> list[Sentence]:
    """Sentences that complete a chosen one: the next sentence when the chosen one ends with a colon
    or semicolon, and (``listing``) the items of a list it announces (有四大挑战 …) — later sentences
    of the same article, within the retrieved passages, that open with an enumerator (一是, 其二 …)."""
    extra: list[Sentence] = []
    taken = {(hits[s.hit].chunk.source, s.start) for s in chosen}
    for s in list(chosen):
        source = hits[s.hit].chunk.source
        announces = listing and bool(lexicon.ANNOUNCES_LIST.search(s.text))
        following = [f for f in _article_sentences(hits, source) if f.start >= s.end][: 10 if announces else 3]
        previous, end = s.text.rstrip(), s.end
        for f in following:
            if f.start - end > ADJACENT:  # the passages skip text here: what follows is not its continuation
                break
            joined = previous[-1:] in ":：;；"
            previous, end = f.text.rstrip(), f.end
            if len(extra) >= room:
                break
            if not (joined or (listing and lexicon.ENUMERATOR.match(f.text))):
                if announces:
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


def compose(question: Question, hits: list[Hit], ranked: list[Sentence], limit: int,
            ratio: float | None = None) -> Iterator[str]:
    """The answer, one sentence at a time: chosen sentences in simplified script, each with its ``[n]``."""
    for sentence in select(question, hits, ranked, limit, ratio):
        text = to_simplified(sentence.text).strip()
        if text[-1] not in lexicon.ENDS:
            text += "。"
        yield f"{text}[{sentence.hit + 1}]"


def runnable(settings: Settings) -> Runnable:
    def answer(inputs: Iterator[dict[str, Any]]) -> Iterator[str]:
        for item in inputs:
            yield from compose(item["analysis"], item["hits"], item["ranked"], settings.answer_sentences)

    return RunnableGenerator(answer, name="extractive")
