"""``qabot eval`` end to end: the real chain, index, metrics and report, run as the command a user runs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eval.metrics import METRICS, UNBOUNDED

ROOT = Path(__file__).resolve().parents[1]
# A set the pipeline has never seen (not in eval/qa.jsonl), in the public format.
NEW_SET = [
    {"id": "new-1", "question": "天核100加速卡的算力集群已经稳定运行多少天了?", "answer": "已稳定运行19天。",
     "key_facts": [["19天"]], "sources": ["003_0fed65722026f005.txt"], "evidence": ["已稳定运行19天"],
     "type": "number"},
    {"id": "new-2", "question": "Sora生成的视频最长能有多少秒?", "answer": "时长可以达到60秒。",
     "key_facts": [["60秒"]], "sources": ["002_e3bc3ba30a8100f6.txt"], "evidence": ["时长可以达到60秒"],
     "type": "fact"},
    {"id": "new-3", "question": "天核100加速卡一块卖多少钱?", "answer": "资料没有提到价格。", "key_facts": [],
     "sources": [], "evidence": [], "type": "unanswerable"},
]


@pytest.fixture(scope="module")
def env(settings) -> dict[str, str]:
    """The default settings over the project's index (``settings`` builds it once per session)."""
    return {**os.environ, "BOT_PROVIDER": "extractive", "BOT_JUDGE_BASE_URL": ""}


def qabot_eval(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "eval", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1800)


def write_set(tmp_path: Path) -> Path:
    dataset = tmp_path / "unseen.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in NEW_SET), encoding="utf-8")
    return dataset


def test_bad_dataset_exits_2_naming_the_line(tmp_path, env):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(NEW_SET[0], ensure_ascii=False) + "\n" + '{"id": "x", "type": "opinion"}\n')
    run = qabot_eval(env, "--dataset", str(bad), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert "bad.jsonl:2: missing field 'question'" in run.stderr and "'opinion'" in run.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_compare_target_or_provider_exits_2(tmp_path, env):
    dataset = write_set(tmp_path)
    run = qabot_eval(env, "--dataset", str(dataset), "--out", str(tmp_path / "o"), "--compare", "fancy")
    assert run.returncode == 2 and "unknown --compare target 'fancy'; choose one of: naive" in run.stderr
    run = qabot_eval(env, "--dataset", str(dataset), "--out", str(tmp_path / "o"), "--provider", "nope")
    assert run.returncode == 2 and "unknown provider 'nope'" in run.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.e2e
def test_an_item_the_chain_rejects_is_kept_and_counted_as_failed(tmp_path, env):
    """QuestionError (here: questions over a 20-character limit) must neither stop the run nor vanish."""
    out = tmp_path / "err"
    run = qabot_eval({**env, "BOT_MAX_QUESTION_CHARS": "20"}, "--dataset", str(write_set(tmp_path)), "--out",
                     str(out), "--baseline", str(tmp_path / "b.json"), "--update-baseline")
    assert run.returncode == 1 and "not recording a baseline: 1 items raised errors" in run.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_items"] == 3 and summary["n_errors"] == 1
    long_one = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()][0]
    assert long_one["error"].startswith("QuestionError") and long_one["failed"][0].startswith("error:")
    assert long_one["metrics"]["key_fact_recall"] == 0.0
    assert not (tmp_path / "b.json").exists()


@pytest.mark.e2e
def test_compare_naive_reports_both_pipelines_and_the_ratio(tmp_path, env):
    out = tmp_path / "cmp"
    run = qabot_eval(env, "--dataset", str(write_set(tmp_path)), "--out", str(out), "--compare", "naive",
                     "--baseline", str(tmp_path / "b.json"))
    assert run.returncode == 0, run.stderr
    compare = json.loads((out / "summary.json").read_text())["compare"]
    for metric in ("retrieval_recall_at_5", "mrr"):
        row = compare["metrics"][metric]
        assert 0 <= row["qabot"] <= 1 and 0 <= row["naive"] <= 1
        assert row["ratio"] is None if row["naive"] == 0 else row["ratio"] == pytest.approx(row["qabot"] / row["naive"])
    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert all(len(r["naive"]["retrieved"]) == 5 for r in records)
    assert "Against the naive pipeline" in (out / "report.html").read_text()


@pytest.mark.e2e
def test_eval_on_an_unseen_dataset_writes_summary_items_and_report(tmp_path, env):
    dataset = write_set(tmp_path)
    out = tmp_path / "run"
    run = qabot_eval(env, "--dataset", str(dataset), "--out", str(out), "--baseline", str(tmp_path / "b.json"))
    assert run.returncode == 0, run.stderr
    assert "gate not applied" in run.stderr  # no baseline for this set: said, not silently passed

    summary = json.loads((out / "summary.json").read_text())
    for metric in METRICS.keys() - UNBOUNDED:
        assert 0 <= summary[metric] <= 1, metric
    assert summary["answer_chars_p50"] > 0
    assert summary["n_items"] == 3 and summary["provider"] == "extractive"
    assert set(summary["by_type"]) == {"number", "fact", "unanswerable"}
    assert summary["by_type"]["unanswerable"]["refusal_accuracy"] in (0.0, 1.0)
    assert summary["latency_ms"]["p95"] >= summary["latency_ms"]["p50"] > 0
    assert summary["answer_chars"]["p95"] >= summary["answer_chars"]["p50"] > 0
    assert len(summary["git_commit"]) == 40
    assert summary["judge"]["skipped"]

    records = [json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["new-1", "new-2", "new-3"]
    for r in records:
        assert {"question", "answer", "refused", "citations", "retrieved", "metrics"} <= set(r)
        assert r["retrieved"] and all("source" in h for h in r["retrieved"])
    assert "<h1>qabot eval</h1>" in (out / "report.html").read_text()

    # --update-baseline records it; the same run then passes its own gate.
    baseline = tmp_path / "b.json"
    assert qabot_eval(env, "--dataset", str(dataset), "--out", str(out), "--baseline", str(baseline),
                      "--update-baseline").returncode == 0
    again = qabot_eval(env, "--dataset", str(dataset), "--out", str(tmp_path / "run2"), "--baseline", str(baseline))
    assert again.returncode == 0 and "gate passed" in again.stderr, again.stderr


@pytest.mark.e2e
def test_public_set_passes_the_committed_baseline_gate(tmp_path, env):
    """CI's regression gate: the public set, the default provider, against eval/baseline.json."""
    out = tmp_path / "public"
    run = qabot_eval(env, "--out", str(out))
    gate = json.loads((out / "summary.json").read_text())["gate"]
    assert gate["compared"], gate["note"]  # a baseline for this dataset version and provider is committed
    assert run.returncode == 0, "\n".join(gate["failures"]) or run.stderr
    assert gate["passed"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["cmrc-ci", "drcd-ci"])
def test_external_samples_pass_the_committed_baseline_gate(tmp_path, env, name):
    """Open-domain samples of the external sets, each answered from an index of its own articles."""
    folder = ROOT / "eval" / "external" / name
    out = tmp_path / name
    run = qabot_eval(env, "--dataset", str(folder / "qa.jsonl"), "--articles", str(folder / "articles"),
                     "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gate"]["compared"], summary["gate"]["note"]
    assert run.returncode == 0, "\n".join(summary["gate"]["failures"]) or run.stderr
    retrieved = {h["source"] for line in (out / "items.jsonl").read_text().splitlines()
                 for h in json.loads(line)["retrieved"]}
    assert retrieved <= {p.name for p in (folder / "articles").iterdir()}
