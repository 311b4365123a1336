"""The LLM condense step: with an LLM provider, a follow-up is rewritten by the model through
``prompts/condense.txt`` (``ChatPromptTemplate | ChatOpenAI | StrOutputParser``), which handles what the
rules of ``bot.rewrite`` do not: a product the tagger does not know as a name (「那文心一言呢？」 is only
read after the previous question by the rules), a follow-up whose referent needs reading the answer.

The deterministic rewrite stays in charge of *when* to rewrite (a question that stands on its own is never
rewritten) and is the fallback whenever the model fails, is slow, or returns something that is not one
question: the model's output is taken only when it is a single line, not much longer than the follow-up
and the previous question together, and asks something. A subject the deterministic step swapped in is
kept (for the relevance gate, see ``bot.gate.speaks_of_swap``) when the model's question names it too.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from bot import lexicon
from bot.config import Settings
from bot.rewrite import MAX_CARRIED, Standalone
from bot.textnorm import normalize

log = logging.getLogger(__name__)
ANSWER_CHARS = 200  # of each earlier answer shown to the model: the subject is in its first sentences
STRIP = " \t\"'“”「」『』"


def history_text(history: Sequence[tuple[str, str]]) -> str:
    """The last turns as the prompt shows them."""
    turns = [(u.strip(), (a or "").strip()) for u, a in history if u and u.strip()][-MAX_CARRIED:]
    return "\n".join(f"用户：{u}\n助手：{a[:ANSWER_CHARS]}" for u, a in turns)


def acceptable(text: str, question: str, history: Sequence[tuple[str, str]]) -> bool:
    """One question, in Chinese if the follow-up is, and not an answer or an essay."""
    longest = len(question) + max((len(u) for u, _ in history), default=0) + 20
    norm = normalize(text)
    return bool(text) and "\n" not in text and len(text) <= longest and bool(lexicon.WORD_CHAR.search(text)) \
        and (not lexicon.CJK_CHAR.search(question) or bool(lexicon.CJK_CHAR.search(text))) \
        and bool(lexicon.ASKING.search(norm) or norm.endswith("?"))


def rewriter(settings: Settings) -> Callable[[str, Sequence[tuple[str, str]], Standalone], Standalone]:
    """``(follow-up, history, deterministic rewrite) -> rewrite``: the model's, or the deterministic one."""
    from bot.providers.openai import chat_model

    quick = settings.openai.model_copy(update={"streaming": False, "max_tokens": 128, "max_retries": 0,
                                               "timeout": min(settings.openai.timeout, settings.condense_timeout)})
    template = (settings.prompts_dir / "condense.txt").read_text(encoding="utf-8")
    prompt = ChatPromptTemplate.from_messages([("human", template)])

    def condense(question: str, history: Sequence[tuple[str, str]], fallback: Standalone) -> Standalone:
        try:
            chain = prompt | chat_model(quick) | StrOutputParser()
            text = chain.invoke({"history": history_text(history), "question": question}).strip().strip(STRIP)
        except Exception as err:  # noqa: BLE001 - any failure: the deterministic rewrite stands
            log.warning("LLM condense failed (%s); using the deterministic rewrite", type(err).__name__)
            return fallback
        if not acceptable(text, question, history):
            log.info("LLM condense output not one question (%r); using the deterministic rewrite", text[:80])
            return fallback
        swap = fallback.swap if fallback.swap and normalize(fallback.swap[1]) in normalize(text) \
            and normalize(fallback.swap[0]) not in normalize(text) else None
        return Standalone(text, swap)

    return condense
