"""Missing views: drop views at random and measure how a fused model degrades.

:func:`drop_views` gives a copy of a fitted keyed :class:`~simlab.fusion.model.FusedModel` in which a share of
the items each lose one view drawn at random (never their last one); the fitted weights, gate or towers are
kept, so the copy shows what happens at query time when views are missing. :func:`missing_view_curve` scores
such copies for a range of shares (default 0-50 %).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.fusion.views import KeyedView


def drop_views(model: Any, share: float, seed: int = 0) -> Any:
    """A copy of `model` where a `share` of the items (those with >= 2 views) lose one random view.

    Args:
        model: a fitted keyed :class:`~simlab.fusion.model.FusedModel`.
        share: share of all items that lose a view, in ``[0, 1]``.
        seed: random seed.
    """
    if not 0 <= share <= 1:
        raise ConfigError(f"share must be in [0, 1], got {share}")
    if not model.keyed:
        raise ConfigError("drop_views needs keyed views")
    keys = model.keys
    _, present = model.raw(keys)
    rng = np.random.default_rng(seed)
    multi = np.flatnonzero(present.sum(1) >= 2)
    n_drop = min(len(multi), round(share * len(keys)))
    chosen = rng.choice(multi, n_drop, replace=False) if n_drop else np.zeros(0, np.int64)
    drop: list[set[Any]] = [set() for _ in model.names]
    for i in chosen:
        v = int(rng.choice(np.flatnonzero(present[i])))
        drop[v].add(keys[i])
    out = copy.copy(model)
    out.views = {
        name: view.without(drop[j]) if isinstance(view, KeyedView) else view
        for j, (name, view) in enumerate(model.views.items())
    }
    out._vectors = None
    return out


def missing_view_curve(
    model: Any,
    score: Callable[[Any], float],
    shares: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    seed: int = 0,
) -> list[dict[str, float]]:
    """``[{"missing": share, "score": score(drop_views(model, share))}, ...]``.

    Args:
        score: model -> number, e.g. ``lambda m: evaluate(m, "nodeclass:Cora").value``.
    """
    return [{"missing": float(s), "score": float(score(drop_views(model, s, seed)))} for s in shares]
