"""Follow-up questions → standalone questions, before retrieval.

「那美国呢？」 or 「他还说了什么？」 mean nothing to a retriever on their own. Without an LLM we carry the
subject over deterministically: a short question, or one that opens with a pronoun or 那/还有, is read
together with the user's previous question(s), whose words then steer retrieval. The rewritten question
is shown to the user, so the step is never hidden.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

_FOLLOW_UP = re.compile(
    r"^(?:那|那么|还有|另外|此外|他|她|它|他们|她们|其|这|该|and\b|what about|how about|also)"
    r"|(?:他|她|它|他们|这个人|这家|该公司|这件事)"
    r"|呢[?？]?$",
    re.I,
)
SHORT = 8  # characters; 「为什么？」「具体呢？」 are follow-ups whatever their words
MAX_CARRIED = 2  # previous questions carried over at most


def is_follow_up(question: str) -> bool:
    q = question.strip()
    return len(q) <= SHORT or bool(_FOLLOW_UP.search(q))


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
