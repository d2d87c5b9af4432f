"""Shared helpers of the index backends: metric names and score conventions."""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.errors import UnknownNameError
from simlab.registry import METRICS

#: metrics an index can rank by (aliases of the metrics registry are accepted: cos, ip, inner_product, l2)
INDEX_METRICS = ("cosine", "dot", "euclidean", "sqeuclidean")


def resolve_metric(metric: str) -> str:
    """Canonical index metric name for `metric` (aliases allowed).

    Raises:
        UnknownNameError: listing the metrics an index supports.
    """
    name = str(metric).lower()
    if name in METRICS:
        name = METRICS.canonical(name)
    if name not in INDEX_METRICS:
        raise UnknownNameError("index metric", str(metric), INDEX_METRICS)
    return name


def _to_score(metric: str, raw: np.ndarray) -> np.ndarray:
    """Backend raw values (inner products or squared L2 distances) -> similarities (higher = better)."""
    if metric == "euclidean":
        return -np.sqrt(np.maximum(raw, 0))
    if metric == "sqeuclidean":
        return -np.maximum(raw, 0)
    if metric == "cosine":
        return np.clip(raw, -1.0, 1.0)
    return raw


def _check_positive(cfg: Any, names: tuple[str, ...]) -> None:
    for name in names:
        v = getattr(cfg, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
