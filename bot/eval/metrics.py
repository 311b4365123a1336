"""Deterministic answer-fidelity metrics: string matching after normalisation, no LLM, no randomness.

Every comparison goes through :func:`key`, built on the pipeline's own ``bot.textnorm.normalize``
(OpenCC t2s, full/half-width and punctuation folding, lower case — one copy shared with retrieval) so a traditional
source, a full-width comma or a curly quote never decides a score. On top of that, :func:`key` drops what
carries no content: pinyin glosses such as ``(jié)`` (the traditional article has them inline; the cleaner
strips them from chunks while the gold evidence, copied from the raw file, still has them) and
whitespace (``bot.textnorm.compact``).

Definitions (each item's score is ``None`` where the metric does not apply to it, and figures are means
over the items where it applies; a figure with no applicable item is ``None``, never a flattering 0 or 1):

- evidence *found in* a chunk: ``key(evidence)`` is a substring of ``key(chunk)``, or their longest common
  substring is at least :data:`OVERLAP` (80%) of ``key(evidence)`` — a chunk boundary may cut a gold span,
  and a chunk that holds most of it still hands the answer to the provider.
- ``retrieval_recall_at_5``: answerable items with some gold evidence found in one of the top 5 hits.
- ``mrr``: mean over answerable items of 1/rank of the first hit holding gold evidence (0 if none).
- ``key_fact_recall``: mean over answerable items of the share of key facts stated in the answer; a fact
  counts when any of its acceptable strings is in ``key(answer)`` (``[n]`` markers removed first).
- ``citation_precision``: over all citations of answerable items, the share whose quote occurs verbatim
  (exact substring, no normalisation) in the cleaned text of the cited source AND whose source is a gold
  source of the item. Unanswerable items have no gold source and are left out: answering them at all is
  what ``refusal_accuracy`` penalises, and counting each of their citations here again would mix "quotes
  are faithful" with "knows when to refuse". ``quote_verbatim_rate`` checks their quotes too.
- ``quote_verbatim_rate``: over all citations of all items, the share whose quote is verbatim in the
  cited source (a fabricated quote anywhere shows up here).
- ``citation_recall``: answerable items whose answer cites at least one gold source.
- ``refusal_accuracy``: unanswerable items the answer refused.
- ``false_refusal_rate``: answerable items the answer refused (lower is better).
- ``answer_first``: answerable items that were answered (not refused) whose *first sentence* states a key
  fact — the same matching as ``key_fact_recall``, applied to the answer's first sentence (``[n]``
  markers removed). An answer that buries its fact in the third sentence passes ``key_fact_recall`` and
  fails this.
- ``answer_chars_p50``: the median length in characters of the answers given (refusals left out: they are
  one fixed sentence), as the user sees them, ``[n]`` markers included. Lower is better; it is the one
  figure not in [0, 1].
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from statistics import median

from bot.eval.dataset import TYPES, Item
from bot.chunk import sentences
from bot.clean import strip_glosses
from bot.textnorm import compact
from bot.types import Answer

OVERLAP = 0.8  # share of an evidence span a chunk must hold to count as holding it
TOP_K = 5

# A pinyin gloss: a parenthesised lowercase syllable right after a CJK character, like 個(gè) or 這(zhè).
_MARKER = re.compile(r"\[\d+\]")

# Metric name → True when higher is better. The order is the order of every table and chart.
METRICS: dict[str, bool] = {
    "retrieval_recall_at_5": True,
    "mrr": True,
    "key_fact_recall": True,
    "citation_precision": True,
    "citation_recall": True,
    "refusal_accuracy": True,
    "false_refusal_rate": False,
    "quote_verbatim_rate": True,
    "answer_first": True,
    "answer_chars_p50": False,
}
UNBOUNDED = frozenset({"answer_chars_p50"})  # not a share in [0, 1] (charts leave it out)


def key(text: str) -> str:
    """The comparison form of ``text``: normalised, without pinyin glosses, whitespace or case."""
    return compact(strip_glosses(text))


def holds(chunk_key: str, evidence_key: str) -> bool:
    """Whether a chunk (in :func:`key` form) holds an evidence span: contains it, or most of it."""
    if not evidence_key:
        return False
    if evidence_key in chunk_key:
        return True
    match = SequenceMatcher(None, evidence_key, chunk_key, autojunk=False).find_longest_match(
        0, len(evidence_key), 0, len(chunk_key)
    )
    return match.size >= OVERLAP * len(evidence_key)


def first_evidence_rank(chunks: Sequence[str], evidence: Iterable[str]) -> int | None:
    """1-based rank of the first chunk holding any gold evidence, or ``None``."""
    keys = [key(e) for e in evidence]
    for rank, text in enumerate(chunks, start=1):
        chunk_key = key(text)
        if any(holds(chunk_key, k) for k in keys):
            return rank
    return None


def fact_stated(answer_key: str, spellings: Iterable[str]) -> bool:
    """A key fact is stated when any of its acceptable spellings is in the answer."""
    return any(k and k in answer_key for k in map(key, spellings))


def first_sentence(text: str) -> str:
    """The first sentence of an answer (its markers removed), as ``bot.chunk.sentences`` cuts it."""
    spans = sentences(text)
    return text[spans[0].start : spans[0].end] if spans else ""


def quote_verbatim(quote: str, text: str | None) -> bool:
    """The citation contract: a non-empty quote that is an exact span of the cleaned source."""
    return bool(quote) and text is not None and quote in text


@dataclass
class RetrievalScores:
    """How well one item's ranked chunks hold its gold evidence (``None`` for unanswerable items)."""

    retrieval_recall_at_5: float | None
    mrr: float | None
    evidence_rank: int | None


def score_retrieval(item: Item, chunks: Sequence[str]) -> RetrievalScores:
    """Retrieval metrics of one item from the texts of its ranked chunks (any pipeline's)."""
    if not item.answerable:
        return RetrievalScores(None, None, None)
    rank = first_evidence_rank(chunks, item.evidence)
    return RetrievalScores(
        retrieval_recall_at_5=float(rank is not None and rank <= TOP_K),
        mrr=1.0 / rank if rank else 0.0,
        evidence_rank=rank,
    )


@dataclass
class ItemScores:
    """Every deterministic metric of one item, plus the counts the micro-averaged ones are made of."""

    retrieval_recall_at_5: float | None
    mrr: float | None
    evidence_rank: int | None
    key_fact_recall: float | None
    facts_missing: list[list[str]]  # the key facts (their spellings) the answer does not state
    citation_precision: float | None
    citations_good: int  # verbatim and gold-sourced (answerable items only)
    citations_scored: int  # citations counted in citation_precision
    quote_verbatim_rate: float | None
    quotes_verbatim: int
    quotes_total: int
    citation_recall: float | None
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    answer_first: float | None
    answer_chars: int | None  # None for a refusal

    def to_dict(self) -> dict:
        return asdict(self)


def score_item(item: Item, answer: Answer, source_text: Callable[[str], str | None]) -> ItemScores:
    """Score one chain answer; ``source_text(name)`` is the cleaned text quotes are cut from (None: unknown)."""
    retrieval = score_retrieval(item, [h.chunk.text for h in answer.retrieved])
    verbatim = [quote_verbatim(c.quote, source_text(c.source)) for c in answer.citations]
    gold = set(item.sources)
    good = [ok and c.source in gold for ok, c in zip(verbatim, answer.citations)]
    plain = _MARKER.sub("", answer.text)
    answer_key = key(plain)
    first = key(first_sentence(plain))
    missing = [list(f) for f in item.key_facts if not fact_stated(answer_key, f)]
    scored = len(good) if item.answerable else 0
    return ItemScores(
        retrieval_recall_at_5=retrieval.retrieval_recall_at_5,
        mrr=retrieval.mrr,
        evidence_rank=retrieval.evidence_rank,
        key_fact_recall=1 - len(missing) / len(item.key_facts) if item.answerable else None,
        facts_missing=missing,
        citation_precision=sum(good) / scored if scored else None,
        citations_good=sum(good) if item.answerable else 0,
        citations_scored=scored,
        quote_verbatim_rate=sum(verbatim) / len(verbatim) if verbatim else None,
        quotes_verbatim=sum(verbatim),
        quotes_total=len(verbatim),
        citation_recall=float(any(c.source in gold for c in answer.citations)) if item.answerable else None,
        refusal_accuracy=None if item.answerable else float(answer.refused),
        false_refusal_rate=float(answer.refused) if item.answerable else None,
        answer_first=(float(bool(item.key_facts) and any(fact_stated(first, f) for f in item.key_facts))
                      if item.answerable and not answer.refused else None),
        answer_chars=None if answer.refused else len(answer.text),
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _median(values: list[int]) -> float | None:
    return float(median(values)) if values else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def retrieval_summary(scores: Sequence[RetrievalScores | ItemScores]) -> dict[str, float | None]:
    """Recall@5 and MRR over items (also of a retrieval-only run: the naive comparison)."""
    return {
        "retrieval_recall_at_5": _mean(s.retrieval_recall_at_5 for s in scores),
        "mrr": _mean(s.mrr for s in scores),
    }


def aggregate(scores: Sequence[ItemScores]) -> dict[str, float | None]:
    """Overall figures of a set of item scores: item means, and citation shares over all citations."""
    return {
        **retrieval_summary(scores),
        "key_fact_recall": _mean(s.key_fact_recall for s in scores),
        "citation_precision": _ratio(sum(s.citations_good for s in scores), sum(s.citations_scored for s in scores)),
        "citation_recall": _mean(s.citation_recall for s in scores),
        "refusal_accuracy": _mean(s.refusal_accuracy for s in scores),
        "false_refusal_rate": _mean(s.false_refusal_rate for s in scores),
        "quote_verbatim_rate": _ratio(sum(s.quotes_verbatim for s in scores), sum(s.quotes_total for s in scores)),
        "answer_first": _mean(s.answer_first for s in scores),
        "answer_chars_p50": _median([s.answer_chars for s in scores if s.answer_chars is not None]),
    }


def by_type(items: Sequence[Item], scores: Sequence[ItemScores]) -> dict[str, dict[str, float | None]]:
    """:func:`aggregate` per item type, for the types present (in :data:`TYPES` order)."""
    return {
        t: aggregate([s for i, s in zip(items, scores) if i.type == t])
        for t in TYPES
        if any(i.type == t for i in items)
    }


def failed(item: Item, scores: ItemScores) -> list[str]:
    """Why an item counts as failed in the report: each metric where it fell short, by name."""
    reasons = []
    if scores.retrieval_recall_at_5 == 0:
        reasons.append("evidence not in top 5")
    if scores.key_fact_recall is not None and scores.key_fact_recall < 1:
        reasons.append("key facts missing")
    if scores.citations_scored and scores.citations_good < scores.citations_scored:
        reasons.append("imprecise citation")
    if scores.quotes_total and scores.quotes_verbatim < scores.quotes_total:
        reasons.append("quote not verbatim")
    if scores.citation_recall == 0:
        reasons.append("no gold source cited")
    if scores.answer_first == 0 and scores.key_fact_recall:
        reasons.append("key fact not in the first sentence")
    if scores.refusal_accuracy == 0:
        reasons.append("answered an unanswerable question")
    if scores.false_refusal_rate == 1:
        reasons.append("refused an answerable question")
    return reasons
