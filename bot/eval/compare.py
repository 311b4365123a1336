"""``qabot eval --compare naive``: the LangChain-tutorial pipeline's retrieval, scored in the same run.

A claim like "our retrieval is N× better" needs both numbers from one run, on the same items, by the same
metric code. The naive pipeline (``bot.naive.NaivePipeline``, optional extra ``.[compare]``) is rebuilt
from the raw articles on every run, because it is cheap and a stale yardstick would be worse than none. It
is asked for the same top 5 as ours (the tutorial keeps 4; recall@5 with 4 chunks would understate it).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress

from bot.eval.dataset import Item
from bot.eval.metrics import TOP_K, retrieval_summary, score_retrieval

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.naive import NaivePipeline

KNOWN = ("naive",)


def load_naive(name: str, settings: Settings) -> NaivePipeline | str:
    """The naive pipeline over the configured articles, or a message saying why it cannot run."""
    if name not in KNOWN:
        return f"unknown --compare target {name!r}; choose one of: {', '.join(KNOWN)}"
    try:
        from bot.naive import NaivePipeline, install_hint, minilm, raw_documents
    except ImportError as e:
        return f"--compare naive is unavailable: bot.naive cannot be imported ({e})"
    try:
        pipeline = NaivePipeline(settings.cache_dir / "naive", embeddings=minilm())
    except (ImportError, RuntimeError) as e:
        return f"--compare naive is unavailable: {str(e) or install_hint()}"
    paths = sorted(settings.articles_dir.glob("*.txt"))
    if not paths:
        return f"--compare naive: no articles in {settings.articles_dir}"
    pipeline.build(raw_documents(paths))
    return pipeline


def compare_naive(
    pipeline: NaivePipeline, items: list[Item], summary: dict[str, Any], records: list[dict[str, Any]],
    console: Console,
) -> dict[str, Any]:
    """Retrieval figures of both pipelines side by side with the ratio; each record gets the naive hits."""
    scores = []
    with Progress(console=console) as progress:
        task = progress.add_task("naive retrieval", total=len(items))
        for item, rec in zip(items, records):
            with warnings.catch_warnings():
                # LangChain warns (with every chunk's text) when Chroma's L2-derived relevance falls outside
                # [0, 1]; only the ranking is scored here, and the warning would bury the run's output.
                warnings.filterwarnings("ignore", message="Relevance scores must be between 0 and 1")
                hits = pipeline.search(item.question, k=TOP_K)
            score = score_retrieval(item, [text for _, text, _ in hits])
            scores.append(score)
            rec["naive"] = {"evidence_rank": score.evidence_rank, "retrieved": [src for src, _, _ in hits]}
            progress.advance(task)
    naive = retrieval_summary(scores)
    rows = {}
    for metric, theirs in naive.items():
        ours = summary.get(metric)
        ratio = ours / theirs if ours is not None and theirs else None
        rows[metric] = {"qabot": ours, "naive": theirs, "ratio": ratio}
    return {
        "target": "naive",
        "description": "LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200) over the raw files, "
        f"all-MiniLM-L6-v2, Chroma similarity top {TOP_K} (the tutorial keeps 4).",
        "metrics": rows,
    }
