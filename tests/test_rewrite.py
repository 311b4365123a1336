from bot.question import is_follow_up
from bot.rewrite import condense

HISTORY = [("2022年我国算力总规模是多少?", "…180E…[1]")]


def test_follow_ups_carry_the_previous_question():
    assert condense("那美国呢?", HISTORY) == "2022年我国算力总规模是多少? 那美国呢?"
    assert condense("他还说了什么?", [("薛澜怎么看中国大模型?", "…")]).startswith("薛澜怎么看中国大模型?")


def test_standalone_questions_are_left_alone():
    q = "华傲数据今年4月牵头搞的算料联盟筹备小组,是跟谁一起组建的?"
    assert not is_follow_up(q)
    assert condense(q, HISTORY) == q
    assert condense("那美国呢?", None) == "那美国呢?"


def test_chains_of_follow_ups_reach_back_to_the_topic():
    history = HISTORY + [("那美国呢?", "…")]
    assert condense("为什么?", history).startswith("2022年我国算力总规模是多少?")
