"""``qabot eval``: run a Q&A set (the group's own options), or one of its tools as a subcommand."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.config import get_settings
from bot.eval import fit, squad, translate
from bot.eval.dataset import DatasetError, load
from bot.eval.run import eval_command

eval_app = typer.Typer(add_completion=False, invoke_without_command=True, no_args_is_help=False,
                       help="Run a Q&A set through the chat's chain, score it and gate it on the baseline.")
eval_app.callback()(eval_command)
console = Console(stderr=True, soft_wrap=True)


@eval_app.command("import-squad")
def import_squad(
    file: Annotated[Path, typer.Argument(help="A SQuAD-format JSON file (CMRC 2018, DRCD, SQuAD).")],
    out: Annotated[Path, typer.Argument(help="Folder to write articles/, qa.jsonl and import.json into.")],
    docs: Annotated[int, typer.Option(help="Documents to index as articles.")] = 200,
    answerable: Annotated[int, typer.Option(help="Questions about indexed documents (at most 2 each).")] = 200,
    unanswerable: Annotated[int, typer.Option(help="Documents left out of the index; one question each.")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the sampling (the same seed gives the same set).")] = 0,
    exclude: Annotated[list[Path] | None, typer.Option(help="An eval set whose question ids are not to be "
                                                            "used again (repeatable).")] = None,
    near_miss: Annotated[int, typer.Option(help="Indexed documents that lose the paragraph answering one of their "
                                                "questions, which becomes unanswerable.")] = 0,
    figure_miss: Annotated[int, typer.Option(help="Indexed documents that lose the sentences giving the figure one "
                                                  "of their questions asks for, which becomes unanswerable.")] = 0,
    sentence_miss: Annotated[int, typer.Option(help="The same for a question of any kind: its document loses the "
                                                    "sentences giving its answer.")] = 0,
    lead: Annotated[bool, typer.Option(help="Index each document's first paragraph only (short articles; "
                                            "--near-miss then asks of the paragraphs cut off).")] = False,
) -> None:
    """Turn a SQuAD-format set into an eval set that brings its own articles (use with --articles)."""
    skip: set[str] = set()
    try:
        for path in exclude or []:
            skip |= {item.id for item in load(path)}
        record = squad.build(file, out, docs=docs, answerable=answerable, unanswerable=unanswerable, seed=seed,
                             exclude=skip, near_miss=near_miss, figure_miss=figure_miss,
                             sentence_miss=sentence_miss, lead=lead)
    except (squad.SquadError, DatasetError) as err:
        console.print(str(err), style="red", markup=False)
        raise typer.Exit(2) from None
    console.print(json.dumps(record, ensure_ascii=False), markup=False)
    console.print(f"run it: qabot eval --dataset {out / 'qa.jsonl'} --articles {out / 'articles'}", markup=False)


@eval_app.command("translate")
def translate_command(
    source: Annotated[Path, typer.Argument(help="An eval set folder with qa.jsonl and articles/.")],
    out: Annotated[Path, typer.Argument(help="Folder for the English qa.jsonl (beside the source: its "
                                             "articles/ is a link to the source's).")],
    limit: Annotated[int | None, typer.Option(help="Translate only the first N questions.")] = None,
) -> None:
    """The set's questions translated into English by the bundled local model (see bot.eval.translate)."""
    try:
        written, skipped = translate.translate_set(source, out, get_settings(), limit)
    except DatasetError as err:
        console.print(str(err), style="red", markup=False)
        raise typer.Exit(2) from None
    console.print(f"{written} questions written to {out / 'qa.jsonl'}; {skipped} replies were not English and were "
                  "left out", markup=False)


eval_app.command("fit-ranker")(fit.fit_ranker_command)
eval_app.command("fit-gate")(fit.fit_gate_command)
