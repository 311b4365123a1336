"""A fitted logistic model, as committed data: feature names, standardisation, coefficients, threshold.

The relevance gate and the sentence ranker are each one of these, fitted by ``qabot eval fit-gate`` /
``fit-ranker`` on the external sets and written to ``eval/*.json``; this module only reads and applies
them (fitting lives in ``bot.eval.fit``). A decision can always say which features drove it: each
feature's contribution to the log-odds is ``coef * (value - mean) / scale``.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Logit:
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5  # probability at or above which the answer is "yes"
    about: dict[str, Any] = field(default_factory=dict)  # how it was fitted, and how well it did

    def contributions(self, x: dict[str, float | None]) -> dict[str, float]:
        """Each feature's share of the log-odds (positive: towards yes). A feature that cannot be observed
        for this input (``None`` or NaN: BM25 for a question that shares no script with the passages)
        counts as its average, contributing nothing either way."""
        return {f: 0.0 if _missing(x[f]) else c * (x[f] - m) / s
                for f, m, s, c in zip(self.features, self.mean, self.scale, self.coef)}

    def probability(self, x: dict[str, float | None]) -> float:
        z = self.intercept + sum(self.contributions(x).values())
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Logit:
        return cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]),
                   float(data["intercept"]), float(data.get("threshold", 0.5)), dict(data.get("about", {})))


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


class ModelError(RuntimeError):
    """A committed model file is missing or does not fit the code's features."""


@lru_cache(maxsize=8)
def load(path: Path, features: tuple[str, ...]) -> Logit:
    """The model at ``path``; its features must be exactly ``features`` (the code computing them)."""
    try:
        model = Logit.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"cannot read the fitted model {path}: {err}") from None
    if model.features != features:
        raise ModelError(f"{path} was fitted on features {list(model.features)}, the code computes {list(features)}:"
                         " refit it (qabot eval fit-gate / fit-ranker)")
    return model
