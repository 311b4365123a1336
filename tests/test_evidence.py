from bot.evidence import asked_attributes, exact_terms, focus_terms, question_terms


def test_question_terms_drop_question_words_and_weigh_exact_names():
    terms = question_terms("GPT-4的参数量到底有多大?")
    assert terms["gpt-4"] == 2.0 and "参数" in terms
    assert not any(w in terms for w in ("到底", "多大"))


def test_exact_terms_only_for_chinese_questions():
    assert set(exact_terms("2023年我国的算力总规模是多少EFLOPS?")) == {"2023年", "eflops"}
    assert exact_terms("When was the first AI Safety Summit held?") == []
    assert exact_terms("Who won the 2018 World Cup?") == ["2018"]


def test_asked_attributes():
    assert asked_attributes("讯飞星火认知大模型V3.0有多少参数?") == ["参数"]
    assert asked_attributes("华傲数据2022年营收是多少?") == ["营收"]
    assert asked_attributes("ChatGPT真正拿来训练的数据,占它收集到的数据多大比例?") == ["比例"]
    assert asked_attributes("李礼辉认为算力会往哪里集中?") == []


def test_focus_is_the_asking_clause():
    focus = focus_terms("新金融联盟6月10日那场研讨会,来了多少机构和嘉宾?")
    assert "嘉宾" in focus and "联盟" not in focus


def test_mixed_questions_are_foreign_when_mostly_another_language():
    from bot.evidence import is_foreign

    assert is_foreign("What can Baidu's ERNIE Bot (文心一言) be used for, according to Li Lihui?")
    assert not is_foreign("GPT-4的参数量到底有多大?")
    assert exact_terms("What did ERNIE Bot (文心一言) do in 2023?") == ["2023"]


def test_approximate_chinese_figures_count_as_figures():
    from bot.evidence import _DIGIT

    for text in ("需要上万张芯片", "数十家公司", "三倍多", "十分之一"):
        assert _DIGIT.search(text), text
