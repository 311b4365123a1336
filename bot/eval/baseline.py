"""The committed baseline and the regression gate.

``eval/baseline.json`` holds one entry per (provider, dataset version): each gated metric's committed
value and tolerance. A run regresses on a metric when it falls below ``value - tolerance`` (above
``value + tolerance`` for ``false_refusal_rate``, where lower is better). Entries are keyed by the
dataset's sha256 as well as its provider, because figures on another version of the set, or from another
provider, say nothing about this run: such a run is reported as "not compared", never silently passed as
if it had been.

Tolerances are edited by hand and kept by ``--update-baseline``, which rewrites only the values.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.eval.metrics import METRICS

DIGITS = 4  # figures are committed, and compared, to this many decimals
DEFAULT_TOLERANCE = 0.03  # a little over one item of the public set's 44 answerable ones
TOLERANCES = {"answer_chars_p50": 5.0}  # characters, not a share
ABOUT = (
    "qabot eval baseline: per provider and dataset version, each metric's committed value and tolerance. "
    "`qabot eval` exits 1 when a metric falls below value - tolerance (above value + tolerance for "
    "false_refusal_rate). Edit tolerances by hand; `qabot eval --update-baseline` rewrites the values."
)


@dataclass
class GateRow:
    """One metric of the gate: this run's value against the committed one."""

    metric: str
    value: float | None
    baseline: float | None
    tolerance: float
    delta: float | None  # value - baseline
    regressed: bool
    higher_better: bool = True


@dataclass
class Gate:
    """The gate's verdict. ``compared`` is False when no baseline entry matches this run."""

    compared: bool
    note: str
    rows: list[GateRow] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """Each regressed metric, named with its figures (what the command prints before exiting 1)."""
        out = []
        for r in self.rows:
            if not r.regressed:
                continue
            now = "n/a" if r.value is None else f"{r.value:.3f}"
            sign = "-" if r.higher_better else "+"
            out.append(f"{r.metric}: {now} vs baseline {r.baseline:.3f} {sign} tolerance {r.tolerance:.3f}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "passed": not self.failures,
            "note": self.note,
            "failures": self.failures,
            "rows": [r.__dict__ for r in self.rows],
        }


def tolerance(metric: str) -> float:
    """The tolerance a new baseline entry gets for ``metric`` (hand edits are kept afterwards)."""
    return TOLERANCES.get(metric, DEFAULT_TOLERANCE)


def read(path: Path) -> dict[str, Any]:
    """The baseline file's content (an empty one if the file does not exist yet)."""
    if not path.exists():
        return {"about": ABOUT, "entries": []}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise ValueError(f"{path}: not a qabot eval baseline (expected an object with an 'entries' list)")
    return data


def find_entry(data: dict[str, Any], provider: str, dataset_sha256: str) -> dict[str, Any] | None:
    for entry in data["entries"]:
        if entry.get("provider") == provider and entry.get("dataset_sha256") == dataset_sha256:
            return entry
    return None


def check(summary: dict[str, Any], path: Path, metrics: dict[str, bool] = METRICS) -> Gate:
    """Compare a run's summary with its matching baseline entry (``metrics``: name → higher is better;
    the dialogues set has its own)."""
    data = read(path)
    entry = find_entry(data, summary["provider"], summary["dataset_sha256"])
    if entry is None:
        others = [f"{e.get('provider')} on {e.get('dataset')}" for e in data["entries"]]
        note = (
            f"no baseline in {path} for provider {summary['provider']!r} on this version of "
            f"{summary['dataset']} (sha256 {summary['dataset_sha256'][:12]}); "
            + (f"it holds: {'; '.join(others)}. " if others else "it holds none. ")
            + "Run with --update-baseline to record one."
        )
        return Gate(compared=False, note=note)
    rows = []
    for metric, higher_better in metrics.items():
        committed = entry["metrics"].get(metric)
        if committed is None or committed.get("value") is None:
            continue
        base, tol = committed["value"], committed.get("tolerance", tolerance(metric))
        value = summary.get(metric)
        value = None if value is None else round(value, DIGITS)  # as precise as the committed figure
        if value is None:
            regressed = True  # measurable at baseline time, not now: that is a regression too
        else:
            regressed = value < base - tol if higher_better else value > base + tol
        delta = None if value is None else round(value - base, DIGITS)
        rows.append(GateRow(metric, value, base, tol, delta, regressed, higher_better))
    note = f"baseline from commit {entry.get('git_commit', '?')[:10]} ({entry.get('updated', '?')})"
    return Gate(compared=True, note=note, rows=rows)


def update(summary: dict[str, Any], path: Path, metrics: dict[str, bool] = METRICS) -> None:
    """Record this run's figures as the baseline for its provider and dataset version (tolerances kept)."""
    data = read(path)
    old = find_entry(data, summary["provider"], summary["dataset_sha256"])
    old_metrics = old["metrics"] if old else {}
    entry = {
        "provider": summary["provider"],
        "dataset": summary["dataset"],
        "dataset_sha256": summary["dataset_sha256"],
        "n_items": summary["n_items"],
        "git_commit": summary["git_commit"],
        "updated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metrics": {
            m: {
                "value": None if summary.get(m) is None else round(summary[m], DIGITS),
                "tolerance": old_metrics.get(m, {}).get("tolerance", tolerance(m)),
            }
            for m in metrics
        },
    }
    data["entries"] = [e for e in data["entries"] if e is not old] + [entry]
    data["about"] = ABOUT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
