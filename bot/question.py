"""What a question asks, decided once: every later stage (retrieval, the relevance gate, the sentence
ranker, the providers, citations) reads the :class:`Question` built here and derives nothing again.

A question becomes:

- the text to search (markup removed; a follow-up rewritten into a standalone question),
- its language and script (an English question shares no words with Chinese passages),
- its intents (a whole article, the whole collection, a list, several articles, a figure, a follow-up),
- weighted *terms* for sentence matching: CJK bigrams of its content and whole Latin/number tokens,
  which weigh more because they name things exactly (``GPT-4``, ``2023年``),
- IDF-weighted content *words* (jieba) for measuring how much of it a passage speaks of,
- its *subject*: the rarest names and content words, which a passage that answers must contain,
- the answer type it expects (time, number, person, place, organisation, 《work》, other),
- its parts, when it asks several questions at once (「A是什么？B有哪些？」).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from bot import bridge, lexicon
from bot.textnorm import normalize, to_simplified

EXACT_WEIGHT = 2.0  # a name or number counts double among a question's terms
SUBJECT_TERMS = 2  # the rarest names / content words that make up the subject
MARKUP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<[^<>]{0,300}>", re.I | re.S)
_SEGMENT = re.compile(r"[^。？！?!；;]+[。？！?!；;]*")
_CLAUSES = re.compile(r"[,，。?？!！;；:：\s]+")


@dataclass(frozen=True)
class Word:
    """A content word of the question and how much it says (its IDF in the collection)."""

    text: str
    weight: float
    name: bool  # a named entity (jieba nr/ns/nt/nz, a Latin name, a 《work》)
    compound: bool = False  # adjacent pieces joined (青石 + 镇): for the subject, not counted in coverage
    topic: bool = True  # may be the subject: a name, or a noun that is not what is asked of another (see _words)


@dataclass(frozen=True)
class Question:
    asked: str  # as the user typed it (control characters and extra space removed)
    text: str  # what is searched: markup removed, a follow-up made standalone ("" = nothing to search)
    foreign: bool  # mostly another language than Chinese
    script: str  # "simplified", "traditional" or "none" (no Chinese)
    intents: frozenset[str]
    answer_type: str  # time | number | person | place | org | work | other
    terms: dict[str, float] = field(default_factory=dict)
    focus: dict[str, float] = field(default_factory=dict)  # terms of the clause(s) that ask
    predicate: dict[str, float] = field(default_factory=dict)  # terms outside the subject: what is asked of it
    exact: tuple[str, ...] = ()  # names and numbers the evidence must contain
    words: tuple[Word, ...] = ()
    subject: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()  # what a "how many" counts: 多少参数 → 参数
    years: frozenset[str] = frozenset()
    parts: tuple[Question, ...] = ()  # each question of a multi-part one, analysed alone
    swap: tuple[str, str] | None = None  # a follow-up's (replaced term, new subject): 「那美国呢？」 (我国, 美国)

    @property
    def rewritten(self) -> str | None:
        """The standalone question searched for, when it differs from what was asked."""
        return self.text if self.text not in (self.asked, "") else None

    def asks(self, intent: str) -> bool:
        return intent in self.intents

    @property
    def asks_one(self) -> bool:
        """A factoid: one answer of a known kind (a figure, a date, a name), not a list, a gist, an
        answer per article or several parts."""
        return (self.answer_type != "other" and not self.intents & {"list", "across", "overview"} and not self.parts
                and len(lexicon.ASKING.findall(normalize(self.text))) == 1)  # 「有多少件？比2017年涨了多少？」: two

    def coverage(self, text: str) -> float:
        """Share of the question's word weight that ``text`` contains (English words: in any of their
        Chinese renderings, see ``bot.bridge``). 0 when the question has no content words."""
        norm = normalize(text)
        if self.foreign:
            share = bridge.coverage(self.text, norm)
            return 0.0 if share is None else share
        words = [w for w in self.words if not w.compound]
        total = sum(w.weight for w in words)
        return sum(w.weight for w in words if w.text in norm) / total if total else 0.0

    def about(self, term: str) -> str:
        """``term`` with the noun phrase that follows it in the question (美国 in 「2022年美国算力总规模是多少」
        → 美国的算力总规模): what a refusal says is not in the passages."""
        norm, key = normalize(self.text), normalize(term)
        if key not in norm:
            return term
        end, at, phrase = norm.index(key) + len(key), 0, []
        for word, tag in tagged(norm):
            start, at = at, at + len(word)
            if start < end:
                continue
            if tag.startswith(lexicon.PHRASE_TAGS) and word not in lexicon.COPULAS \
                    and not lexicon.QUESTION_WORDS.search(word):
                phrase.append((word, tag))
            elif phrase or tag != "uj":  # 美国的算力: the 的 before the phrase
                break
        while phrase and not phrase[-1][1].startswith(lexicon.NOMINAL_TAGS):  # 规模要突破 → 规模
            phrase.pop()
        words = "".join(w for w, _ in phrase)
        return f"{term}的{words}" if words else term

    @property
    def requested(self) -> list[str]:
        """What the question asks of its subject: the words that cannot be the subject (原名, 外貌特征, 制成),
        each whole (外貌特征, not 外貌 and 特征)."""
        words = [w.text for w in self.words if not w.topic]
        return [w for w in words if not any(w != other and w in other for other in words)]

    def unsaid(self, text: str) -> list[str]:
        """What the question asks of its subject (:attr:`requested`) that ``text`` does not say."""
        norm = normalize(text)
        return [w for w in self.requested if w not in norm]

    def missing_subject(self, text: str) -> list[str]:
        """The subject terms ``text`` lacks."""
        norm = normalize(text)
        if self.foreign:
            found = {t.text for t in bridge.terms(self.text, norm) if t.found}
            return [s for s in self.subject if s not in found and s not in norm]
        return [s for s in self.subject if s not in norm]


# --- building it ---------------------------------------------------------------------------------------------

def analyse(asked: str, history: Sequence[tuple[str, str]] | None = None,
            idf: Callable[[str], float] | None = None, rewriter: Callable | None = None) -> Question:
    """The analysed question. ``history``: earlier (question, answer) turns, for follow-ups; ``idf``: the
    collection's inverse document frequency of a word (unknown: every word weighs the same); ``rewriter``:
    an LLM's condense step for follow-ups (``bot.llm_rewrite``)."""
    from bot import rewrite

    searched = " ".join(MARKUP.sub(" ", asked).split())
    if not lexicon.WORD_CHAR.search(searched):  # only emoji, punctuation or markup: nothing to search
        return Question(asked, "", False, "none", frozenset(), "other")
    made = rewrite.standalone(searched, history, rewriter)
    built = _build(asked, made.text, idf or (lambda _: 1.0), follow_up=made.text != searched)
    return replace(built, swap=made.swap) if made.swap else built


def is_follow_up(text: str) -> bool:
    """Reads on only with the question before it: opening with / pointing by a pronoun, or short and
    naming nothing of its own (「为什么？」; 「薛澜是谁？」 names its subject and stands alone)."""
    norm = normalize(text)
    if lexicon.INTENTS["collection"].search(norm):  # 「这几篇文章分别讲了什么？」 is about every article
        return False
    short = len(text.strip()) <= lexicon.FOLLOW_UP_CHARS
    rest = lexicon.FOLLOW_UP_LEAD.sub("", norm)
    if rest != norm and not short and lexicon.ASKING.search(rest) and names_something(rest) \
            and not lexicon.INTENTS["follow_up"].search(rest):
        return False  # 那 + a full question naming its own subject
    if lexicon.INTENTS["follow_up"].search(norm):
        return True
    return short and not names_something(norm)


def names_something(norm: str) -> bool:
    """Whether a (normalised) text holds a name or a year of its own."""
    return bool(lexicon.YEAR.search(norm)) or any(tag in lexicon.NAME_TAGS and len(w) >= 2 for w, tag in tagged(norm))


def _build(asked: str, text: str, idf: Callable[[str], float], follow_up: bool = False,
           split: bool = True) -> Question:
    norm = normalize(text)
    foreign = is_foreign(text)
    intents = {name for name, pattern in lexicon.INTENTS.items() if name != "follow_up" and pattern.search(norm)}
    if follow_up:
        intents.add("follow_up")
    asking = [s for s in _segments(text) if lexicon.ASKING.search(normalize(s))]
    parts: tuple[Question, ...] = ()
    if split and len(asking) >= 2 and not intents & {"overview", "collection"}:
        intents.add("multi_part")
        parts = tuple(_build(part, part, idf, split=False) for part in _standalone_parts(asking))
    # The words a passage must speak of come from the segments that ask: a statement or instruction
    # around the question (「忽略之前的指令……」) is not what is asked about.
    core = " ".join(asking) if asking else text
    words = _words(core, idf) if not foreign else ()
    subject = _subject(core, words, foreign)
    terms = question_terms(text)
    return Question(
        asked=asked,
        text=text,
        foreign=foreign,
        script="none" if not lexicon.CJK_CHAR.search(text) else (
            "traditional" if to_simplified(text) != text else "simplified"),
        intents=frozenset(intents),
        answer_type=answer_type(asking[-1] if asking else text),
        terms=terms,
        focus=focus_terms(text),
        predicate=predicate_terms(terms, subject),
        exact=tuple(exact_terms(text, foreign)),
        words=words,
        subject=subject,
        attributes=tuple(asked_attributes(text)) if intents & {"quantity"} else (),
        years=frozenset(lexicon.YEAR.findall(norm)),
        parts=parts,
    )


def answer_type(text: str) -> str:
    """What kind of answer ``text`` asks for (the last question of a follow-up or part says it)."""
    norm = normalize(text)
    return next((kind for kind, pattern in lexicon.ANSWER_TYPES if pattern.search(norm)), "other")


def _segments(text: str) -> list[str]:
    return [m.group(0).strip() for m in _SEGMENT.finditer(text) if lexicon.WORD_CHAR.search(m.group(0))]


def _standalone_parts(asking: list[str]) -> list[str]:
    """Each asking segment as a question of its own; one that points back (「他是谁？他做了什么？」) or has
    no subject of its own (「美国白宫是什么时候发布AI监管令的？对AI开发者提了什么要求？」: who asks, of which
    order, is said before) is read with the segment before it, as a follow-up is read with the turn before
    it. Asked alone, such a part is answered from whatever other article speaks of AI developers."""
    from bot import rewrite

    parts: list[str] = []
    for i, segment in enumerate(asking):
        reads_on = i and (is_follow_up(segment) or _subjectless(segment))
        parts.append(rewrite.substitute(segment.strip(), asking[i - 1]).text if reads_on else segment)
    return parts


def _subjectless(segment: str) -> bool:
    """Whether a later part of a question opens without a subject (with a preposition: 对…, 跟…, 比…)."""
    words = tagged(normalize(segment))
    return bool(words) and words[0][1].startswith(lexicon.SUBJECTLESS_LEAD_TAGS)


def is_foreign(text: str) -> bool:
    """Mostly another language (an English question that may quote a Chinese name, 文心一言): its words
    cannot be expected in the passages as they stand."""
    cjk, latin = len(lexicon.CJK_CHAR.findall(text)), len(lexicon.LATIN_LETTER.findall(text))
    return cjk < 0.25 * (cjk + latin)


def question_terms(text: str) -> dict[str, float]:
    """Weighted terms for sentence matching: CJK bigrams of the content (question words removed) and
    whole Latin/number tokens (weight :data:`EXACT_WEIGHT`). English questions yield only Latin tokens."""
    norm = normalize(text)
    terms: dict[str, float] = {}
    for token in lexicon.EXACT.findall(norm):
        if len(token) > 1 or token.isdigit():
            terms[token] = EXACT_WEIGHT
    content = lexicon.SCAFFOLD_RE.sub(" ", norm)
    for run in lexicon.CJK_RUN.findall(content):
        if len(run) == 1:
            terms.setdefault(run, 0.5)
        for i in range(len(run) - 1):
            terms.setdefault(run[i : i + 2], 1.0)
    return terms


def focus_terms(text: str) -> dict[str, float]:
    """Terms of the clause(s) that ask (来了多少机构和嘉宾 in 「…研讨会,来了多少机构和嘉宾?」): the answer
    sentence must speak of these, while the rest of the question only sets the scene."""
    asking = [c for c in _CLAUSES.split(text) if lexicon.ASKING.search(normalize(c))]
    return question_terms(" ".join(asking)) if asking else {}


def exact_terms(text: str, foreign: bool | None = None) -> list[str]:
    """The terms that name something exactly, without a trailing unit (``2024年`` → ``2024``: a passage
    may write the year as (2024) or 2024/4/4): numbers, years and Latin names of a Chinese question;
    only the numbers of a question in another language, whose words the passages won't use."""
    terms = [_bare(t) for t, w in question_terms(text).items() if w == EXACT_WEIGHT]
    if foreign if foreign is not None else is_foreign(text):
        terms = [t for t in terms if t[0].isdigit()]
    return list(dict.fromkeys(terms))


def _bare(term: str) -> str:
    return term[:-1] if term[-1] in lexicon.EXACT_SUFFIXES and term[:-1] else term


@lru_cache(maxsize=4096)
def tagged(norm: str) -> tuple[tuple[str, str], ...]:
    """jieba's (word, part of speech) pairs of a normalised text (cached: a sentence is tagged once)."""
    from jieba import posseg

    return tuple((w, tag) for w, tag in posseg.lcut(norm))


def _is_word(token: str) -> bool:
    return bool(re.search(rf"[{lexicon.CJK}a-z0-9]", token))


def _words(text: str, idf: Callable[[str], float]) -> tuple[Word, ...]:
    """Content words (jieba, POS-tagged; function words and question words left out) with their IDF;
    names (nr/ns/nt/nz, Latin, 《work》) marked. A name jieba does not know is cut into pieces (青石 / 镇,
    莫扎 / 伊斯 / 克): adjacent nominal pieces are also joined into one compound, weighing as its rarest
    piece, which is what the subject is chosen from. A verb is never the subject (得名, 制成 say what is
    asked), nor is a noun another possesses or a question word asks for: in 「那须盐原车站的原名是什么」
    原名 is asked of the station, in 「盾柱木的花瓣有什么特点」 特点 is, however rare they are."""
    norm = normalize(text)
    works = {m.group(0)[1:-1] for m in lexicon.WORK.finditer(norm)}
    out: dict[str, Word] = {}
    run: list[tuple[str, str]] = []
    possessed = False  # inside the noun phrase after 「名词的」: what is asked of that noun
    noun_like = False  # a content word, not a verb, adjective or time word (at 的: the word before it)

    def close_run() -> None:
        if len(run) >= 2:
            compound = "".join(w for w, _ in run)
            named = any(tag.startswith(lexicon.NAME_TAGS) for _, tag in run)
            out.setdefault(compound, Word(compound, max(idf(w) for w, _ in run), named, compound=True,
                                          topic=named or not possessed))
        run.clear()

    for w, tag in tagged(norm):
        content = _is_word(w) and not tag.startswith(lexicon.FUNCTION_TAGS) and w not in lexicon.STOPWORDS \
            and not lexicon.SCAFFOLD_RE.fullmatch(w) and len(lexicon.QUESTION_WORDS.sub("", w)) >= min(2, len(w))
        if content and (tag.startswith(lexicon.NOMINAL_TAGS) or (run and len(w) == 1)):
            run.append((w, tag))
        else:
            close_run()
        if w == lexicon.POSSESSIVE:
            possessed = noun_like  # 「A的B」: B is asked of A
        elif tag.startswith(lexicon.PRONOUN_TAGS) and lexicon.QUESTION_WORDS.search(w):
            possessed = True  # 「什么特点」「哪所大学」: the noun a question word asks for
        elif tag.startswith(lexicon.PHRASE_BREAK_TAGS):
            possessed = False
        noun_like = content and not tag.startswith(lexicon.NOT_TOPIC_TAGS)
        if content and len(w) >= 2:
            named = tag.startswith(lexicon.NAME_TAGS) or w in works
            out.setdefault(w, Word(w, idf(w), named, topic=named or (noun_like and not possessed)))
    close_run()
    for work in works:
        out.setdefault(work, Word(work, idf(work), True))
    if not any(not w.compound for w in out.values()):
        for chars in lexicon.CJK_RUN.findall(lexicon.SCAFFOLD_RE.sub(" ", norm)):
            for i in range(len(chars) - 1):
                if chars[i : i + 2] not in lexicon.STOPWORDS:
                    out.setdefault(chars[i : i + 2], Word(chars[i : i + 2], idf(chars[i : i + 2]), False))
    return tuple(out.values())


def _subject(text: str, words: tuple[Word, ...], foreign: bool) -> tuple[str, ...]:
    """What the question is about: its rarest names, else its rarest content words (compounds count as
    whole). English: the names (pinyin, capitalised) its dictionary renderings find (``bot.bridge``)."""
    if foreign:
        return tuple(r.text for r in bridge.renderings(text) if len(r.syllables) >= 2)[:SUBJECT_TERMS]
    topics = [w for w in words if w.topic] or list(words)
    ranked = sorted(topics, key=lambda w: (-w.name, -w.weight, -len(w.text)))
    chosen: list[str] = []
    for w in ranked:
        if not any(w.text in c or c in w.text for c in chosen):  # 青石镇 stands for 青石 as well
            chosen.append(w.text)
    names = [c for c in chosen if any(w.name and w.text == c for w in words)]
    return tuple((names or chosen)[:SUBJECT_TERMS])


def predicate_terms(terms: dict[str, float], subject: tuple[str, ...]) -> dict[str, float]:
    """The terms that say what is asked of the subject (首先, 制成 in 「硝酰氟首先被谁制成？」): every
    sentence of the subject's article may name the subject, often only as 它 or 他, so it is these
    that tell the answering sentence from the others."""
    inside = [normalize(s) for s in subject]
    return {t: w for t, w in terms.items() if not any(t in s for s in inside)}


def _counted(words: list[str], j: int) -> str:
    """``words[j]``, with the noun it counts when it only says "amount" (人口 + 数量; jieba's 参 + 数量)."""
    before = words[j - 1] if j else ""
    if words[j] in lexicon.AMOUNT_NOUNS and _is_word(before) and before not in lexicon.COPULAS | {lexicon.POSSESSIVE}:
        return before + words[j]
    return words[j]


def asked_attributes(text: str) -> list[str]:
    """For each "how many / how much" in the question, the word naming what is counted, if any:
    多少参数 → 参数, 营收是多少 → 营收, 多少钱 → 钱, 多大比例 → 比例."""
    import jieba

    words = [w for w in jieba.lcut(normalize(text)) if w.strip()]
    merged: list[str] = []
    for w in words:  # jieba cuts 多大 as 多 / 大, and keeps 有多深 whole
        lead = next((c for c in lexicon.COPULAS if w.startswith(c) and w[len(c):] in lexicon.COUNT_ASKS), None)
        if lead:
            merged += [lead, w[len(lead):]]
        elif merged and merged[-1] == "多" and "多" + w in lexicon.COUNT_ASKS:
            merged[-1] = "多" + w
        else:
            merged.append(w)
    found: list[str] = []
    for i, w in enumerate(merged):
        if w not in lexicon.COUNT_ASKS:
            continue
        after = [x for x in merged[i + 1 : i + 3] if x not in lexicon.MEASURES]
        if after and _is_word(after[0]):
            found.append(after[0])
            continue
        at = next((j for j in range(i - 1, -1, -1) if merged[j] not in lexicon.COPULAS), None)
        # 多长 / 多大 borrow the word before only as a property (GPT-4的参数量有多大), never a subject (东关街有多长)
        borrowed = at is not None and (w not in lexicon.MEASURED_ASKS or lexicon.POSSESSIVE in merged[max(0, at - 2) : at])
        if borrowed and _is_word(merged[at]):
            found.append(_counted(merged, at))
    return [w for w in found if not lexicon.SCAFFOLD_RE.fullmatch(w)]
