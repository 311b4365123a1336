"""A feedback round trip, for real: 赞/踩 clicked in Chromium on answers of ``python app.py`` → the rows in
the app's SQLite file → ``qabot feedback export`` → ``qabot eval --dataset`` runs the exported set.

The app runs on a fresh store of two articles (its first start indexes them). Screenshots go to
test-output/ui/feedback-*.png.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from app_cli import launched
from bot.config import REFUSAL, ROOT, Settings
from bot.feedback.store import FeedbackStore
from bot.feedback.ui import Feedback, answer_id
from bot.gitinfo import git
from bot.render import answer_messages, history_turns, refusal_message
from bot.types import Answer, Citation
from ui_helpers import ask, launch, shot

ARTICLES = ROOT / "store" / "articles"
SOURCE = "000_56f6738d973ede18.txt"
LIKED = "2022年我国算力总规模是多少？"
FOLLOW_UP = "在全球排第几？"  # reads on from LIKED: searched as the standalone question
DISLIKED = "特斯拉的自动驾驶芯片叫什么？"  # the articles never mention 特斯拉: refused
TAKEN_BACK = "科大讯飞和华为联合发布的飞星一号是什么？"
COMMENT_UP = "数字和出处都对。"
COMMENT_DOWN = "拒答没错，但希望说明资料只到2022年。"


def thumbs(row: Locator) -> Locator:
    """The button bar Gradio draws right after an answer bubble (赞 / 踩, 重试, 撤销)."""
    return row.locator("xpath=following-sibling::*[1]")


def press(row: Locator, label: str) -> None:
    thumbs(row).get_by_role("button", name=label, exact=True).click()


def comment(page: Page, text: str, *, expect_label: str) -> None:
    """The box that opens after a vote: check what it says it is about, write, submit with Enter."""
    box = page.locator(".qa-feedback")
    expect(box).to_be_visible()
    expect(box).to_contain_text(expect_label)
    box.locator("textarea").fill(text)
    shot(page, f"feedback-comment-{'up' if '点了赞' in expect_label else 'down'}")
    box.locator("textarea").press("Enter")
    expect(box).to_be_hidden()


def qabot(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_STORE_DIR": str(store), "BOT_ARTICLES_DIR": str(store / "articles")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store of its own with two of the articles; the app's first start indexes them."""
    (tmp_path / "articles").mkdir()
    for name in (SOURCE, "001_4c16fc4f0885e345.txt"):
        shutil.copy(ARTICLES / name, tmp_path / "articles" / name)
    return tmp_path


def chat(*answers: Answer, feedback: Feedback) -> list[dict]:
    """The chat as the browser sends it back: each question, then its bubble as the app rendered it."""
    messages: list[dict] = []
    for ans in answers:
        messages.append({"role": "user", "content": ans.question})
        messages += answer_messages(ans, answer_id=feedback.remember(ans))
    return messages


def cited(question: str) -> Answer:
    quote = "2022年我国算力总规模达到每秒180E。"
    return Answer(question=question, text=quote + "[1]", refused=False, provider="extractive",
                  citations=[Citation(1, SOURCE, "AI迭代与算力竞争", quote, 1.0, 0, len(quote))])


def test_the_rated_bubble_names_its_answer_and_the_thumbs_follow_the_store(tmp_path: Path) -> None:
    feedback = Feedback(Settings(store_dir=tmp_path))
    refusal = Answer(question=DISLIKED, text=REFUSAL, refused=True, provider="extractive")
    messages = chat(cited(LIKED), refusal, cited(TAKEN_BACK), feedback=feedback)
    messages[3:3] = [{"role": "user", "content": " "}, refusal_message("请输入问题。")]  # a bubble, not an answer
    ids = [m["metadata"]["id"] for m in messages if (m.get("metadata") or {}).get("id")]
    assert len(ids) == 3 and answer_id(messages, 1) == ids[0] and answer_id(messages, (1, 0)) == ids[0]
    assert answer_id(messages, 0) is None and answer_id(messages, 4) is None and answer_id(messages, 99) is None
    assert history_turns(messages)[0] == (LIKED, cited(LIKED).text)  # the id changes nothing the rewrite reads

    feedback.store.rate(feedback.recent.get(ids[0]), "up")
    feedback.store.rate(feedback.recent.get(ids[2]), "down")
    assert feedback.shown_votes(messages).feedback_value == ["Like", None, None, "Dislike"]
    # 重试/撤销 from the last question on: the thumbs before it stay, the replaced answer's goes
    last_question = max(i for i, m in enumerate(messages) if m["role"] == "user")
    assert feedback.votes_before(last_question, messages).feedback_value == ["Like", None, None]


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        browser = launch(pw)
        yield browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
        browser.close()


@pytest.mark.e2e
def test_rated_in_the_browser_stored_exported_and_run_by_eval(page: Page, store: Path, tmp_path: Path) -> None:
    ratings = FeedbackStore(store / "feedback.sqlite3")
    out = tmp_path / "export" / "feedback.jsonl"
    with launched(store) as (url, _):
        page.goto(url)

        first = ask(page, LIKED)
        expect(first).to_contain_text("180E")
        press(first, "赞")
        comment(page, COMMENT_UP, expect_label=f"你对「{LIKED}」的回答点了赞")

        follow = ask(page, FOLLOW_UP)
        press(follow, "赞")
        expect(page.locator(".qa-feedback")).to_be_visible()  # left without a comment: that is fine

        refused = ask(page, DISLIKED)
        expect(refused).to_contain_text(REFUSAL)
        press(refused, "踩")
        comment(page, COMMENT_DOWN, expect_label=f"你对「{DISLIKED}」的回答点了踩")

        again = ask(page, TAKEN_BACK)
        press(again, "赞")
        expect(page.locator(".qa-feedback")).to_contain_text(f"你对「{TAKEN_BACK}」的回答点了赞")  # stored
        expect(thumbs(again).get_by_role("button", name="Liked", exact=True)).to_be_visible()
        press(again, "Liked")  # the same thumb again takes the vote back
        expect(page.locator(".qa-feedback")).to_be_hidden()  # the server has taken it back
        expect(thumbs(again).get_by_role("button", name="赞", exact=True)).to_be_visible()
        # the browser redraws the chat on every answer; the earlier votes still show as pressed
        expect(thumbs(first).get_by_role("button", name="Liked", exact=True)).to_be_visible()
        expect(thumbs(refused).get_by_role("button", name="Disliked", exact=True)).to_be_visible()
        shot(page, "feedback-votes", full_page=True)

        stored = {r.shown.question: r for r in ratings.ratings()}
        assert set(stored) == {LIKED, FOLLOW_UP, DISLIKED}, stored.keys()  # the taken-back vote is gone
        liked, follow_up, disliked = stored[LIKED], stored[FOLLOW_UP], stored[DISLIKED]
        assert (liked.vote, liked.comment) == ("up", COMMENT_UP)
        assert "180E" in liked.shown.answer and liked.shown.answer.endswith("[1]")
        assert [c["source"] for c in liked.shown.citations] == [SOURCE]
        assert liked.shown.citations[0]["quote"] in (store / "articles" / SOURCE).read_text(encoding="utf-8")
        assert liked.shown.provider == "extractive" and liked.shown.rewritten is None
        assert liked.shown.commit == git("rev-parse", "HEAD") and liked.rated_at >= liked.shown.answered_at
        assert liked.shown.retrieved and liked.shown.retrieved[0]["source"] == SOURCE
        assert follow_up.vote == "up" and follow_up.comment == ""
        assert follow_up.shown.rewritten and follow_up.shown.rewritten != FOLLOW_UP  # searched standalone
        assert (disliked.vote, disliked.comment) == ("down", COMMENT_DOWN)
        assert disliked.shown.refused and disliked.shown.answer == REFUSAL and disliked.shown.citations == []

        # exported while the app keeps serving (SQLite readers run beside the writer)
        export = qabot(store, "feedback", "export", "--out", str(out))
        assert export.returncode == 0, export.stderr
        assert "3 条评价 → 2 条评测题" in export.stdout and "1 条待审核" in export.stdout, export.stdout

    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_asked = {i["feedback"]["asked"]: i for i in items}
    assert set(by_asked) == {LIKED, FOLLOW_UP}
    assert by_asked[LIKED]["question"] == LIKED and by_asked[LIKED]["sources"] == [SOURCE]
    assert by_asked[FOLLOW_UP]["question"] == follow_up.shown.rewritten  # eval asks it without the chat
    assert all(i["review"] is False for i in items)
    review = [json.loads(line) for line in out.with_suffix(".review.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(review) == 1 and review[0]["review"] is True and review[0]["comment"] == COMMENT_DOWN
    assert review[0]["question"] == DISLIKED and review[0]["feedback"]["vote"] == "down"

    # the app has stopped (an embedded index has one writer at a time); eval runs the set as exported
    run = qabot(store, "eval", "--dataset", str(out), "--out", str(tmp_path / "run"),
                "--baseline", str(tmp_path / "baseline.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 items" in run.stdout and "gate not applied" in run.stderr, run.stdout + run.stderr
    results = [json.loads(line) for line in (tmp_path / "run" / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in results} == {i["id"] for i in items}
    # the same code gives the answers readers liked again: every exported item passes
    assert [r["failed"] for r in results] == [[], []], results
    # a 👎 line is a to-do: eval names what the reviewer must still fill in, and runs nothing
    todo = qabot(store, "eval", "--dataset", str(out.with_suffix(".review.jsonl")), "--out", str(tmp_path / "r2"))
    assert todo.returncode == 2 and "feedback.review.jsonl:1: 'answer' must be a non-empty string" in todo.stderr
