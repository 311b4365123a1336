"""The ratings file: what a rating keeps, changes of mind, comments, threads writing at once, bad files."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.config import REFUSAL, ROOT
from bot.feedback.shown import Recent, Shown
from bot.feedback.store import MAX_COMMENT_CHARS, FeedbackError, FeedbackStore
from bot.types import Answer, Chunk, Citation, Hit

SOURCE = "000_56f6738d973ede18.txt"
QUOTE = "2022年我国算力总规模达到每秒180E(1.8万亿亿次/1.8万京次)FLOPS(浮点运算),据说排名在美国之后居全球第二。"


def cited_answer(question: str = "2022年我国算力总规模是多少？", rewritten: str | None = None) -> Answer:
    chunk = Chunk(id="c1", source=SOURCE, title="AI迭代与算力竞争", text="前文。" + QUOTE, start=1738, end=1804)
    return Answer(question=question, text=QUOTE + "[1]", refused=False, provider="extractive", rewritten=rewritten,
                  citations=[Citation(n=1, source=SOURCE, title="AI迭代与算力竞争", quote=QUOTE, score=1.0,
                                      start=1741, end=1804)],
                  retrieved=[Hit(chunk=chunk, score=0.03, rank=1, dense=0.9, lexical=12.0)])


def shown(answer: Answer | None = None) -> Shown:
    return Shown.of(answer or cited_answer(), commit="0123abc")


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "store" / "feedback.sqlite3")


def test_a_rating_keeps_the_answer_as_shown(store: FeedbackStore) -> None:
    s = shown(cited_answer("那美国呢？", rewritten="2022年我国算力总规模是多少？ 那美国呢？"))
    store.rate(s, "up")
    [rating] = store.ratings()
    assert rating.shown == s  # question, rewritten, answer with markers, citations, retrieved, commit, time
    assert rating.vote == "up" and rating.comment == "" and rating.rated_at >= s.answered_at
    assert rating.shown.citations[0]["quote"] == QUOTE and rating.shown.retrieved[0]["source"] == SOURCE
    assert rating.shown.standalone == "2022年我国算力总规模是多少？ 那美国呢？"


def test_rating_again_replaces_the_vote_and_keeps_the_comment(store: FeedbackStore) -> None:
    s = shown()
    store.rate(s, "up")
    assert store.comment(s.id, "  数字对。 ")
    store.rate(s, "down")
    [rating] = store.ratings()
    assert (rating.vote, rating.comment) == ("down", "数字对。")
    assert store.votes([s.id, "unknown"]) == {s.id: "down"}


def test_taking_a_vote_back_deletes_it_and_a_later_comment_is_refused(store: FeedbackStore) -> None:
    s = shown()
    store.rate(s, "up")
    assert store.unrate(s.id)
    assert store.ratings() == [] and not store.unrate(s.id)
    assert not store.comment(s.id, "太晚了")


def test_bad_votes_and_overlong_comments_are_refused_and_lose_nothing(store: FeedbackStore) -> None:
    s = shown()
    with pytest.raises(FeedbackError, match="未知的评价"):
        store.rate(s, "meh")  # type: ignore[arg-type]
    store.rate(s, "down")
    store.comment(s.id, "第一条意见")
    with pytest.raises(FeedbackError, match=f"请精简到 {MAX_COMMENT_CHARS} 字以内"):
        store.comment(s.id, "长" * (MAX_COMMENT_CHARS + 1))
    assert store.ratings()[0].comment == "第一条意见"


def test_a_refusal_is_stored_as_refused_with_no_citations(store: FeedbackStore) -> None:
    s = shown(Answer(question="2023年我国算力总规模是多少？", text=REFUSAL, refused=True, provider="extractive"))
    store.rate(s, "down")
    [rating] = store.ratings()
    assert rating.shown.refused and rating.shown.citations == [] and rating.shown.answer == REFUSAL


def test_reading_never_creates_the_file(store: FeedbackStore) -> None:
    assert store.ratings() == [] and store.votes(["x"]) == {}
    assert not store.path.exists()


def test_threads_rating_at_once_lose_nothing(store: FeedbackStore) -> None:
    """The Gradio queue answers in worker threads: 8 raters × 25 answers, votes and comments, all kept."""
    made: list[Shown] = []
    errors: list[BaseException] = []

    def rater(n: int) -> None:
        try:
            for i in range(25):
                s = shown(cited_answer(f"问题 {n}-{i}"))
                store.rate(s, "up" if i % 2 else "down")
                store.comment(s.id, f"意见 {n}-{i}")
                made.append(s)
                store.ratings()  # a reader in between
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=rater, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    kept = {r.shown.id: r for r in store.ratings()}
    assert len(kept) == 200 == len(made)
    assert all(kept[s.id].comment == "意见 " + s.question.removeprefix("问题 ") for s in made)


def test_a_file_that_is_not_a_database_gets_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"not a database, just bytes" * 100)
    with pytest.raises(FeedbackError, match="评价库 .* 无法读写"):
        FeedbackStore(path).ratings()
    assert path.read_bytes().startswith(b"not a database")  # left as it was


def test_the_schema_checks_votes_itself(store: FeedbackStore) -> None:
    store.rate(shown(), "up")
    with sqlite3.connect(store.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE ratings SET vote = 'maybe'")


def test_recent_answers_keep_the_newest_under_unguessable_ids() -> None:
    recent = Recent(capacity=3, commit="abc")
    ids = [recent.remember(cited_answer(f"问题{i}")) for i in range(5)]
    assert len(set(ids)) == 5 and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    assert [recent.get(i) is not None for i in ids] == [False, False, True, True, True]
    assert recent.get(ids[-1]).question == "问题4" and recent.get(ids[-1]).commit == "abc"
    assert recent.get("0" * 16) is None


RATER = """
import sys
from bot.feedback.shown import Shown
from bot.feedback.store import FeedbackStore
from bot.types import Answer
store = FeedbackStore(__import__("pathlib").Path(sys.argv[1]))
for i in range(40):
    s = Shown.of(Answer(question=f"{sys.argv[2]}-{i}", text="答。", refused=False, provider="extractive"), "c")
    store.rate(s, "up")
    store.comment(s.id, "ok")
"""


def test_processes_rating_one_store_at_once_lose_nothing(store: FeedbackStore) -> None:
    """Several app processes on one store directory (replicas on one machine) write the same file."""
    procs = [subprocess.Popen([sys.executable, "-c", RATER, str(store.path), f"p{n}"], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for n in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    kept = store.ratings()
    assert len(kept) == 160 and all(r.comment == "ok" for r in kept)
    assert {r.shown.question.split("-")[0] for r in kept} == {"p0", "p1", "p2", "p3"}
