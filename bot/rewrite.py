"""Follow-up questions → standalone questions, before retrieval.

「那美国呢？」 or 「他还说了什么？」 mean nothing to a retriever on their own, and glued to the question
before them they find that question's answer again. Without an LLM the subject is carried over
deterministically, by what kind of follow-up it is:

- it only names a new subject (「那美国呢？」「2023年呢？」): that subject replaces the previous question's
  term of the same kind (a place for a place, 我国 → 美国; a person for a person; an organisation; a year
  for a year), else its first person, organisation or product name (the tagger mixes those up);
- it points with a pronoun (「他还说了什么？」): the pronoun becomes the name it stands for, the last one
  of that kind in the previous question (else the first in the previous answer);
- it is elliptical (「为什么？」「具体呢？」): it is read after the previous question.

The previous question is itself made standalone first, so a chain of follow-ups keeps its subject. The
rewritten question is shown to the user, so the step is never hidden.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot import lexicon
from bot.question import is_follow_up, tagged
from bot.textnorm import normalize

MAX_CARRIED = 3  # earlier turns a chain of follow-ups reaches back through at most
# Kinds that stand in for one another when the previous question has none of the new subject's own kind:
# jieba tags many companies as people (华为 nr) and products as either, so 那华为呢 may replace either.
AGENTS = frozenset({"person", "org", "name"})


@dataclass(frozen=True)
class Name:
    """A name (or year) in a text: where it is and what kind of thing it names."""

    text: str
    kind: str  # person | place | org | name | year
    start: int


@dataclass(frozen=True)
class Standalone:
    """A follow-up made standalone; ``swap`` = (the previous question's term, the follow-up's subject put
    in its place) when it named a new subject, which the answer must then speak of."""

    text: str
    swap: tuple[str, str] | None = None


def condense(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """The question to retrieve for: itself when it stands alone, else made standalone from the turns before."""
    return standalone(question, history).text


def standalone(question: str, history: Sequence[tuple[str, str]] | None,
               llm: Callable[[str, Sequence[tuple[str, str]], Standalone], Standalone] | None = None) -> Standalone:
    """``condense``, saying also which subject a follow-up swapped in. ``llm``: a model's rewrite of a
    follow-up (``bot.llm_rewrite``), given this one as its fallback."""
    if not history or not is_follow_up(question):
        return Standalone(question)
    turns = [(u.strip(), a or "") for u, a in history if u and u.strip()][-MAX_CARRIED:]
    if not turns:
        return Standalone(question)
    previous = condense(turns[-1][0], turns[:-1])
    made = substitute(question.strip(), previous, turns[-1][1])
    return llm(question.strip(), turns, made) if llm else made


def substitute(question: str, previous: str, previous_answer: str = "") -> Standalone:
    """``question`` made standalone from the ``previous`` (standalone) question and its answer."""
    norm = normalize(question)
    swap = lexicon.FOLLOW_UP_SWAP.fullmatch(norm)
    if swap and not lexicon.ASKING.search(swap.group("subject")):
        subject = _original(question, norm, swap.start("subject"), swap.end("subject"))
        swapped = _swap(subject, previous)
        if swapped:
            return swapped
    pointed = _resolve_pronoun(question, previous, previous_answer)
    return Standalone(pointed or f"{previous} {question}")


def names(text: str) -> list[Name]:
    """The names and years of ``text`` in order, each with its kind: jieba's person / place /
    organisation tags (``bot.lexicon.ENTITY_TAGS``, 我国 as a place), whole Latin tokens (GPT-3.5), short
    quoted terms (“超级员工”), years. A name inside a longer one is left out."""
    norm = normalize(text)
    same = len(text) == len(norm)
    found: list[Name] = []

    def add(start: int, end: int, kind: str) -> None:
        found.append(Name(text[start:end] if same else norm[start:end], kind, start))

    at = 0
    for word, tag in tagged(norm):
        start, at = at, at + len(word)
        kind = _kind(word, tag)
        if kind:
            add(start, at, kind)
    for token in lexicon.EXACT.finditer(norm):
        if lexicon.LATIN_LETTER.search(token.group(0)) and len(token.group(0)) >= 2:
            add(token.start(), token.end(), "name")
    for quoted in lexicon.QUOTED_NAME.finditer(norm):
        add(quoted.start(1), quoted.end(1), "name")
    for year in lexicon.YEAR.finditer(norm):
        add(year.start(), year.end() + 1, "year")
    found.sort(key=lambda n: (n.start, -len(n.text)))
    kept: list[Name] = []
    for n in found:
        if not kept or n.start >= kept[-1].start + len(kept[-1].text):
            kept.append(n)
    return kept


def _kind(word: str, tag: str) -> str | None:
    if word in lexicon.HOME_PLACES:
        return "place"
    for kind, tags in lexicon.ENTITY_TAGS.items():
        if tag in tags:
            return kind
    return "name" if tag in lexicon.OTHER_NAME_TAGS and len(word) >= 2 else None


def _original(text: str, norm: str, start: int, end: int) -> str:
    """The span of ``text`` that normalises to ``norm[start:end]`` (the same when lengths agree)."""
    return (text if len(text) == len(norm) else norm)[start:end].strip()


def _swap(subject: str, previous: str) -> Standalone | None:
    """The previous question about ``subject`` instead (see module doc); None when ``subject`` is not one name."""
    own = names(subject)
    if len(own) != 1 or own[0].text != subject.removesuffix("的"):
        return None  # not one name (「那参数呢」「AI算力占比呢」): read it after the previous question instead
    kind = own[0].kind
    theirs = names(previous)
    target = next((n for n in theirs if n.kind == kind), None) or next(
        (n for n in theirs if {n.kind, kind} <= AGENTS), None)
    if target is None:
        return None
    new = own[0].text
    text = previous[: target.start] + new + previous[target.start + len(target.text):]
    return Standalone(text, (target.text, new) if target.text != new else None)


def _resolve_pronoun(question: str, previous: str, previous_answer: str) -> str | None:
    """``question`` with its first pronoun replaced by the name it stands for, if one is found. A pronoun
    counts only as whole words (其他 holds 他 but points at no one)."""
    norm = normalize(question)
    bounds, at = {0}, 0
    for word, _tag in tagged(norm):
        at += len(word)
        bounds.add(at)
    spans = [(i, i + len(p), p) for p in sorted(lexicon.PRONOUNS, key=len, reverse=True)
             for i in range(len(norm)) if norm.startswith(p, i) and i in bounds and i + len(p) in bounds]
    for start, end, pronoun in sorted(spans):
        kinds = lexicon.PRONOUNS[pronoun]
        referent = _referent(kinds, previous, previous_answer)
        if referent:
            text = question if len(question) == len(norm) else norm
            return text[:start] + referent + text[end:]
    return None


def _referent(kinds: tuple[str, ...], previous: str, previous_answer: str) -> str | None:
    """The name a pronoun of these kinds stands for. After a question that asked for a name (「华傲数据的
    董事长是谁？」) it is the one its answer brought; otherwise the last one the previous question named,
    else the first its answer named."""
    asked = [n.text for n in names(previous) if n.kind in kinds]
    brought = [n.text for n in names(previous_answer) if n.kind in kinds and n.text not in previous]
    if lexicon.ASKS_NAME.search(normalize(previous)):
        return next(iter(brought + asked[::-1]), None)
    return next(iter(asked[::-1] + brought), None)
