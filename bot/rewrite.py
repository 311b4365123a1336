"""Follow-up questions → standalone questions, before retrieval.

「那美国呢？」 or 「他还说了什么？」 mean nothing to a retriever on their own. Without an LLM we carry the
subject over deterministically: a short question, or one that opens with a pronoun or 那/还有, is read
together with the user's previous question(s), whose words then steer retrieval. The rewritten question
is shown to the user, so the step is never hidden.
"""
from __future__ import annotations

from collections.abc import Sequence

from bot.question import is_follow_up

MAX_CARRIED = 2  # previous questions carried over at most


def condense(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """The question to retrieve for: itself, or prefixed with the earlier question(s) it follows."""
    if not history or not is_follow_up(question):
        return question
    carried: list[str] = []
    for user, _bot in reversed(history):
        if not user or not user.strip():
            continue
        carried.insert(0, user.strip())
        if not is_follow_up(user) or len(carried) >= MAX_CARRIED:
            break
    return " ".join(carried + [question.strip()]) if carried else question
