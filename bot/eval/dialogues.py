"""``qabot eval --dialogues``: conversations of 2–3 turns through ``bot.chain.answer(question, history)``,
turn by turn, exactly as the chat passes its history, scored on what follow-ups need.

A line of the set is ``{"id", "turns": [{"question", "standalone", "key_facts", "refusal"}, …]}``:

- ``standalone``: the key words the standalone question must contain (a list of groups, each a list of
  acceptable spellings), or ``null`` when the turn stands on its own and must not be rewritten;
- ``key_facts``: facts the answer must state (each a list of acceptable spellings);
- ``refusal``: whether the articles do not say (「那美国呢？」 when they give no US figure).

Figures: ``rewrite_accuracy`` over the turns after the first (a follow-up rewritten with its key words,
a standalone question left alone), ``key_fact_recall`` over the answerable turns with facts,
``refusal_accuracy`` over the turns the articles do not answer, ``false_refusal_rate`` over the others,
and ``quote_verbatim_rate`` over every citation. They are gated on ``eval/baseline.json`` like the
other sets (keyed by provider and the set's sha256).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.config import Settings
from bot.eval import baseline as gate
from bot.eval.metrics import fact_stated, key, quote_verbatim
from bot.gitinfo import git
from bot.types import Answer

console = Console(stderr=True, soft_wrap=True)
# metric -> higher is better (the regression gate's direction)
DIALOGUE_METRICS: dict[str, bool] = {
    "rewrite_accuracy": True,
    "key_fact_recall": True,
    "refusal_accuracy": True,
    "false_refusal_rate": False,
    "quote_verbatim_rate": True,
}


@dataclass(frozen=True)
class Turn:
    question: str
    standalone: tuple[tuple[str, ...], ...] | None  # None: stands on its own, must not be rewritten
    key_facts: tuple[tuple[str, ...], ...]
    refusal: bool


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: tuple[Turn, ...]


class DialoguesError(ValueError):
    """The set has bad lines; the message names each (line number and problem)."""


def _groups(value: object, field: str, problems: list[str], where: str) -> tuple[tuple[str, ...], ...]:
    ok = isinstance(value, list) and all(
        isinstance(g, list) and g and all(isinstance(s, str) and s.strip() for s in g) for g in value)
    if not ok:
        problems.append(f"{where}: '{field}' must be a list of non-empty lists of non-empty strings")
        return ()
    return tuple(tuple(g) for g in value)


def load_dialogues(path: Path) -> list[Dialogue]:
    """Every dialogue of the set; all problems of all lines reported together."""
    problems: list[str] = []
    dialogues: list[Dialogue] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DialoguesError(f"cannot read dialogues {path}: {err}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"{where}: not JSON ({err.msg})")
            continue
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("turns"), list):
            problems.append(f"{where}: expected an object with a string 'id' and a list 'turns'")
            continue
        if row["id"] in seen:
            problems.append(f"{where}: duplicate id {row['id']!r}")
        seen.add(row["id"])
        if not 1 <= len(row["turns"]) <= 5:
            problems.append(f"{where}: 'turns' must hold 1 to 5 turns")
        turns = []
        for i, t in enumerate(row["turns"]):
            at = f"{where} turn {i + 1}"
            if not isinstance(t, dict) or not isinstance(t.get("question"), str) or not t["question"].strip():
                problems.append(f"{at}: expected an object with a non-empty 'question'")
                continue
            if not isinstance(t.get("refusal", False), bool):
                problems.append(f"{at}: 'refusal' must be true or false")
            standalone = None if t.get("standalone") is None else _groups(t["standalone"], "standalone", problems, at)
            facts = _groups(t.get("key_facts", []), "key_facts", problems, at) if t.get("key_facts") else ()
            turns.append(Turn(t["question"], standalone, facts, bool(t.get("refusal", False))))
        dialogues.append(Dialogue(row["id"], tuple(turns)))
    if problems:
        raise DialoguesError(f"{len(problems)} problem(s) in dialogues {path}:\n" + "\n".join(f"  {p}" for p in problems))
    if not dialogues:
        raise DialoguesError(f"dialogues {path}: no dialogues")
    return dialogues


def rewrite_ok(turn: Turn, ans: Answer) -> bool:
    """The standalone question holds the expected key words (or the question was left alone)."""
    if turn.standalone is None:
        return ans.rewritten is None
    text = key(ans.rewritten or ans.question)
    return all(fact_stated(text, group) for group in turn.standalone)


def score_turn(turn: Turn, ans: Answer, source_text) -> dict[str, Any]:
    """One turn's figures (``None`` where a figure does not apply to it)."""
    stated = [fact_stated(key(ans.text), f) for f in turn.key_facts] if not ans.refused else [False] * len(turn.key_facts)
    return {
        "rewrite_ok": rewrite_ok(turn, ans),
        "key_fact_recall": sum(stated) / len(stated) if stated and not turn.refusal else None,
        "refused": ans.refused,
        "verbatim": [quote_verbatim(c.quote, source_text(c.source)) for c in ans.citations],
    }


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def aggregate(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """The set's figures from its turn records (see module doc)."""
    later = [r for r in rows if r["turn"] > 1]
    recalls = [r["scores"]["key_fact_recall"] for r in rows if r["scores"]["key_fact_recall"] is not None]
    return {
        "rewrite_accuracy": _share([r["scores"]["rewrite_ok"] for r in later]),
        "key_fact_recall": sum(recalls) / len(recalls) if recalls else None,
        "refusal_accuracy": _share([r["scores"]["refused"] for r in rows if r["refusal"]]),
        "false_refusal_rate": _share([r["scores"]["refused"] for r in rows if not r["refusal"]]),
        "quote_verbatim_rate": _share([v for r in rows for v in r["scores"]["verbatim"]]),
    }


def run(dialogues: list[Dialogue], provider: str, settings: Settings, source_text) -> list[dict[str, Any]]:
    """Every turn through the chain with the dialogue's history so far (the answers the bot gave)."""
    from bot.chain import answer

    rows = []
    for dialogue in dialogues:
        history: list[tuple[str, str]] = []
        for n, turn in enumerate(dialogue.turns, 1):
            error = None
            try:
                ans = answer(turn.question, history, provider=provider, settings=settings)
            except Exception as e:  # noqa: BLE001 - recorded and scored as a failed turn
                error = f"{type(e).__name__}: {e}"
                ans = Answer(question=turn.question, text="", refused=False, provider=provider)
            rows.append({"id": dialogue.id, "turn": n, "question": turn.question, "rewritten": ans.rewritten,
                         "answer": ans.text, "refusal": turn.refusal, "error": error,
                         "expected_standalone": None if turn.standalone is None else [list(g) for g in turn.standalone],
                         "key_facts": [list(f) for f in turn.key_facts],
                         "scores": score_turn(turn, ans, source_text)})
            history.append((turn.question, ans.text))
    return rows


def summarise(rows: list[dict[str, Any]], dialogues: list[Dialogue], provider: str, path: Path,
              display: str, started: datetime) -> dict[str, Any]:
    return {
        **aggregate(rows),
        "n_items": len(dialogues),
        "n_turns": len(rows),
        "n_refusal_turns": sum(r["refusal"] for r in rows),
        "n_errors": sum(1 for r in rows if r["error"]),
        "provider": provider,
        "git_commit": git("rev-parse", "HEAD") or "unknown",
        "dataset": display,
        "dataset_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 1),
    }


def print_summary(summary: dict[str, Any], rows: list[dict[str, Any]], out: Path) -> None:
    gated = {r["metric"]: r for r in summary["gate"]["rows"]}
    table = Table(title=f"qabot eval --dialogues · {summary['provider']} · {summary['n_items']} dialogues, "
                        f"{summary['n_turns']} turns")
    for col in ("metric", "value", "baseline", "Δ"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for metric in DIALOGUE_METRICS:
        value, row = summary.get(metric), gated.get(metric)
        table.add_row(metric, "n/a" if value is None else f"{value:.3f}",
                      f"{row['baseline']:.3f}" if row else "—",
                      f"{row['delta']:+.3f}" if row and row["delta"] is not None else "—",
                      style="red" if row and row["regressed"] else None)
    Console().print(table)
    for r in rows:
        s = r["scores"]
        wrong = [w for w, bad in (("rewrite", not s["rewrite_ok"]), ("refusal", r["refusal"] and not s["refused"]),
                                  ("false refusal", not r["refusal"] and s["refused"]),
                                  ("key facts", s["key_fact_recall"] is not None and s["key_fact_recall"] < 1))
                 if bad]
        if wrong:
            console.print(f"  {r['id']} turn {r['turn']} ({', '.join(wrong)}): {r['question']} → "
                          f"{r['rewritten'] or '(as asked)'}", markup=False)
    console.print(f"turns: {out / 'turns.jsonl'}", markup=False)


def evaluate(dialogues: list[Dialogue], path: Path, provider: str, settings: Settings, out: Path, baseline: Path,
             update_baseline: bool, display: str, source_text) -> int:
    """Run, write summary.json and turns.jsonl, gate; the exit code (0 passed or not compared, 1 regressed)."""
    started = datetime.now(UTC)
    rows = run(dialogues, provider, settings, source_text)
    summary = summarise(rows, dialogues, provider, path, display, started)
    summary["gate"] = gate.check(summary, baseline, DIALOGUE_METRICS).to_dict()
    out.mkdir(parents=True, exist_ok=True)
    (out / "turns.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print_summary(summary, rows, out)
    if update_baseline:
        if summary["n_errors"]:
            console.print(f"not recording a baseline: {summary['n_errors']} turns raised errors", style="red")
            return 1
        gate.update(summary, baseline, DIALOGUE_METRICS)
        console.print(f"baseline for {provider} on {display} written to {baseline}", markup=False)
        return 0
    result = summary["gate"]
    if not result["compared"]:
        console.print(f"gate not applied: {result['note']}", style="yellow", markup=False)
        return 0
    if result["failures"]:
        console.print("REGRESSION against the baseline:", style="bold red")
        for failure in result["failures"]:
            console.print(f"  {failure}", style="red", markup=False)
        return 1
    console.print(f"gate passed ({result['note']})", style="green", markup=False)
    return 0
