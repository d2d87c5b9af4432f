"""``score_pairs`` for the text models whose pair score is their ``similarity`` (the ``scores_pairs``
capability of :mod:`simlab.model`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class PairsBySimilarity:
    """Mixin: ``score_pairs(a, b)`` is ``similarity(a_i, b_i)`` of each pair."""

    def score_pairs(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        """``(n,)`` similarity of each pair ``(a_i, b_i)`` (NaN where a pair cannot be scored)."""
        sim = self.similarity  # type: ignore[attr-defined]
        return np.array([sim(x, y) for x, y in zip(a, b, strict=True)], dtype=np.float64)
