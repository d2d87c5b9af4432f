"""Objectives that view weights are chosen on (validation data only): leave-one-out 1-NN accuracy for classes,
AUC for same/different pairs, Spearman for scored pairs. Each maps fused scores to a number, higher =
better."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from simlab.errors import DataError


def cosine_views(mats: Sequence[np.ndarray], present: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-view cosine of rows `a` vs rows `b`: ``(len(a), len(b), V)``, NaN where either item lacks the
    view."""
    out = np.empty((len(a), len(b), len(mats)), np.float64)
    for v, m in enumerate(mats):
        u = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        s = u[a] @ u[b].T
        s[~present[a, v]] = np.nan
        s[:, ~present[b, v]] = np.nan
        out[:, :, v] = s
    return out


def pair_cosines(mats: Sequence[np.ndarray], present: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-view cosine of row pairs ``(a_i, b_i)``: ``(n, V)``, NaN where either item lacks the view."""
    out = np.empty((len(a), len(mats)), np.float64)
    for v, m in enumerate(mats):
        u = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
        out[:, v] = np.where(present[a, v] & present[b, v], (u[a] * u[b]).sum(1), np.nan)
    return out


def knn_accuracy_objective(labels: np.ndarray) -> Callable[[np.ndarray], float]:
    """Leave-one-out 1-NN accuracy from the flattened ``(m * m,)`` fused similarities of `m` labelled
    items."""
    y = np.asarray(labels)
    m = len(y)

    def objective(fused: np.ndarray) -> float:
        s = np.asarray(fused, np.float64).reshape(m, m).copy()
        np.fill_diagonal(s, -np.inf)
        return float(np.mean(y[np.argmax(s, 1)] == y))

    return objective


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC of scores for binary labels (ties averaged)."""
    from scipy.stats import rankdata

    y = np.asarray(labels) > 0.5
    if y.all() or not y.any():
        return float("nan")
    r = rankdata(scores)
    return float((r[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum()))


def pairs_objective(targets: np.ndarray) -> tuple[Callable[[np.ndarray], float], str]:
    """AUC for 0/1 targets, Spearman otherwise; returns ``(objective, name)``."""
    from simlab.evaluate import spearman

    t = np.asarray(targets, np.float64)
    if set(np.unique(t)) <= {0.0, 1.0}:
        return (lambda s: auc(s, t)), "auc"
    return (lambda s: spearman(s, t)), "spearman"


def labelled_sample(
    keys: list[Any], labels: dict[Any, Any], present: np.ndarray, max_items: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of labelled items with every view present (at most `max_items`, drawn with `seed`), and labels."""
    rows = np.array([i for i, k in enumerate(keys) if k in labels and present[i].all()], np.int64)
    if len(rows) < 4:
        raise DataError(
            f"need >= 4 labelled items with every view present to choose weights, got {len(rows)}"
        )
    if len(rows) > max_items:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_items, replace=False))
    return rows, np.array([str(labels[keys[i]]) for i in rows])
