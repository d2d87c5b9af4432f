"""The explorer's 2-D maps: a fixed sample of vectors projected by PCA (UMAP when installed and asked for)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError

METHODS = ("pca", "umap")


def _xy(x: np.ndarray, method: str) -> np.ndarray:
    if method == "umap":
        if importlib.util.find_spec("umap") is None:
            raise ConfigError("method 'umap' needs the umap-learn package; use 'pca'")
        import umap

        return np.asarray(umap.UMAP(n_components=2, random_state=0).fit_transform(x), np.float32)
    from simlab.index.reduce import PCA

    if len(x) < 2 or x.shape[1] < 2:
        return np.zeros((len(x), 2), np.float32) if x.shape[1] < 2 else np.pad(x[:, :2], ((0, 0), (0, 0)))
    return np.asarray(PCA(2).fit(x).transform(x), np.float32)


def project(
    keys: Sequence[Any],
    matrix: np.ndarray,
    highlight: Sequence[Any],
    n: int,
    method: str,
    color: Callable[[Any], Any],
    fields: list[str],
) -> dict[str, Any]:
    """A map of `n` keys sampled with a fixed seed plus the `highlight` keys.

    Args:
        keys / matrix: all keys and their ``(N, d)`` vectors.
        highlight: keys to add and flag (the query's neighbours, found in the original space).
        color: key -> colour value (a metadata field) or None.

    Returns:
        ``{"method", "fields", "points": [{key, x, y, color, highlight}]}``.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown map method {method!r}; valid: {', '.join(METHODS)}")
    if len(keys) == 0:
        return {"method": method, "fields": fields, "points": []}
    pos = {k: i for i, k in enumerate(keys)}
    rows = (
        np.sort(np.random.default_rng(0).permutation(len(keys))[: min(n, len(keys))])
        if len(keys) > n
        else np.arange(len(keys))
    )
    hl = [pos[h] for h in highlight if h in pos]
    rows = np.unique(np.concatenate([rows, np.asarray(hl, np.int64)])).astype(np.int64)
    x = np.asarray(matrix[rows], np.float32)
    if not np.isfinite(x).all():
        raise DataError("some vectors are not finite")
    xy = _xy(x, method)
    hset = set(hl)
    pts = [
        {
            "key": keys[r],
            "x": float(xy[i, 0]),
            "y": float(xy[i, 1]),
            "color": color(keys[r]),
            "highlight": int(r) in hset,
        }
        for i, r in enumerate(rows)
    ]
    return {"method": method, "fields": fields, "points": pts}


def collection_map(
    c: Any, n: int, method: str, color: str | None, highlight: Sequence[str]
) -> dict[str, Any]:
    """The map of a collection (ids sampled, vectors from its live index, coloured by the field `color`)."""
    meta = c.live.meta
    ids = list(meta)
    rng = np.random.default_rng(0)
    sample = [ids[i] for i in np.sort(rng.permutation(len(ids))[:n])] if len(ids) > n else ids
    keys = list(dict.fromkeys([*sample, *[h for h in highlight if h in meta]]))
    vecs, kept = [], []
    for key in keys:
        v = c.live.vector(key)
        if v is not None:
            vecs.append(v)
            kept.append(key)
    fields = sorted(
        {
            f
            for key in kept[:200]
            for f, v in (meta.get(key) or {}).items()
            if isinstance(v, str | int | float | bool)
        }
    )
    mat = np.stack(vecs) if vecs else np.zeros((0, c.store.dim), np.float32)
    return project(
        kept,
        mat,
        [h for h in highlight if h in set(kept)],
        len(kept),
        method,
        lambda key: (meta.get(key) or {}).get(color) if color else None,
        fields,
    )
