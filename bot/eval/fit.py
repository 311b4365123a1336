"""``qabot eval fit-ranker`` and ``qabot eval fit-gate``: the answer decisions, fitted on labelled questions.

Both models are logistic regressions over corpus-independent features (``bot.ranker``, ``bot.gate``),
fitted on the *fit* sets built from the external reading-comprehension sets (``eval/external/*-fit``:
their questions are never in a standing or CI set), and written as data (``bot.logit``) beside a record
of how they were fitted and how well they did. Run the ranker first: the gate reads its confidence.

- Ranker: every sentence of the retrieved passages of every answerable question; a sentence is positive
  when it holds the gold evidence (the sentence around the gold answer span).
- Gate: one row per question, answerable (its document is indexed) or not (its document was left out);
  the threshold is the lowest probability that keeps false refusals on the fit sets at the target.

Each command prints, per set it is given to check (``--check``), how each single feature and the model
separate the classes, so a change that helps one set and hurts another is seen at once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from bot import gate, logit, ranker
from bot.config import ROOT, Settings, get_settings
from bot.types import Answer
from bot.eval.dataset import Item, load
from bot.eval.metrics import holds, key, score_item
from bot.eval.run import display, articles_settings

console = Console(stderr=True, soft_wrap=True)
EXTERNAL = ROOT / "eval" / "external"
FIT_SETS = [EXTERNAL / name for name in ("cmrc-fit", "drcd-fit", "drcd-near")]
# The fit sets' questions in English: how much lower an English question's cosines sit is measured on them.
TRANSLATED_SETS = [EXTERNAL / name for name in ("cmrc-fit-en", "drcd-fit-en")]
# Reported beside the standing sets: the standing sets asked in English (``qabot eval translate``) and near
# misses the fit does not learn: a figure not given (``import-squad --figure-miss``), short articles asked of
# what was cut off (``--lead``), an answer of any kind whose sentences were removed (``--sentence-miss``).
CHECK_SETS = [EXTERNAL / name for name in ("cmrc", "drcd", "cmrc-en", "drcd-en", "cmrc-figure", "drcd-figure",
                                           "drcd-lead", "cmrc-unsaid", "drcd-unsaid")] + [ROOT / "eval" / "qa.jsonl"]
RIDGE = 1.0  # L2 penalty on the standardised coefficients: keeps a rare feature from taking over


# --- the regression -------------------------------------------------------------------------------------------

def fit_logit(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], ridge: float = RIDGE,
              signs: dict[str, int] | None = None) -> logit.Logit:
    """L2-penalised logistic regression by Newton's method on standardised features (a value that could
    not be observed, NaN, is taken at its feature's mean, as ``bot.logit`` does when it applies the model).
    ``signs``: features whose effect has a known direction (something asked is missing: never a reason to
    answer); a fit that gives one the other sign drops it (coefficient 0) and fits the rest again."""
    signs = signs or {}
    fitted = _newton(x, y, names, ridge, set())
    dropped: set[int] = set()
    while bad := [i for i, (f, c) in enumerate(zip(names, fitted.coef)) if i not in dropped and c * signs.get(f, 0) < 0]:
        dropped |= set(bad)
        fitted = _newton(x, y, names, ridge, dropped)
    return fitted


def _newton(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], ridge: float, dropped: set[int]) -> logit.Logit:
    mean = np.nan_to_num(np.nanmean(x, axis=0))
    x = np.where(np.isnan(x), mean, x)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    z[:, [i + 1 for i in dropped]] = 0.0
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * ridge
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -30, 30)))
        grad = z.T @ (p - y) + penalty @ w
        hess = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return logit.Logit(names, tuple(map(float, mean)), tuple(map(float, scale)), tuple(map(float, w[1:])), float(w[0]))


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties halved) over the rows where the score was observed."""
    seen = ~np.isnan(scores)
    pos, neg = scores[seen & (y == 1)], scores[seen & (y == 0)]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    i = 0
    while i < len(values):  # average ranks over ties
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def threshold_each(scores: np.ndarray, y: np.ndarray, sets: np.ndarray, max_false_refusal: float) -> float:
    """The highest threshold whose false refusals, averaged over the sets with each set weighing the same,
    stay within ``max_false_refusal`` (unobserved scores left out). Pooled, the largest set of easily
    answered questions (CMRC's short documents) lets the threshold rise until a smaller set's (DRCD's
    near misses) false refusals are twice the target; held to the target on every set alone, the
    threshold is hostage to the two refusals a set of 80 is allowed."""
    names = [n for n in dict.fromkeys(sets) if ((sets == n) & (y == 1) & ~np.isnan(scores)).any()]
    positives = [np.sort(scores[(sets == n) & (y == 1) & ~np.isnan(scores)]) for n in names]
    if not positives:
        return 0.5
    candidates = np.unique(np.concatenate(positives))  # ascending: the false refusals only grow
    best = candidates[0]  # refuses none of them
    for t in candidates[1:]:
        if np.mean([np.mean(p < t) for p in positives]) > max_false_refusal:
            break
        best = t
    return float(best)


# --- the data ---------------------------------------------------------------------------------------------------

@dataclass
class Case:
    """One question of a set, asked as the chain asks it, up to the answer decision."""

    set: str
    item: Item
    question: object  # bot.question.Question
    hits: list
    index: object  # bot.retrieve.Retriever


def _sets(paths: list[Path], settings: Settings) -> Iterator[tuple[str, list[Item], Settings]]:
    """(name, items, settings) of each set: a folder with qa.jsonl and articles/ (an index of its own),
    or a .jsonl file answered from the configured articles."""
    from bot.store import ingest

    for path in paths:
        if path.is_dir():
            items, own = load(path / "qa.jsonl"), articles_settings(settings, path / "articles")
        else:
            items, own = load(path), settings
        report = ingest(settings=own, progress=False)
        console.print(f"{path.name}: {len(items)} items; index {report.summary()}", markup=False)
        yield path.name if path.is_dir() else path.stem, items, own


def cases(paths: list[Path], settings: Settings | None = None) -> Iterator[Case]:
    """Every item of the sets, analysed and retrieved exactly as ``bot.chain`` does."""
    from bot.question import analyse
    from bot.retrieve import Retriever

    settings = settings or get_settings()
    for name, items, own in _sets(paths, settings):
        index = Retriever(own)
        for item in items:
            q = analyse(item.question, None, index.idf)
            hits = index.search(q.text, own.k) if q.text else []
            yield Case(name, item, q, hits, index)


def _is_gold(sentence: str, item: Item) -> bool:
    sentence_key = key(sentence)
    return len(sentence_key) >= 4 and any(holds(key(e), sentence_key) or holds(sentence_key, key(e))
                                          for e in item.evidence)


@dataclass
class Ranked:
    """One answerable question's retrieved sentences, their features and which hold the gold evidence."""

    case: Case
    sentences: list  # bot.evidence.Sentence
    x: np.ndarray
    gold: np.ndarray


def ranker_groups(all_cases: list[Case]) -> list[Ranked]:
    """Answerable questions whose gold sentence was retrieved (the others teach nothing about which
    sentence answers), with every sentence of their passages."""
    out = []
    for case in all_cases:
        if not case.item.answerable or not case.hits:
            continue
        found = ranker.candidates(case.hits)
        gold = np.array([_is_gold(s.text, case.item) for s in found], dtype=float)
        if gold.any():
            x = _matrix(ranker.features(case.question, case.hits, found, case.index.similarity), ranker.FEATURES)
            out.append(Ranked(case, found, x, gold))
    return out


def top1(groups: list[Ranked], score: Callable[[np.ndarray], np.ndarray]) -> float:
    """Share of questions whose best-scored sentence is a gold one."""
    return float(np.mean([g.gold[int(np.argmax(score(g.x)))] for g in groups])) if groups else float("nan")


def answers_at(groups: list[Ranked], model: logit.Logit, ratio: float) -> tuple[float, float, float]:
    """(key-fact recall, first sentence holds a fact, median characters) of the extractive answers the
    ranker ``model`` with second-sentence ``ratio`` gives: composed by the provider itself and scored by
    the eval's own metrics, as users would see them (continuations and ``[n]`` markers included)."""
    from bot.providers import extractive

    scores = []
    for g in groups:
        probs = [model.probability(dict(zip(ranker.FEATURES, row))) for row in g.x]
        ranked = sorted((replace(s, score=p) for s, p in zip(g.sentences, probs)), key=lambda s: -s.score)
        text = "".join(extractive.compose(g.case.question, g.case.hits, ranked, get_settings().answer_sentences, ratio))
        scores.append(score_item(g.case.item, Answer(g.case.item.question, text, False, "extractive"), lambda _: None))
    return (float(np.mean([s.key_fact_recall for s in scores])), float(np.mean([s.answer_first for s in scores])),
            float(np.median([s.answer_chars for s in scores])))


def gate_rows(all_cases: list[Case], foreign_shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Gate features and labels (answerable or not), one row per question."""
    rows, labels = [], []
    for case in all_cases:
        ranked = ranker.rank(case.question, case.hits, similarity=case.index.similarity) if case.hits else []
        x = (gate.features(case.question, case.hits, ranked, case.index, foreign_shift=foreign_shift) if ranked
             else dict.fromkeys(gate.FEATURES, 0.0))
        rows.append(x)
        labels.append(float(case.item.answerable))
    return _matrix(rows, gate.FEATURES), np.array(labels)


def cosine_gap(original: list[Case], translated: list[Case]) -> float:
    """The median, over questions asked in both languages, of how much lower the best cosine of the
    English question is than the Chinese one's (the multilingual model puts every cross-language pair
    lower; the gate's cosine weight was fitted on Chinese questions)."""
    best = {c.item.id: max((h.dense or 0.0) for h in c.hits) for c in original if c.hits}
    gaps = [best[c.item.id.removesuffix("-en")] - max((h.dense or 0.0) for h in c.hits)
            for c in translated if c.hits and c.question.foreign and c.item.id.removesuffix("-en") in best]
    return float(np.median(gaps)) if gaps else 0.0


def _matrix(rows: list[dict[str, float | None]], names: tuple[str, ...]) -> np.ndarray:
    """Feature dicts as a float matrix, unobservable values (None) as NaN."""
    return np.array([[np.nan if r[n] is None else r[n] for n in names] for r in rows], dtype=float).reshape(-1, len(names))


# --- reporting --------------------------------------------------------------------------------------------------

def _by_set(all_cases: list[Case]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for case in all_cases:
        out.setdefault(case.set, []).append(case)
    return out


def _rates(scores: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float]:
    """(refusal accuracy, false refusal rate) when refusing below ``threshold``."""
    refused = scores < threshold
    neg, pos = y == 0, y == 1
    return (float(refused[neg].mean()) if neg.any() else float("nan"),
            float(refused[pos].mean()) if pos.any() else float("nan"))


def gate_table(title: str, columns: dict[str, tuple[dict[str, np.ndarray], float]], sets: dict[str, np.ndarray]) -> Table:
    """Per set: AUC, refusal accuracy and false refusals of each scorer at its threshold; "—" where the
    scorer cannot be observed (BM25 for a question in English)."""
    table = Table(title=title)
    table.add_column("scorer")
    for name in sets:
        table.add_column(f"{name} AUC", justify="right")
        table.add_column(f"{name} refusal / false", justify="right")
    for scorer, (_, threshold) in columns.items():
        cells = []
        for name, y in sets.items():
            scores = columns[scorer][0][name]
            if np.isnan(scores).all():
                cells += ["—", "—"]
                continue
            refusal, false = _rates(scores, y, threshold)
            cells += [f"{auc(scores, y):.3f}", f"{refusal:.2f} / {false:.3f}"]
        table.add_row(scorer, *cells)
    return table


# --- the commands -------------------------------------------------------------------------------------------------

SetsOption = Annotated[list[Path] | None, typer.Option("--set", help="A fit set: a folder with qa.jsonl and "
                                                                     "articles/ (repeatable).")]
CheckOption = Annotated[list[Path] | None, typer.Option("--check", help="A set to report on (folder, or a "
                                                                        ".jsonl of the configured articles).")]


def fit_ranker_command(
    sets: SetsOption = None,
    max_chars: Annotated[int, typer.Option(help="Median answer length (characters) the second-sentence ratio "
                                                "may not exceed, on each fit set.")] = 60,
    out: Annotated[Path, typer.Option(help="Where to write the model.")] = ranker.MODEL_PATH,
) -> None:
    """Fit the sentence ranker (which sentence answers) on the fit sets and write it as data."""
    paths = sets or FIT_SETS
    groups = ranker_groups(list(cases(paths)))
    fitted = fit_logit(np.vstack([g.x for g in groups]), np.concatenate([g.gold for g in groups]), ranker.FEATURES)
    # the second sentence: the lowest ratio (most facts) whose answers stay within max_chars at the median
    # on every fit set (pooled, the sets of shorter sentences would hide the longer ones')
    grid = [round(r, 2) for r in np.arange(0.3, 1.0001, 0.05)] + [1.01]
    per_set: dict[str, list[Ranked]] = {}
    for g in groups:
        per_set.setdefault(g.case.set, []).append(g)
    ratio = next((r for r in grid if all(answers_at(g, fitted, r)[2] <= max_chars for g in per_set.values())), grid[-1])
    recall, first, chars = answers_at(groups, fitted, ratio)
    single = {f: round(top1(groups, lambda x, i=i: x[:, i] * _sign(groups, i)), 4) for i, f in enumerate(ranker.FEATURES)}
    about = {"fitted_on": [display(p) for p in paths], "command": "qabot eval fit-ranker", "questions": len(groups),
             "sentences": int(sum(len(g.gold) for g in groups)),
             "top1": round(top1(groups, lambda x: np.nan_to_num(x - np.array(fitted.mean)) @ (np.array(fitted.coef) / np.array(fitted.scale))), 4),
             "single_feature_top1": single, "max_chars": max_chars, "second_ratio": ratio,
             "key_fact_recall": round(recall, 4), "answer_first": round(first, 4), "answer_chars_p50": chars}
    model = logit.Logit(fitted.features, fitted.mean, fitted.scale, fitted.coef, fitted.intercept, 0.5, about)
    out.write_text(model.to_json(), encoding="utf-8")
    table = Table(title=f"sentence ranker: gold sentence ranked first ({len(groups)} questions of the fit sets)")
    table.add_column("scorer")
    table.add_column("top-1", justify="right")
    for f, v in sorted(single.items(), key=lambda kv: -kv[1]):
        table.add_row(f, f"{v:.3f}")
    table.add_row("fitted ranker", f"{about['top1']:.3f}", style="bold")
    Console().print(table)
    console.print(f"second sentence when it scores ≥ {ratio} of the best: key facts {recall:.3f}, first sentence "
                  f"{first:.3f}, median {chars:.0f} characters (at most {max_chars} on each fit set); written {out}", markup=False)


def _sign(groups: list[Ranked], i: int) -> float:
    """+1 when a larger value of feature ``i`` means gold more often (AUC over all sentences), else -1."""
    return 1.0 if auc(np.concatenate([g.x[:, i] for g in groups]), np.concatenate([g.gold for g in groups])) >= 0.5 else -1.0


def fit_gate_command(
    sets: SetsOption = None,
    check: CheckOption = None,
    max_false_refusal: Annotated[float, typer.Option(help="False-refusal rate the threshold is chosen for, "
                                                          "averaged over the fit sets.")] = 0.03,
    out: Annotated[Path, typer.Option(help="Where to write the model.")] = gate.MODEL_PATH,
) -> None:
    """Fit the relevance gate (answer or refuse) on the fit sets and write it as data."""
    paths = sets or FIT_SETS
    fit_cases = list(cases(paths))
    shift = cosine_gap(fit_cases, list(cases(TRANSLATED_SETS)))
    x, y = gate_rows(fit_cases)
    fitted = fit_logit(x, y, gate.FEATURES, signs=gate.MONOTONE)
    scores = np.array([fitted.probability(dict(zip(gate.FEATURES, row))) for row in x])
    sets = np.array([c.set for c in fit_cases])
    threshold = threshold_each(scores, y, sets, max_false_refusal)
    refusal, false = _rates(scores, y, threshold)
    about = {"fitted_on": [display(p) for p in paths], "command": "qabot eval fit-gate",
             "max_false_refusal": max_false_refusal, "questions": len(y), "answerable": int(y.sum()),
             "auc": round(auc(scores, y), 4), "refusal_accuracy": round(refusal, 4), "false_refusal_rate": round(false, 4),
             "foreign_dense_shift": round(shift, 4), "foreign_dense_shift_measured_on": [display(p) for p in TRANSLATED_SETS]}
    model = logit.Logit(fitted.features, fitted.mean, fitted.scale, fitted.coef, fitted.intercept, threshold, about)
    out.write_text(model.to_json(), encoding="utf-8")
    console.print(f"written {out}: threshold {threshold:.3f}, fit AUC {about['auc']:.3f}, English questions' "
                  f"cosines {shift:.3f} lower", markup=False)

    # each single feature at its own threshold for the same target, and the model, on every set
    check_cases = fit_cases + list(cases(check if check is not None else CHECK_SETS))
    groups = _by_set(check_cases)
    features = {name: gate_rows(group, shift) for name, group in groups.items()}
    labels = {name: fy for name, (_, fy) in features.items()}
    columns: dict[str, tuple[dict[str, np.ndarray], float]] = {}
    for i, f in enumerate(gate.FEATURES):
        sign = 1.0 if auc(x[:, i], y) >= 0.5 else -1.0
        columns[f"{f}{'' if sign > 0 else ' (−)'}"] = (
            {name: sign * fx[:, i] for name, (fx, _) in features.items()},
            threshold_each(sign * x[:, i], y, sets, max_false_refusal))
    columns["fitted gate"] = ({name: np.array([model.probability(dict(zip(gate.FEATURES, row))) for row in fx])
                               for name, (fx, _) in features.items()}, threshold)
    Console().print(gate_table(f"relevance gate: thresholds for ≤{max_false_refusal:.0%} false refusals averaged over "
                               "the fit sets", columns, labels))
