"""``qabot``: the command line. Each command is a thin shell over a module that does the work."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.bench import bench
from bot.config import get_settings
from bot.eval.cli import eval_app
from bot.feedback.cli import feedback_app
from bot.model import model_app
from bot.model_check import check_command

app = typer.Typer(add_completion=False, no_args_is_help=True, help="中文文章问答机器人 — ask, ingest, list, remove, eval.")
err = Console(stderr=True)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files (.txt .md .html .pdf .docx) or folders (default: store/articles/)")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and build it anew")] = False,
) -> None:
    """Clean, chunk and index articles. Unchanged files are skipped; failures are named, not fatal."""
    from bot.store import ingest as run_ingest

    missing = [p for p in paths or [] if not p.exists()]
    if missing:
        err.print(f"[red]找不到文件：{', '.join(map(str, missing))}[/red]")
        raise typer.Exit(2)
    report = run_ingest(paths or None, rebuild=rebuild)
    print(report.summary())
    if report.failed and not report.documents:
        raise typer.Exit(1)


@app.command("list")
def list_articles(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON")] = False,
) -> None:
    """The articles in the index: title, file, chunks, when added, size."""
    from dataclasses import asdict

    from bot.library import COLUMNS, articles, rows

    found = articles(get_settings())
    if as_json:
        print(json.dumps([asdict(a) for a in found], ensure_ascii=False, indent=2))
        return
    table = Table(*COLUMNS, title=f"资料库：{len(found)} 篇文章")
    for row in rows(found):
        table.add_row(*map(str, row))
    Console().print(table)


@app.command()
def remove(name: Annotated[str, typer.Argument(help="The article's file name, as `qabot list` shows it")]) -> None:
    """Delete an article from the index and its file from store/articles/."""
    from bot.library import remove as remove_article

    outcome = remove_article(name, get_settings())
    print(outcome.line())
    if not outcome.ok:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="问题 (use - to read it from standard input)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer as one JSON object")] = False,
    k: Annotated[int | None, typer.Option("-k", help="Passages to retrieve")] = None,
    provider: Annotated[str | None, typer.Option(help="extractive | openai | local")] = None,
) -> None:
    """Answer one question from the articles, with citations."""
    from bot.chain import QuestionError, answer
    from bot.store import ensure_index

    if question == "-":
        question = sys.stdin.read()
    ensure_index(progress=not as_json)
    try:
        result = answer(question, k=k, provider=provider, settings=get_settings())
    except QuestionError as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from e
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.notice:
        print(f"（{result.notice}）")
    print(result.text)
    for c in result.citations:
        print(f"\n[{c.n}] {c.title}（{c.source}）\n    “{c.quote}”")


app.add_typer(eval_app, name="eval")
app.command("bench")(bench)
model_app.command("check")(check_command)
app.add_typer(model_app, name="model")
app.add_typer(feedback_app, name="feedback")
