"""Hybrid retrieval on the real index, measured on the public Q&A set."""
import json

import pytest

from bot.chain import retriever
from bot.config import ROOT
from bot.eval.metrics import first_evidence_rank

ITEMS = [json.loads(line) for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
ANSWERABLE = [it for it in ITEMS if it["evidence"]]


def measure(rank_texts) -> dict[str, float]:
    """recall@1, recall@5 and MRR of a function question → ranked chunk texts."""
    ranks = [first_evidence_rank(rank_texts(it["question"]), it["evidence"]) for it in ANSWERABLE]
    n = len(ranks)
    return {
        "r1": sum(r == 1 for r in ranks) / n,
        "r5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


@pytest.fixture(scope="module")
def figures(settings):
    r = retriever(settings)
    return {
        "dense": measure(lambda q: [r.chunks[i].text for i, _ in r.dense(q, 10)]),
        "bm25": measure(lambda q: [r.chunks[i].text for i, _ in r.lexical(q, 10)]),
        "hybrid": measure(lambda q: [h.chunk.text for h in r.search(q, 10)]),
    }


def test_hybrid_finds_evidence_at_least_as_often_as_either_retriever_alone(figures):
    print(json.dumps(figures, indent=1))
    assert figures["hybrid"]["r5"] >= max(figures["dense"]["r5"], figures["bm25"]["r5"])
    assert figures["hybrid"]["r5"] >= 0.95


def test_hybrid_ranks_better_than_dense_alone(figures):
    # Measured, not forced: with 200-token chunks all three find 42 of 44 in the top 5, and BM25 alone
    # ranks slightly better at the top (MRR ≈ 0.905 vs hybrid ≈ 0.895); fusion is what carries
    # questions BM25 cannot see at all (next test). The issue note gives all figures.
    assert figures["hybrid"]["mrr"] > figures["dense"]["mrr"]


def test_hybrid_answers_what_one_side_alone_misses(settings):
    r = retriever(settings)
    english = "When was the first AI Safety Summit held?"
    keyword_top = [r.chunks[i].text for i, _ in r.lexical(english, 5)]
    assert not any("布莱切利" in text for text in keyword_top)  # BM25 sees only the word "AI"
    assert "布莱切利" in r.search(english, 5)[0].chunk.text


def test_simplified_question_finds_the_traditional_article(settings):
    hits = retriever(settings).search("讯飞和华为一起发布的飞星一号是什么平台?", 5)
    assert hits[0].chunk.source == "001_4c16fc4f0885e345.txt"
    assert "飛星一號" in hits[0].chunk.text


def test_english_question_is_carried_by_the_dense_side(settings):
    hits = retriever(settings).search("When was the first AI Safety Summit held?", 5)
    assert any("布莱切利" in h.chunk.text for h in hits)
    assert all(h.lexical is None for h in hits) or any(h.dense for h in hits)
