"""Training of the learned (gated) and contrastive (towers) fusions with the shared loop
:func:`simlab.train.fit`.

Inputs are the raw view matrices of the training items (``mats``: V arrays ``(n, d_v)``, ``present``:
``(n, V)``). A share of the data is held out for early stopping: labelled items (dev = 1-NN accuracy of the
held-out items against the others), pairs (dev = AUC / Spearman), or complete items (dev = cross-modal
recall@1 of view 0 -> view 1). Each kind of data is one small task object giving the loop its ``batches``,
``step`` and ``dev``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simlab.errors import DataError
from simlab.train import Batch, fit


def _tensors(mats: Sequence[np.ndarray], present: np.ndarray) -> tuple[list[Tensor], Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(m, np.float32)) for m in mats], torch.from_numpy(present)


def _holdout(n: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    k = max(1, round(share * n)) if n >= 10 else 0
    return np.sort(perm[k:]), np.sort(perm[:k])


def _item_batches(idx: np.ndarray, size: int, seed: int, epoch: int) -> Iterator[np.ndarray]:
    """The rows `idx` shuffled for `epoch`, in batches of `size` (a last batch under 2 rows is dropped)."""
    order = np.random.default_rng(seed * 7919 + epoch).permutation(idx)
    for s in range(0, len(order), size):
        b = order[s : s + size]
        if len(b) >= 2:
            yield b


class _Task:
    """What :func:`simlab.train.fit` needs for one kind of training data."""

    kind = ""
    unit = "items"

    def __init__(self, xs: list[Tensor], pr: Tensor, tr: np.ndarray, dv: np.ndarray, cfg: Any) -> None:
        self.xs, self.pr, self.tr, self.dv = xs, pr, tr, dv
        self.size, self.seed = cfg.batch_size, cfg.train.seed
        self.loss: Any = None

    def rows(self, epoch: int) -> Iterator[np.ndarray]:
        return _item_batches(self.tr, self.size, self.seed, epoch)

    def inputs(self, rows: Tensor) -> tuple[list[Tensor], Tensor]:
        return [x[rows] for x in self.xs], self.pr[rows]

    def has_dev(self) -> bool:
        return len(self.dv) > 0


class _Labelled(_Task):
    """Labelled items: supervised InfoNCE (or the configured loss); dev = held-out 1-NN accuracy."""

    kind = "labelled"

    def __init__(self, xs: list[Tensor], pr: Tensor, labels: np.ndarray, cfg: Any, rng: Any) -> None:
        from simlab.registry import LOSSES

        _, self.y = np.unique(labels, return_inverse=True)
        super().__init__(xs, pr, *_holdout(len(self.y), 0.2, rng), cfg)
        self.yt = torch.from_numpy(self.y.astype(np.int64))
        loss = LOSSES.get("infonce" if cfg.loss == "auto" else cfg.loss)
        self.loss = loss(temperature=cfg.temperature) if cfg.loss in ("auto", "infonce") else loss()

    def batches(self, epoch: int) -> Iterator[Batch]:
        for b in self.rows(epoch):
            bt = torch.from_numpy(b)
            yield Batch("labelled", {"x": self.inputs(bt)}, {"label": self.yt[bt]}, len(b))

    def step(self, model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
        return self.loss({"x": model(*batch.inputs["x"])}, batch.targets, _cos), batch.size

    def dev(self, model: nn.Module) -> float:
        z = model(self.xs, self.pr).numpy()
        s = z[self.dv] @ z[self.tr].T
        return float(np.mean(self.y[self.tr][s.argmax(1)] == self.y[self.dv]))


class _Pairs(_Task):
    """Pairs with 0/1 (contrastive loss) or graded targets (CoSENT); dev = AUC / Spearman."""

    unit = "pairs"

    def __init__(self, xs: list[Tensor], pr: Tensor, pairs: Any, cfg: Any, rng: Any) -> None:
        from simlab.fusion.objectives import pairs_objective
        from simlab.registry import LOSSES

        self.ra, self.rb, t = (np.asarray(p) for p in pairs)
        super().__init__(xs, pr, *_holdout(len(t), 0.2, rng), cfg)
        self.objective, _ = pairs_objective(t[self.dv])
        self.kind = "binary_pairs" if set(np.unique(t)) <= {0.0, 1.0} else "scored_pairs"
        name = (
            cfg.loss if cfg.loss != "auto" else ("contrastive" if self.kind == "binary_pairs" else "cosent")
        )
        self.loss = LOSSES.get(name)()
        self.tt = torch.from_numpy(t.astype(np.float32))

    def batches(self, epoch: int) -> Iterator[Batch]:
        for b in self.rows(epoch):
            a, c = torch.from_numpy(self.ra[b]), torch.from_numpy(self.rb[b])
            inputs = {"a": self.inputs(a), "b": self.inputs(c)}
            yield Batch(self.kind, inputs, {"label": self.tt[b], "score": self.tt[b]}, len(b))

    def step(self, model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
        emb = {k: model(*v) for k, v in batch.inputs.items()}
        return self.loss(emb, batch.targets, _cos), batch.size

    def dev(self, model: nn.Module) -> float:
        z = torch.nn.functional.normalize(model(self.xs, self.pr), dim=-1).numpy()
        return self.objective((z[self.ra[self.dv]] * z[self.rb[self.dv]]).sum(1))


class _ViewPairs(_Task):
    """The items' own view pairs (symmetric InfoNCE); dev = cross-modal recall@1 of view 0 -> view 1."""

    kind = "positive_pairs"

    def __init__(self, xs: list[Tensor], pr: Tensor, present: np.ndarray, cfg: Any) -> None:
        from simlab.registry import LOSSES

        multi = np.flatnonzero(present.sum(1) >= 2)
        if len(multi) < 4:
            raise DataError(f"contrastive fusion needs >= 4 items with two views, got {len(multi)}")
        tr, dv = _holdout(len(multi), 0.1, np.random.default_rng(cfg.train.seed))
        tr, dv = multi[tr], multi[dv]
        super().__init__(xs, pr, tr, dv[present[dv, 0] & present[dv, 1]], cfg)
        self.loss = LOSSES.get("infonce")(temperature=cfg.temperature)

    def batches(self, epoch: int) -> Iterator[Batch]:
        for b in self.rows(epoch):
            yield Batch("positive_pairs", {"x": self.inputs(torch.from_numpy(b))}, {}, len(b))

    def step(self, model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
        return model.pair_loss(self.loss, *batch.inputs["x"]), batch.size

    def dev(self, model: nn.Module) -> float:
        dvt = torch.from_numpy(self.dv)
        q, c = model.tower(0, self.xs[0][dvt]), model.tower(1, self.xs[1][dvt])
        return float(((q @ c.T).argmax(1) == torch.arange(len(self.dv))).float().mean())

    def has_dev(self) -> bool:
        return len(self.dv) >= 2


def _run(net: nn.Module, task: _Task, cfg: Any) -> dict[str, Any]:
    hist = fit(
        net,
        task.batches,
        task.step,
        cfg.train,
        dev_metric=task.dev if task.has_dev() else None,
        data_kind=task.kind,
        loss=task.loss,
        unit=task.unit,
    )
    return hist.to_dict()


def train_gated(
    net: nn.Module,
    mats: Sequence[np.ndarray],
    present: np.ndarray,
    cfg: Any,
    *,
    labels: np.ndarray | None = None,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Train a :class:`~simlab.fusion.learned.GatedFusion` on labelled items (``labels`` for every row) or on
    pairs ``(rows_a, rows_b, targets)``; returns the history dict."""
    xs, pr = _tensors(mats, present)
    rng = np.random.default_rng(cfg.train.seed)
    if labels is not None:
        return _run(net, _Labelled(xs, pr, labels, cfg, rng), cfg)
    if pairs is not None:
        return _run(net, _Pairs(xs, pr, pairs, cfg, rng), cfg)
    raise DataError("the learned fusion needs labels (classes) or pairs to train on")


def train_towers(net: nn.Module, mats: Sequence[np.ndarray], present: np.ndarray, cfg: Any) -> dict[str, Any]:
    """Train :class:`~simlab.fusion.learned.Towers` with symmetric InfoNCE on the items' own view pairs."""
    xs, pr = _tensors(mats, present)
    return _run(net, _ViewPairs(xs, pr, present, cfg), cfg)


def _cos(a: Tensor, b: Tensor) -> Tensor:
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)
