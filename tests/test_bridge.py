"""bot.bridge against the real CC-CEDICT and the real articles: English words found in Chinese text."""
from __future__ import annotations

import pytest

from bot.bridge import coverage, dictionary, terms
from bot.clean import load_document
from bot.config import ROOT
from bot.textnorm import normalize

COMPUTE = normalize(load_document(ROOT / "store" / "articles" / "000_56f6738d973ede18.txt").text)
XUE_LAN = normalize(load_document(ROOT / "store" / "articles" / "002_e3bc3ba30a8100f6.txt").text)
PASSAGES = 1500  # characters in the five chunks the answerability gate looks at
# Real English questions about the articles measured 0.5–1.0 (16 of them), off-topic ones 0.0–0.33.
OFF_TOPIC_BELOW = 0.4


def found(question: str, passages: str) -> dict[str, bool]:
    return {t.text: t.found for t in terms(question, passages)}


def test_dictionary_renders_phrases_and_words() -> None:
    d = dictionary()
    assert "算力" in d.translations["computing power"]
    assert "峰会" in d.translations["~summit"]  # from the two-word gloss "summit meeting"
    assert d.pinyin["薛"] == "xue" and "lan" in d.syllables


def test_english_question_about_the_article_is_covered() -> None:
    words = found("What was China's total computing power in 2022?", COMPUTE)
    assert words == {"china": True, "total": True, "computing power": True}
    assert coverage("What was China's total computing power in 2022?", COMPUTE) == 1.0


def test_pinyin_names_match_their_characters() -> None:
    assert found("What did Xue Lan say about governance?", XUE_LAN)["xue lan"] is True
    # a two-syllable name the passages do not have counts against the question
    assert found("What did Zhang San say about governance?", XUE_LAN)["zhang san"] is False
    # acronyms are not read as pinyin (ER-NIE), and an unknown word is left out, not counted
    assert "ernie" not in found("What is ERNIE?", XUE_LAN)


@pytest.mark.parametrize("question", [
    "What is the recipe for braised pork?",
    "'; DROP TABLE embeddings; --",
    "Tell me a joke about cats.",
    "Who won the World Cup?",
])
def test_off_topic_english_is_not_covered(question: str) -> None:
    passages = COMPUTE[:PASSAGES] + XUE_LAN[:PASSAGES]  # twice what the gate sees (five ~300-char chunks)
    share = coverage(question, passages)
    assert share is not None and share < OFF_TOPIC_BELOW, (question, found(question, passages))


def test_nothing_renderable_gives_none() -> None:
    assert coverage("Qwxyz blorf?", COMPUTE) is None
    assert coverage("", COMPUTE) is None
