"""``FusedModel.fit``: choose view weights (early, late), train the gate (learned) or the towers
(contrastive)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.fuse import ScoreFusion, concat_views, search_weights
from simlab.fusion import objectives as O


def _normalise_labels(labels: Mapping[Any, Any], keys: list[Any]) -> dict[Any, Any]:
    keyset = set(keys)
    out = {}
    for k, v in labels.items():
        if k not in keyset and _alt(k) in keyset:
            k = _alt(k)
        if k in keyset:
            out[k] = v
    if labels and not out:
        raise DataError("none of the labelled ids is an item of the views")
    return out


def _alt(k: Any) -> Any:
    if isinstance(k, str) and k.lstrip("-").isdigit():
        return int(k)
    return str(k) if isinstance(k, int) else None


def _pair_rows(pairs: Sequence[tuple[Any, Any, float]], keys: list[Any]) -> tuple[np.ndarray, ...]:
    pos = {k: i for i, k in enumerate(keys)}

    def row(k: Any) -> int:
        i = pos.get(k, pos.get(_alt(k)))
        if i is None:
            raise UnknownKeyError(f"pair item {k!r} is not an item of the views")
        return i

    if not pairs:
        raise DataError("no pairs to fit on")
    ra = np.array([row(p[0]) for p in pairs], np.int64)
    rb = np.array([row(p[1]) for p in pairs], np.int64)
    return ra, rb, np.array([float(p[2]) for p in pairs])


def fit_model(
    m: Any, labels: Mapping[Any, Any] | None, pairs: Sequence[tuple[Any, Any, float]] | None
) -> None:
    """Fit `m` (a :class:`~simlab.fusion.model.FusedModel`) in place."""
    if not m.keyed and (labels is not None or pairs is not None):
        raise ConfigError(
            "labels/pairs name item ids; a fused model over series views is fitted with "
            "simlab.fusion.series.fit_series(...)"
        )
    keys = m.keys if m.keyed else []
    lab = _normalise_labels(labels, keys) if labels is not None else None
    prs = _pair_rows(pairs, keys) if pairs is not None else None
    mats, present = m.raw(keys) if keys else ([], np.zeros((0, len(m.names)), bool))
    fit_arrays(m, mats, present, keys, lab, prs)


def fit_arrays(
    m: Any,
    mats: list[np.ndarray],
    present: np.ndarray,
    keys: list[Any],
    labels: dict[Any, Any] | None,
    pairs: tuple[np.ndarray, ...] | None,
) -> None:
    """Fit from the raw view matrices of the training items (`keys` name their rows)."""
    cfg = m.config
    if cfg.method in ("early", "late"):
        _choose_weights(m, mats, present, keys, labels, pairs)
        if cfg.method == "early" and cfg.pca:
            from simlab.index.reduce import PCA

            if not keys:
                raise ConfigError("pca needs the items to fit on")
            m.pca = PCA(cfg.pca).fit(concat_views(mats, m.weights, present))
        return
    with m.threads():  # the config's thread count for the duration of training, then restored
        _train_net(m, mats, present, keys, labels, pairs)


def _train_net(
    m: Any,
    mats: list[np.ndarray],
    present: np.ndarray,
    keys: list[Any],
    labels: dict[Any, Any] | None,
    pairs: tuple[np.ndarray, ...] | None,
) -> None:
    import torch

    cfg = m.config
    torch.manual_seed(cfg.train.seed)  # the networks' initial weights (fitting, never loading)
    dims = [v.dim for v in m.views.values()]
    if cfg.method == "learned":
        from simlab.fusion.learned import GatedFusion
        from simlab.fusion.training import train_gated

        m.net = GatedFusion(dims, cfg.dim, cfg.hidden, cfg.gate)
        if labels is not None:
            rows = np.array([i for i, k in enumerate(keys) if k in labels], np.int64)
            y = np.array([str(labels[keys[i]]) for i in rows])
            m.history = train_gated(m.net, [x[rows] for x in mats], present[rows], cfg, labels=y)
        else:
            m.history = train_gated(m.net, mats, present, cfg, pairs=pairs)
    else:
        from simlab.fusion.learned import Towers
        from simlab.fusion.training import train_towers

        if len(dims) < 2:
            raise ConfigError("contrastive fusion needs at least two views")
        m.net = Towers(dims, cfg.dim, cfg.hidden)
        m.history = train_towers(m.net, mats, present, cfg)


def _choose_weights(
    m: Any,
    mats: list[np.ndarray],
    present: np.ndarray,
    keys: list[Any],
    labels: dict[Any, Any] | None,
    pairs: tuple[np.ndarray, ...] | None,
) -> None:
    """Weights on validation data: leave-one-out 1-NN accuracy (labels) or AUC / Spearman (pairs)."""
    cfg = m.config
    late = cfg.method == "late"
    supervised = cfg.weights is None and (labels is not None or pairs is not None)
    if labels is not None and supervised:
        rows, y = O.labelled_sample(keys, labels, present, cfg.max_items, cfg.train.seed)
        scores = O.cosine_views(mats, present, rows, rows).reshape(-1, len(mats))
        objective, name = O.knn_accuracy_objective(y), "loo_1nn_accuracy"
    elif pairs is not None:
        ra, rb, t = pairs
        scores = O.pair_cosines(mats, present, ra, rb)
        ok = ~np.isnan(scores).any(1)
        objective, name = O.pairs_objective(t[ok])
    else:  # unsupervised: fixed / equal weights; late fusion standardises with statistics of random pairs
        if late:
            m.score = ScoreFusion(m.names, weights=cfg.weights)
            if keys:
                rng = np.random.default_rng(cfg.train.seed)
                ra, rb = rng.integers(0, len(keys), (2, min(20000, len(keys) ** 2)))
                s = O.pair_cosines(mats, present, ra, rb)
                sd = np.nanstd(s, 0)
                m.score.mean, m.score.std = np.nanmean(s, 0).tolist(), np.where(sd > 1e-12, sd, 1.0).tolist()
        return
    if not supervised:
        if late:
            m.score = ScoreFusion(m.names, weights=cfg.weights)
        return
    if late:
        m.score = ScoreFusion(m.names).fit(scores, objective, name)
        m.weights = list(m.score.weights or m.weights)
        m.history = {"objective": name, "validation": dict(m.score.validation)}
        return
    z = scores[~np.isnan(scores).any(1)]
    w, best, _ = search_weights(z, objective)
    m.weights = w.tolist()
    val = {f"view:{v}": float(objective(z[:, i])) for i, v in enumerate(m.names)}
    m.history = {"objective": name, "validation": {**val, "fused": float(best)}}
