"""Training data of the graph similarity models: GED pairs of a collection, their targets, the dev split and
the per-epoch pair sampler.

Targets are ``y = exp(-nGED)`` with ``nGED = GED / ((|V1| + |V2|) / 2)``. Every epoch draws
``pairs_per_epoch`` pairs (all of them when 0), optionally oversampling each graph's ``near_k`` most similar
partners (``near_share`` of the epoch), and cuts them into batches with the net's ``training_batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simlab.errors import DataError
from simlab.graph.features import GraphStore
from simlab.graph.ged import GEDTable
from simlab.graph.io import GraphSet
from simlab.train import Batch

#: What ``fit`` accepts as GED: a table, a GED TSV path, or ``(id_a, id_b, ged)`` rows.
GEDInput = GEDTable | str | Path | Iterable[tuple[object, object, float]]
#: ``(store, ia, ib, y) -> Batch``: a net's ``training_batch``.
MakeBatch = Callable[[GraphStore, np.ndarray, np.ndarray, np.ndarray], Batch]


def ged_table(ged: GEDInput, graphs: GraphSet) -> GEDTable:
    """`ged` as a :class:`GEDTable` whose ids are all graphs of `graphs` (unknown ids raise)."""
    if isinstance(ged, GEDTable):
        for gid in set(ged.a) | set(ged.b):
            graphs.position(gid)
        return ged
    if isinstance(ged, str | Path):
        return GEDTable.read(ged, graphs)
    rows = list(ged)
    if not rows:
        raise DataError("no GED pairs given")
    a, b, g = zip(*[(r[0], r[1], r[2]) for r in rows], strict=True)
    for gid in set(a) | set(b):
        graphs.position(gid)
    return GEDTable(list(a), list(b), np.asarray(g, np.float64), np.ones(len(a), bool))


@dataclass
class ScoredPairs:
    """Pairs of a collection by position, with their targets exp(-nGED).

    Attributes:
        ia / ib: ``(n,)`` int64 positions of both graphs of each pair.
        y: ``(n,)`` targets.
    """

    ia: np.ndarray
    ib: np.ndarray
    y: np.ndarray

    @classmethod
    def of(
        cls, table: GEDTable, graphs: GraphSet, store: GraphStore, dtype: type = np.float64
    ) -> ScoredPairs:
        """The pairs of `table` over `graphs` (positions int64, targets of `dtype`)."""
        ia = np.array([graphs.position(x) for x in table.a], np.int64)
        ib = np.array([graphs.position(x) for x in table.b], np.int64)
        sizes = store.sizes.numpy().astype(np.float64)
        return cls(ia, ib, np.exp(-table.ged / ((sizes[ia] + sizes[ib]) / 2)).astype(dtype))

    def rows(self, keep: np.ndarray) -> ScoredPairs:
        return ScoredPairs(self.ia[keep], self.ib[keep], self.y[keep])

    def __len__(self) -> int:
        return len(self.ia)


def dev_queries(
    pairs: ScoredPairs, n_graphs: int, share: float, rng: np.random.Generator
) -> tuple[ScoredPairs, ScoredPairs] | None:
    """Hold out `share` of the graphs that occur in `pairs` as dev queries.

    Returns:
        ``(train pairs, dev pairs)``: train pairs join two training graphs; each dev pair joins a dev query
        (its ``ia``) with a training graph (its ``ib``). None when either side would have under 20 pairs.
    """
    involved = np.unique(np.concatenate([pairs.ia, pairs.ib]))
    n_dev = max(2, round(share * len(involved)))
    is_dev = np.zeros(n_graphs, bool)
    is_dev[rng.choice(involved, n_dev, replace=False)] = True
    da, db = is_dev[pairs.ia], is_dev[pairs.ib]
    dev_rows, train_rows = da ^ db, ~da & ~db
    if dev_rows.sum() < 20 or train_rows.sum() < 20:
        return None
    qa = np.where(da[dev_rows], pairs.ia[dev_rows], pairs.ib[dev_rows])
    qb = np.where(da[dev_rows], pairs.ib[dev_rows], pairs.ia[dev_rows])
    return pairs.rows(train_rows), ScoredPairs(qa, qb, pairs.y[dev_rows].astype(np.float64))


def near_rows(ia: np.ndarray, ib: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Rows of the training pairs that are among the `k` most similar partners of either endpoint."""
    g = np.concatenate([ia, ib])
    rows = np.concatenate([np.arange(len(ia)), np.arange(len(ia))])
    yy = np.concatenate([y, y])
    order = np.lexsort((-yy, g))
    g, rows = g[order], rows[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return np.unique(rows[rank < k])


class PairSampler:
    """``epoch -> batches`` over a collection's scored pairs (what :func:`simlab.train.fit` calls).

    Args:
        store: the collection's tensors.
        pairs: the training pairs (targets float32).
        make_batch: the net's ``training_batch``.
        batch_size / pairs_per_epoch / near_share / near_k: see the model config.
        rng: the model's seeded generator (shared with the dev split, so draws continue from it).
    """

    def __init__(
        self,
        store: GraphStore,
        pairs: ScoredPairs,
        make_batch: MakeBatch,
        batch_size: int,
        pairs_per_epoch: int,
        near_share: float,
        near_k: int,
        rng: np.random.Generator,
    ) -> None:
        self.store, self.pairs, self.make_batch, self.rng = store, pairs, make_batch, rng
        n = len(pairs)
        self.batch_size = batch_size
        self.per_epoch = n if not pairs_per_epoch else min(pairs_per_epoch, n)
        self.near_share = near_share
        self.near = near_rows(pairs.ia, pairs.ib, pairs.y, near_k) if near_share > 0 else None

    def order(self) -> np.ndarray:
        """This epoch's pair rows."""
        n, rng = len(self.pairs), self.rng
        if self.near is None:
            return rng.permutation(n)[: self.per_epoch]
        # oversample each graph's most similar partners (they decide the top of the rankings)
        n_near = int(self.near_share * self.per_epoch)
        order = np.concatenate([rng.choice(self.near, n_near), rng.permutation(n)[: self.per_epoch - n_near]])
        return order[rng.permutation(len(order))]

    def __call__(self, epoch: int) -> Iterator[Batch]:
        order = self.order()
        p = self.pairs
        for s in range(0, self.per_epoch, self.batch_size):
            sel = order[s : s + self.batch_size]
            yield self.make_batch(self.store, p.ia[sel], p.ib[sel], p.y[sel])
