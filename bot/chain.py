"""The one entry point: a question (and chat history) in, a verified, cited :class:`Answer` out.

    question ─► rewrite (follow-ups) ─► retrieve (hybrid) ─► relevance gate ─► provider (LCEL runnable)
             ─► citations (verify every sentence and quote) ─► Answer

The CLI, the Gradio app and ``qabot eval`` all call ``answer``/``stream`` here, so what is measured is
exactly what users get. A failing LLM never reaches the user as an error: its answer is replaced by the
extractive one with a notice.
"""
from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

from bot import citations, lists, overview, rewrite
from bot.config import LLM_UNAVAILABLE_NOTICE, REFUSAL, Settings, get_settings
from bot.evidence import answerable, score_sentences
from bot.providers import PROVIDERS, get_runnable
from bot.retrieve import Retriever
from bot.types import Answer, Hit

log = logging.getLogger(__name__)

# Markup in a question is never about the articles (pasted HTML, probes): searched for without it.
_MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<[^<>]{0,300}>", re.I | re.S)
_WORD = re.compile(r"[^\W_]")  # a letter, digit or Han character
UNVERIFIED_NOTICE = "大模型的回答未能在资料中核实，以下为原文摘录。"
GATE_SENTENCES = 5  # best sentences the relevance gate looks at


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
        timings[step] = (time.perf_counter() - start) * 1000


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
    with _timed(timings, "rewrite"):
        searched = " ".join(_MARKUP.sub(" ", text).split())
        # Nothing to search for (only emoji, punctuation or markup): refused below, never carried over.
        rewritten = rewrite.condense(searched, history) if _WORD.search(searched) else ""
    with _timed(timings, "retrieve"):
        index = retriever(settings)
        hits = index.search(rewritten, k or settings.k) if rewritten else []
    with _timed(timings, "gate"):
        best = score_sentences(rewritten, hits)[:GATE_SENTENCES]
        ok, why = answerable(rewritten, hits, best, index.idf)
    if ok and overview.asks_overview(rewritten):  # the article's gist, not the lines that repeat the question
        hits = overview.expand(rewritten, hits, index.article(hits[0].chunk.source), k or settings.k)
    elif ok and lists.asks_list(rewritten):  # items far apart (其一 … 其二 …): bring the others' passages
        hits = lists.complete(hits, [(hits[s.hit].chunk.source, s.start, s.text) for s in best], index.article)
    answer = Answer(question=text, rewritten=rewritten if rewritten not in (text, "") else None, text=REFUSAL,
                    refused=True, provider=name, retrieved=hits, timings_ms=timings)
    if not ok:
        log.info("refused %r: %s", rewritten, why)
        yield REFUSAL
    else:
        yield from _generate(answer, rewritten, hits, settings, timings, index.share)
    timings["total"] = (time.perf_counter() - started) * 1000
    yield answer


def _generate(answer: Answer, question: str, hits: list[Hit], settings: Settings,
              timings: dict[str, float], share: Callable[[str], float]) -> Iterator[str]:
    """Run the provider (streaming), verify, and fill ``answer``; fall back to extractive on failure."""
    inputs = {"question": question, "hits": hits}
    draft = ""
    with _timed(timings, "generate"):
        try:
            for piece in get_runnable(answer.provider, settings).stream(inputs):
                draft += piece
                yield piece
        except Exception as err:  # noqa: BLE001 - any provider failure becomes the extractive answer
            if answer.provider == "extractive":
                raise
            log.warning("provider %s failed (%s); answering extractively", answer.provider, type(err).__name__)
            answer.notice, draft = getattr(err, "notice", None) or LLM_UNAVAILABLE_NOTICE, ""  # its cause, if it says
    with _timed(timings, "verify"):
        text, cited, refused = citations.build(draft, hits, share) if draft else ("", [], False)
        if not text and not refused:  # nothing the LLM said could be verified (or it failed)
            if answer.provider != "extractive" and answer.notice is None:
                answer.notice = UNVERIFIED_NOTICE
            text, cited, refused = citations.build(get_runnable("extractive", settings).invoke(inputs), hits, share)
    answer.text, answer.citations, answer.refused = (text or REFUSAL), cited, refused or not text


def answer(question: str, history: Sequence[tuple[str, str]] | None = None, *, provider: str | None = None,
           k: int | None = None, settings: Settings | None = None) -> Answer:
    """The final verified answer (``stream`` without the pieces)."""
    final = None
    for item in stream(question, history, provider=provider, k=k, settings=settings):
        final = item
    assert isinstance(final, Answer)
    return final
