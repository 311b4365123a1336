"""Lists whose items open paragraphs far apart (其一 … 其二 … 其三) are answered whole."""
from __future__ import annotations

from bot.chain import answer
from bot.lists import announced, item, members, siblings
from bot.question import analyse


def test_items_and_their_families() -> None:
    assert item("其二,数据鸿沟与数据治理。") == (0, 1)
    assert item("“一是向主要国家集中") == (1, 0)
    assert item("第三,建设可信、可靠、可控的数字安全制度。") == (2, 2)
    assert item("第一次工业革命") is None and item("第三季度营收") is None  # ordinals, not items
    assert item("我们的第一个问题") is None  # not at the start


def test_siblings_follow_one_list_and_stop_where_it_starts_over() -> None:
    later = [(100, "其二,数据鸿沟。"), (150, "闲话。"), (300, "其三,AI信任。"), (400, "其五,跳号。")]
    assert siblings((0, "其一,算力集中。"), later) == [0, 2]
    restart = [(50, "二是向资本巨头集中。"), (900, "一是遵循发展规律;"), (950, "二是坚持共享共用;"),
               (990, "三是强化优质供给;")]
    assert siblings((0, "一是向主要国家集中。"), restart) == [0]  # 三是 belongs to the next list
    assert siblings((0, "其一,很远。"), [(5000, "其二,太远了。")]) == []
    assert siblings((0, "不是列表。"), later) == []


def test_a_list_spread_over_an_article_is_quoted_in_order() -> None:
    result = answer("李礼辉认为AI迭代给我国数字经济带来了哪些冲击和挑战?", provider="extractive")
    assert not result.refused
    quotes = [c.quote for c in result.citations]
    items = [next((q for q in quotes if q.startswith(m)), None) for m in ("其一", "其二", "其三")]
    assert all(items), quotes
    starts = [next(c.start for c in result.citations if c.quote == q) for q in items]
    assert starts == sorted(starts) and starts[2] - starts[0] > 1500  # far apart, in document order
    assert result.text.index("其一") < result.text.index("其二") < result.text.index("其三")


def test_a_counted_list_brings_the_sentences_that_name_its_items() -> None:
    assert announced("AI治理有四大挑战,并建议加强国际合作。") == (4, "挑战", "四大挑战")
    assert announced("分为三个方面") is None  # 方面: items come as 其一/第一 instead
    later = [(10, "薛澜认为,步调不一致,造成 AI 治理的挑战。"), (20, "对于前述四大挑战,他提出建议。"),
             (30, "此外,另一个挑战是成本不对称。"), (40, "最后一个挑战则来自全球治理。"),
             (50, "同时,中国 AI 发展也面临着一些挑战。")]
    assert members((0, "AI治理有四大挑战。"), later) == [0, 2, 3]  # not the announcement again, not past 最后


def test_only_questions_that_ask_for_several_things_complete_a_list() -> None:
    def asks_list(question: str) -> bool:
        return analyse(question).asks("list")

    assert asks_list("AI迭代给我国带来了哪几方面的冲击和挑战?") and asks_list("AI治理面临哪四大挑战?")
    assert asks_list("新一代AI大模型分成几层?") and asks_list("Which challenges did Xue Lan name?")
    assert not asks_list("2022年我国算力总规模是多少?")
    assert not asks_list("What was China's total computing power in 2022?")
    # a fact question whose best sentence is a list item gets no other items
    result = answer("What was China's total computing power in 2022?", provider="extractive")
    assert "180E" in result.text and "其二" not in result.text
