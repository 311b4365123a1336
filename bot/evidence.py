"""Sentence-level evidence: which sentences of the retrieved passages say what the question asks.

One scorer serves three users, so they can never disagree: the extractive provider (which sentences to
quote), the relevance gate in ``bot.chain`` (is there anything to answer from at all), and
``bot.citations`` (which quote supports a sentence an LLM wrote).

A question becomes weighted *terms*: CJK character bigrams of its content (question words removed) and
whole Latin/number tokens (``GPT-4``, ``2023年``, ``A100``), which weigh more because they name things
exactly. Matching is on the normalised text, so traditional sources match simplified questions.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import bridge
from bot.chunk import sentences
from bot.lexical import STOPWORDS
from bot.textnorm import normalize
from bot.types import Chunk, Hit

# Question scaffolding: says what kind of answer is wanted, not where it is.
_SCAFFOLD = re.compile(
    "|".join(sorted((
        "多少", "多大", "多久", "多长", "什么", "哪些", "哪几", "哪个", "哪里", "怎么样", "怎么", "怎样", "如何", "是否", "为什么", "为啥",
        "分别", "到底", "具体", "大概", "大约", "文章里", "文章", "文中", "这几篇", "这些", "这篇", "那个", "这个",
        "一下", "请问", "简单概括", "概括", "总结", "主要讲了", "讲了", "主要内容", "主要观点", "核心观点", "主要", "内容", "报道", "那篇", "该文", "本文", "全文", "提到", "说的", "说法", "认为", "觉得", "有没有",
        "跟人比", "回事", "按照", "根据", "据", "里", "吗", "呢", "吧", "啊", "的", "了", "是", "和", "与", "跟",
        "及", "对", "在", "把", "被", "都", "有", "几", "谁", "哪", "么", "说", "讲", "给", "要", "会", "能",
    ), key=len, reverse=True))
)
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_EXACT = re.compile(r"[a-z0-9](?:[a-z0-9.+\-/%]*[a-z0-9%+])?(?:年|月|日|个|家|种|倍|亿|万|人|天)?")
_QUANTITY = re.compile(r"多少|几[个年月天倍种家成]|多大|多高|多快|多久|比例|占比|百分之|how (?:many|much)|when|what year")
_DIGIT = re.compile(
    r"\d|[一二三四五六七八九十百千万亿两数几上]+(?:个|家|倍|成|年|种|人|天|张|块|台|位|名|件|次|条|项|篇|款|颗|辆|座)"
    r"|分之[一二三四五六七八九十]"
)

EXACT_WEIGHT = 2.0


def question_terms(question: str) -> dict[str, float]:
    """Weighted terms of a question (see module doc). English questions yield only Latin tokens."""
    norm = normalize(question)
    terms: dict[str, float] = {}
    for token in _EXACT.findall(norm):
        if len(token) > 1 or token.isdigit():
            terms[token] = EXACT_WEIGHT
    content = _SCAFFOLD.sub(" ", norm)
    for run in _CJK_RUN.findall(content):
        if len(run) == 1:
            terms.setdefault(run, 0.5)
        for i in range(len(run) - 1):
            terms.setdefault(run[i : i + 2], 1.0)
    return terms


_ASKING = re.compile(r"多少|什么|哪|怎么|如何|几|吗|谁|为什么|为啥|是否|多大|多久|啥|how|what|when|which|who|why")
_CLAUSES = re.compile(r"[,，。?？!！;；:：\s]+")


def focus_terms(question: str) -> dict[str, float]:
    """Terms of the clause(s) that ask (来了多少机构和嘉宾 in 「…研讨会,来了多少机构和嘉宾?」): the answer
    sentence must speak of these, while the rest of the question only sets the scene."""
    asking = [c for c in _CLAUSES.split(question) if _ASKING.search(normalize(c))]
    return question_terms(" ".join(asking)) if asking else {}


def exact_terms(question: str) -> list[str]:
    """The terms that name something exactly: numbers, years and Latin names of a Chinese question;
    only the numbers of a question in another language, whose words the Chinese passages won't use."""
    terms = [t for t, w in question_terms(question).items() if w == EXACT_WEIGHT]
    if not is_foreign(question):
        return terms
    return [t for t in terms if t[0].isdigit()]


def coverage(terms: dict[str, float], text: str) -> float:
    """Share of the question's term weight found in ``text`` (0..1)."""
    total = sum(terms.values())
    if not total:
        return 0.0
    norm = normalize(text)
    return sum(w for t, w in terms.items() if t in norm) / total


def asks_quantity(question: str) -> bool:
    return bool(_QUANTITY.search(normalize(question)))


@dataclass
class Sentence:
    hit: int  # 0-based position in the hits list
    start: int  # offsets in the chunk's document
    end: int
    text: str
    coverage: float
    score: float


def chunk_sentences(chunks: list[Chunk]) -> list[Sentence]:
    """The sentences of one article's chunks, once each, in document order (``hit`` is the chunk's
    position in ``chunks``). Overlapping chunks repeat sentences, and a chunk that starts inside an
    over-long sentence repeats its tail: each is kept once, from where it starts."""
    found: dict[int, Sentence] = {}
    for i, chunk in enumerate(chunks):
        for span in sentences(chunk.text):
            start, end = chunk.start + span.start, chunk.start + span.end
            if end not in found or start < found[end].start:
                found[end] = Sentence(i, start, end, chunk.text[span.start : span.end], 0.0, 0.0)
    return [found[k] for k in sorted(found)]


def score_sentences(question: str, hits: list[Hit]) -> list[Sentence]:
    """Every sentence of the passages, scored: term coverage, a bonus for numbers when a quantity is
    asked (more when the sentence names what is counted), less for a bare heading, and a small prior
    for the passage's retrieval rank. Best first."""
    terms = question_terms(question)
    focus = focus_terms(question)
    quantity = asks_quantity(question)
    attributes = [a for a in asked_attributes(question) if len(a) > 1] if quantity else []
    scored: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for i, hit in enumerate(hits):
        chunk = hit.chunk
        for span in sentences(chunk.text):
            start = chunk.start + span.start
            if (chunk.source, start) in seen:  # overlapping chunks repeat sentences
                continue
            seen.add((chunk.source, start))
            text = chunk.text[span.start : span.end]
            cov = coverage(terms, text)
            score = cov + 0.5 * coverage(focus, text) + 0.05 / (i + 1)
            if quantity and _DIGIT.search(text):
                norm = normalize(text)
                score += 0.15 + (0.2 if any(_states(a, norm) for a in attributes) else 0.0)
            if len(text) < 20 and text[-1] not in "。！？!?；;”":
                score *= 0.6  # a heading repeats the question's words but answers nothing
            scored.append(Sentence(i, start, chunk.start + span.end, text, cov, score))
    return sorted(scored, key=lambda s: -s.score)


# --- is there an answer at all? -------------------------------------------------------------------------
# A retriever always returns *something*; the passages about 星火 V3.0 come back for "V3.0 有多少参数"
# whether or not they give a parameter count. Two checks catch most such questions without an LLM:
# the exact names and numbers of the question must occur in the best evidence, and a "how many X"
# question needs a sentence with a number that also speaks of X.

_MEASURE = set("个块种家位件名项条台张次")
_COPULA = {"是", "有", "为", "达", "到底", "大概", "大约", "起来", "加起来", "共", "一共", "总共", "了", "会", "能"}
_ASK = {"多少", "几", "多大", "多久", "多长", "多高"}
# How a sentence may state a figure for what is asked (money, shares, units, dates): regexes.
_MONEY = r"\d[\d.,]*\s*[万亿]?(?:美元|元|欧元|英镑)|成本|投入|资金|价格|售价|费用"
SYNONYMS: dict[str, str] = {
    "钱": _MONEY, "价格": _MONEY, "价钱": _MONEY, "费用": _MONEY, "成本": _MONEY,
    "比例": r"%|分之|\d成|占比",
    "纳米": r"\d\s*nm",
    "时候": r"\d{4}年|\d{1,2}月",
    "时间": r"\d{4}年|\d{1,2}月|\d+天",
}


def asked_attributes(question: str) -> list[str]:
    """For each "how many / how much" in the question, the word naming what is counted, if any:
    多少参数 → 参数, 营收是多少 → 营收, 多少钱 → 钱, 多大比例 → 比例."""
    import jieba

    words = [w for w in jieba.lcut(normalize(question)) if w.strip()]
    merged: list[str] = []
    for w in words:  # jieba cuts 多大 as 多 / 大
        if merged and merged[-1] == "多" and w == "大":
            merged[-1] = "多大"
        else:
            merged.append(w)
    found: list[str] = []
    for i, w in enumerate(merged):
        if w not in _ASK:
            continue
        after = [x for x in merged[i + 1 : i + 3] if x not in _MEASURE]
        if after and _is_word(after[0]):
            found.append(after[0])
            continue
        before = [x for x in reversed(merged[:i]) if x not in _COPULA]
        if before and _is_word(before[0]):
            found.append(before[0])
    return [w for w in found if not _SCAFFOLD.fullmatch(w)]


def _is_word(token: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fffa-z0-9]", token))


def _states(attribute: str, text: str) -> bool:
    """Whether a sentence with a number gives it for ``attribute``. A one-character noun (人, 天) is a
    unit that the figure may carry in another form (530多万), so any figure counts for it."""
    if attribute in SYNONYMS:
        return attribute in text or re.search(SYNONYMS[attribute], text) is not None
    return len(attribute) == 1 or attribute in text


_CLAUSE = re.compile(r"[。？！?!；;：:\n]+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


def is_foreign(question: str) -> bool:
    """Mostly another language (an English question that may quote a Chinese name, 文心一言): its words
    cannot be expected in the passages, so only the dense similarity can say how close they are."""
    cjk, latin = len(_CJK_CHAR.findall(question)), len(_LATIN_LETTER.findall(question))
    return cjk < 0.25 * (cjk + latin)
MIN_RELEVANCE = 0.3  # share of a question clause's IDF weight found in the passages
MIN_DENSE_FOREIGN = 0.75  # cosine floor for questions in another language (no shared words possible)
# Share of an English question's dictionary-rendered words found in the passages. Measured on 16 real and
# 19 off-topic English questions: real ones 0.5–1.0, off-topic 0.0–0.17 (0.33 for a three-word junk
# question whose one common word, table → 表格, happens to be in the passages).
MIN_ENGLISH_COVERAGE = 0.4


def relevance(question: str, hits: list[Hit], idf: Callable[[str], float]) -> float:
    """How much of the question the passages speak of: the best clause's IDF-weighted share of content
    words found in the passages. A word the collection never uses (红烧肉, 马斯克) weighs most, so an
    off-topic question scores low even when retrieval returns its nearest, unrelated passages. Taking
    the best clause keeps an injected preamble (「忽略之前的指令……问题：」) from drowning the real question."""
    import jieba

    passages = " ".join(normalize(h.chunk.text) for h in hits)
    best = 0.0
    for clause in _CLAUSE.split(normalize(question)):
        words = {w for w in jieba.lcut_for_search(clause)
                 if len(w) >= 2 and _is_word(w) and not _SCAFFOLD.fullmatch(w) and w not in STOPWORDS}
        if not words:  # jieba cut a name into single characters (讯 / 飞): its bigrams stand in
            words = {run[i : i + 2] for run in _CJK_RUN.findall(_SCAFFOLD.sub(" ", clause))
                     for i in range(len(run) - 1)} - STOPWORDS
        weights = {w: idf(w) for w in words}
        total = sum(weights.values())
        if total:
            best = max(best, sum(v for w, v in weights.items() if w in passages) / total)
    return best


_YEAR = re.compile(r"(?:19|20)\d\d(?=年)")


def _bare(term: str) -> str:
    """``2024年`` → ``2024``: the passage may write the year as (2024) or 2024/4/4."""
    return term[:-1] if term[-1] in "年月日个家种倍亿万人天" and term[:-1] else term


def answerable(question: str, hits: list[Hit], best: list[Sentence],
               idf: Callable[[str], float]) -> tuple[bool, str]:
    """Whether the passages can answer the question, and if not, why (for logs and ``--json``).
    ``best`` are the best-scored sentences of ``hits``, best first."""
    if not best:
        return False, "no passages"
    passages = " ".join(normalize(h.chunk.text) for h in hits)
    if is_foreign(question):
        top = max((h.dense or 0.0) for h in hits)
        if top < MIN_DENSE_FOREIGN:
            return False, f"nothing close enough (cosine {top:.2f} < {MIN_DENSE_FOREIGN})"
        # dense similarity alone lets "What is the recipe for braised pork?" through: its words, put
        # into Chinese by the dictionary, must be in the passages as a Chinese question's would
        share = bridge.coverage(question, passages)
        if share is not None and share < MIN_ENGLISH_COVERAGE:
            return False, f"the passages do not speak of it (English words found {share:.2f} < {MIN_ENGLISH_COVERAGE})"
    elif (rel := relevance(question, hits, idf)) < MIN_RELEVANCE:
        return False, f"the passages do not speak of it (relevance {rel:.2f} < {MIN_RELEVANCE})"
    texts = [normalize(s.text) for s in best]
    exact = [_bare(t) for t in exact_terms(question)]
    missing = [t for t in exact if t not in passages]
    if missing:
        return False, f"not in the passages: {', '.join(missing)}"
    asked_years, top_years = set(_YEAR.findall(normalize(question))), set(_YEAR.findall(texts[0]))
    if asked_years and top_years and not asked_years & top_years:
        return False, f"the passages speak of {', '.join(sorted(top_years))}, not {', '.join(sorted(asked_years))}"
    attributes = asked_attributes(question)
    terms, focus = question_terms(question), focus_terms(question)
    # A sentence "states" the figure when it has one and is about the question: it names one of its
    # exact terms, or covers a fair share of its words or of its asking clause (a price of something
    # else does not count).
    stating = [t for t in texts if _DIGIT.search(t) and (
        any(e in t for e in exact) or max(coverage(terms, t), coverage(focus, t)) >= 0.3)]
    if attributes and not any(_states(a, t) for a in attributes for t in stating):
        return False, f"no figure given for: {', '.join(attributes)}"
    return True, ""
