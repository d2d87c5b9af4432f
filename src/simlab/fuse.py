"""Combining several views of the same items: score fusion, rank fusion and weighted concatenation.

One combiner for every fusion in simlab (sparse + dense text, graph + text node views, series channel groups,
learned + classical distances). Core layer: numpy only.

Three ways to fuse ``V`` views:

- **late (score) fusion** -- :class:`ScoreFusion`: each view's scores are standardised with statistics
  measured on a validation sample, then combined as ``s = sum_v w_v * (s_v - mu_v) / sd_v`` with ``w >= 0, sum
  w = 1``. Weights are chosen by :meth:`ScoreFusion.fit` to maximise any objective on validation data (Pearson
  with human ratings, AUC of same/different pairs, 1-NN accuracy...). A missing view (NaN score) is dropped
  and the weights of the present views are renormalised.
- **rank fusion** -- :func:`reciprocal_rank_fusion` (Cormack et al., SIGIR 2009): ``score(d) = sum_v w_v /
  (c + rank_v(d))`` over ranked result lists; needs no score calibration, the usual choice for search.
- **early fusion** -- :func:`concat_views`: each view L2-normalised and scaled by ``sqrt(w_v)``, so the cosine
  (or dot) of two concatenated vectors is exactly ``sum_v w_v cos_v``; a missing view is a zero block and the
  weights of the present views are renormalised.

The fitted state is a small JSON-serialisable dict (:meth:`ScoreFusion.to_dict`) stored in a model's manifest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, DimensionError

__all__ = ["ScoreFusion", "concat_views", "normalize_weights", "reciprocal_rank_fusion", "search_weights"]


def normalize_weights(weights: Sequence[float] | np.ndarray | None, n_views: int) -> np.ndarray:
    """Non-negative weights summing to 1; ``None`` gives equal weights.

    Raises:
        ConfigError: wrong count, a negative/NaN weight, or all weights zero.
    """
    if weights is None:
        return np.full(n_views, 1.0 / n_views)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != n_views:
        raise ConfigError(f"fusion: {w.shape[0]} weights given for {n_views} views")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ConfigError(f"fusion: weights must be finite and >= 0, got {w.tolist()}")
    if w.sum() <= 0:
        raise ConfigError("fusion: at least one weight must be > 0")
    return w / w.sum()


def _simplex_grid(n_views: int, step: float) -> np.ndarray:
    """All weight vectors on the simplex with the given step, shape ``(g, n_views)``."""
    m = round(1.0 / step)
    rows = [c for c in itertools.product(range(m + 1), repeat=n_views - 1) if sum(c) <= m]
    grid = np.array([[*c, m - sum(c)] for c in rows], dtype=np.float64) / m
    return grid


def search_weights(
    scores: np.ndarray, objective: Callable[[np.ndarray], float], step: float = 0.05, max_grid: int = 5000
) -> tuple[np.ndarray, float, list[dict[str, Any]]]:
    """Weights on the simplex that maximise ``objective(scores @ w)``.

    An exhaustive grid over the simplex while it has at most `max_grid` points (2-3 views at step 0.05), else
    coordinate ascent from the best of equal weights and each view alone. Ties keep the earlier candidate.

    Args:
        scores: ``(n, V)`` standardised scores of `n` validation items under each of `V` views (no NaN).
        objective: maps fused scores ``(n,)`` to a number, higher is better.
        step: grid step.
        max_grid: largest grid searched exhaustively.

    Returns:
        ``(weights (V,), best objective, curve)``, the curve being ``[{"weights": [...], "objective": x}]`` of
        the candidates tried (for reports).
    """
    n_views = scores.shape[1]
    equal = np.full(n_views, 1.0 / n_views)
    if n_views == 1:
        return equal, float(objective(scores[:, 0])), []
    curve: list[dict[str, Any]] = []

    def value(w: np.ndarray) -> float:
        v = float(objective(scores @ w))
        v = v if np.isfinite(v) else -np.inf
        curve.append({"weights": [round(float(x), 4) for x in w], "objective": v})
        return v

    best_w, best = equal, value(equal)
    if math.comb(round(1 / step) + n_views - 1, n_views - 1) <= max_grid:
        for w in _simplex_grid(n_views, step):
            v = value(w)
            if v > best:
                best_w, best = w, v
        return best_w, best, curve
    w = best_w
    for vertex in np.eye(n_views):  # each view alone is always a candidate
        v = value(vertex)
        if v > best:
            w, best = vertex, v
    for _ in range(100):  # coordinate ascent: move mass between view pairs
        improved = False
        for i, j in itertools.permutations(range(n_views), 2):
            if w[j] < step / 2:
                continue
            cand = w.copy()
            cand[i] += min(step, cand[j])
            cand[j] -= min(step, w[j])
            v = value(cand)
            if v > best + 1e-12:
                w, best, improved = cand, v, True
        if not improved:
            break
    return w, best, curve


@dataclass
class ScoreFusion:
    """Weighted fusion of standardised per-view scores (late fusion).

    Args:
        views: view names, in column order.
        weights: one weight per view (normalised to sum 1); ``None`` = equal.
        mean: per-view score mean measured on validation data (``None`` = 0).
        std: per-view score standard deviation (``None`` = 1).
        objective: name of the objective the weights were chosen on (for the manifest), if fitted.
        validation: objective of each single view and of the fusion on the validation data, if fitted.

    Example:
        >>> f = ScoreFusion(["sparse", "dense"]).fit(val_scores, lambda s: pearson(s, human))  # doctest:
        +SKIP
        >>> fused = f.combine(test_scores)  # (n, 2) -> (n,)  # doctest: +SKIP
    """

    views: list[str]
    weights: list[float] | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    objective: str | None = None
    validation: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.views or len(set(self.views)) != len(self.views):
            raise ConfigError(f"fusion: view names must be non-empty and distinct, got {self.views}")
        self.weights = normalize_weights(self.weights, len(self.views)).tolist()
        for name in ("mean", "std"):
            v = getattr(self, name)
            if v is not None and len(v) != len(self.views):
                raise ConfigError(f"fusion: {name} has {len(v)} values for {len(self.views)} views")
        if self.std is not None and any(not (s > 0) for s in self.std):
            raise ConfigError(f"fusion: std must be > 0, got {self.std}")

    def _check(self, scores: Any) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        if s.ndim == 1:
            s = s[None, :]
        if s.ndim != 2 or s.shape[1] != len(self.views):
            raise DimensionError(f"fusion: expected scores of shape (n, {len(self.views)}), got {s.shape}")
        if np.isinf(s).any():
            raise DataError("fusion: infinite score")
        return s

    def standardize(self, scores: Any) -> np.ndarray:
        """Per-view standardised scores ``(n, V)`` (NaN = missing view stays NaN)."""
        s = self._check(scores)
        mu = np.zeros(s.shape[1]) if self.mean is None else np.asarray(self.mean)
        sd = np.ones(s.shape[1]) if self.std is None else np.asarray(self.std)
        return (s - mu) / sd

    def fit(
        self,
        scores: Any,
        objective: Callable[[np.ndarray], float],
        objective_name: str = "objective",
        step: float = 0.05,
    ) -> ScoreFusion:
        """Measure per-view statistics and choose the weights on validation data.

        Args:
            scores: ``(n, V)`` raw scores of the validation items under each view (NaN = view missing; rows
                with a missing view are used for the statistics of the present views only, and left out of the
                weight search).
            objective: fused scores ``(n_complete,)`` -> number, higher is better (it sees the complete rows
                in order, so it must close over targets aligned with them: use :meth:`complete_rows`).
            objective_name: recorded in the manifest.
            step: weight grid step.

        Returns:
            self, with ``weights``, ``mean``, ``std``, ``validation`` set.
        """
        s = self._check(scores)
        mu = np.nanmean(s, axis=0)
        sd = np.nanstd(s, axis=0)
        if not np.isfinite(mu).all():
            raise DataError("fusion: a view has no validation scores")
        self.mean = mu.tolist()
        self.std = np.where(sd > 1e-12, sd, 1.0).tolist()
        z = self.standardize(s)
        z = z[~np.isnan(z).any(axis=1)]
        if len(z) < 2:
            raise DataError(f"fusion: need >= 2 validation rows with every view present, got {len(z)}")
        w, best, _ = search_weights(z, objective, step=step)
        self.weights = w.tolist()
        self.objective = objective_name
        self.validation = {f"view:{v}": float(objective(z[:, i])) for i, v in enumerate(self.views)}
        self.validation["fused"] = float(best)
        return self

    @staticmethod
    def complete_rows(scores: Any) -> np.ndarray:
        """Boolean mask ``(n,)`` of the rows with every view present (what :meth:`fit` hands to the
        objective)."""
        s = np.asarray(scores, dtype=np.float64)
        return ~np.isnan(s).any(axis=1)

    def combine(self, scores: Any) -> np.ndarray:
        """Fused scores ``(n,)`` from raw per-view scores ``(n, V)``.

        A NaN marks a missing view: its weight is dropped and the present weights renormalised. A row with
        every view missing gives NaN.
        """
        z = self.standardize(scores)
        w = np.asarray(self.weights)[None, :] * ~np.isnan(z)
        total = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.nansum(z * w, axis=1) / total
        out[total == 0] = np.nan
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (stored in a manifest)."""
        return {
            "method": "score",
            "views": list(self.views),
            "weights": self.weights,
            "mean": self.mean,
            "std": self.std,
            "objective": self.objective,
            "validation": dict(self.validation),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScoreFusion:
        """Inverse of :meth:`to_dict` (validated)."""
        if not isinstance(d, dict) or d.get("method") != "score":
            raise ConfigError("fusion: not a score-fusion state")
        return cls(
            views=list(d["views"]),
            weights=d.get("weights"),
            mean=d.get("mean"),
            std=d.get("std"),
            objective=d.get("objective"),
            validation=dict(d.get("validation") or {}),
        )


def reciprocal_rank_fusion(
    rankings: Sequence[Iterable[Hashable]],
    k: int | None = None,
    weights: Sequence[float] | None = None,
    c: float = 60.0,
) -> list[tuple[Hashable, float]]:
    """Reciprocal-rank fusion of ranked lists (best first), ``score(d) = sum_v w_v / (c + rank_v(d))``.

    Args:
        rankings: one ranked list of keys per view (lists may differ in length and content).
        k: how many fused results to return (``None`` = all).
        weights: per-view weights (normalised; ``None`` = equal).
        c: the RRF constant (60 in the paper).

    Returns:
        ``[(key, score), ...]`` best first; ties broken by first appearance.
    """
    if c < 0 or not np.isfinite(c):
        raise ConfigError(f"fusion: rrf constant must be >= 0, got {c}")
    w = normalize_weights(weights, len(rankings)) if rankings else np.zeros(0)
    scores: dict[Hashable, float] = {}
    for wv, ranked in zip(w, rankings, strict=True):
        for rank, key in enumerate(ranked, start=1):
            scores[key] = scores.get(key, 0.0) + float(wv) / (c + rank)
    out = sorted(scores.items(), key=lambda kv: -kv[1])  # stable: first appearance wins ties
    return out if k is None else out[:k]


def concat_views(
    matrices: Sequence[Any], weights: Sequence[float] | None = None, present: Any | None = None
) -> np.ndarray:
    """Early fusion: concatenate L2-normalised view blocks scaled by ``sqrt(w_v)``.

    The dot product of two fused rows is ``sum_v w_v cos_v`` over the views both rows have (with weights
    renormalised over each row's present views), so cosine search on the result fuses the views' cosines.

    Args:
        matrices: ``V`` arrays of shapes ``(n, d_v)`` (same `n`); a row of zeros or NaN is a missing view.
        weights: per-view weights (normalised; ``None`` = equal).
        present: optional ``(n, V)`` boolean mask of present views (default: rows that are non-zero and
            finite).

    Returns:
        ``(n, sum d_v)`` float32.
    """
    if not matrices:
        raise DataError("fusion: no views to concatenate")
    mats = [np.asarray(m, dtype=np.float32) for m in matrices]
    n = mats[0].shape[0]
    if any(m.ndim != 2 or m.shape[0] != n for m in mats):
        raise DimensionError(
            f"fusion: every view needs shape (n, d) with n={n}, got {[m.shape for m in mats]}"
        )
    w = normalize_weights(weights, len(mats))
    mask = np.stack([np.isfinite(m).all(1) & (np.abs(np.nan_to_num(m)).sum(1) > 0) for m in mats], axis=1)
    if present is not None:
        mask &= np.asarray(present, dtype=bool).reshape(n, len(mats))
    row_w = w[None, :] * mask
    tot = row_w.sum(1, keepdims=True)
    row_w = np.divide(row_w, tot, out=np.zeros_like(row_w), where=tot > 0)
    blocks = []
    for i, m in enumerate(mats):
        m = np.nan_to_num(m)
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        norms[norms == 0] = 1
        blocks.append((m / norms) * np.sqrt(row_w[:, i : i + 1]).astype(np.float32))
    return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.float32)
