"""Ratings → eval items in ``bot/eval/dataset.py``'s format, so readers' verdicts become regression items.

- 👍 on an answer: the reader confirms it. The item asks the *standalone* question (eval asks without
  the chat history, so 「那美国呢？」 alone would mean nothing) and expects the answer again: each of its
  sentences is a key fact, acceptable as the sentence itself or as the quote it cites (an LLM may word
  it either way); the cited quotes are the evidence and the cited articles the sources; ``multi_doc``
  when it cites several articles, ``fact`` otherwise.
- 👍 on a refusal: the reader confirms the articles do not say it: an ``unanswerable`` item.
- 👎: the reader says it is wrong, not what is right; only someone who reads the articles can say. So a
  👎 becomes a line of the *review* file: the same format, ``"review": true``, the comments, the rated
  answer and the passages the chain looked at, and empty gold fields. ``qabot eval --dataset`` on that
  file names what each line still lacks; a completed line is moved into a set.

Every 👍 item is checked with the eval loader's own :func:`~bot.eval.dataset.check_row`; one that would not
load goes to the review file instead. Ratings of the same question (after normalisation) are merged into
one line per verdict, from the latest rating, with every comment kept.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.citations import split_claims
from bot.eval.dataset import UNANSWERABLE, check_row
from bot.feedback.store import Rating
from bot.textnorm import compact


@dataclass(frozen=True)
class Export:
    items: list[dict[str, Any]]  # ready eval items (👍)
    review: list[dict[str, Any]]  # lines a reviewer completes (👎, and 👍 that would not load)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v and v.strip()))


def gold(rating: Rating) -> dict[str, Any]:
    """What a confirmed answer makes the gold: reference answer, key facts, sources, evidence, type."""
    shown = rating.shown
    if shown.refused:
        return {"answer": shown.answer, "key_facts": [], "sources": [], "evidence": [], "type": UNANSWERABLE}
    quotes = {c["n"]: c["quote"] for c in shown.citations}
    claims = split_claims(shown.answer)
    sources = _unique(c["source"] for c in shown.citations)
    return {
        "answer": "".join(claim.text for claim in claims),
        "key_facts": [_unique([claim.text, *(quotes.get(i + 1, "") for i in claim.cited)]) for claim in claims],
        "sources": sources,
        "evidence": _unique(c["quote"] for c in shown.citations),
        "type": "multi_doc" if len(sources) > 1 else "fact",
    }


def _provenance(rating: Rating) -> dict[str, Any]:
    """The rated answer as the reader saw it, and which code made it: for whoever reviews the line."""
    shown = rating.shown
    return {"vote": rating.vote, "asked": shown.question, "rewritten": shown.rewritten, "answer": shown.answer,
            "refused": shown.refused, "provider": shown.provider, "notice": shown.notice,
            "citations": shown.citations, "commit": shown.commit, "answered_at": shown.answered_at,
            "rated_at": rating.rated_at}


def line(rating: Rating, comments: list[str]) -> dict[str, Any]:
    """One JSONL line: a ready item for a 👍 that loads, else a line for review with empty gold."""
    head = {"id": f"fb-{rating.shown.id}", "question": rating.shown.standalone}
    if rating.vote == "up":
        item = {**head, **gold(rating)}
        if not check_row(item):
            return {**item, "review": False, "comment": "\n".join(comments), "feedback": _provenance(rating)}
    blank = {"answer": "", "key_facts": [], "sources": [], "evidence": [], "type": "fact"}
    return {**head, **blank, "review": True, "comment": "\n".join(comments),
            "feedback": {**_provenance(rating), "retrieved": rating.shown.retrieved}}


def build(ratings: Iterable[Rating]) -> Export:
    """Ratings (oldest first) → one line per question and verdict, split into ready items and review."""
    groups: dict[tuple[str, str], list[Rating]] = {}
    for rating in ratings:
        groups.setdefault((rating.vote, compact(rating.shown.standalone)), []).append(rating)
    items: list[dict[str, Any]] = []
    review: list[dict[str, Any]] = []
    for group in groups.values():
        row = line(group[-1], _unique(r.comment for r in group))
        (review if row["review"] else items).append(row)
    return Export(items, review)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
