"""What a Siamese model trains on and how: training data from any accepted form, the data kind, the loss and
the batch kind it needs, a stratified dev split, the dev metric and the fallback's validation plan.

These are the decisions :meth:`simlab.sequence.model.SiameseModel.fit` makes before it calls the one training
loop (:func:`simlab.train.fit`) on the batches of :mod:`simlab.sequence.batching`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simlab.config import parse_spec
from simlab.errors import ConfigError, DataError
from simlab.sequence import data as D


def resolve_data(data: Any) -> Any:
    """Training data as a data set: a :class:`SeriesDataset` / :class:`PairDataset` / :class:`Triplets` as is,
    ``(X, labels)`` (series or sentences), ``ucr:NAME`` or a file (series, or a pairs file)."""
    if isinstance(data, D.SeriesDataset | D.PairDataset | D.Triplets):
        return data
    if isinstance(data, str | Path):
        s = str(data)
        if parse_spec(s, ("ucr",))[0] == "ucr" or not D.is_pairs_file(s):
            return D.read_series(s)
        return D.read_any(s)
    if isinstance(data, tuple) and len(data) == 2:
        x, y = data
        if len(x) and isinstance(x[0], str):
            return D.LabelledTexts(list(x), np.asarray(y).astype(str))
        return D.SeriesDataset.from_arrays(x, y)
    raise DataError(
        f"cannot train on {type(data).__name__}; give a SeriesDataset, PairDataset, Triplets, "
        "(X, labels), 'ucr:NAME' or a file path"
    )


def data_kind(data: Any) -> str:
    """``labelled`` (a collection), ``triplets``, or the pairs' kind (``scored_pairs`` / ``binary_pairs``)."""
    if isinstance(data, D.SeriesDataset | D.LabelledTexts):
        if data.labels is None:
            raise DataError(f"{getattr(data, 'name', 'data')}: a collection needs class labels for training")
        return "labelled"
    if isinstance(data, D.Triplets):
        return "triplets"
    return data.kind


def auto_loss(kind: str, head: str) -> str:
    """The ``loss="auto"`` choice for a data kind and head."""
    if kind == "scored_pairs":
        return "cosent" if head == "cosine" else "mse"
    if kind == "binary_pairs":
        return "contrastive" if head == "cosine" else "mse"
    return "triplet"


def train_kind(kind: str, expects: Sequence[str], loss_name: str) -> str:
    """The batch kind to train on, converting when the loss needs another kind."""
    if kind in expects:
        return kind
    if kind == "labelled":  # sample pairs / triplets from the collection
        for k in ("triplets", "binary_pairs", "scored_pairs", "positive_pairs"):
            if k in expects:
                return k
    if kind == "scored_pairs":
        for k in ("binary_pairs", "positive_pairs"):
            if k in expects:
                return k
    if kind == "binary_pairs" and "positive_pairs" in expects:
        return "positive_pairs"
    raise ConfigError(f"loss {loss_name!r} expects {' or '.join(expects)} data; it cannot train on {kind}")


def make_loss(config: Any, kind: str, defaults: dict[str, Any]) -> tuple[str, Any, str]:
    """``(loss name, loss module, batch kind)`` for data of `kind`.

    ``loss="auto"`` on a labelled collection takes the modality's default recipe (`defaults`, e.g. the series'
    batch-all triplets); ``triplet`` defaults to batch-all on chord distances (batch-hard on cosine collapses
    from a random init, see :class:`~simlab.losses.TripletLoss`).
    """
    from simlab.registry import LOSSES

    name = config.loss if config.loss != "auto" else auto_loss(kind, config.head)
    options = dict(config.loss_options)
    if config.loss == "auto" and kind == "labelled" and "loss" in defaults:
        name = defaults["loss"]
        options = {**defaults.get("loss_options", {}), **options}
    if name == "triplet":
        options = {"mining": "all", "distance": "chord", **options}
    try:
        loss = LOSSES.get(name)(**options)
    except TypeError as exc:
        raise ConfigError(f"bad loss_options for loss {name!r}: {exc}") from None
    return name, loss, train_kind(kind, getattr(loss, "expects", ()), name)


def augmentations(config: Any, kind: str, defaults: dict[str, Any]) -> tuple[str, ...]:
    """The augmentations a fit applies: the config's, else (``augment=None``) the modality's default recipe's
    where that recipe applies (``loss="auto"`` on a labelled collection, as :func:`make_loss`), else none."""
    if config.augment is not None:
        return tuple(config.augment)
    if config.loss == "auto" and kind == "labelled":
        return tuple(defaults.get("augment", ()))
    return ()


def score_range(data: Any) -> tuple[float, float] | None:
    """The ``(lo, hi)`` of scored pairs (the file's declared range, else the scores' own); None otherwise."""
    if not isinstance(data, D.PairDataset) or data.score is None:
        return None
    lo, hi = data.meta.get("score_range") or (float(data.score.min()), float(data.score.max()))
    return float(lo), float(hi)


def split(data: Any, frac: float, seed: int) -> tuple[Any, Any]:
    """``(train, dev)``: `frac` of every class (of the rows, without labels) held out for early stopping."""
    rng = np.random.default_rng(seed)
    n = len(data)
    labels = D.labels_of(data)
    if labels is not None:
        dev_idx = []
        for lab in np.unique(labels):
            rows = rng.permutation(np.flatnonzero(np.asarray(labels) == lab))
            dev_idx += list(rows[: round(len(rows) * frac)])
        dev_idx = np.array(sorted(dev_idx), int)
    else:
        dev_idx = np.sort(rng.permutation(n)[: max(1, round(n * frac))])
    train_idx = np.setdiff1d(np.arange(n), dev_idx)
    if len(train_idx) == 0 or len(dev_idx) == 0:
        raise DataError(f"dev_fraction={frac} leaves an empty train or dev split of {n} items")
    return data.subset(train_idx), data.subset(dev_idx)


def fallback_plan(config: Any, data: Any, dev: Any) -> tuple[str, Any, Any] | None:
    """How the fallback validates: ``("holdout", fit, val)``, ``("loo", data, None)`` (tiny split) or
    ``("dev", data, dev)`` (a dev collection was given); None when there is no choice to make (fallback off,
    or not a labelled series collection)."""
    from simlab.sequence.fallback import holdout_split

    if config.fallback != "auto" or not isinstance(data, D.SeriesDataset) or data.labels is None:
        return None
    if dev is not None:
        return ("dev", data, dev) if isinstance(dev, D.SeriesDataset) and dev.labels is not None else None
    rows = holdout_split(data.labels, config.val_fraction, config.train.seed)
    if rows is None:
        return ("loo", data, None)
    return ("holdout", data.subset(rows[0]), data.subset(rows[1]))


def dev_metric(model: Any, dev: Any, train: Any) -> Callable[[Any], float]:
    """``net -> score`` after each epoch: Pearson of pair scores, triplet order accuracy, or 1-NN accuracy of
    a dev collection against the training one."""
    from simlab.evaluate import pearson

    if isinstance(dev, D.PairDataset):
        target = dev.score if dev.score is not None else np.asarray(dev.label, np.float32)
        return lambda net: pearson(model.score_pairs(dev.a, dev.b), target)
    if isinstance(dev, D.Triplets):
        return lambda net: float(
            np.mean(model.score_pairs(dev.anchor, dev.positive) > model.score_pairs(dev.anchor, dev.negative))
        )
    if D.labels_of(dev) is None or D.labels_of(train) is None:
        raise DataError("a dev collection needs labels")
    return lambda net: knn_accuracy(model, train, dev)


def knn_accuracy(model: Any, train: Any, test: Any) -> float:
    """1-NN accuracy of `test` items among the `train` items, ranked by the model's head."""
    from simlab.vectors import Vectors

    qe, ce = model.encode(D.items_of(test)), model.encode(D.items_of(train))
    hits = model.search(qe, Vectors(list(range(len(ce))), ce), 1)
    pred = np.asarray(D.labels_of(train))[[h[0] for h in hits.keys]]
    return float(np.mean(pred == np.asarray(D.labels_of(test))))


def run(
    net: Any,
    batches: Any,
    loss: Any,
    kind: str,
    config: Any,
    dev_metric: Any = None,
    checkpoint: Any = None,
    max_seconds: float | None = None,
) -> tuple[float, dict[str, Any]]:
    """The one training loop (:func:`simlab.train.fit`) on `batches` of `kind`, stopped after the epoch that
    passes `max_seconds`; returns ``(seconds, history dict)``."""
    import time

    from simlab import train as T

    t_start = time.perf_counter()
    cap = [] if max_seconds is None else [lambda e: time.perf_counter() - t_start > max_seconds]
    hist = T.fit(
        net,
        batches,
        T.siamese_step(loss),
        config,
        dev_metric=dev_metric,
        checkpoint=checkpoint,
        data_kind=kind,
        loss=loss,
        callbacks=cap,
        unit={"triplets": "triplets", "labelled": "items"}.get(kind, "pairs"),
    )
    return round(time.perf_counter() - t_start, 3), hist.to_dict()
