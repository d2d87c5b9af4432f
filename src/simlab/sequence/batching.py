"""Training batches of the Siamese model: one small function per data kind.

:func:`epoch_batches` prepares the training items once (through the model's featurizer) and returns the
``epoch -> list[Batch]`` function that :func:`simlab.train.fit` calls once per epoch:

- a labelled collection (series or sentences) is sampled anew every epoch, as class-balanced batches
  (:func:`labelled_batches`), triplets (:func:`sampled_triplet_batches`) or pairs
  (:func:`sampled_pair_batches`), optionally with hard negatives under the current encoder;
- given triplets are shuffled (:func:`triplet_batches`);
- given pairs are shuffled with their unit-scaled scores and/or 0/1 labels (:func:`pair_batches`).

Every epoch draws from ``numpy.random.default_rng([seed, epoch])``, so a seed gives the same batches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from simlab.errors import DataError
from simlab.sequence import data as D
from simlab.sequence import sampling as S
from simlab.sequence.encoders import encode_prepared
from simlab.train import Batch

EpochFn = Callable[[int], list[Batch]]
#: sampled batch kinds that may use hard negatives
HARD_KINDS = ("binary_pairs", "triplets", "scored_pairs")


@dataclass(frozen=True)
class Feed:
    """How prepared items become model inputs: the featurizer's augmentation and collation, the batch size,
    the per-epoch random generator (from the config's seed) and the network that mines hard negatives."""

    featurizer: Any
    config: Any
    net: Any = None

    def mine(self, items: Any) -> np.ndarray:
        """Embeddings of prepared items under the current encoder (for hard negatives); back to training."""
        emb = encode_prepared(self.net, self.featurizer, items).numpy()
        self.net.train()
        return emb

    def inputs(self, items: Any, rows: Any, rng: np.random.Generator) -> dict[str, Any]:
        """The padded model input of ``items[rows]``, each augmented."""
        f, c = self.featurizer, self.config
        return f.collate([f.augment(items[i], rng, c) for i in rows])

    def rng(self, epoch: int) -> np.random.Generator:
        return np.random.default_rng([self.config.train.seed, epoch])

    @property
    def size(self) -> int:
        return int(self.config.batch_size)


def epoch_batches(feed: Feed, data: Any, kind: str, score_range: Any = None) -> EpochFn:
    """The ``epoch -> batches`` function of `data` trained as `kind`.

    Args:
        feed: the featurizer, config and network (its embeddings pick hard negatives).
        data: a labelled collection (:class:`SeriesDataset`, :class:`LabelledTexts`), :class:`Triplets` or a
            :class:`PairDataset`.
        kind: the batch kind the loss expects (``labelled``, ``triplets``, ``binary_pairs``...).
        score_range: the ``(lo, hi)`` of pair scores, mapped to [0, 1].
    """
    f = feed.featurizer
    if isinstance(data, D.SeriesDataset | D.LabelledTexts):
        items = f.prepare_train(D.items_of(data), "series")
        return functools.partial(collection_epoch, feed, items, S.ClassIndex(D.labels_of(data)), kind)
    if isinstance(data, D.Triplets):
        sides = [f.prepare_train(x) for x in (data.anchor, data.positive, data.negative)]
        return functools.partial(triplet_batches, feed, sides)
    sides = [f.prepare_train(data.a), f.prepare_train(data.b)]
    targets = pair_targets(data, kind, score_range, feed.config.loss)
    return functools.partial(pair_batches, feed, sides, targets, kind)


def collection_epoch(feed: Feed, items: list[Any], ci: S.ClassIndex, kind: str, epoch: int) -> list[Batch]:
    """One epoch sampled from a labelled collection (hard negatives from the second epoch on)."""
    c = feed.config
    rng = feed.rng(epoch)
    n = c.pairs_per_epoch or max(512, min(1024, 5 * len(items)))
    hard = None
    if c.hard_negatives > 0 and epoch > 1 and kind in HARD_KINDS:
        hard = S.nearest_other_class(feed.mine(items), ci.codes)
    if kind == "labelled":
        return labelled_batches(feed, items, ci, n, rng)
    if kind == "triplets":
        return sampled_triplet_batches(feed, items, ci, n, rng, hard)
    return sampled_pair_batches(feed, items, ci, n, rng, hard, kind)


def labelled_batches(
    feed: Feed, items: list[Any], ci: S.ClassIndex, n: int, rng: np.random.Generator
) -> list[Batch]:
    """Class-balanced batches of items with their class codes (for in-batch losses)."""
    out = []
    for rows in S.balanced_batches(ci, max(1, n // feed.size), feed.size, rng):
        y = torch.as_tensor(ci.codes[rows])
        out.append(Batch("labelled", {"x": feed.inputs(items, rows, rng)}, {"label": y}, len(rows)))
    return out


def sampled_triplet_batches(
    feed: Feed, items: list[Any], ci: S.ClassIndex, n: int, rng: np.random.Generator, hard: Any
) -> list[Batch]:
    """`n` (anchor, positive, negative) triplets sampled from the classes."""
    ia, ip, ineg = S.sample_triplets(ci, n, rng, hard, feed.config.hard_negatives)
    rows = [
        (ia[s : s + feed.size], ip[s : s + feed.size], ineg[s : s + feed.size])
        for s in range(0, n, feed.size)
    ]
    return [_triplet(feed, (items, items, items), r, rng) for r in rows]


def sampled_pair_batches(
    feed: Feed, items: list[Any], ci: S.ClassIndex, n: int, rng: np.random.Generator, hard: Any, kind: str
) -> list[Batch]:
    """`n` same-class (1) / other-class (0) pairs; only the positive ones for ``positive_pairs``."""
    ia, ib, y = S.sample_pairs(ci, n, rng, hard, feed.config.hard_negatives)
    if kind == "positive_pairs":
        ia, ib, y = ia[y == 1], ib[y == 1], y[y == 1]
    out = []
    for s in range(0, len(ia), feed.size):
        sl = slice(s, s + feed.size)
        tgt = torch.as_tensor(y[sl])
        inputs = {"a": feed.inputs(items, ia[sl], rng), "b": feed.inputs(items, ib[sl], rng)}
        out.append(Batch(kind, inputs, {"label": tgt, "score": tgt}, len(ia[sl])))
    return out


def triplet_batches(feed: Feed, sides: list[list[Any]], epoch: int) -> list[Batch]:
    """Given triplets, shuffled into batches."""
    rng = feed.rng(epoch)
    perm = rng.permutation(len(sides[0]))
    parts = np.array_split(perm, max(1, int(np.ceil(len(sides[0]) / feed.size))))
    return [_triplet(feed, sides, (r, r, r), rng) for r in parts]


def _triplet(feed: Feed, sides: Any, rows: Any, rng: np.random.Generator) -> Batch:
    names = ("anchor", "positive", "negative")
    inputs = {k: feed.inputs(items, r, rng) for k, items, r in zip(names, sides, rows, strict=True)}
    return Batch("triplets", inputs, {}, len(rows[0]))


def pair_targets(data: D.PairDataset, kind: str, score_range: Any, loss: str) -> tuple[Any, Any, np.ndarray]:
    """``(unit scores or None, 0/1 labels or None, rows to train on)`` of given pairs, checked for `kind`.

    Scores are mapped to [0, 1] by `score_range`; labels come from a numeric label column, else from a unit
    score >= 0.5. ``positive_pairs`` keeps the positive rows only.
    """
    unit = None
    if data.score is not None and score_range is not None:
        lo, hi = score_range
        unit = (data.score - lo) / max(hi - lo, 1e-9)
    label = None
    if data.label is not None:
        try:
            label = np.asarray(data.label, np.float32)
        except ValueError:
            label = None
    if label is None and unit is not None:
        label = (unit >= 0.5).astype(np.float32)
    keep = np.arange(len(data))
    if kind == "positive_pairs":
        keep = np.flatnonzero(label > 0.5) if label is not None else keep
        if len(keep) < 2:
            raise DataError("too few positive pairs for in-batch negatives")
    if kind == "binary_pairs" and label is None:
        raise DataError("binary pairs need a numeric 0/1 label or a score column")
    if kind == "scored_pairs" and unit is None:
        raise DataError(f"loss {loss} needs scored pairs but the data has no score column")
    if kind == "binary_pairs" and len(np.unique(label)) < 2:
        raise DataError("labels have one class only; contrastive training needs 0 and 1 pairs")
    return unit, label, keep


def pair_batches(
    feed: Feed, sides: list[list[Any]], targets: tuple[Any, Any, Any], kind: str, epoch: int
) -> list[Batch]:
    """Given pairs, shuffled into batches of at least 2, with their ``score`` / ``label`` targets."""
    unit, label, keep = targets
    rng = feed.rng(epoch)
    perm = rng.permutation(keep)
    out = []
    for s in range(0, len(perm), feed.size):
        r = perm[s : s + feed.size]
        if len(r) < 2:
            continue
        tgt: dict[str, Any] = {}
        if unit is not None:
            tgt["score"] = torch.as_tensor(unit[r], dtype=torch.float32)
        if label is not None:
            tgt["label"] = torch.as_tensor(label[r], dtype=torch.float32)
        inputs = {"a": feed.inputs(sides[0], r, rng), "b": feed.inputs(sides[1], r, rng)}
        out.append(Batch(kind, inputs, tgt, len(r)))
    return out
