"""Optional LLM judge: RAGAS-style faithfulness and answer correctness, when an endpoint is configured.

The deterministic metrics check strings; they cannot tell a faithful paraphrase from an invented claim.
A judge model can, at the price of cost and some noise, so it is opt-in (``BOT_JUDGE_BASE_URL``) and its
figures are reported beside the deterministic ones, never gated on.

- ``faithfulness``: the answer is split into atomic claims; the share the retrieved passages support
  (RAGAS's definition). Refusals make no claim and are left out.
- ``answer_correctness``: answer and reference are split into statements and sorted into TP (in both),
  FP (answer only) and FN (reference only); the score is the F1 ``TP / (TP + (FP + FN) / 2)`` (RAGAS's
  factual part of answer correctness, without its embedding-similarity term).

Prompts live in ``prompts/judge_faithfulness.txt`` and ``prompts/judge_correctness.txt``. The chain is
LangChain's ``ChatPromptTemplate | ChatOpenAI | JsonOutputParser``; a reply that is not the asked-for
JSON counts as a judge error for that item (reported, not guessed at).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import track

from bot.config import Settings
from bot.eval.dataset import Item
from bot.types import Answer


def configured(settings: Settings) -> bool:
    return bool(settings.judge.base_url)


def _chain(settings: Settings, prompt_file: str):
    from langchain_core.output_parsers import JsonOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    from bot.providers.openai import chat_model

    template = (settings.prompts_dir / prompt_file).read_text(encoding="utf-8")
    return ChatPromptTemplate.from_template(template) | chat_model(settings.judge) | JsonOutputParser()


def faithfulness(verdict: Any) -> float | None:
    """Share of supported claims from the faithfulness reply; None when the answer made no claim."""
    claims = verdict["claims"]
    if not isinstance(claims, list) or not all(isinstance(c, dict) and "supported" in c for c in claims):
        raise ValueError("'claims' must be a list of objects with 'supported'")
    if not claims:
        return None
    return sum(c["supported"] is True for c in claims) / len(claims)


def correctness(verdict: Any) -> float | None:
    """F1 of the TP/FP/FN statement lists; None when both answer and reference were empty."""
    tp, fp, fn = (verdict[k] for k in ("tp", "fp", "fn"))
    if not all(isinstance(x, list) for x in (tp, fp, fn)):
        raise ValueError("'tp', 'fp' and 'fn' must be lists")
    total = len(tp) + (len(fp) + len(fn)) / 2
    return len(tp) / total if total else None


def _context(answer: Answer) -> str:
    return "\n\n".join(f"[{n}] {h.chunk.text}" for n, h in enumerate(answer.retrieved, start=1))


def judge_one(item: Item, answer: Answer, faith_chain, correct_chain) -> dict[str, Any]:
    """Both judgements of one answer; an unusable reply becomes ``error`` (the other score may stand)."""
    out: dict[str, Any] = {"faithfulness": None, "answer_correctness": None, "error": None}
    errors = []
    if not answer.refused and answer.text.strip():
        try:
            reply = faith_chain.invoke({"context": _context(answer), "question": item.question, "answer": answer.text})
            out["faithfulness"] = faithfulness(reply)
        except Exception as e:  # noqa: BLE001 - any judge failure is this item's judge error, reported
            errors.append(f"faithfulness: {type(e).__name__}: {str(e)[:200]}")
    try:
        reply = correct_chain.invoke({"question": item.question, "reference": item.answer, "answer": answer.text})
        out["answer_correctness"] = correctness(reply)
    except Exception as e:  # noqa: BLE001 - as above
        errors.append(f"answer_correctness: {type(e).__name__}: {str(e)[:200]}")
    out["error"] = "; ".join(errors) or None
    return out


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def judge_run(
    items: Sequence[Item], answers: Sequence[Answer], settings: Settings
) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
    """The run's judge summary and each item's verdict; a skip note when no judge is configured."""
    if not configured(settings):
        note = "no judge configured (set BOT_JUDGE_BASE_URL, and BOT_JUDGE_MODEL / BOT_JUDGE_API_KEY as needed)"
        return {"skipped": note}, [None] * len(items)
    faith_chain = _chain(settings, "judge_faithfulness.txt")
    correct_chain = _chain(settings, "judge_correctness.txt")
    pairs = track(list(zip(items, answers)), description="judge", console=Console(stderr=True))
    verdicts = [judge_one(i, a, faith_chain, correct_chain) for i, a in pairs]
    return {
        "skipped": None,
        "model": settings.judge.model,
        "faithfulness": _mean([v["faithfulness"] for v in verdicts]),
        "answer_correctness": _mean([v["answer_correctness"] for v in verdicts]),
        "n_judged": sum(1 for v in verdicts if v["faithfulness"] is not None or v["answer_correctness"] is not None),
        "n_errors": sum(1 for v in verdicts if v["error"]),
    }, verdicts
