"""Whole-article questions: the answer follows the article, not the lines that repeat the question."""
from __future__ import annotations

import pytest

from bot.chain import answer, retriever
from bot.clean import load_document
from bot.config import ROOT, get_settings
from bot.overview import central
from bot.question import analyse

REPORT = "003_0fed65722026f005.txt"  # 《在新赛道上奔跑——上海人工智能算力应用调查》


@pytest.mark.parametrize(("question", "whole"), [
    ("《在新赛道上奔跑》这篇报道主要讲了什么?", True),
    ("贾西贝接受采访时的核心观点有哪些?", True),
    ("请概括一下这篇文章", True),
    ("Summarize the article about iFlytek.", True),
    ("简单概括一下,薛澜觉得中国大模型产业现在有哪些问题?", False),  # one topic's points, not the article
    ("2022年我国算力总规模是多少?", False),
])
def test_whole_article_questions_are_told_apart(question: str, whole: bool) -> None:
    assert analyse(question).asks("overview") is whole


def test_central_sentences_span_the_article_and_are_verbatim() -> None:
    settings = get_settings()
    chunks = retriever(settings).article(REPORT)
    doc = load_document(ROOT / "store" / "articles" / REPORT)
    picked = central(analyse("这篇报道主要讲了什么?"), chunks, 5)
    assert len(picked) == 5
    starts = [s.start for s in picked]
    assert starts == sorted(starts)
    assert starts[0] < len(doc.text) / 5 and starts[-1] > len(doc.text) * 4 / 5  # beginning to end
    for s in picked:
        assert doc.text[s.start : s.end] == s.text  # a quote of the cleaned article
        assert len(s.text) >= 20 and s.text.rstrip()[-1] in "。！；;…”』」)）"  # a sentence, not a heading


def test_overview_answer_quotes_the_body_of_the_article() -> None:
    result = answer("《在新赛道上奔跑——上海人工智能算力应用调查》这篇报道主要讲了什么?", provider="extractive")
    assert not result.refused
    assert {c.source for c in result.citations} == {REPORT}
    assert len(result.citations) >= 4
    assert all("在新赛道上奔跑" not in c.quote for c in result.citations)  # not the title again
    assert max(c.start for c in result.citations) - min(c.start for c in result.citations) > 3000
    # the passages reported are the ones the answer was built from: the article's representative chunks
    assert {h.chunk.source for h in result.retrieved} == {REPORT}
