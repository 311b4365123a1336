"""The sentence ranker's answer candidates: which span of a sentence answers (emphasised in the chat,
and the fact a factoid answer must keep)."""
from __future__ import annotations

from bot import ranker
from bot.question import analyse

RESULTS = ("有人挑选4类经典测试任务共26道题目,做了一个测试,GPT-3.5的正确率为58%,GPT-4的正确率高达88%,"
           "高于应试人类62%的平均正确率。")


def test_number_candidates_are_whole_figures_and_never_the_digits_of_a_name_or_of_the_question() -> None:
    asked = analyse("GPT-4在那个26道题的理性思维测试里正确率是多少?")
    found = [RESULTS[a:b] for a, b in ranker.answer_candidates(asked, RESULTS)]
    assert found == ["4", "一个", "58%", "88%", "62%"]  # not 26 (asked), nor the 3, 5 of GPT-3.5


def test_the_candidate_that_answers_is_the_one_whose_clause_says_most_of_the_question() -> None:
    assert ranker.answer_span(analyse("GPT-4在那个26道题的理性思维测试里正确率是多少?"), RESULTS + "[1]") == "88%"
    assert ranker.answer_span(analyse("GPT-3.5的正确率是多少?"), RESULTS + "[1]") == "58%"
    # the real sentence first counts the test's 4 kinds of task, in a clause naming 理性思维 of the question
    whole = ("有人挑选评定人类理性思维的4类经典测试任务,包括语义错觉类任务、认知反射类任务、证伪选择类任务、心智程序性任务"
             "共26道题目,做了一个测试,GPT-3.5的正确率为58%,GPT-4的正确率高达88%,高于应试人类62%的平均正确率。[1]")
    assert ranker.answer_span(analyse("GPT-4在那个26道题的理性思维测试里正确率是多少?"), whole) == "88%"
    assert ranker.answer_span(analyse("青石镇始建于哪一年？"), "青石镇位于云岭山脉东麓，始建于1368年。[1]") == "1368年"
    assert ranker.answer_span(analyse("谁发布了报告？"), "报告很长。[1]") is None
