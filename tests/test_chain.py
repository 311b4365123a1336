"""The whole question → answer path on the real index (no mocks)."""
import pytest

from bot.chain import QuestionError, answer
from bot.config import REFUSAL
from bot.types import Answer

SOURCE_000 = "000_56f6738d973ede18.txt"


def source_text(settings, name: str) -> str:
    from bot.clean import load_document

    return load_document(settings.articles_dir / name).text


def assert_verbatim(result: Answer, settings) -> None:
    for c in result.citations:
        text = source_text(settings, c.source)
        assert text[c.start : c.end] == c.quote, c


def test_answers_with_180E_and_a_verbatim_quote(settings):
    result = answer("2022年我国算力总规模是多少?", settings=settings)
    assert not result.refused and "180E" in result.text
    assert any(c.source == SOURCE_000 and "180E" in c.quote for c in result.citations)
    assert "[1]" in result.text
    assert_verbatim(result, settings)
    assert result.timings_ms["total"] > 0


@pytest.mark.xfail(strict=True, reason="known limit of the fitted gate: a year other than the one asked is not a "
                   "reason to refuse that the external sets teach (year_mismatch AUC 0.55 there); see README")
def test_refuses_what_the_articles_do_not_say(settings):
    result = answer("2023年我国算力总规模是多少?", settings=settings)
    assert result.refused and result.text == REFUSAL and result.citations == []
    assert result.retrieved  # what was looked at is still reported, for evaluation


@pytest.mark.parametrize("question", ["今天天气怎么样?", "如何做红烧肉?", "周杰伦的新专辑叫什么?"])
def test_refuses_off_topic_questions(settings, question):
    assert answer(question, settings=settings).refused


def test_traditional_source_is_quoted_verbatim_and_answered_in_simplified(settings):
    result = answer("讯飞和华为发布的飞星一号算力平台是基于什么生态?", settings=settings)
    cited = [c for c in result.citations if c.source == "001_4c16fc4f0885e345.txt"]
    assert cited and "(" not in cited[0].quote.replace("(GPU)", "")  # no pinyin glosses
    assert "昇騰生態" in cited[0].quote  # the source's own script
    assert "飞星一号" in result.text and "飛星一號" not in result.text
    assert_verbatim(result, settings)


def test_english_question_gets_a_chinese_answer(settings):
    result = answer("When was the first AI Safety Summit held?", settings=settings)
    assert not result.refused and "2023年11月" in result.text


def test_follow_up_is_rewritten_with_the_previous_question(settings):
    history = [("2022年我国算力总规模是多少?", "2022年我国算力总规模达到每秒180E…[1]")]
    result = answer("那美国呢?", history, settings=settings)
    assert result.rewritten == "2022年美国算力总规模是多少?"
    # the articles give China's total and only say the US ranks first: that is no US total
    assert result.refused and result.text == "资料中没有提到美国的算力总规模。"


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\u200b\u200b", "问" * 5000])
def test_bad_questions_get_a_clear_message(settings, bad):
    with pytest.raises(QuestionError) as err:
        answer(bad, settings=settings)
    assert "问题" in str(err.value)


def test_unknown_provider_is_named(settings):
    with pytest.raises(ValueError, match="unknown provider"):
        answer("2022年我国算力总规模是多少?", provider="nope", settings=settings)


def test_markup_in_a_question_is_not_searched_for(settings):
    result = answer("2022年我国算力总规模是多少？<script>alert(1)</script><img src=x onerror=alert(2)>", settings=settings)
    assert not result.refused and "180E" in result.text
    assert result.rewritten == "2022年我国算力总规模是多少？"


def test_extractive_answers_stream_sentence_by_sentence(settings):
    from bot.chain import stream

    items = list(stream("薛澜在中国发展高层论坛2024年年会上说AI治理面临哪四大挑战?", settings=settings))
    pieces, final = items[:-1], items[-1]
    assert isinstance(final, Answer) and len(pieces) >= 2
    assert all(p.endswith("]") for p in pieces)


@pytest.mark.parametrize("junk", ["🤖🤖🤖", "？？？。。。", "<script>alert(1)</script><img src=x onerror=alert(1)>"])
def test_questions_with_nothing_to_search_for_are_refused_not_carried_over(settings, junk):
    history = [("2022年我国算力总规模是多少?", "…180E…[1]")]
    result = answer(junk, history, settings=settings)
    assert result.refused and result.citations == [] and result.rewritten is None
