"""``qabot feedback list | export`` as a user runs them, in a subprocess, on a store of their own."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import REFUSAL, ROOT
from bot.feedback.shown import Shown
from bot.feedback.store import FeedbackStore
from bot.types import Answer, Citation

QUOTE = "2022年我国算力总规模达到每秒180E(1.8万亿亿次/1.8万京次)FLOPS(浮点运算),据说排名在美国之后居全球第二。"
SOURCE = "000_56f6738d973ede18.txt"


def qabot(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOT_STORE_DIR": str(store)}
    return subprocess.run([sys.executable, "-m", "bot", "feedback", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


def rated(store: Path) -> dict[str, Shown]:
    """One 👍 with a comment holding console markup, one 👎 on a refusal."""
    ratings = FeedbackStore(store / "feedback.sqlite3")
    up = Shown.of(Answer(question="2022年我国算力总规模是多少？", text=QUOTE + "[1]", refused=False,
                         provider="extractive",
                         citations=[Citation(1, SOURCE, "AI迭代与算力竞争", QUOTE, 1.0, 1741, 1804)]), "abc")
    down = Shown.of(Answer(question="2023年我国算力总规模是多少？", text=REFUSAL, refused=True, provider="extractive"),
                    "abc")
    ratings.rate(up, "up")
    ratings.comment(up.id, "[red]对[/red]")
    ratings.rate(down, "down")
    return {"up": up, "down": down}


def test_list_and_export_with_no_ratings_say_so(store: Path, tmp_path: Path) -> None:
    listed = qabot(store, "list")
    assert listed.returncode == 0 and "还没有评价" in listed.stdout
    out = qabot(store, "export", "--out", str(tmp_path / "fb.jsonl"))
    assert out.returncode == 1 and "还没有评价可导出" in out.stderr
    assert not (tmp_path / "fb.jsonl").exists() and not (store / "feedback.sqlite3").exists()


def test_list_counts_and_shows_comments_as_text(store: Path) -> None:
    rated(store)
    listed = qabot(store, "list")
    assert listed.returncode == 0, listed.stderr
    assert "共 2 条评价：👍 1，👎 1，其中 1 条附有意见" in listed.stdout
    assert "[red]对[/red]" in listed.stdout and "（拒答）" in listed.stdout


def test_export_writes_items_and_review_and_never_overwrites_unasked(store: Path, tmp_path: Path) -> None:
    shown = rated(store)
    out, review = tmp_path / "sets" / "fb.jsonl", tmp_path / "sets" / "fb.review.jsonl"
    run = qabot(store, "export", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert f"2 条评价 → 1 条评测题：{out}，1 条待审核：{review}" in run.stdout
    assert f"qabot eval --dataset {out}" in run.stdout
    [item] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [todo] = [json.loads(line) for line in review.read_text(encoding="utf-8").splitlines()]
    assert item["id"] == f"fb-{shown['up'].id}" and item["comment"] == "[red]对[/red]"
    assert todo["id"] == f"fb-{shown['down'].id}" and todo["review"] is True

    before = out.read_bytes()
    again = qabot(store, "export", "--out", str(out))
    assert again.returncode == 2 and "文件已存在，未改动" in again.stderr and "--force" in again.stderr
    assert out.read_bytes() == before

    FeedbackStore(store / "feedback.sqlite3").unrate(shown["down"].id)
    forced = qabot(store, "export", "--out", str(out), "--force")
    assert forced.returncode == 0 and "0 条待审核" in forced.stdout
    assert not review.exists()  # a review file left from the earlier export would pass for this one's


def test_export_to_a_chosen_review_file_and_refuses_the_same_path(store: Path, tmp_path: Path) -> None:
    rated(store)
    same = qabot(store, "export", "--out", str(tmp_path / "a.jsonl"), "--review", str(tmp_path / "a.jsonl"))
    assert same.returncode == 2 and "不能与 --out 相同" in same.stderr
    chosen = qabot(store, "export", "--out", str(tmp_path / "a.jsonl"), "--review", str(tmp_path / "todo.jsonl"))
    assert chosen.returncode == 0 and (tmp_path / "todo.jsonl").is_file()


def test_a_broken_ratings_file_is_named_not_a_traceback(store: Path, tmp_path: Path) -> None:
    store.mkdir()
    (store / "feedback.sqlite3").write_bytes(b"garbage" * 500)
    for args in (["list"], ["export", "--out", str(tmp_path / "x.jsonl")]):
        run = qabot(store, *args)
        assert run.returncode == 2 and "评价库" in run.stderr and "Traceback" not in run.stderr
