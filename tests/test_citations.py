"""Verification of drafts against passages — the guard that makes every quote verbatim."""
from bot.citations import build, lost_facts, split_claims, stated_facts, widen
from bot.config import REFUSAL
from bot.question import analyse
from bot.types import Chunk, Hit

TEXT_A = "2022年我国算力总规模达到每秒180E,据说排名在美国之后居全球第二。据非官方统计,美、中两国的算力占全球算力的60%左右。"
TEXT_B = "在發布會現場,科大訊飛攜手華為,發布基于昇騰生態的“飛星一號”大模型算力平臺。"


def hits() -> list[Hit]:
    a = Chunk("a", "a.txt", "甲", TEXT_A, 100, 100 + len(TEXT_A))
    b = Chunk("b", "b.txt", "乙", TEXT_B, 0, len(TEXT_B))
    return [Hit(a, 1.0, 1), Hit(b, 0.5, 2)]


def test_claims_keep_the_markers_that_follow_them():
    claims = split_claims("第一句。[2]第二句,没有标记。第三句![1][2]")
    assert [(c.text, c.cited) for c in claims] == [("第一句。", [1]), ("第二句,没有标记。", []), ("第三句!", [0, 1])]


def test_verbatim_sentence_gets_a_verbatim_quote_with_document_offsets():
    text, cites, refused = build("2022年我国算力总规模达到每秒180E,据说排名在美国之后居全球第二。[1]", hits())
    assert not refused and text.endswith("[1]")
    assert cites[0].quote == TEXT_A[: TEXT_A.index("。") + 1]
    assert (cites[0].start, cites[0].source) == (100, "a.txt")


def test_simplified_sentence_is_matched_to_its_traditional_source():
    _, cites, _ = build("科大讯飞携手华为,发布基于昇腾生态的“飞星一号”大模型算力平台。[2]", hits())
    assert cites[0].source == "b.txt" and "飛星一號" in cites[0].quote


def test_invented_figure_is_dropped_and_wrong_marker_repointed():
    draft = "美、中两国的算力占全球算力的60%左右。[2]2023年我国算力总规模达到每秒300E。[1]"
    text, cites, _ = build(draft, hits())
    assert "300E" not in text
    assert text == "美、中两国的算力占全球算力的60%左右。[1]" and cites[0].source == "a.txt"


def test_paraphrase_needs_most_terms_and_every_number():
    ok, cites, _ = build("据非官方统计,美国和中国的算力约占全球算力的60%。[1]", hits())
    assert cites and cites[0].quote.startswith("据非官方统计")
    bad, none, _ = build("据非官方统计,美国和中国的算力约占全球算力的70%。[1]", hits())
    assert (bad, none) == ("", [])


def test_citations_are_renumbered_in_order_of_use_and_shared():
    first = "科大讯飞携手华为,发布基于昇腾生态的“飞星一号”大模型算力平台。[2]"
    second = "2022年我国算力总规模达到每秒180E,据说排名在美国之后居全球第二。[1]"
    text, cites, _ = build(first + second + first, hits())
    assert [c.n for c in cites] == [1, 2]
    assert text.count("[1]") == 2 and text.count("[2]") == 1


def test_refusal_passes_through():
    assert build(REFUSAL, hits()) == (REFUSAL, [], True)


def test_markdown_list_items_are_verified_without_their_list_numbers():
    # LLM drafts come as Markdown lists (issue 5): "2. " is no figure of the claim, "**" no part of its text.
    draft = "以下是要点：\n\n1. 据非官方统计,美、中两国的算力占全球算力的60%左右。[1]\n- **飞星一号**大模型算力平台。[2]"
    text, cites, refused = build(draft, hits())
    assert not refused
    assert text.startswith("据非官方统计,美、中两国的算力占全球算力的60%左右。[1]")
    assert [c.source for c in cites] == ["a.txt", "b.txt"]


def test_paraphrase_may_not_bring_in_a_name_from_elsewhere_in_the_collection():
    """A rare noun of the collection (here: in 1 of 50 chunks) that the passage lacks moves the fact to
    someone else; common nouns (in half the chunks) and words the collection never uses do not count."""
    share = {"华为": 0.02, "百度": 0.02, "平台": 0.5}.get
    supported = "科大讯飞和华为发布了基于昇腾生态的飞星一号大模型算力平台。[2]"
    assert build(supported, hits(), lambda w: share(w, 0.0))[1]
    moved = "科大讯飞和百度发布了基于昇腾生态的飞星一号大模型算力平台。[2]"
    assert build(moved, hits())[1], "without collection statistics the paraphrase check alone passes it"
    assert build(moved, hits(), lambda w: share(w, 0.0)) == ("", [], False)


def test_a_shortened_answer_that_drops_a_figure_or_name_of_its_evidence_is_caught():
    evidence = ["刘聪透露,从5月6日至今,生态开发者数量从400万迅速上升到530多万,增速是去年同期的三倍多。"]
    asked = "星火大模型的生态开发者现在有多少人?"
    assert "400万" in stated_facts(evidence[0], asked) and "刘聪" in stated_facts(evidence[0], asked)
    assert "400万" in lost_facts("生态开发者现在有530多万人。[1]", evidence, analyse(asked))
    assert lost_facts("刘聪说,5月6日以来开发者从400万上升到530多万。[1]", evidence, analyse(asked)) == []
    # a rank is a fact though no digit says it; what the question already says need not be repeated
    ranked = ["2022年我国算力总规模达到每秒180E,据说排名在美国之后居全球第二。"]
    assert lost_facts("2022年我国算力总规模达到每秒180E。[1]", ranked, analyse("2022年中国算力超过美国了吗?")) == ["第二"]
    # the answer's [n] markers are no figures: 「[1]」 does not state the 1 of 1.8万
    assert lost_facts("算力总规模很大。[1]", ["算力总规模为1.8万京次。"], analyse("算力总规模是多少?")) == ["1.8万"]


def test_a_factoid_answer_needs_the_facts_of_the_clause_that_answers_not_of_the_others():
    evidence = ["有人挑选4类经典测试任务共26道题目,做了一个测试,GPT-3.5的正确率为58%,GPT-4的正确率高达88%,"
                "高于应试人类62%的平均正确率。"]
    asked = analyse("GPT-4在那个26道题的理性思维测试里正确率是多少?")
    assert asked.asks_one
    assert lost_facts("GPT-4的正确率是88%。[1]", evidence, asked) == []
    assert lost_facts("GPT-4的正确率很高。[1]", evidence, asked) == ["88%"]
    # a question that is no factoid keeps every fact of its evidence
    assert "58%" in lost_facts("GPT-4的正确率是88%。[1]", evidence, analyse("这个测试的结果怎么样?"))


def test_a_paraphrase_stating_a_rank_its_passage_does_not_is_not_supported():
    text = "理性思维测试共26道题目,GPT-4的正确率高达88%。"
    passage = [Hit(Chunk("c", "c.txt", "丙", text, 0, len(text)), 1.0, 1)]
    assert build("GPT-4在这个26道题的测试里正确率是88%。[1]", passage)[1]
    assert build("GPT-4在第26道题的测试里正确率是88%。[1]", passage) == ("", [], False)


def test_a_bare_piece_copied_from_a_clause_is_given_as_the_clause():
    evidence = ["有人挑选4类经典测试任务共26道题目,做了一个测试,GPT-3.5的正确率为58%,GPT-4的正确率高达88%,"
                "高于应试人类62%的平均正确率。", "分布於老撾，生長於海拔1,750米的地區，一般生長在路旁。"]
    assert widen("88%[1]", evidence) == "GPT-4的正确率高达88%。[1]"
    assert widen("1,750米[2]", evidence) == "生长于海拔1,750米的地区。[2]"  # simplified, like every answer
    whole = "GPT-4的正确率高达88%。[1]"
    assert widen(whole, evidence) == whole  # already the clause
    assert widen("测试很难。[1]", evidence) == "测试很难。[1]"  # not a piece of the evidence: as written
