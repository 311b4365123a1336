"""Ratings → eval items: what each verdict becomes, and that the eval loader and metrics take the items."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.chain import answer
from bot.config import REFUSAL, Settings
from bot.eval.dataset import check_row, load
from bot.eval.metrics import failed, score_item
from bot.eval.run import source_texts
from bot.feedback.export import build, write_jsonl
from bot.feedback.shown import Shown
from bot.feedback.store import FeedbackStore, Vote
from bot.types import Answer, Citation

LIKED = "2022年我国算力总规模是多少？"
A = "000_56f6738d973ede18.txt"
B = "003_0fed65722026f005.txt"


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "feedback.sqlite3")


def rate(store: FeedbackStore, ans: Answer, vote: Vote, comment: str = "") -> Shown:
    """Rate ``ans`` as the chat does: kept as shown, then voted on (and commented)."""
    shown = Shown.of(ans, commit="0123abc")
    store.rate(shown, vote)
    if comment:
        store.comment(shown.id, comment)
    return shown


def exported(store: FeedbackStore) -> tuple[list[dict], list[dict]]:
    result = build(store.ratings())
    return result.items, result.review


def cite(n: int, source: str, quote: str) -> Citation:
    return Citation(n=n, source=source, title="标题", quote=quote, score=1.0, start=0, end=len(quote))


def test_a_liked_answer_becomes_an_item_eval_loads_and_scores_as_passing(store, settings: Settings,
                                                                          tmp_path: Path) -> None:
    ans = answer(LIKED, settings=settings)
    shown = rate(store, ans, "up", "对")
    [item], review = exported(store)
    assert review == []
    quote = ans.citations[0].quote
    assert item["id"] == f"fb-{shown.id}" and item["question"] == LIKED and item["type"] == "fact"
    assert item["answer"] == quote and "[1]" not in item["answer"]
    assert item["key_facts"] == [[quote]]  # the sentence and its quote coincide for an extractive answer
    assert item["sources"] == [A] and item["evidence"] == [quote]
    assert item["review"] is False and item["comment"] == "对"
    assert item["feedback"]["vote"] == "up" and item["feedback"]["answer"] == ans.text
    assert item["feedback"]["commit"] == "0123abc" and item["feedback"]["provider"] == "extractive"

    path = tmp_path / "fb.jsonl"
    write_jsonl(path, [item])
    [loaded] = load(path)  # the extra fields (review, comment, feedback) do not bother the loader
    assert (loaded.id, loaded.question, loaded.sources) == (item["id"], LIKED, (A,))
    scores = score_item(loaded, ans, source_texts(settings))
    assert (scores.key_fact_recall, scores.citation_precision, scores.retrieval_recall_at_5) == (1.0, 1.0, 1.0)
    assert failed(loaded, scores) == []  # the answer the reader liked passes its own item


def test_each_sentence_is_a_fact_spelled_as_written_or_as_its_quote(store) -> None:
    ans = Answer(question="两篇文章分别说了什么？", refused=False, provider="openai",
                 text="我国算力规模居全球第二。[1]临港新片区提出了算力目标。[2]",
                 citations=[cite(1, A, "据说排名在美国之后居全球第二。"), cite(2, B, "临港新片区将打造算力产业。")])
    rate(store, ans, "up")
    [item], _ = exported(store)
    assert item["key_facts"] == [["我国算力规模居全球第二。", "据说排名在美国之后居全球第二。"],
                                 ["临港新片区提出了算力目标。", "临港新片区将打造算力产业。"]]
    assert item["sources"] == [A, B] and item["type"] == "multi_doc"
    assert item["answer"] == "我国算力规模居全球第二。临港新片区提出了算力目标。"
    assert check_row(item) == []


def test_a_follow_up_is_asked_as_the_standalone_question_it_was_searched_as(store) -> None:
    ans = Answer(question="那美国呢？", rewritten="2022年美国算力总规模是多少？", text=REFUSAL, refused=True,
                 provider="extractive")
    rate(store, ans, "up")
    [item], _ = exported(store)
    assert item["question"] == "2022年美国算力总规模是多少？" and item["feedback"]["asked"] == "那美国呢？"


def test_a_liked_refusal_becomes_an_unanswerable_item(store) -> None:
    rate(store, Answer(question="2023年我国算力总规模是多少？", text=REFUSAL, refused=True, provider="extractive"),
         "up")
    [item], _ = exported(store)
    assert item["type"] == "unanswerable" and item["answer"] == REFUSAL
    assert item["key_facts"] == item["sources"] == item["evidence"] == []
    assert check_row(item) == []


def test_a_dislike_becomes_a_line_for_review_with_what_the_reader_saw(store, settings: Settings) -> None:
    wrong = answer("薛澜认为中国大模型存在哪些问题？", settings=settings)
    rate(store, wrong, "down", "漏掉了算力不足这一点")
    refused = Answer(question="飞星一号是哪年发布的？", text=REFUSAL, refused=True, provider="extractive")
    rate(store, refused, "down")
    items, review = exported(store)
    assert items == []
    first, second = review
    assert first["review"] is True and first["comment"] == "漏掉了算力不足这一点"
    assert (first["answer"], first["key_facts"], first["sources"], first["evidence"]) == ("", [], [], [])
    assert first["feedback"]["answer"] == wrong.text and first["feedback"]["citations"]
    assert [r["source"] for r in first["feedback"]["retrieved"]] == [h.chunk.source for h in wrong.retrieved]
    assert second["feedback"]["refused"] is True and second["comment"] == ""
    # the eval loader names what a reviewer must fill in before the line is an item
    assert check_row(first) == ["'answer' must be a non-empty string, got ''",
                                "'key_facts' must not be empty for an answerable item",
                                "'sources' must not be empty for an answerable item",
                                "'evidence' must not be empty for an answerable item"]


def test_a_liked_answer_that_would_not_load_goes_to_review(store) -> None:
    rate(store, Answer(question="没有出处的回答？", text="一句没有出处的话。", refused=False, provider="openai"), "up")
    items, [line] = exported(store)
    assert items == [] and line["review"] is True and line["feedback"]["vote"] == "up"


def test_ratings_of_one_question_merge_per_verdict_keeping_every_comment(store, settings: Settings) -> None:
    ans = answer(LIKED, settings=settings)
    rate(store, ans, "up", "数字对")
    rate(store, replace(ans, question="2022年我国算力总规模是多少?"), "up", "出处也对")  # the same, half-width ?
    latest = rate(store, ans, "up")
    rate(store, ans, "down", "应该也说美国")
    items, review = exported(store)
    assert [i["id"] for i in items] == [f"fb-{latest.id}"]  # built from the latest rating of the question
    assert items[0]["comment"] == "数字对\n出处也对"
    assert [r["comment"] for r in review] == ["应该也说美国"]
