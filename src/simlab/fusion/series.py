"""Channel groups of multivariate series as views (e.g. accelerometer vs gyroscope of a motion recording).

A :class:`~simlab.fusion.model.FusedModel` over :class:`~simlab.fusion.views.SeriesChannels` views encodes raw
series, so the ``ucr:NAME`` evaluator (1-NN accuracy) runs on it like on any series model. Weights are chosen
on the training split only, by leave-one-out 1-NN accuracy (:func:`fit_series`). :func:`dtw_group_fusion`
does the same with DTW distances per group (late fusion of standardised negated distances).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.fuse import ScoreFusion
from simlab.fusion.objectives import knn_accuracy_objective

#: channel groups of bundled UEA sets: BasicMotions = 3-axis accelerometer + 3-axis gyroscope (smartwatch)
GROUPS: dict[str, dict[str, list[int]]] = {
    "basicmotions": {"accelerometer": [0, 1, 2], "gyroscope": [3, 4, 5]}
}


def channel_views(groups: Mapping[str, Sequence[int]], length: int) -> dict[str, Any]:
    """``name -> SeriesChannels`` for each channel group."""
    from simlab.fusion.views import SeriesChannels

    return {name: SeriesChannels(ch, length) for name, ch in groups.items()}


def fit_series(model: Any, train: Any) -> Any:
    """Fit a fused model over series views on a labelled :class:`~simlab.sequence.data.SeriesDataset`
    (early/late: weights by leave-one-out 1-NN accuracy; learned: gate trained on the classes)."""
    from simlab.fusion.fitting import fit_arrays

    if train.labels is None:
        raise ConfigError("fit_series needs labelled training series")
    keys = list(range(len(train)))
    mats, present = model.raw(train.series)
    labels = (
        dict(zip(keys, train.labels.tolist(), strict=True)) if model.config.method != "contrastive" else None
    )
    fit_arrays(model, mats, present, keys, labels, None)
    model.fitted = True
    return model


def accuracy_1nn(model: Any, train: Any, test: Any) -> float:
    """1-NN (cosine on the fused vectors) accuracy of `test` against `train`."""
    from simlab.sequence.evaluation import learned_1nn

    return float(np.mean(learned_1nn(model, train, test) == test.labels))


def dtw_group_fusion(train: Any, test: Any, groups: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    """1-NN accuracy with multivariate DTW per channel group, and of their late fusion.

    Fusion: per-group negated DTW distances standardised and combined with :class:`~simlab.fuse.ScoreFusion`,
    weights chosen by leave-one-out 1-NN accuracy on the training split.

    Returns:
        ``{"groups": {name: accuracy}, "all_channels": accuracy, "fused": accuracy, "weights": [...]}``.
    """
    from simlab.sequence.data import SeriesDataset
    from simlab.sequence.evaluation import dtw_distances

    def part(d: Any, ch: Sequence[int]) -> Any:
        return SeriesDataset([s[:, list(ch)] for s in d.series], d.labels, d.name)

    names = list(groups)
    tr_tr = np.stack([-dtw_distances(part(train, groups[g]), part(train, groups[g])) for g in names], -1)
    te_tr = np.stack([-dtw_distances(part(train, groups[g]), part(test, groups[g])) for g in names], -1)
    y_tr, y_te = np.asarray(train.labels), np.asarray(test.labels)
    fusion = ScoreFusion(names).fit(
        tr_tr.reshape(-1, len(names)), knn_accuracy_objective(y_tr), "loo_1nn_accuracy"
    )
    fused = fusion.combine(te_tr.reshape(-1, len(names))).reshape(len(test), len(train))
    out = {
        "groups": {g: float(np.mean(y_tr[te_tr[:, :, i].argmax(1)] == y_te)) for i, g in enumerate(names)},
        "fused": float(np.mean(y_tr[fused.argmax(1)] == y_te)),
        "weights": fusion.weights,
        "validation": fusion.validation,
    }
    every = sorted({c for g in names for c in groups[g]})
    out["all_channels"] = float(
        np.mean(y_tr[dtw_distances(part(train, every), part(test, every)).argmin(1)] == y_te)
    )
    return out
