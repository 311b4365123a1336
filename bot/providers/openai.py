"""The ``openai`` provider: any OpenAI-compatible chat endpoint (OpenAI, DeepSeek, DashScope, vLLM, Ollama,
llama.cpp) answers from the numbered passages.

Built from LangChain pieces — ``ChatPromptTemplate | ChatOpenAI | StrOutputParser`` — wrapped in one
``RunnableGenerator`` so that ``invoke`` and ``stream`` share the same failure handling:

- Transport failures (connection refused, timeout, HTTP 408/409/429/5xx, a response cut before it began)
  are retried by the ``openai`` client itself, ``max_retries`` times with exponential backoff (and
  ``Retry-After`` honoured).
- A 200 reply that is not an answer (empty body, HTML instead of JSON, an empty SSE stream) is not retried
  by the client; we retry those here with the same bound and backoff, but only while no text has been
  handed on yet — a stream cut after its first pieces raises at once, since retrying would show the start
  of the answer twice.
- Whatever still fails is raised as :class:`LLMError`, whose message never contains the API key (a
  misbehaving proxy may echo it back in an error body) and which does not chain the original exception
  (whose request object carries the key in its headers). ``bot.chain`` then answers extractively.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableGenerator, RunnableLambda
from langchain_openai import ChatOpenAI
from pydantic import SecretStr
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from bot import tokens
from bot.config import REFUSAL, Endpoint, Settings
from bot.types import Hit

# Placeholder key for endpoints that need none (vLLM, Ollama, llama.cpp): the client insists on one.
NO_KEY = "not-needed"


class LLMError(RuntimeError):
    """The endpoint gave no usable answer after the bounded retries; the message is safe to log."""


class _Started(Exception):
    """Wraps (as ``__cause__``) a failure after text was already handed on: never retried."""


def passage(n: int, hit: Hit) -> str:
    """One numbered passage as the model sees it: ``[n] 《title》`` then the chunk text."""
    return f"[{n}] 《{hit.chunk.title}》\n{hit.chunk.text}"


def fit(text: str, budget: int) -> str:
    """The longest prefix of ``text`` within ``budget`` tokens (binary search on characters, so a
    multi-byte character is never split the way a token-level cut would)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tokens.count(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def pack(hits: list[Hit], budget: int) -> str:
    """The numbered passages that fit in ``budget`` tokens, in retrieval order.

    Numbers are positions in ``hits`` (the contract's ``[n]``), so a passage that does not fit is left out
    without renumbering the rest."""
    return pack_blocks([passage(n, hit) for n, hit in enumerate(hits, start=1)], budget)


def pack_blocks(blocks: list[str], budget: int) -> str:
    """The blocks that fit in ``budget`` tokens, in order, a blank line apart; one that does not fit is
    left out, except the first, which is cut to fit so the model always has something to read."""
    kept: list[str] = []
    used = 0
    for block in blocks:
        size = tokens.count(block) + 2  # the blank line between blocks
        if used + size > budget:
            if kept:
                continue
            block = fit(block, budget)
            size = budget
        kept.append(block)
        used += size
    return "\n\n".join(kept)


def read_prompt(settings: Settings, name: str) -> str:
    return (settings.prompts_dir / name).read_text(encoding="utf-8").strip("\n")


def prompt(settings: Settings) -> ChatPromptTemplate:
    """System and user messages from ``prompts/*.txt``; the rules are restated after the passages when
    ``openai.repeat_instruction`` is on (``prompts/reminder.txt``)."""
    reminder = "\n" + read_prompt(settings, "reminder.txt") if settings.openai.repeat_instruction else ""
    return ChatPromptTemplate.from_messages(
        [("system", read_prompt(settings, "system.txt")), ("human", read_prompt(settings, "user.txt") + reminder)]
    )


def chat_model(endpoint: Endpoint) -> ChatOpenAI:
    """The LangChain chat model for an endpoint (this provider's, the local child's, the eval judge's);
    ``streaming=False`` makes even ``.stream()`` send one plain request (``disable_streaming``)."""
    key = endpoint.api_key
    if key is None:
        if not endpoint.base_url:
            raise LLMError("no API key: set BOT_LLM_API_KEY (or OPENAI_API_KEY), or BOT_LLM_BASE_URL")
        key = SecretStr(NO_KEY)
    return ChatOpenAI(
        base_url=endpoint.base_url,
        api_key=key,
        model=endpoint.model,
        timeout=endpoint.timeout,
        max_retries=endpoint.max_retries,
        temperature=endpoint.temperature,
        # Sent as the classic ``max_tokens``: LangChain's ``max_tokens`` goes out as ``max_completion_tokens``,
        # which llama.cpp (and older compatible servers) silently ignore, leaving the answer uncapped.
        extra_body={"max_tokens": endpoint.max_tokens} if endpoint.max_tokens else None,
        streaming=endpoint.streaming,
        disable_streaming=not endpoint.streaming,
    )


def _redact(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret and secret != NO_KEY else text


def runnable(settings: Settings) -> Runnable:
    """``{"question", "hits"}`` → answer text with ``[n]`` markers (see ``bot.providers``)."""
    budget = settings.openai.context_tokens
    values = RunnableLambda(
        lambda x: {"question": x["question"], "passages": pack(x["hits"], budget), "refusal": REFUSAL},
        name="numbered_passages",
    )
    return guarded(values | prompt(settings) | chat_model(settings.openai) | StrOutputParser(), settings.openai)


def guarded(core: Runnable, endpoint: Endpoint) -> Runnable:
    """``core`` (input → prompt → ``endpoint`` → text) streamed with the failure handling of the module
    doc: bounded retries while nothing was handed on, every failure raised as a key-free ``LLMError``."""
    attempts = 1 + max(0, endpoint.max_retries)
    secret = endpoint.api_key.get_secret_value() if endpoint.api_key else ""

    def answer(inputs: Iterator[dict[str, Any]], config: RunnableConfig) -> Iterator[str]:
        request: dict[str, Any] = {}
        for part in inputs:
            request.update(part)
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential_jitter(multiplier=0.5, max=8.0),
            # What the client does not retry itself surfaces as ValueError: an empty body (JSONDecodeError), a
            # non-JSON page or an empty stream (LangChain's "unexpected response" / "no generation chunks").
            retry=retry_if_exception_type(ValueError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    started = False
                    try:
                        for piece in core.stream(request, config):
                            started = started or bool(piece)
                            yield piece
                    except Exception as exc:
                        if started:
                            raise _Started from exc
                        raise
        except Exception as exc:  # noqa: BLE001 - every failure becomes the one safe error type
            cause = exc.__cause__ if isinstance(exc, _Started) else exc
            where = " after part of the answer" if isinstance(exc, _Started) else ""
            message = _redact(f"{type(cause).__name__}{where}: {cause}", secret)
            raise LLMError(f"LLM endpoint failed ({endpoint.model}): {message}") from None

    return RunnableGenerator(answer, name="llm_answer")
