"""The regression gate: below baseline − tolerance fails (above + tolerance where lower is better)."""
from __future__ import annotations

import json

from bot.eval.baseline import DEFAULT_TOLERANCE, check, update
from bot.eval.metrics import METRICS


def summary(**figures) -> dict:
    base = {m: 0.9 for m in METRICS} | {"false_refusal_rate": 0.05}
    return {**base, **figures, "provider": "extractive", "dataset": "eval/qa.jsonl", "dataset_sha256": "abc",
            "n_items": 50, "git_commit": "f" * 40}


def test_update_then_same_figures_pass(tmp_path):
    path = tmp_path / "baseline.json"
    update(summary(), path)
    gate = check(summary(), path)
    assert gate.compared and gate.failures == [] and len(gate.rows) == len(METRICS)
    assert json.loads(path.read_text())["entries"][0]["metrics"]["mrr"]["tolerance"] == DEFAULT_TOLERANCE


def test_each_metric_below_tolerance_is_named_and_within_tolerance_is_not(tmp_path):
    path = tmp_path / "baseline.json"
    update(summary(), path)
    gate = check(summary(mrr=0.9 - DEFAULT_TOLERANCE / 2, key_fact_recall=0.8, citation_precision=None,
                         false_refusal_rate=0.05 + DEFAULT_TOLERANCE * 2), path)
    named = [f.split(":")[0] for f in gate.failures]
    assert named == ["key_fact_recall", "citation_precision", "false_refusal_rate"]
    assert "key_fact_recall: 0.800 vs baseline 0.900 - tolerance 0.030" in gate.failures
    assert check(summary(false_refusal_rate=0.0, retrieval_recall_at_5=1.0), path).failures == []  # better


def test_hand_edited_tolerance_is_kept_by_update(tmp_path):
    path = tmp_path / "baseline.json"
    update(summary(), path)
    data = json.loads(path.read_text())
    data["entries"][0]["metrics"]["refusal_accuracy"]["tolerance"] = 0.2
    path.write_text(json.dumps(data))
    assert check(summary(refusal_accuracy=0.75), path).failures == []
    update(summary(refusal_accuracy=0.8), path)
    entry = json.loads(path.read_text())["entries"][0]
    assert entry["metrics"]["refusal_accuracy"] == {"value": 0.8, "tolerance": 0.2}
    assert len(json.loads(path.read_text())["entries"]) == 1


def test_other_dataset_version_or_provider_is_not_compared(tmp_path):
    path = tmp_path / "baseline.json"
    update(summary(), path)
    other = summary() | {"dataset_sha256": "changed"}
    gate = check(other, path)
    assert not gate.compared and "no baseline" in gate.note and "extractive on eval/qa.jsonl" in gate.note
    assert not check(summary() | {"provider": "openai"}, path).compared
    assert not check(summary(), tmp_path / "missing.json").compared
