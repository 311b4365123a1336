"""Each deterministic eval metric on hand-made items: a right answer scores 1, a wrong one 0."""
from __future__ import annotations

import pytest

from bot.eval.dataset import Item
from bot.eval.metrics import aggregate, by_type, failed, first_evidence_rank, key, score_item, score_retrieval
from bot.types import Answer, Chunk, Citation, Hit

SOURCE = "000_a.txt"
OTHER = "001_b.txt"
TEXTS = {
    SOURCE: "据非官方统计，美、中两国的算力占全球算力的60%左右。算力正在向主要国家集中。",
    OTHER: "科大訊飛攜手華為，發(fā)布基于昇騰生態(tài)的“飛星一號”大模型算力平臺。",
}
EVIDENCE = "据非官方统计，美、中两国的算力占全球算力的60%左右"


def item(kind: str = "number", facts=(("60%", "六成"),), sources=(SOURCE,), evidence=(EVIDENCE,)) -> Item:
    return Item(id="t", question="算力占全球多少？", answer="约60%。", key_facts=facts, sources=sources,
                evidence=evidence, type=kind)


def hit(text: str, rank: int, source: str = SOURCE) -> Hit:
    return Hit(chunk=Chunk(id=f"c{rank}", source=source, title="t", text=text, start=0, end=len(text)),
               score=1.0 / rank, rank=rank)


def cite(quote: str, source: str = SOURCE, n: int = 1) -> Citation:
    start = max(TEXTS.get(source, "").find(quote), 0)
    return Citation(n=n, source=source, title="t", quote=quote, score=1.0, start=start, end=start + len(quote))


def answer(text: str, *, refused: bool = False, citations=(), retrieved=()) -> Answer:
    return Answer(question="q", text=text, refused=refused, provider="test", citations=list(citations),
                  retrieved=list(retrieved))


FILLER = [hit("无关的段落，讲别的事情。", r) for r in range(1, 7)]


def test_right_answer_scores_one_everywhere():
    quote = "美、中两国的算力占全球算力的60%左右"
    a = answer("两国算力约占全球的60%[1]。", citations=[cite(quote)], retrieved=[hit(TEXTS[SOURCE], 1)])
    s = score_item(item(), a, TEXTS.get)
    assert (s.retrieval_recall_at_5, s.mrr, s.key_fact_recall) == (1.0, 1.0, 1.0)
    assert (s.citation_precision, s.citation_recall, s.false_refusal_rate) == (1.0, 1.0, 0.0)
    assert s.refusal_accuracy is None  # does not apply to an answerable item
    assert failed(item(), s) == []


def test_wrong_answer_scores_zero():
    a = answer("两国算力约占全球的30%。", retrieved=FILLER[:5])
    s = score_item(item(), a, TEXTS.get)
    assert (s.retrieval_recall_at_5, s.mrr, s.key_fact_recall, s.citation_recall) == (0.0, 0.0, 0.0, 0.0)
    assert s.citation_precision is None  # no citations: nothing to be precise about
    assert "key facts missing" in failed(item(), s)


def test_mrr_is_reciprocal_rank_and_recall_stops_at_five():
    third = FILLER[:2] + [hit(TEXTS[SOURCE], 3)]
    assert score_retrieval(item(), [h.chunk.text for h in third]).mrr == pytest.approx(1 / 3)
    sixth = [h.chunk.text for h in FILLER[:5]] + [TEXTS[SOURCE]]
    s = score_retrieval(item(), sixth)
    assert (s.retrieval_recall_at_5, s.mrr, s.evidence_rank) == (0.0, pytest.approx(1 / 6), 6)


def test_evidence_cut_by_a_chunk_boundary_counts_when_most_of_it_is_there():
    ev = "一二三四五六七八九十"  # 10 characters
    assert first_evidence_rank(["前文一二三四五六七八"], [ev]) == 1  # 8/10 = 80%
    assert first_evidence_rank(["前文一二三四五六七"], [ev]) is None  # 7/10 falls short


def test_normalisation_matches_traditional_glossed_evidence_and_width():
    chunk = "科大讯飞携手华为,发布基于昇腾生态的\"飞星一号\"大模型算力平台。"  # cleaned + simplified
    evidence = "發(fā)布基于昇騰生態(tài)的“飛星一號”"  # raw traditional with pinyin glosses
    assert first_evidence_rank([chunk], [evidence]) == 1
    assert key("ＧＰＴ－４") == key("gpt-4")


def test_key_fact_partial_share_and_any_spelling_counts():
    facts = (("58%",), ("88%",), ("62%", "六成二"))
    s = score_item(item(facts=facts), answer("GPT-3.5 为 58%[1],GPT-4 为 88％。"), TEXTS.get)
    assert s.key_fact_recall == pytest.approx(2 / 3)
    assert s.facts_missing == [["62%", "六成二"]]
    s = score_item(item(facts=facts), answer("58%、88%,人类平均六成二。"), TEXTS.get)
    assert s.key_fact_recall == 1.0


def test_traditional_answer_states_simplified_fact():
    s = score_item(item(facts=(("飞星一号",),)), answer("平台名為「飛星一號」。"), TEXTS.get)
    assert s.key_fact_recall == 1.0


def test_fake_quote_fails_citation_precision():
    fake = cite("美中两国算力占全球的八成")  # not a span of the source
    s = score_item(item(), answer("约60%[1]。", citations=[fake]), TEXTS.get)
    assert (s.citation_precision, s.quote_verbatim_rate) == (0.0, 0.0)
    assert s.citation_recall == 1.0  # it does name a gold source; precision is what catches the fake
    assert "quote not verbatim" in failed(item(), s)


def test_quote_must_be_verbatim_not_just_normalised_equal():
    # Same text after normalisation (full-width vs half-width comma), but not the source's characters.
    s = score_item(item(), answer("x[1]", citations=[cite("据非官方统计,美")]), TEXTS.get)
    assert s.citation_precision == 0.0


def test_verbatim_quote_from_a_non_gold_source_is_imprecise():
    wrong_doc = cite("大模型算力平臺", source=OTHER)
    right = cite("算力正在向主要国家集中", n=2)
    s = score_item(item(), answer("约60%[1][2]。", citations=[wrong_doc, right]), TEXTS.get)
    assert s.quote_verbatim_rate == 1.0
    assert s.citation_precision == 0.5


def test_unknown_cited_source_fails():
    s = score_item(item(), answer("x[1]", citations=[cite("算力", source="missing.txt")]), TEXTS.get)
    assert (s.citation_precision, s.citation_recall) == (0.0, 0.0)


def test_refused_unanswerable_counts_and_answered_one_does_not():
    q = item(kind="unanswerable", facts=(), sources=(), evidence=())
    refused = score_item(q, answer("抱歉，资料中没有找到与该问题相关的信息。", refused=True), TEXTS.get)
    assert refused.refusal_accuracy == 1.0
    assert (refused.retrieval_recall_at_5, refused.key_fact_recall, refused.false_refusal_rate) == (None, None, None)
    made_up = score_item(q, answer("大约1万亿[1]。", citations=[cite("算力")]), TEXTS.get)
    assert made_up.refusal_accuracy == 0.0
    # Unanswerable items stay out of citation precision (documented), but their quotes are still checked.
    assert (made_up.citation_precision, made_up.citations_scored, made_up.quote_verbatim_rate) == (None, 0, 1.0)


def test_refused_answerable_is_a_false_refusal():
    s = score_item(item(), answer("抱歉，资料中没有找到与该问题相关的信息。", refused=True), TEXTS.get)
    assert (s.false_refusal_rate, s.key_fact_recall) == (1.0, 0.0)


def test_aggregate_overall_and_per_type():
    right = answer("60%[1]", citations=[cite("60%左右")], retrieved=[hit(TEXTS[SOURCE], 1)])
    wrong = answer("30%[1][2]", citations=[cite("60%左右"), cite("编的")], retrieved=FILLER[:5])
    unans = item(kind="unanswerable", facts=(), sources=(), evidence=())
    items = [item(), item(kind="fact"), unans]
    scores = [score_item(items[0], right, TEXTS.get), score_item(items[1], wrong, TEXTS.get),
              score_item(unans, answer("抱歉", refused=True), TEXTS.get)]
    overall = aggregate(scores)
    assert overall["retrieval_recall_at_5"] == 0.5
    assert overall["key_fact_recall"] == 0.5
    assert overall["citation_precision"] == pytest.approx(2 / 3)  # micro: 2 good of 3 citations
    assert overall["refusal_accuracy"] == 1.0
    assert overall["false_refusal_rate"] == 0.0
    per = by_type(items, scores)
    assert list(per) == ["number", "fact", "unanswerable"]
    assert per["number"]["key_fact_recall"] == 1.0 and per["fact"]["key_fact_recall"] == 0.0
    assert per["number"]["refusal_accuracy"] is None  # not a flattering 0 or 1
    assert per["unanswerable"]["retrieval_recall_at_5"] is None
