"""Classical series distances on whole collections: z-normalised Euclidean and DTW (full or banded).

Series are lists of ``(length_i, channels)`` arrays (NaN = missing, lengths may differ). Each series is
imputed (linear interpolation) and z-normalised per channel; Euclidean resamples every series to one length
(``length``, default the longest corpus series); DTW compares the series as they are
(:func:`simlab.metrics.dtw_distance_matrix`, dtaidistance). The same functions serve the 1-NN baselines of the
evaluators, the fallback of :class:`~simlab.sequence.model.SiameseModel` and the benchmarks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.errors import ConfigError

#: classical distances by name -> DTW window (None = full; "euclidean" has none)
CLASSICAL = {"euclidean": None, "dtw": None, "dtw10": 0.1}


def impute(s: np.ndarray) -> np.ndarray:
    """Linear interpolation of NaN per channel (edges: nearest observation; empty channel: 0)."""
    if not np.isnan(s).any():
        return s
    out = s.astype(np.float64).copy()
    t = np.arange(len(s))
    for c in range(s.shape[1]):
        ok = ~np.isnan(out[:, c])
        out[:, c] = np.interp(t, t[ok], out[ok, c]) if ok.any() else 0.0
    return out


def resample(s: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling of a ``(len, C)`` series to `length` steps."""
    if len(s) == length:
        return s
    src = np.linspace(0, 1, len(s))
    dst = np.linspace(0, 1, length)
    return np.stack([np.interp(dst, src, s[:, c]) for c in range(s.shape[1])], axis=1)


def prepare(series: list[np.ndarray], znorm: bool = True) -> list[np.ndarray]:
    """Impute NaN and z-normalise each series per channel: ``(len_i, C)`` -> ``(len_i, C)`` float64."""
    from simlab.metrics import znormalize

    out = []
    for s in series:
        x = impute(np.asarray(s, dtype=np.float64))
        out.append(znormalize(x, axis=0) if znorm and len(x) > 1 else x)
    return out


def distances(
    queries: list[np.ndarray],
    corpus: list[np.ndarray],
    kind: str = "dtw",
    length: int | None = None,
    znorm: bool = True,
) -> np.ndarray:
    """``(q, n)`` classical distances between two lists of series.

    Args:
        queries: ``(len_i, C)`` series (NaN allowed).
        corpus: ``(len_j, C)`` series.
        kind: ``euclidean`` (z-normalised, resampled to `length`), ``dtw`` (full window) or ``dtw10``
            (Sakoe-Chiba band of 10% of the longest series).
        length: resampling length for ``euclidean`` (default: the longest corpus series).
        znorm: z-normalise each series first (the UCR convention).

    Returns:
        float64 distances, lower = more similar.
    """
    from simlab.metrics import dtw_distance_matrix

    if kind not in CLASSICAL:
        raise ConfigError(f"unknown classical distance {kind!r}; valid: {', '.join(CLASSICAL)}")
    q, c = prepare(queries, znorm), prepare(corpus, znorm)
    if kind == "euclidean":
        from simlab.metrics import pairwise_distance

        n = length or max(len(s) for s in c)
        qa = np.stack([resample(s, n).ravel() for s in q])
        ca = np.stack([resample(s, n).ravel() for s in c])
        return pairwise_distance(qa, ca, "euclidean", dtype=np.float64)
    return dtw_distance_matrix(q, c, CLASSICAL[kind])


def pair_distances(
    a: list[np.ndarray], b: list[np.ndarray], kind: str, length: int | None = None
) -> np.ndarray:
    """``(n,)`` classical distances of the pairs ``(a[i], b[i])``."""
    return np.array([distances([x], [y], kind, length)[0, 0] for x, y in zip(a, b, strict=True)])


def nn_predict(dist: np.ndarray, labels: Any) -> np.ndarray:
    """1-NN labels from a ``(q, n)`` distance matrix (ties: the lower corpus index)."""
    return np.asarray(labels)[np.argmin(dist, axis=1)]
