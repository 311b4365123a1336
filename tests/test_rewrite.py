"""Follow-ups made standalone (bot.rewrite): the new subject substituted, pronouns resolved, ellipsis read
after the previous question, and standalone questions left alone."""
from bot.question import analyse, is_follow_up
from bot.rewrite import condense, standalone

HISTORY = [("2022年我国算力总规模是多少？", "2022年我国算力总规模达到每秒180E…[1]")]


def test_a_new_subject_replaces_the_term_of_its_kind():
    assert condense("那美国呢？", HISTORY) == "2022年美国算力总规模是多少？"
    assert standalone("那美国呢？", HISTORY).swap == ("我国", "美国")
    assert condense("那2021年呢？", HISTORY) == "2021年我国算力总规模是多少？"
    assert condense("那刘聪呢？", [("刘庆峰在1024大会上说了什么？", "…")]) == "刘聪在1024大会上说了什么？"
    assert condense("上海呢？", [("北京有多少算力中心？", "…")]) == "上海有多少算力中心？"
    # a Latin name is taken whole (GPT-4, not GPT)
    assert condense("那GPT-3.5呢？", [("GPT-4的正确率是多少？", "…")]) == "GPT-3.5的正确率是多少？"
    # not one name: read after the previous question
    assert condense("AI算力占比呢？", [("临港计划到2025年总算力达到多少？", "…")]) == \
        "临港计划到2025年总算力达到多少？ AI算力占比呢？"


def test_a_pronoun_becomes_the_person_named_before():
    assert condense("他还说了什么？", [("薛澜怎么看中国大模型？", "…")]) == "薛澜还说了什么？"
    # named only in the answer: the answer's first person
    assert condense("她还说了什么？", [("谁认为中国大模型是套壳？", "薛澜表示……[1]")]) == "薛澜还说了什么？"
    # after a question that asked for a name, the pronoun points at the name its answer brought
    assert condense("他觉得数据还能撑多久？", [("华傲数据的董事长是谁？", "华傲数据董事长贾西贝此前……[1]")]) == \
        "贾西贝觉得数据还能撑多久？"
    assert condense("它生成的视频有多长？", [("OpenAI推出的视频生成工具叫什么？", "OpenAI推出了视频生成工具Sora[1]")]) == \
        "Sora生成的视频有多长？"
    # 其他 holds 他 but points at no one
    assert condense("其他国家呢？", HISTORY) == "2022年我国算力总规模是多少？ 其他国家呢？"


def test_elliptical_follow_ups_are_read_after_the_previous_question():
    assert condense("为什么？", HISTORY) == "2022年我国算力总规模是多少？ 为什么？"
    assert condense("具体呢？", HISTORY) == "2022年我国算力总规模是多少？ 具体呢？"


def test_chains_of_follow_ups_keep_the_swapped_subject():
    history = HISTORY + [("那美国呢？", "资料中没有提到美国的算力总规模。")]
    assert condense("为什么？", history) == "2022年美国算力总规模是多少？ 为什么？"
    assert condense("那日本呢？", history) == "2022年日本算力总规模是多少？"


def test_standalone_questions_are_left_alone():
    q = "华傲数据今年4月牵头搞的算料联盟筹备小组,是跟谁一起组建的?"
    assert not is_follow_up(q)
    assert condense(q, HISTORY) == q
    assert not is_follow_up("薛澜是谁？") and condense("薛澜是谁？", HISTORY) == "薛澜是谁？"
    # 那 + a full question naming its own subject
    assert condense("那北京的大模型扶持政策门槛是多少？", HISTORY) == "那北京的大模型扶持政策门槛是多少？"
    assert condense("那美国呢？", None) == "那美国呢？"


def test_the_refusal_names_what_is_missing():
    q = analyse("那美国呢？", HISTORY)
    assert q.swap == ("我国", "美国") and q.about("美国") == "美国的算力总规模"


def test_the_chain_refuses_an_absent_subject_naming_it(settings):
    from bot.chain import answer

    first = answer(HISTORY[0][0], settings=settings)
    assert not first.refused and "180E" in first.text
    us = answer("那美国呢？", [(HISTORY[0][0], first.text)], settings=settings)
    assert us.rewritten == "2022年美国算力总规模是多少？"
    assert us.refused and us.text == "资料中没有提到美国的算力总规模。" and not us.citations


def test_the_chain_answers_a_pronoun_follow_up_about_the_person(settings):
    from bot.chain import answer
    from bot.clean import load_document

    result = answer("他还说了什么？", [("薛澜对中国大模型有什么看法？", "…")], settings=settings)
    assert result.rewritten == "薛澜还说了什么？" and not result.refused
    assert all("薛澜" in c.quote or c.source.startswith("002") for c in result.citations)
    for c in result.citations:
        assert load_document(settings.articles_dir / c.source).text[c.start:c.end] == c.quote


def test_a_sentence_comparing_both_subjects_answers_the_new_one(settings):
    from bot.chain import answer

    result = answer("那GPT-3.5呢？", [("GPT-4在那个26道题的理性思维测试里正确率多少？", "…88%…")], settings=settings)
    assert result.rewritten == "GPT-3.5在那个26道题的理性思维测试里正确率多少？"
    assert not result.refused and "58%" in result.text


def test_a_sentence_about_the_replaced_subject_is_no_answer(settings):
    from bot.chain import answer

    result = answer("那美国呢？", [("我国移动支付用户有多少？", "……9亿……[1]")], settings=settings)
    assert result.rewritten == "美国移动支付用户有多少？" and result.refused
    assert result.text == "资料中没有提到美国的移动支付用户。"
