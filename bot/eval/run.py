"""``qabot eval``: every item through ``bot.chain.answer`` (the chat's own chain), scored, reported, gated.

Exit codes: 0 the run is at or above its baseline (or has none to compare with: said so, loudly),
1 some metric fell below baseline − tolerance (each one is named), 2 the run could not be made (bad
dataset, unknown provider, ``--compare naive`` without the ``compare`` extra).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bot.config import LLM_UNAVAILABLE_NOTICE, ROOT, Settings, get_settings
from bot.eval import baseline as gate
from bot.eval import judge, report
from bot.eval.compare import compare_naive, load_naive
from bot.eval.dataset import DatasetError, Item, load
from bot.eval.metrics import METRICS, ItemScores, aggregate, by_type, failed, quote_verbatim, score_item
from bot.gitinfo import git
from bot.types import Answer

console = Console(stderr=True, soft_wrap=True)  # messages stay whole lines (greppable, copyable)
SourceText = Callable[[str], str | None]


def display(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (baselines must match across clones)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path.resolve())


def source_texts(settings: Settings) -> SourceText:
    """``name -> cleaned text`` of the articles, as the index has them (quotes are checked against it)."""
    from bot.clean import CleanError, load_document

    @cache
    def text(name: str) -> str | None:
        path = settings.articles_dir / name
        if path.name != name or not path.is_file():
            return None
        try:
            return load_document(path).text
        except CleanError:
            return None

    return text


def articles_settings(settings: Settings, articles: Path) -> Settings:
    """Settings whose index holds exactly the files of ``articles``: a store of its own under
    ``store/eval/``, named by the folder and its files' contents, so it is reused while they are
    unchanged and a changed folder gets a fresh one (the stale one is removed)."""
    from bot import model
    from bot.store import article_files

    folder = articles.resolve()
    label = f"{folder.parent.name}-{folder.name}" if folder.name == "articles" else folder.name  # cmrc-articles
    prefix = f"{re.sub(r'[^A-Za-z0-9_-]', '_', label)[:32]}-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"
    digest = hashlib.sha256()
    for path in article_files([folder]):
        digest.update(f"{path.relative_to(folder)}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\0".encode())
    name = f"{prefix}-{digest.hexdigest()[:12]}"
    home = settings.store_dir / "eval"
    for stale in home.glob(f"{prefix}-*"):
        if stale.name != name:
            shutil.rmtree(stale, ignore_errors=True)
    local = settings.local
    if local.model_path is None:  # the bundled local model stays where the configured store keeps it
        local = local.model_copy(update={"model_path": model.fetch(settings=settings)}) if _fetched(settings) else local
    return settings.model_copy(update={"articles_dir": folder, "store_dir": home / name, "collection": f"eval-{name}",
                                       "local": local})


def _fetched(settings: Settings) -> bool:
    """Whether the configured store already holds the bundled local model (joining it is the local
    provider's first use, not an eval's: an extractive run must not pay for it)."""
    from bot import model

    return (settings.store_dir / "models" / model.bundled(settings.local.model).file_name).is_file()


def ask_all(items: list[Item], provider: str, settings: Settings) -> list[tuple[Answer, float, str | None]]:
    """Each item's answer from the chat's chain, its wall-clock latency in ms, and the error if it raised.

    An item that raises is kept and scored as an empty, unrefused answer (so it fails every metric it can):
    one broken question must neither stop the run nor vanish from the figures.
    """
    from bot.chain import answer

    results = []
    columns = (TextColumn("[bold]eval[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(provider, total=len(items))
        for item in items:
            progress.update(task, description=escape(f"{provider} · {item.id}"))
            start = time.perf_counter()
            error = None
            try:
                ans = answer(item.question, provider=provider, settings=settings)
            except Exception as e:  # noqa: BLE001 - recorded per item and counted in the summary
                error = f"{type(e).__name__}: {e}"
                ans = Answer(question=item.question, text="", refused=False, provider=provider)
            results.append((ans, (time.perf_counter() - start) * 1000, error))
            progress.advance(task)
    return results


def record(
    item: Item, ans: Answer, latency: float, error: str | None, scores: ItemScores, text: SourceText
) -> dict[str, Any]:
    """One line of items.jsonl: what was asked, what came back, and every metric of it."""
    return {
        "id": item.id,
        "type": item.type,
        "question": item.question,
        "reference": item.answer,
        "key_facts": [list(f) for f in item.key_facts],
        "sources": list(item.sources),
        "answer": ans.text,
        "refused": ans.refused,
        "provider": ans.provider,
        "notice": ans.notice,
        "rewritten": ans.rewritten,
        "error": error,
        "citations": [{**asdict(c), "verbatim": quote_verbatim(c.quote, text(c.source))} for c in ans.citations],
        "retrieved": [
            {"rank": h.rank, "source": h.chunk.source, "start": h.chunk.start, "end": h.chunk.end,
             "score": round(h.score, 6)}
            for h in ans.retrieved
        ],
        "latency_ms": round(latency, 1),
        "timings_ms": {k: round(v, 1) for k, v in ans.timings_ms.items()},
        "metrics": scores.to_dict(),
        "failed": ([f"error: {error}"] if error else []) + failed(item, scores),
    }


def _p50_p95(values: list[float]) -> dict[str, float]:
    return {q: round(float(np.percentile(values, n)), 1) for q, n in (("p50", 50), ("p95", 95))}


def summarise(items: list[Item], scores: list[ItemScores], records: list[dict[str, Any]], *, provider: str,
              dataset: Path, started: datetime) -> dict[str, Any]:
    """summary.json: overall figures at the top level, per-type figures under ``by_type``, run facts."""
    latencies = [r["latency_ms"] for r in records]
    commit = git("rev-parse", "HEAD") or "unknown"
    return {
        **aggregate(scores),
        "by_type": by_type(items, scores),
        "n_items": len(items),
        "n_by_type": dict(Counter(i.type for i in items)),
        "n_errors": sum(1 for r in records if r["error"]),
        "n_fallback": sum(1 for r in records if r["notice"] == LLM_UNAVAILABLE_NOTICE),
        "provider": provider,
        "latency_ms": _p50_p95(latencies),
        # Longer answers state more key facts by chance: the length beside the recall keeps that visible.
        "answer_chars": _p50_p95([len(r["answer"]) for r in records]),
        "reference_chars": _p50_p95([len(i.answer) for i in items]),
        "git_commit": commit,
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "dataset": display(dataset),
        "dataset_sha256": hashlib.sha256(dataset.read_bytes()).hexdigest(),
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds(), 1),
    }


def print_summary(summary: dict[str, Any], out: Path) -> None:
    rows = {r["metric"]: r for r in summary["gate"]["rows"]}
    table = Table(title=f"qabot eval · {summary['provider']} · {summary['n_items']} items")
    for col in ("metric", "value", "baseline", "Δ"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for metric in METRICS:
        value, row = summary.get(metric), rows.get(metric)
        table.add_row(
            metric,
            "n/a" if value is None else f"{value:.3f}",
            f"{row['baseline']:.3f}" if row else "—",
            f"{row['delta']:+.3f}" if row and row["delta"] is not None else "—",
            style="red" if row and row["regressed"] else None,
        )
    Console().print(table)
    if summary.get("compare"):
        versus = Table(title=f"against {summary['compare']['target']} (same items, same metric code)")
        for col in ("metric", "qabot", summary["compare"]["target"], "ratio"):
            versus.add_column(col, justify="left" if col == "metric" else "right")
        for metric, row in summary["compare"]["metrics"].items():
            versus.add_row(metric, *(("n/a" if row[c] is None else f"{row[c]:.3f}") for c in ("qabot", "naive")),
                           "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}×")
        Console().print(versus)
    lat = summary["latency_ms"]
    console.print(f"latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms · errors {summary['n_errors']}"
                  f" · LLM fallbacks {summary['n_fallback']}"
                  f" · answer length p50 {summary['answer_chars']['p50']:.0f} chars"
                  f" (reference {summary['reference_chars']['p50']:.0f}) · report {out / 'report.html'}", markup=False)


def eval_command(
    ctx: typer.Context,
    dataset: Annotated[Path, typer.Option(help="JSONL eval set (id, question, answer, key_facts, sources, "
                                               "evidence, type).")] = ROOT / "eval" / "qa.jsonl",
    articles: Annotated[Path | None, typer.Option(help="Answer against an index of exactly these articles "
                                                       "(a store of its own), not the configured one.")] = None,
    out: Annotated[Path | None, typer.Option(help="Output directory (default: eval/runs/<timestamp>).")] = None,
    provider: Annotated[str | None, typer.Option(help="Answer provider (default: settings.provider).")] = None,
    baseline: Annotated[Path, typer.Option(help="Committed baseline figures and tolerances.")] = (
        ROOT / "eval" / "baseline.json"
    ),
    update_baseline: Annotated[bool, typer.Option("--update-baseline", help="Record this run as the "
                                                  "baseline for its provider and dataset.")] = False,
    compare: Annotated[str | None, typer.Option(help="Also run a reference pipeline: 'naive'.")] = None,
    dialogues: Annotated[Path | None, typer.Option(help="Run a dialogues set instead (eval/dialogues.jsonl): "
                                                        "follow-ups turn by turn, scored on rewrites, key facts "
                                                        "and refusals.")] = None,
) -> None:
    """Run an eval set through the chat's chain; write summary.json, items.jsonl, report.html; gate on a baseline."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    if articles is not None:
        if not articles.is_dir():
            console.print(f"--articles {articles}: not a folder", style="red", markup=False)
            raise typer.Exit(2)
        settings = articles_settings(settings, articles)
    provider = provider or settings.provider
    try:
        items = load(dataset)
    except DatasetError as e:
        console.print(str(e), style="red", markup=False)
        raise typer.Exit(2) from None
    from bot.providers import PROVIDERS

    if provider not in PROVIDERS:
        console.print(f"unknown provider {provider!r}; choose one of: {', '.join(PROVIDERS)}", style="red")
        raise typer.Exit(2)
    if dialogues is not None:
        raise typer.Exit(_dialogues(dialogues, provider, settings, out, baseline, update_baseline))
    naive = None
    if compare is not None:
        naive = load_naive(compare, settings)
        if isinstance(naive, str):
            console.print(naive, style="red", markup=False)
            raise typer.Exit(2)
    started = datetime.now(UTC)
    out = out or ROOT / "eval" / "runs" / started.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)

    from bot.store import ingest

    # Sync the index with the current cleaning/chunking code and settings (content-hash ids: only what
    # changed is re-embedded), so "change the chunk size, run qabot eval" measures the change, not a stale index.
    synced = ingest(settings=settings)
    console.print(f"index: {synced.summary()}", markup=False)
    text = source_texts(settings)
    answers = ask_all(items, provider, settings)
    scores = [score_item(i, a, text) for i, (a, _, _) in zip(items, answers)]
    records = [record(i, a, lat, err, s, text) for i, (a, lat, err), s in zip(items, answers, scores)]
    summary = summarise(items, scores, records, provider=provider, dataset=dataset, started=started)
    summary["judge"], verdicts = judge.judge_run(items, [a for a, _, _ in answers], settings)
    for rec, verdict in zip(records, verdicts):
        rec["judge"] = verdict
    if naive is not None:
        summary["compare"] = compare_naive(naive, items, summary, records, console)
    summary["gate"] = gate.check(summary, baseline).to_dict()

    (out / "items.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "report.html").write_text(report.render(summary, records), encoding="utf-8")
    print_summary(summary, out)

    if update_baseline:
        if summary["n_errors"]:
            console.print(f"not recording a baseline: {summary['n_errors']} items raised errors (see items.jsonl)",
                          style="red")
            raise typer.Exit(1)
        gate.update(summary, baseline)
        console.print(f"baseline for {provider} on {summary['dataset']} written to {baseline}")
        return
    result = summary["gate"]
    if not result["compared"]:
        console.print(f"gate not applied: {result['note']}", style="yellow", markup=False)
    elif result["failures"]:
        console.print("REGRESSION against the baseline:", style="bold red")
        for failure in result["failures"]:
            console.print(f"  {failure}", style="red", markup=False)
        raise typer.Exit(1)
    else:
        console.print(f"gate passed ({result['note']})", style="green", markup=False)


def _dialogues(path: Path, provider: str, settings: Settings, out: Path | None, baseline: Path,
               update_baseline: bool) -> int:
    """``--dialogues``: the index synced as for any set, then ``bot.eval.dialogues``; the exit code."""
    from bot.eval.dialogues import DialoguesError, evaluate, load_dialogues
    from bot.store import ingest

    try:
        dialogues = load_dialogues(path)
    except DialoguesError as e:
        console.print(str(e), style="red", markup=False)
        return 2
    console.print(f"index: {ingest(settings=settings).summary()}", markup=False)
    out = out or ROOT / "eval" / "runs" / (datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-dialogues")
    return evaluate(dialogues, path, provider, settings, out, baseline, update_baseline, display(path),
                    source_texts(settings))
