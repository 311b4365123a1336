"""``qabot eval --dialogues`` end to end: conversations through the real chain and index, turn by turn,
scored, written, and gated on a baseline, run as the command a user runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_eval_run import env, qabot_eval  # noqa: F401 - env is a fixture: the same command, the same settings

from bot.eval.dialogues import DIALOGUE_METRICS, DialoguesError, load_dialogues

ROOT = Path(__file__).resolve().parents[1]
DIALOGUES = [
    {"id": "t-1", "turns": [
        {"question": "2022年我国算力总规模是多少？", "standalone": None, "key_facts": [["180E"]], "refusal": False},
        {"question": "那美国呢？", "standalone": [["美国"], ["算力"]], "key_facts": [], "refusal": True}]},
    {"id": "t-2", "turns": [
        {"question": "薛澜说国内现在有多少个大模型？", "standalone": None, "key_facts": [["130"]], "refusal": False},
        {"question": "他觉得中国大模型有什么问题？", "standalone": [["薛澜"]], "key_facts": [], "refusal": False}]},
]


def test_the_committed_set_is_valid_and_big_enough():
    dialogues = load_dialogues(ROOT / "eval" / "dialogues.jsonl")
    assert len(dialogues) >= 30 and all(2 <= len(d.turns) <= 3 for d in dialogues)
    assert sum(t.refusal for d in dialogues for t in d.turns) >= 10


def test_a_bad_set_names_each_problem(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [{"question": ""}]}\nnot json\n', encoding="utf-8")
    with pytest.raises(DialoguesError) as err:
        load_dialogues(bad)
    assert "bad.jsonl:1" in str(err.value) and "bad.jsonl:2" in str(err.value)


def test_dialogues_are_scored_written_and_gated(tmp_path, env):
    path = tmp_path / "dialogues.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DIALOGUES), encoding="utf-8")
    baseline = tmp_path / "baseline.json"
    first = qabot_eval(env, "--dialogues", str(path), "--out", str(tmp_path / "run"), "--baseline", str(baseline))
    assert first.returncode == 0, first.stderr
    assert "gate not applied" in first.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_items"] == 2 and summary["n_turns"] == 4 and summary["n_refusal_turns"] == 1
    assert set(DIALOGUE_METRICS) <= set(summary)
    assert summary["rewrite_accuracy"] == 1.0 and summary["refusal_accuracy"] == 1.0
    turns = [json.loads(line) for line in (tmp_path / "run" / "turns.jsonl").read_text(encoding="utf-8").splitlines()]
    assert turns[1]["rewritten"] == "2022年美国算力总规模是多少？" and turns[1]["scores"]["refused"]
    assert turns[3]["rewritten"] == "薛澜觉得中国大模型有什么问题？"

    recorded = qabot_eval(env, "--dialogues", str(path), "--out", str(tmp_path / "rec"), "--baseline", str(baseline),
                          "--update-baseline")
    assert recorded.returncode == 0, recorded.stderr
    entry = json.loads(baseline.read_text(encoding="utf-8"))["entries"][0]
    assert set(entry["metrics"]) == set(DIALOGUE_METRICS)
    again = qabot_eval(env, "--dialogues", str(path), "--out", str(tmp_path / "again"), "--baseline", str(baseline))
    assert again.returncode == 0 and "gate passed" in again.stderr, again.stderr

    # a baseline the run falls short of: the command names the metric and exits 1
    entry["metrics"]["rewrite_accuracy"] = {"value": 1.0, "tolerance": 0.0}
    entry["metrics"]["key_fact_recall"] = {"value": 1.01, "tolerance": 0.0}
    baseline.write_text(json.dumps({"entries": [entry]}), encoding="utf-8")
    worse = qabot_eval(env, "--dialogues", str(path), "--out", str(tmp_path / "worse"), "--baseline", str(baseline))
    assert worse.returncode == 1 and "key_fact_recall" in worse.stderr, worse.stderr


def test_a_bad_dialogues_file_exits_2(tmp_path, env):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    result = qabot_eval(env, "--dialogues", str(bad), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and "bad.jsonl:1" in result.stderr
