"""Evaluation reports and the rank/correlation helpers every evaluator shares.

An evaluator is a function ``(model, target, **options) -> Report`` registered in ``EVALUATORS`` under a name
such as ``"wordsim353"``; names with a prefix (``"ucr:GunPoint"``, ``"ged:AIDS700nef"``) are looked up by
the prefix (``"ucr"``, ``"ged"``) and get the rest as `target`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.config import parse_spec
from simlab.registry import EVALUATORS


@dataclass
class Report:
    """The result of one evaluation.

    Attributes:
        name: what was evaluated (benchmark name).
        primary: the name of the headline metric (a key of `metrics`).
        metrics: metric name -> value.
        counts: counts such as ``items_scored``, ``oov_share``, ``skipped``.
        details: optional breakdown (per section, per seed, ...).
    """

    name: str
    primary: str
    metrics: dict[str, float]
    counts: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """The headline metric's value."""
        return float(self.metrics[self.primary])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return json.loads(
            json.dumps(
                {
                    "name": self.name,
                    "primary": self.primary,
                    "metrics": self.metrics,
                    "counts": self.counts,
                    "details": self.details,
                },
                default=lambda o: o.item() if isinstance(o, np.generic) else str(o),
            )
        )

    def to_table(self) -> str:
        """A plain-text two-column table (metrics, then counts)."""
        rows = [(k + (" *" if k == self.primary else ""), _fmt(v)) for k, v in self.metrics.items()]
        rows += [(k, _fmt(v)) for k, v in self.counts.items()]
        w = max([len(r[0]) for r in rows] + [len(self.name)])
        lines = [self.name, "-" * (w + 12)] + [f"{a:<{w}}  {b}" for a, b in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_table()


def _fmt(v: Any) -> str:
    from simlab.formatting import format_value

    return format_value(v)


def spearman(x: Any, y: Any) -> float:
    """Spearman rank correlation (ties get average ranks)."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def pearson(x: Any, y: Any) -> float:
    """Pearson correlation."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def resolve_evaluator(target: str) -> tuple[Any, str]:
    """Find the evaluator for a benchmark spec.

    ``"wordsim353"`` -> (evaluator, ""); ``"ucr:GunPoint"`` -> (evaluator "ucr", "GunPoint"); an existing
    file path -> (evaluator "pairs-file", path).
    """
    if target in EVALUATORS:
        return EVALUATORS.get(target), ""
    scheme, rest = parse_spec(target)
    if scheme and scheme in EVALUATORS:
        return EVALUATORS.get(scheme), rest
    if Path(target).exists() and "pairs-file" in EVALUATORS:
        return EVALUATORS.get("pairs-file"), target
    return EVALUATORS.get(target), ""  # raises UnknownNameError listing the valid names


def evaluate(model: Any, target: str, **options: Any) -> Report:
    """Evaluate `model` on a benchmark by name (see :func:`resolve_evaluator`).

    A bare file path goes to the model's own ``evaluate_file(path, **options)`` when it has one (a GED file
    for graph models is not a file of word pairs), else to the registered ``pairs-file`` evaluator.
    """
    if target not in EVALUATORS and Path(target).is_file() and hasattr(model, "evaluate_file"):
        return model.evaluate_file(target, **options)
    fn, rest = resolve_evaluator(target)
    try:
        return fn(model, rest, **options)
    except (AttributeError, NotImplementedError) as exc:  # e.g. word vectors on a series benchmark
        from simlab.errors import ConfigError

        raise ConfigError(
            f"benchmark {target!r} cannot evaluate a {type(model).__name__} "
            f"({' '.join(str(exc).split())[:120]})"
        ) from None
