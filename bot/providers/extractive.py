"""The default provider: no LLM. It answers with the sentences of the passages that best cover the
question, quoted (traditional script shown in simplified), each followed by its passage number ``[n]``.

Faithful by construction — every word of the answer is in a source — and instant, which is why it is
also the fallback whenever an LLM fails.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda

from bot.config import Settings
from bot.embeddings import E5Embeddings
from bot.evidence import Sentence, question_terms, score_sentences
from bot.textnorm import normalize, to_simplified
from bot.types import Hit

_OVERVIEW = re.compile(r"哪些|哪几|主要讲|概括|总结|核心观点|观点|分别|都.{0,4}怎么|什么态度|summar|overview")
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_END = "。！？!?；;…”’」』)）"


def select(question: str, hits: list[Hit], limit: int) -> list[Sentence]:
    """Greedy pick: the best sentence, then those that add question terms not yet covered, while they
    stay within reach of the best score. Overview questions may take more sentences."""
    scored = score_sentences(question, hits)
    if not _HAS_CJK.search(question):
        scored = _rescore_by_meaning(question, hits, scored)
    if not scored:
        return []
    if _OVERVIEW.search(normalize(question)):
        limit += 2
    terms = question_terms(question)
    covered: set[str] = set()
    chosen: list[Sentence] = []
    floor = 0.45 * scored[0].score
    for sentence in scored:
        if len(chosen) >= limit or sentence.score < floor:
            break
        norm = normalize(sentence.text)
        new = {t for t in terms if t in norm} - covered
        if chosen and not new and sentence.score < 0.8 * scored[0].score:
            continue
        chosen.append(sentence)
        covered |= new
    return sorted(chosen, key=lambda s: (s.hit, s.start))


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


def compose(question: str, hits: list[Hit], limit: int) -> str:
    """The answer text: chosen sentences in simplified script, each ending with its ``[n]``."""
    parts = []
    for sentence in select(question, hits, limit):
        text = to_simplified(sentence.text).strip()
        if text[-1] not in _END:
            text += "。"
        parts.append(f"{text}[{sentence.hit + 1}]")
    return "".join(parts)


def runnable(settings: Settings) -> Runnable:
    def answer(inputs: dict[str, Any]) -> str:
        return compose(inputs["question"], inputs["hits"], settings.answer_sentences)

    return RunnableLambda(answer, name="extractive")
