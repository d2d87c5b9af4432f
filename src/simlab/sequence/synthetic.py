"""Generated labelled series for tests and the benchmark suite's synthetic rows (numpy only).

Each class is a motif shape (a sine bump, a square pulse, a triangle, ...) placed in Gaussian noise:

* ``shifted``: the motif at a uniformly random position (Euclidean struggles, DTW and learned do not);
* ``warped``: the motif near a fixed position, stretched or squeezed by a random factor (0.6 to 1.6);
* ``noisy``: near a fixed position, noise sd 1.0 (as large as the motif);
* ``missing``: ``shifted`` with 20% of the steps missing (NaN) in random blocks;
* ``unequal``: ``shifted`` with lengths from 60% to 100% of ``length``.
"""

from __future__ import annotations

import numpy as np

from simlab.errors import ConfigError
from simlab.sequence.data import SeriesDataset

KINDS = ("shifted", "warped", "noisy", "missing", "unequal")


def _motif(cls: int, width: int) -> np.ndarray:
    t = np.linspace(0, 1, max(2, width))
    shapes = [
        np.sin(np.pi * t) * 2.0,  # bump
        np.where((t > 0.2) & (t < 0.8), 2.0, 0.0),  # square pulse
        2.0 * (1 - np.abs(2 * t - 1)),  # triangle
        np.sin(3 * np.pi * t) * 1.5,  # wiggle
        -np.sin(np.pi * t) * 2.0,
    ]  # dip
    return shapes[cls % len(shapes)]


def make_motifs(
    kind: str = "shifted",
    n_train: int = 60,
    n_test: int = 150,
    length: int = 128,
    classes: int = 3,
    seed: int = 0,
) -> tuple[SeriesDataset, SeriesDataset]:
    """A generated ``(train, test)`` pair of labelled univariate collections (balanced classes).

    Args:
        kind: one of :data:`KINDS`.
        n_train / n_test: series per split.
        length: series length (the longest for ``unequal``).
        classes: number of motif shapes (at most 5 distinct ones).
        seed: the random seed (train and test come from one stream).
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown synthetic kind {kind!r}; valid: {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)

    def one(cls: int) -> np.ndarray:
        n = int(rng.integers(int(0.6 * length), length + 1)) if kind == "unequal" else length
        width = max(4, length // 5)
        if kind == "warped":
            width = max(4, int(width * rng.uniform(0.6, 1.6)))
        noise = 1.0 if kind == "noisy" else 0.3
        x = rng.normal(0, noise, n)
        m = _motif(cls, min(width, n - 1))
        if kind in ("warped", "noisy"):
            start = int(np.clip(n // 3 + rng.integers(-length // 20, length // 20 + 1), 0, n - len(m)))
        else:
            start = int(rng.integers(0, n - len(m) + 1))
        x[start : start + len(m)] += m
        if kind == "missing":
            for _ in range(4):
                b = int(rng.integers(0, n - n // 20))
                x[b : b + n // 20] = np.nan
        return x.astype(np.float32)

    def split(n: int, name: str) -> SeriesDataset:
        labels = np.arange(n) % classes
        rng.shuffle(labels)
        return SeriesDataset(
            [one(int(c))[:, None] for c in labels],
            np.array([f"c{c}" for c in labels]),
            f"synthetic:{kind}/{name}",
        )

    return split(n_train, "train"), split(n_test, "test")
