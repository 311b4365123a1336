"""The one entry point: a question (and chat history) in, a verified, cited :class:`Answer` out.

    question ─► analyse (bot.question: follow-ups made standalone, intents, terms, subject, parts)
             ─► per part: retrieve (hybrid) ─► rank sentences (bot.ranker) ─► relevance gate (bot.gate)
             ─► provider (LCEL runnable) ─► citations (verify every sentence and quote) ─► Answer

The CLI, the Gradio app and ``qabot eval`` all call ``answer``/``stream`` here, so what is measured is
exactly what users get. A failing LLM never reaches the user as an error: its answer is replaced by the
extractive one with a notice. A question of several parts (「A是什么？B有哪些？」) is answered part by part;
a part the passages do not answer says so while the others are answered.
"""
from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from bot import citations, collection, gate, lists, llm_rewrite, overview, ranker
from bot.config import LLM_UNAVAILABLE_NOTICE, REFUSAL, Settings, get_settings
from bot.evidence import Sentence
from bot import providers
from bot.providers import PROVIDERS, extractive, get_runnable
from bot.question import Question, analyse
from bot.retrieve import Retriever
from bot.types import Answer, Hit

log = logging.getLogger(__name__)
UNVERIFIED_NOTICE = "大模型的回答未能在资料中核实，以下为原文摘录。"
INCOMPLETE_NOTICE = "大模型的回答漏掉了资料中的数字或名称，以下为原文摘录。"


class QuestionError(ValueError):
    """A question we cannot take (empty, too long); the message is for the user, in Chinese."""


@lru_cache(maxsize=4)
def retriever(settings: Settings) -> Retriever:
    """One retriever (and BM25 index) per settings object, shared by every chat session."""
    return Retriever(settings)


def clean_question(question: str, settings: Settings) -> str:
    """Strip control and zero-width characters; refuse empty or over-long questions with a message."""
    if not isinstance(question, str):
        raise QuestionError("问题必须是文本。")
    text = "".join(ch for ch in question if unicodedata.category(ch) not in {"Cc", "Cf"} or ch in "\n\t")
    text = " ".join(text.split())
    if not text:
        raise QuestionError("请输入问题。")
    if len(text) > settings.max_question_chars:
        raise QuestionError(f"问题太长（{len(text)} 字），请精简到 {settings.max_question_chars} 字以内。")
    return text


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + (time.perf_counter() - start) * 1000


@dataclass
class Part:
    """One question (or one part of a multi-part one) up to the answer decision."""

    question: Question
    hits: list[Hit]
    ranked: list[Sentence]
    decision: gate.Decision

    def inputs(self) -> dict:
        """What a provider runnable is given (see ``bot.providers``)."""
        return {"question": self.question.text, "analysis": self.question, "hits": self.hits, "ranked": self.ranked}

    def not_said(self) -> str:
        """The sentence that stands for a part the passages do not answer."""
        if self.decision.missing:
            return f"资料中没有提到{'、'.join(self.question.about(m) for m in self.decision.missing)}。"
        return f"关于「{self.question.text.rstrip('？?。')}」，资料中没有找到相关信息。"


def prepare(question: Question, index: Retriever, k: int, timings: dict[str, float]) -> Part:
    """Retrieve, rank the sentences, decide; for a whole-article or list question, bring the passages
    the answer needs (the article's representative ones; a list's far-apart items)."""
    with _timed(timings, "retrieve"):
        hits = index.search(question.text, k) if question.text else []
    with _timed(timings, "gate"):
        ranked = ranker.rank(question, hits, similarity=index.similarity) if hits else []
        decision = gate.decide(question, hits, ranked, index)
    if decision.answerable and question.asks("overview"):  # the gist, not the lines that repeat the question
        hits = overview.expand(question, hits, index.article(hits[0].chunk.source), k)
        ranked = ranker.rank(question, hits, similarity=index.similarity)
    elif decision.answerable and question.asks("list"):  # items far apart (其一 … 其二 …): their passages too
        best = [(hits[s.hit].chunk.source, s.start, s.text) for s in ranked[: gate.TOP_SENTENCES + 2]]
        hits = lists.complete(hits, best, index.article)
    return Part(question, hits, ranked, decision)


def _unrepeated(parts: list[Part], settings: Settings) -> list[Part]:
    """The parts the quotes answer, none quoting again what an earlier part's answer quotes. A part
    whose best sentence is already quoted is answered by it (「Medline收录了多少种期刊？每年新增多少条记录？」:
    one sentence says both) and adds nothing, unless another sentence of its own scores nearly as well
    (the fitted second-sentence ratio): 「白沙湖是什么湖？湖里有什么鱼？」 answers the fish from the next one."""
    quoted: set[tuple[str, int]] = set()
    answering = []
    for part in parts:
        if part.decision.answerable and part.ranked:
            where = {id(s): (part.hits[s.hit].chunk.source, s.start) for s in part.ranked}
            fresh = [s for s in part.ranked if where[id(s)] not in quoted]
            if fresh and fresh[0] is not part.ranked[0]:
                if fresh[0].score < ranker.second_ratio() * part.ranked[0].score:
                    continue  # the earlier quote answers it
                part.ranked = fresh
            elif not fresh:
                continue
            chosen = extractive.select(part.question, part.hits, part.ranked, settings.answer_sentences)
            quoted |= {(part.hits[s.hit].chunk.source, s.start) for s in chosen}
        answering.append(part)
    return answering


def stream(question: str, history: Sequence[tuple[str, str]] | None = None, *, provider: str | None = None,
           k: int | None = None, settings: Settings | None = None) -> Iterator[str | Answer]:
    """Pieces of the draft answer as the provider produces them, then the final verified ``Answer``.

    The final answer's text may differ from the streamed draft (unsupported sentences removed, markers
    renumbered, or the extractive fallback): a UI should replace the draft with it.
    """
    settings = settings or get_settings()
    name = provider or settings.provider
    if name not in PROVIDERS:  # a configuration mistake, not an outage: say so instead of falling back
        raise ValueError(f"unknown provider {name!r}; choose one of: {', '.join(PROVIDERS)}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    text = clean_question(question, settings)
    index = retriever(settings)
    with _timed(timings, "analyse"):
        condense = llm_rewrite.rewriter(settings) if name == "openai" and settings.condense_with_llm and history else None
        analysed = analyse(text, history, index.idf, condense)
    if collection.wanted(analysed):
        yield from _collection(text, analysed, index, name, settings, timings, started)
        return
    parts = [prepare(p, index, k or settings.k, timings) for p in analysed.parts or (analysed,)]
    answer = Answer(question=text, rewritten=analysed.rewritten, text=REFUSAL, refused=True, provider=name,
                    retrieved=[h for p in parts for h in p.hits], timings_ms=timings,
                    gate=parts[0].decision.to_dict() if len(parts) == 1 else None)
    if len(parts) > 1:
        answer.parts = [{"question": p.question.text, "refused": not p.decision.answerable,
                         "gate": p.decision.to_dict()} for p in parts]
    if not any(p.decision.answerable for p in parts):
        log.info("refused %r: %s", analysed.text, "; ".join(p.decision.reason for p in parts))
        if analysed.asks("follow_up") and len(parts) == 1 and parts[0].decision.missing:
            answer.text = parts[0].not_said()  # 「那美国呢？」: say what the articles lack, not just that they lack it
        yield answer.text
    else:
        # quotes repeat themselves; a model answers each part's own question, even from the same sentence
        answering = _unrepeated(parts, settings) if name == "extractive" else parts
        yield from _generate(answer, answering, settings, timings, index.share)
    timings["total"] = (time.perf_counter() - started) * 1000
    yield answer


def _collection(text: str, analysed: Question, index: Retriever, provider: str, settings: Settings,
                timings: dict[str, float], started: float) -> Iterator[str | Answer]:
    """A whole-collection question: one cited gist sentence per article (``bot.collection``)."""
    with _timed(timings, "generate"):
        listed, cited, hits = collection.gists(analysed, index, settings.collection_articles)
    answer = Answer(question=text, rewritten=analysed.rewritten, text=listed or REFUSAL, refused=not cited,
                    provider=provider, citations=cited, retrieved=hits, timings_ms=timings)
    yield answer.text
    timings["total"] = (time.perf_counter() - started) * 1000
    yield answer


def _generate(answer: Answer, parts: list[Part], settings: Settings, timings: dict[str, float],
              share: Callable[[str], float]) -> Iterator[str]:
    """Each part through the provider (streaming), verified; the parts the passages do not answer say
    so. Falls back to the extractive answer when the LLM fails or nothing it said can be verified."""
    built: list[tuple[str, list]] = []
    for part in parts:
        if not part.decision.answerable:
            built.append((part.not_said(), []))
            yield part.not_said()
            continue
        draft = ""
        with _timed(timings, "generate"):
            try:
                for piece in get_runnable(answer.provider, settings).stream(part.inputs()):
                    draft += piece
                    yield piece
            except Exception as err:  # noqa: BLE001 - any provider failure becomes the extractive answer
                if answer.provider == "extractive":
                    raise
                log.warning("provider %s failed (%s); answering extractively", answer.provider, type(err).__name__)
                answer.notice, draft = getattr(err, "notice", None) or LLM_UNAVAILABLE_NOTICE, ""  # its cause, if it says
        with _timed(timings, "verify"):
            text, cited, refused = citations.build(draft, part.hits, share) if draft else ("", [], False)
            given = [s.text for s in providers.evidence(answer.provider, settings, part.inputs()) or []]
            if text and not refused and given:  # a bare 88% copied from its sentence reads as its clause
                text = citations.widen(text, given)
            notice = None
            if not text and not refused:  # nothing the LLM said could be verified (or it failed)
                notice = UNVERIFIED_NOTICE
            elif text and not refused and _lost_facts(part, text, given):
                notice = INCOMPLETE_NOTICE
            if notice is not None:
                if answer.provider != "extractive" and answer.notice is None:
                    answer.notice = notice
                text, cited, refused = citations.build(get_runnable("extractive", settings).invoke(part.inputs()),
                                                       part.hits, share)
        built.append((part.not_said() if refused or not text else text, cited))
    answer.text, answer.citations = citations.merge(built)
    answer.refused = not answer.citations
    if answer.refused:
        answer.text = REFUSAL
    else:
        first = next(p for p in parts if p.decision.answerable)
        answer.emphasis = ranker.answer_span(first.question, answer.text)


def _lost_facts(part: Part, text: str, given: list[str]) -> bool:
    """Whether the verified answer of a provider that writes from chosen sentences (``given``) left out a
    figure or name they state (the 400万 of 「从400万迅速上升到530多万」): the quoted sentences then
    answer instead, since an answer shorter than its evidence should lose words, never facts."""
    lost = citations.lost_facts(text, given, part.question) if given else []
    if lost:
        log.info("answer to %r left out %s; quoting its evidence", part.question.text, lost)
    return bool(lost)


def answer(question: str, history: Sequence[tuple[str, str]] | None = None, *, provider: str | None = None,
           k: int | None = None, settings: Settings | None = None) -> Answer:
    """The final verified answer (``stream`` without the pieces)."""
    final = None
    for item in stream(question, history, provider=provider, k=k, settings=settings):
        final = item
    assert isinstance(final, Answer)
    return final
