"""``qabot``: the command line. Each command is a thin shell over a module that does the work."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.bench import bench
from bot.config import get_settings
from bot.eval.run import eval_command
from bot.model import model_app
from bot.model_check import check_command

app = typer.Typer(add_completion=False, no_args_is_help=True, help="中文文章问答机器人 — ask, ingest, eval.")
err = Console(stderr=True)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: store/articles/)")] = None,
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


app.command("eval")(eval_command)
app.command("bench")(bench)
model_app.command("check")(check_command)
app.add_typer(model_app, name="model")
