"""Sampling pairs / triplets / class-balanced batches from a labelled collection, and augmentations.

Numpy only. Every function takes an explicit ``numpy.random.Generator`` so training is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from simlab.errors import ConfigError, DataError

# -- labelled collections ------------------------------------------------------------------------------------


class ClassIndex:
    """Rows per class of a label vector; refuses labels with a single class."""

    def __init__(self, labels: Sequence[object]) -> None:
        self.labels = np.asarray(labels)
        self.classes, self.codes = np.unique(self.labels, return_inverse=True)
        if len(self.classes) < 2:
            raise DataError(
                f"labels have one class only ({self.classes[0] if len(self.classes) else 'none'!r}); "
                "similarity learning needs at least two classes"
            )
        self.members = [np.flatnonzero(self.codes == c) for c in range(len(self.classes))]
        self.pos_classes = np.array([c for c, m in enumerate(self.members) if len(m) >= 2])
        if len(self.pos_classes) == 0:
            raise DataError("no class has two or more items; positive pairs cannot be sampled")

    def __len__(self) -> int:
        return len(self.labels)


def _hard_negative(
    i: int, ci: ClassIndex, hard_rank: np.ndarray | None, rng: np.random.Generator, p_hard: float
) -> int:
    """A negative for anchor `i`: with probability `p_hard` one of its nearest other-class items."""
    if hard_rank is not None and rng.random() < p_hard:
        cands = hard_rank[i]
        return int(cands[rng.integers(len(cands))])
    other = rng.integers(len(ci.classes) - 1)
    other = other + (other >= ci.codes[i])
    return int(rng.choice(ci.members[other]))


def nearest_other_class(emb: np.ndarray, codes: np.ndarray, m: int = 5) -> np.ndarray:
    """``(n, m)`` rows of each item's `m` nearest (cosine) items of another class."""
    x = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    s = x @ x.T
    s[codes[:, None] == codes[None, :]] = -np.inf
    m = min(m, int((codes != codes[0]).sum()) or 1)
    return np.argsort(-s, axis=1)[:, :m]


def sample_pairs(
    ci: ClassIndex, n: int, rng: np.random.Generator, hard_rank: np.ndarray | None = None, p_hard: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` class-balanced pairs: half positive (anchor class drawn uniformly), half negative.

    Returns:
        ``(ia, ib, y)`` with y = 1 for same-class pairs.
    """
    ia, ib, y = np.empty(n, int), np.empty(n, int), np.empty(n, np.float32)
    for j in range(n):
        pos = j % 2 == 0
        c = ci.pos_classes[rng.integers(len(ci.pos_classes))] if pos else rng.integers(len(ci.classes))
        i = int(rng.choice(ci.members[c]))
        if pos:
            mem = ci.members[c]
            k = int(rng.choice(mem[mem != i]))
        else:
            k = _hard_negative(i, ci, hard_rank, rng, p_hard)
        ia[j], ib[j], y[j] = i, k, float(pos)
    perm = rng.permutation(n)
    return ia[perm], ib[perm], y[perm]


def sample_triplets(
    ci: ClassIndex, n: int, rng: np.random.Generator, hard_rank: np.ndarray | None = None, p_hard: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` triplets (anchor, positive, negative) with the anchor class drawn uniformly (class balance)."""
    out = np.empty((3, n), int)
    for j in range(n):
        c = ci.pos_classes[rng.integers(len(ci.pos_classes))]
        mem = ci.members[c]
        i = int(rng.choice(mem))
        out[:, j] = i, int(rng.choice(mem[mem != i])), _hard_negative(i, ci, hard_rank, rng, p_hard)
    return out[0], out[1], out[2]


def balanced_batches(
    ci: ClassIndex, n_batches: int, batch_size: int, rng: np.random.Generator, per_class: int = 4
) -> list[np.ndarray]:
    """P x K batches: P classes drawn uniformly, K items each (with replacement when a class is small);
    K grows to ``batch_size // P`` when there are few classes.

    Used by batch-hard triplet and supervised InfoNCE losses on ``labelled`` data.
    """
    n_classes = len(ci.classes)
    p = max(2, min(n_classes, batch_size // per_class))
    k = max(per_class, batch_size // p)  # few classes: more items per class, so the batch stays full
    out = []
    for _ in range(n_batches):
        classes = rng.choice(n_classes, size=p, replace=False)
        rows = [rng.choice(ci.members[c], size=k, replace=len(ci.members[c]) < k) for c in classes]
        out.append(np.concatenate(rows))
    return out


# -- augmentations -------------------------------------------------------------------------------------------


def jitter(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Add Gaussian noise with 3% of each channel's standard deviation (x `strength`)."""
    sd = np.nanstd(x, axis=0, keepdims=True)
    return x + rng.normal(size=x.shape).astype(np.float32) * (0.03 * strength) * np.where(sd > 0, sd, 1)


def scaling(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Scale each channel's deviations from its mean by a factor ~ N(1, 0.1 `strength`)."""
    mu = np.nanmean(x, axis=0, keepdims=True)
    f = rng.normal(1.0, 0.1 * strength, size=(1, x.shape[1])).astype(np.float32)
    return mu + (x - mu) * f


def window_crop(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random window keeping ``1 - 0.1 strength`` of the steps (at least 2)."""
    n = len(x)
    keep = max(2, round(n * (1 - 0.1 * strength)))
    if keep >= n:
        return x
    s = int(rng.integers(0, n - keep + 1))
    return x[s : s + keep]


def time_warp(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Smooth random time warp (4 knots, speeds ~ N(1, 0.2 `strength`)), same length."""
    n = len(x)
    if n < 4:
        return x
    knots = np.clip(rng.normal(1.0, 0.2 * strength, size=4), 0.3, None)
    speed = np.interp(np.linspace(0, 3, n), np.arange(4), knots)
    t = np.cumsum(speed)
    t = (t - t[0]) / max(t[-1] - t[0], 1e-9) * (n - 1)
    grid = np.arange(n)
    return np.stack([np.interp(t, grid, x[:, c]) for c in range(x.shape[1])], axis=1).astype(np.float32)


AUGMENTATIONS: dict[str, Callable[[np.ndarray, np.random.Generator, float], np.ndarray]] = {
    "jitter": jitter,
    "scaling": scaling,
    "crop": window_crop,
    "warp": time_warp,
}


def check_augmentations(names: Sequence[str]) -> None:
    bad = [n for n in names if n not in AUGMENTATIONS]
    if bad:
        raise ConfigError(f"unknown augmentation(s) {', '.join(bad)}; valid: {', '.join(AUGMENTATIONS)}")


def augment_series(
    x: np.ndarray, names: Sequence[str], rng: np.random.Generator, strength: float = 1.0, p: float = 0.5
) -> np.ndarray:
    """Apply each named augmentation with probability `p`."""
    for name in names:
        if rng.random() < p:
            x = AUGMENTATIONS[name](x, rng, strength)
    return x


def word_dropout(ids: list[int], rng: np.random.Generator, p: float) -> list[int]:
    """Drop each token with probability `p`, keeping at least one."""
    if p <= 0 or len(ids) <= 1:
        return ids
    keep = [t for t in ids if rng.random() >= p]
    return keep or [ids[int(rng.integers(len(ids)))]]
