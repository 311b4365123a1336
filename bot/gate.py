"""The relevance gate: can the retrieved passages answer the question, or must the bot say it cannot?

A retriever always returns *something*. Whether that something answers is decided by a logistic model
over features that mean the same on five articles or on a hundred thousand chunks: how much of the
question's IDF weight the best passages (with their titles) and the best sentence hold, whether the
question's subject is there at all, whether the best sentences hold the kind of answer asked for (a
date, a figure, a name), how close the best passage and the best sentences themselves are by meaning
(cosine; an English question's, whose cosines to Chinese passages all sit lower, raised by the measured
gap; the subject's passage is close to any question about it, the sentence that answers is closer) and
by words (BM25 as a share of the question's own best possible score), whether exact names and numbers
of the question are missing, whether the year asked and the year stated differ, and the sentence
ranker's confidence.
Not how far the best passage stands out from the next: in any small collection of unlike articles it
stands out whatever is asked of its subject. The weights and the threshold are fitted on the external
sets (``qabot eval fit-gate``) and committed as data (``eval/gate_model.json``); the threshold is the
one that keeps false refusals at the fitted target.

The :class:`Decision` says why: the probability, the threshold, each feature's value and contribution,
and what the passages lack.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from bot import lexicon, logit
from bot.config import ROOT
from bot.evidence import Sentence
from bot.lexical import tokenize
from bot.question import Question
from bot.ranker import has_answer_type
from bot.textnorm import normalize
from bot.types import Hit

MODEL_PATH = ROOT / "eval" / "gate_model.json"
FEATURES = ("best", "sentence", "passage", "subject", "answer_type", "dense", "sentence_dense", "lexical",
            "exact_missing", "exact_unsaid", "year_mismatch", "figure_missing", "agree")
# What each feature means, for the 「为什么没有回答」 panel.
FEATURE_LABELS = {
    "best": "没有哪句话像是答案", "sentence": "最相关的句子不涉及问题的关键词", "passage": "段落缺少问题的关键词",
    "subject": "段落中没有问题所问的对象", "answer_type": "没有所问类型的答案（时间、数字、人名等）",
    "dense": "段落与问题的意思相差较远", "sentence_dense": "最相关的句子与问题的意思相差较远", "lexical": "关键词匹配较弱",
    "exact_missing": "问题中的名称或数字不在资料中", "exact_unsaid": "最相关的句子没有提到问题中的名称或数字",
    "year_mismatch": "资料说的是另一年",
    "figure_missing": "资料没有给出所问的数字", "agree": "两种检索找到的文章不一致",
}
# Features whose direction is known whatever the data: something the question asks for is missing.
MONOTONE = {"exact_missing": -1, "exact_unsaid": -1, "year_mismatch": -1, "figure_missing": -1, "subject": 1, "answer_type": 1}
TOP_SENTENCES = 3  # the best sentences the answer-type and figure checks look at
SWAP_WINDOW = 12  # characters after a follow-up's new subject in which what is asked must follow


class Index(Protocol):
    """What the gate needs of the index (``bot.retrieve.Retriever``)."""

    def lexical_ceiling(self, text: str) -> float: ...


@dataclass
class Decision:
    answerable: bool
    probability: float
    threshold: float
    features: dict[str, float | None] = field(default_factory=dict)  # None: not observable for this question
    contributions: dict[str, float] = field(default_factory=dict)  # to the log-odds; negative: towards refusing
    missing: list[str] = field(default_factory=list)  # subject terms, names or numbers the passages lack
    reason: str = ""  # for people, in Chinese

    def to_dict(self) -> dict:
        drivers = sorted(self.contributions.items(), key=lambda kv: kv[1])
        return {
            "answerable": self.answerable,
            "probability": round(self.probability, 4),
            "threshold": round(self.threshold, 4),
            "missing": self.missing,
            "reason": self.reason,
            "features": {k: None if v is None else round(v, 4) for k, v in self.features.items()},
            # the features that pushed hardest towards refusing, then towards answering
            "drivers": [{"feature": k, "contribution": round(v, 3)} for k, v in drivers[:3] + drivers[-2:][::-1]
                        if abs(v) >= 0.05],
        }


def _states_figure(attribute: str, text: str) -> bool:
    """Whether a sentence with a figure gives it for ``attribute``: naming it, or a piece of it (人口 of
    人口数量, 纬度 of 经纬度), or with a unit of its dimension (米 for 公尺). A one-character noun such as 人
    is a unit the figure may carry in another form: any figure counts."""
    if attribute in lexicon.FIGURE_FORMS and re.search(lexicon.FIGURE_FORMS[attribute], text):
        return True
    pieces = [attribute] if len(attribute) < 3 else [attribute[i : i + 2] for i in range(len(attribute) - 1)]
    return len(attribute) == 1 or any(p in text for p in pieces)


@dataclass
class _Evidence:
    """What the checks look at: the best sentences, the best one's article (its retrieved
    passages and title) and all passages, normalised."""

    answers: list[Sentence]
    article: str
    passages: str

    @classmethod
    def of(cls, hits: list[Hit], ranked: list[Sentence]) -> _Evidence:
        answers = ranked[:TOP_SENTENCES]
        source = hits[answers[0].hit].chunk.source if answers else None
        article = " ".join(f"{h.chunk.title} {h.chunk.text}" for h in hits if h.chunk.source == source)
        return cls(answers, article, " ".join(normalize(f"{h.chunk.title} {h.chunk.text}") for h in hits))

    def missing(self, question: Question) -> list[str]:
        """Subject terms the best article lacks, and exact names and numbers no passage has."""
        lacking = question.missing_subject(self.article) + [t for t in question.exact if t not in self.passages]
        return list(dict.fromkeys(lacking))


def features(question: Question, hits: list[Hit], ranked: list[Sentence], index: Index,
             ev: _Evidence | None = None, foreign_shift: float = 0.0) -> dict[str, float | None]:
    """The gate's features for these passages (see module doc); ``ev``: their evidence, if already cut;
    ``foreign_shift``: how much lower an English question's cosines sit than the same question's in
    Chinese (measured by ``qabot eval fit-gate`` on translated questions), added back to its cosine."""
    ev = ev or _Evidence.of(hits, ranked)
    answers, article, passages = ev.answers, ev.article, ev.passages
    best = answers[0] if answers else None
    subject = question.subject
    dense = max((h.dense for h in hits if h.dense is not None), default=None)
    by_dense = max(hits, key=lambda h: h.dense if h.dense is not None else -1.0)
    by_lexical = max(hits, key=lambda h: h.lexical or 0.0)
    top_lexical = by_lexical.lexical or 0.0
    ceiling = index.lexical_ceiling(question.text)
    texts = [normalize(s.text) for s in answers]
    years = set(lexicon.YEAR.findall(texts[0])) if texts else set()
    stating = [t for t in texts if lexicon.FIGURE.search(t)]
    shift = foreign_shift if question.foreign else 0.0
    cosines = [s.cosine for s in answers if s.cosine is not None]
    return {
        # the ranker is fitted on Chinese questions: its confidence on another language's is not comparable
        "best": None if question.foreign else (best.score if best else 0.0),
        "sentence": question.coverage(best.text) if best else 0.0,
        "passage": max((question.coverage(f"{h.chunk.title} {h.chunk.text}") for h in hits), default=0.0),
        "subject": 1.0 - len(question.missing_subject(article)) / len(subject) if subject and best else float(bool(best)),
        "answer_type": None if question.answer_type == "other" else float(any(has_answer_type(question, s.text)
                                                                                for s in answers)),
        "dense": dense + shift if dense is not None else 0.0,
        # the best sentences' own closeness by meaning: a passage about the subject is close to any question
        # of it, the sentence that answers closer (not closer enough to tell 董事长 from 总经理: README)
        "sentence_dense": max(cosines) + shift if cosines else None,
        # BM25 cannot match a question in another language: not observed, not counted against it
        "lexical": None if question.foreign else (top_lexical / ceiling if ceiling else 0.0),
        "exact_missing": (sum(t not in passages for t in question.exact) / len(question.exact)) if question.exact else 0.0,
        # names and numbers of the question the best sentences do not say (2023 asked, 2022 stated)
        "exact_unsaid": (sum(all(t not in x for x in texts) for t in question.exact) / len(question.exact))
        if question.exact and texts else 0.0,
        "year_mismatch": float(bool(question.years and years and not question.years & years)),
        "figure_missing": float(bool(question.attributes) and not any(
            _states_figure(a, t) for a in question.attributes for t in stating)),
        "agree": None if question.foreign else float(by_dense.chunk.source == by_lexical.chunk.source and top_lexical > 0),
    }


def speaks_of_swap(question: Question, best: Sentence) -> bool:
    """Whether a follow-up's new subject (美国 in 「那美国呢？」) is what the best sentence, the one an answer
    leads with, is about. A sentence still naming the replaced term (我国) answered the question before,
    and mentioning 美国 in passing (排名在美国之后) does not make it an answer about 美国, unless what is
    asked follows the new subject closely (GPT-3.5的正确率为58%, GPT-4的正确率高达88%)."""
    old, new = (normalize(t) for t in question.swap or ("", ""))
    text = normalize(best.text)
    if not new or new not in text:
        return False
    if old not in text:
        return True
    after = [text[m.end(): m.end() + SWAP_WINDOW] for m in re.finditer(re.escape(new), text)]
    return any(a in piece for a in question.attributes for piece in after)


@lru_cache(maxsize=1)
def model() -> logit.Logit:
    return logit.load(MODEL_PATH, FEATURES)


def decide(question: Question, hits: list[Hit], ranked: list[Sentence], index: Index,
           fitted: logit.Logit | None = None) -> Decision:
    """Answer or refuse, and why."""
    fitted = fitted or model()
    if not question.text or not hits or not ranked:
        why = "问题中没有可检索的内容。" if not question.text else "资料库中没有找到相关段落。"
        return Decision(False, 0.0, fitted.threshold, reason=why)
    ev = _Evidence.of(hits, ranked)
    x = features(question, hits, ranked, index, ev, float(fitted.about.get("foreign_dense_shift", 0.0)))
    p, contributions = fitted.probability(x), fitted.contributions(x)
    ok = p >= fitted.threshold
    missing = ev.missing(question)
    if ok and question.swap and not speaks_of_swap(question, ranked[0]):
        ok, missing = False, [question.swap[1]]
    # An English question is answered from a sentence that holds one of its words in some rendering: its
    # cosine alone cannot tell an off-topic question (or a shell command) from a real one (bot.bridge).
    unfound = ok and question.foreign and not x["sentence"]
    ok = ok and not unfound
    if ok:
        reason = ""
    elif unfound:
        reason = "最相关的句子里没有问题中的任何词语（英文问题按其中文译法查找）。"
    elif missing:
        reason = f"资料中没有提到「{'、'.join(missing)}」。"
    elif question.subject and (unsaid := question.unsaid(ev.article)):
        reason = f"资料提到了「{'、'.join(question.subject)}」，但没有说到「{'、'.join(unsaid)}」。"
    else:
        reason = _unstated(question, contributions) or \
            f"找到的段落与问题关联不够（把握 {p:.2f}，低于 {fitted.threshold:.2f}）。"
    return Decision(ok, p, fitted.threshold, x, contributions, missing if not ok else [], reason)


def _unstated(question: Question, contributions: dict[str, float]) -> str:
    """The reason for people when what weighed most against answering is that no best sentence gives the
    figure asked for (华傲数据2022年营收是多少？ of an article that gives no revenue)."""
    against, weight = min(contributions.items(), key=lambda kv: kv[1], default=("", 0.0))
    return f"资料没有给出「{'、'.join(question.attributes)}」的数字。" if against == "figure_missing" and weight < 0 else ""
