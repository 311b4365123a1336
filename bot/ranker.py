"""Which sentence of the retrieved passages answers the question: a logistic model over sentence features.

Every sentence of the passages gets features that mean the same on any collection — how much of the
question's terms, asking clause and rarest words it contains, how much of what is asked of the subject
(the terms outside it: the subject's whole article names it) against the sentence saying the most of it,
whether it holds a candidate of the answer type the question expects (a date for 什么时候, a name for 谁)
that the question itself does not already say, how much it adds beyond the question, whether it is a
heading, its passage's retrieval scores, how close the sentence itself, under its article's title, is to
the question by meaning (the embedding cosine, which also carries a question in English) — and the model
fitted on the external sets (``qabot eval fit-ranker``; ``eval/ranker_model.json``) turns them into the
probability that it is the sentence holding the answer. The answer leads with the most probable one.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import lru_cache

from bot import lexicon, logit
from bot.config import ROOT
from bot.chunk import sentences
from bot.evidence import Sentence, coverage, passage_sentences
from bot.question import Question, tagged
from bot.textnorm import normalize
from bot.types import Hit

MODEL_PATH = ROOT / "eval" / "ranker_model.json"
FEATURES = ("terms", "focus", "predicate", "predicate_gap", "words", "passage", "answer_type", "lcs", "novel",
            "position", "rank", "dense", "lexical", "length", "before", "after", "sentence_dense", "sentence_dense_gap")
Similarity = Callable[[str, list[str]], list[float]]  # a question's cosine to texts (Retriever.similarity)
HEADING_CHARS = 20  # shorter and without an ending: a heading or caption, not a sentence
_BYLINE = re.compile(r"^(?:记者|作者|来源|编辑|责任编辑|撰文|文|图)[\s:：|丨]")


def is_heading(text: str, title: str) -> bool:
    """A title line, heading, caption or byline: never an answer sentence."""
    stripped = text.strip()
    ended = stripped[-1:] in lexicon.ENDS  # a one-sentence article's title is that sentence: still a sentence
    return not ended and (len(stripped) < HEADING_CHARS or normalize(stripped) == normalize(title.strip())) \
        or bool(_BYLINE.match(stripped))


_TYPED = {"time": lexicon.TIME, "number": lexicon.NUMBER, "work": lexicon.WORK}


def answer_candidates(question: Question, text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` of the answer type the question expects that the question does not already
    contain (the answer is new to the asker): 1368年 for 哪一年, 88% for 正确率是多少 (not the 26 of the
    question's 26道题), a person's name for 谁. None for "other"."""
    norm, asked = normalize(text), normalize(question.text)
    kind = question.answer_type
    if kind in _TYPED:  # a figure inside a name of the question (the 1236 of TF1236) is not given by it
        return [m.span() for m in _TYPED[kind].finditer(norm)
                if not re.search(rf"(?<![a-z0-9.\-]){re.escape(m.group(0))}(?![0-9.])", asked)]
    if kind in lexicon.ENTITY_TAGS:
        tags, spans, at = lexicon.ENTITY_TAGS[kind], [], 0
        for w, tag in tagged(norm):
            if tag.startswith(tags) and len(w) >= 2 and w not in asked:
                spans.append((at, at + len(w)))
            at += len(w)
        return spans
    return []


def clause_of(text: str, at: int) -> tuple[int, int]:
    """The clause of ``text`` around position ``at`` (between commas, colons or sentence ends)."""
    start = max(text.rfind(c, 0, at) for c in lexicon.CLAUSE_BREAKS) + 1
    ends = [i for i in (text.find(c, at) for c in lexicon.CLAUSE_BREAKS) if i >= 0]
    return start, min(ends, default=len(text))


def answer_candidate(question: Question, text: str) -> tuple[int, int] | None:
    """The candidate (:func:`answer_candidates`) that answers: one in a clause naming what a "how many"
    counts (正确率 of 正确率是多少), if any is, and of those the one whose clause, up to it, says most of
    the question (its terms, names and numbers included) — 「…理性思维的4类测试…GPT-3.5的正确率为58%，
    GPT-4的正确率高达88%」 asked about GPT-4 gives 88% — the first of equals."""
    found = answer_candidates(question, text)
    if not found:
        return None
    norm = normalize(text)

    def asked_weight(span: tuple[int, int]) -> tuple[bool, float]:
        start, end = clause_of(norm, span[0])
        names_counted = any(a in norm[start:end] for a in question.attributes)
        said = norm[start : span[1]]
        return names_counted, coverage(question.terms, said) + question.coverage(said)

    return max(found, key=asked_weight)


def has_answer_type(question: Question, text: str) -> bool:
    return bool(answer_candidates(question, text))


def answer_span(question: Question, answer: str) -> str | None:
    """The part of the answer's first sentence that answers (emphasised in the chat)."""
    spans = sentences(answer)
    if not spans:
        return None
    first = answer[spans[0].start : spans[0].end]
    found = answer_candidate(question, first)
    if found is None:
        return None
    return first[found[0] : found[1]].strip() or None


def features(question: Question, hits: list[Hit], sentences: list[Sentence],
             similarity: Similarity | None = None) -> list[dict[str, float | None]]:
    """The features of each sentence (see module doc), in the order given; ``similarity``: the index's
    embedding cosine, without which the sentences' own cosines are not observed."""
    asked = normalize(question.text)
    asked_chars = set(asked)
    top_lexical = max((h.lexical or 0.0 for h in hits), default=0.0) or 1.0
    passage_cover = {}
    cover = [question.coverage(s.text) for s in sentences]
    predicate = [coverage(question.predicate, s.text) for s in sentences]
    best_predicate = max(predicate, default=0.0)
    # each sentence under its article's title: a sentence of the subject's article is about the subject
    # even when it says 它 or nothing (湖水主要来自冰川融水 in 白沙湖), so the title carries it
    cosines = (similarity(question.text, [f"{hits[s.hit].chunk.title}\n{s.text}" for s in sentences])
               if similarity and sentences else None)
    out = []
    for n, s in enumerate(sentences):
        hit = hits[s.hit]
        norm = normalize(s.text)
        if s.hit not in passage_cover:
            passage_cover[s.hit] = question.coverage(f"{hit.chunk.title} {hit.chunk.text}")
        content = [ch for ch in norm if lexicon.WORD_CHAR.match(ch)]
        lcs = SequenceMatcher(None, asked, norm, autojunk=False).find_longest_match(0, len(asked), 0, len(norm)).size
        words = cover[n]
        out.append({
            "terms": words if question.foreign else coverage(question.terms, s.text),
            "focus": words if question.foreign else coverage(question.focus, s.text),
            # what is asked of the subject, absolutely and against the sentence that says most of it
            "predicate": None if question.foreign else predicate[n],
            "predicate_gap": None if question.foreign else predicate[n] - best_predicate,
            "words": words,
            "passage": passage_cover[s.hit],
            # only a question that asks for a kind of answer (a year, a name) can find it or miss it
            "answer_type": None if question.answer_type == "other" else float(has_answer_type(question, s.text)),
            # character overlap means nothing between an English question and a Chinese sentence
            "lcs": None if question.foreign else lcs / max(1, len(asked)),
            "novel": None if question.foreign else sum(ch not in asked_chars for ch in content) / max(1, len(content)),
            "position": 1.0 / (1.0 + s.start / 200.0),
            "rank": 1.0 / (s.hit + 1),
            "dense": hit.dense or 0.0,
            "lexical": (hit.lexical or 0.0) / top_lexical,
            "length": math.log1p(len(s.text)),
            # the question may be worded after the sentence around the answer (同年12月 … → the year before)
            "before": cover[n - 1] if n and sentences[n - 1].hit == s.hit else 0.0,
            "after": cover[n + 1] if n + 1 < len(sentences) and sentences[n + 1].hit == s.hit else 0.0,
            # by meaning, in any language: the sentence itself against the question, and against the closest
            "sentence_dense": None if cosines is None else cosines[n],
            "sentence_dense_gap": None if cosines is None else cosines[n] - max(cosines),
        })
    return out


@lru_cache(maxsize=1)
def model() -> logit.Logit:
    return logit.load(MODEL_PATH, FEATURES)


def second_ratio() -> float:
    """How close to the best sentence's probability another must come to be quoted too (fitted with the
    ranker for the shortest answers that keep the most facts; ``qabot eval fit-ranker``)."""
    return float(model().about.get("second_ratio", 1.0))


def candidates(hits: list[Hit]) -> list[Sentence]:
    """The sentences of the passages that could answer: every one but titles, headings and bylines."""
    return [s for s in passage_sentences(hits) if not is_heading(s.text, hits[s.hit].chunk.title)]


def rank(question: Question, hits: list[Hit], fitted: logit.Logit | None = None,
         similarity: Similarity | None = None) -> list[Sentence]:
    """The candidate sentences of the passages with their probability of answering (``score``), best first."""
    fitted = fitted or model()
    found = candidates(hits)
    for s, x in zip(found, features(question, hits, found, similarity)):
        s.score, s.cosine = fitted.probability(x), x["sentence_dense"]
    return sorted(found, key=lambda s: -s.score)
