"""Whole-collection questions on the real index: one cited gist sentence per article, as a list."""
import re

import pytest

from bot.chain import answer
from bot.clean import load_document

ARTICLES = 5


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]


def assert_verbatim(result, settings) -> None:
    for c in result.citations:
        assert load_document(settings.articles_dir / c.source).text[c.start : c.end] == c.quote, c


@pytest.mark.parametrize("question", ["这几篇文章分别讲了什么？", "资料库里有哪些文章？", "请概括每篇文章的主要内容"])
def test_one_cited_line_per_article(settings, question):
    result = answer(question, settings=settings)
    assert not result.refused
    listed = lines(result.text)
    assert len(listed) == ARTICLES, result.text
    assert all(re.search(r"\[\d+\]$", line) for line in listed), result.text
    assert len({c.source for c in result.citations}) == ARTICLES
    assert f"共有 {ARTICLES} 篇" in result.text
    assert_verbatim(result, settings)


def test_a_collection_question_after_another_is_not_glued_to_it(settings):
    history = [("2022年我国算力总规模是多少？", "2022年我国算力总规模达到每秒180E…[1]")]
    result = answer("这几篇文章分别讲了什么？", history, settings=settings)
    assert result.rewritten is None and len(lines(result.text)) == ARTICLES


def test_a_large_collection_shows_the_most_relevant_articles_and_the_total(settings):
    few = settings.model_copy(update={"collection_articles": 2})
    result = answer("这些文章中关于薛澜和套壳大模型的都讲了什么？", settings=few)
    listed = lines(result.text)
    assert len(listed) == 2 and "共有 5 篇" in result.text and "最相关的 2 篇" in result.text
    assert "002_e3bc3ba30a8100f6.txt" in {c.source for c in result.citations}  # the article about 薛澜
    assert_verbatim(result, few)
