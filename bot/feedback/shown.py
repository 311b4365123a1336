"""Answers as the chat showed them, kept per app process under an id their chat message carries.

A rating must name exactly the answer the reader saw — its question, the standalone question it was
searched as, its citations, the provider and code that made it — and asking again would not give it back
(another provider, a changed index, an LLM's wording). So the chat puts a random id in the answer
message's metadata and keeps the answer here; the like event reads the id back from the liked message.
The ids are random, so nobody can rate an answer they were not shown, and the browser never sends back
the answer itself, so it cannot forge one either.

Kept in memory, newest ``capacity`` answers: an answer from before a restart (or far back on a busy
server) can no longer be rated, and the chat says so.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.types import Answer

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> str:
    """The current UTC time as stored: ISO 8601 to the second, as eval's summaries write it."""
    return datetime.now(UTC).strftime(TIME_FORMAT)


@dataclass(frozen=True)
class Shown:
    """One answer the chat showed, with everything a rating of it records."""

    id: str
    question: str
    rewritten: str | None
    answer: str
    refused: bool
    provider: str
    notice: str | None
    citations: list[dict[str, Any]]  # Answer.to_dict()["citations"]
    retrieved: list[dict[str, Any]]  # Answer.to_dict()["retrieved"]: where the chain looked
    commit: str  # git commit of the code that answered ("" outside a checkout)
    answered_at: str = field(default_factory=now)

    @classmethod
    def of(cls, answer: Answer, commit: str) -> Shown:
        data = answer.to_dict()
        return cls(id=secrets.token_hex(8), question=answer.question, rewritten=answer.rewritten,
                   answer=answer.text, refused=answer.refused, provider=answer.provider, notice=answer.notice,
                   citations=data["citations"], retrieved=data["retrieved"], commit=commit)

    @property
    def standalone(self) -> str:
        """The question as it was searched: what asking it again without the chat history means."""
        return self.rewritten or self.question


class Recent:
    """The newest ``capacity`` shown answers by id; safe to use from the queue's worker threads."""

    def __init__(self, capacity: int, commit: str):
        self.capacity = capacity
        self.commit = commit
        self._answers: OrderedDict[str, Shown] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer: Answer) -> str:
        """Keep ``answer``; returns the id its chat message must carry."""
        shown = Shown.of(answer, self.commit)
        with self._lock:
            self._answers[shown.id] = shown
            while len(self._answers) > self.capacity:
                self._answers.popitem(last=False)
        return shown.id

    def get(self, answer_id: str) -> Shown | None:
        with self._lock:
            return self._answers.get(answer_id)
