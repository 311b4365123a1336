"""``qabot feedback list | export``: what readers said about answers, and that turned into eval items."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.config import get_settings
from bot.feedback.store import FeedbackError, FeedbackStore, Rating

feedback_app = typer.Typer(help="读者对回答的评价（👍/👎）：查看，导出为评测集。", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)
VOTE_MARK = {"up": "👍", "down": "👎"}


def _ratings() -> tuple[FeedbackStore, list[Rating]]:
    store = FeedbackStore(get_settings().feedback_path)
    try:
        return store, store.ratings()
    except FeedbackError as e:
        err.print(str(e), style="red", markup=False)
        raise typer.Exit(2) from None


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@feedback_app.command("list")
def list_command(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show the newest N ratings")] = 20,
) -> None:
    """Counts of 👍/👎, then the newest ratings with their questions and comments."""
    store, ratings = _ratings()
    if not ratings:
        print(f"还没有评价（{store.path}）。在聊天页面点回答下方的 赞 / 踩 即可评价。")
        return
    ups = sum(r.vote == "up" for r in ratings)
    commented = sum(bool(r.comment) for r in ratings)
    print(f"共 {len(ratings)} 条评价：👍 {ups}，👎 {len(ratings) - ups}，其中 {commented} 条附有意见（{store.path}）")
    table = Table(show_lines=False)
    table.add_column("评价时间 (UTC)", no_wrap=True)
    table.add_column("评价", no_wrap=True)
    for col in ("问题", "回答", "意见"):
        table.add_column(col, overflow="fold")
    for r in reversed(ratings[-limit:]):
        answer = "（拒答）" if r.shown.refused else _short(r.shown.answer, 40)
        table.add_row(r.rated_at[:16].replace("T", " "), VOTE_MARK[r.vote], _short(r.shown.standalone, 40), answer, _short(r.comment, 60))
    Console().print(table, markup=False)


@feedback_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Eval set to write (JSONL): the 👍 items")],
    review: Annotated[Path | None, typer.Option(help="Where the 👎 lines to complete go "
                                                     "(default: OUT with .review.jsonl)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist")] = False,
) -> None:
    """Write 👍 ratings as eval items `qabot eval --dataset` runs as they are, 👎 ones as lines to review."""
    from bot.feedback.export import build, write_jsonl  # jieba's tagger loads in 0.3 s: only when exporting

    review = review or out.with_suffix(".review.jsonl")
    if review.resolve() == out.resolve():
        err.print("--review 不能与 --out 相同。", style="red")
        raise typer.Exit(2)
    existing = [p for p in (out, review) if p.exists()]
    if existing and not force:
        err.print(f"文件已存在，未改动：{'、'.join(map(str, existing))}（加 --force 覆盖）", style="red", markup=False)
        raise typer.Exit(2)
    store, ratings = _ratings()
    if not ratings:
        err.print(f"还没有评价可导出（{store.path}）。", style="red", markup=False)
        raise typer.Exit(1)
    result = build(ratings)
    for path, rows in ((out, result.items), (review, result.review)):
        if rows:
            write_jsonl(path, rows)
        elif force and path.exists():
            path.unlink()  # a stale file from an earlier export would pass for this one's
    print(f"{len(ratings)} 条评价 → {len(result.items)} 条评测题" + (f"：{out}" if result.items else "") +
          f"，{len(result.review)} 条待审核" + (f"：{review}" if result.review else ""))
    if result.items:
        print(f"运行：qabot eval --dataset {out}")
    if result.review:
        print(f"待审核的题目补全 answer、key_facts、sources、evidence（或改为 unanswerable）后移入评测集；"
              f"qabot eval --dataset {review} 会逐行列出还缺什么。")
