"""Training of the learned (gated) and contrastive (towers) fusions with the shared loop :func:`simlab.train.fit`.

Inputs are the raw view matrices of the training items (``mats``: V arrays ``(n, d_v)``, ``present``:
``(n, V)``). A share of the data is held out for early stopping: labelled items (dev = 1-NN accuracy of the
held-out items against the others), pairs (dev = AUC / Spearman), or complete items (dev = cross-modal
recall@1 of view 0 -> view 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simlab.errors import DataError
from simlab.train import Batch, TrainConfig, fit


def _tensors(mats: Sequence[np.ndarray], present: np.ndarray) -> tuple[list[Tensor], Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(m, np.float32)) for m in mats], torch.from_numpy(present)


def _holdout(n: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    k = max(1, round(share * n)) if n >= 10 else 0
    return np.sort(perm[k:]), np.sort(perm[:k])


def _train_config(cfg: Any) -> TrainConfig:
    return TrainConfig(
        epochs=cfg.epochs,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        patience=cfg.patience,
        seed=cfg.seed,
        device=cfg.device,
        threads=cfg.threads,
        progress=cfg.progress,
        grad_clip=1.0,
    )


def _item_batches(idx: np.ndarray, size: int, seed: int) -> Any:
    def batches(epoch: int) -> Any:
        order = np.random.default_rng(seed * 7919 + epoch).permutation(idx)
        for s in range(0, len(order), size):
            b = order[s : s + size]
            if len(b) >= 2:
                yield b

    return batches


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
    from simlab.fusion.objectives import pairs_objective
    from simlab.registry import LOSSES

    xs, pr = _tensors(mats, present)
    rng = np.random.default_rng(cfg.seed)
    if labels is not None:
        _, y = np.unique(labels, return_inverse=True)
        yt = torch.from_numpy(y.astype(np.int64))
        tr, dv = _holdout(len(y), 0.2, rng)
        loss = LOSSES.get("infonce" if cfg.loss == "auto" else cfg.loss)
        loss = loss(temperature=cfg.temperature) if cfg.loss in ("auto", "infonce") else loss()
        gen = _item_batches(tr, cfg.batch_size, cfg.seed)

        def batches(epoch: int) -> Any:
            for b in gen(epoch):
                bt = torch.from_numpy(b)
                yield Batch("labelled", {"x": ([x[bt] for x in xs], pr[bt])}, {"label": yt[bt]}, len(b))

        def step(model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
            return loss({"x": model(*batch.inputs["x"])}, batch.targets, _cos), batch.size

        def dev(model: nn.Module) -> float:
            z = model(xs, pr).numpy()
            s = z[dv] @ z[tr].T
            return float(np.mean(y[tr][s.argmax(1)] == y[dv]))

        kind = "labelled"
    elif pairs is not None:
        ra, rb, t = (np.asarray(p) for p in pairs)
        tr, dv = _holdout(len(t), 0.2, rng)
        obj, _ = pairs_objective(t[dv])
        kind = "binary_pairs" if set(np.unique(t)) <= {0.0, 1.0} else "scored_pairs"
        name = cfg.loss if cfg.loss != "auto" else ("contrastive" if kind == "binary_pairs" else "cosent")
        loss = LOSSES.get(name)()
        gen = _item_batches(tr, cfg.batch_size, cfg.seed)
        tt = torch.from_numpy(t.astype(np.float32))

        def batches(epoch: int) -> Any:
            for b in gen(epoch):
                a, c = torch.from_numpy(ra[b]), torch.from_numpy(rb[b])
                yield Batch(
                    kind,
                    {"a": ([x[a] for x in xs], pr[a]), "b": ([x[c] for x in xs], pr[c])},
                    {"label": tt[b], "score": tt[b]},
                    len(b),
                )

        def step(model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
            emb = {k: model(*v) for k, v in batch.inputs.items()}
            return loss(emb, batch.targets, _cos), batch.size

        def dev(model: nn.Module) -> float:
            z = torch.nn.functional.normalize(model(xs, pr), dim=-1).numpy()
            return obj((z[ra[dv]] * z[rb[dv]]).sum(1))
    else:
        raise DataError("the learned fusion needs labels (classes) or pairs to train on")
    hist = fit(
        net,
        batches,
        step,
        _train_config(cfg),
        dev_metric=dev if len(dv) else None,
        data_kind=kind,
        loss=loss,
        unit="items" if kind == "labelled" else "pairs",
    )
    return hist.to_dict()


def train_towers(net: nn.Module, mats: Sequence[np.ndarray], present: np.ndarray, cfg: Any) -> dict[str, Any]:
    """Train :class:`~simlab.fusion.learned.Towers` with symmetric InfoNCE on the items' own view pairs."""
    from simlab.registry import LOSSES

    xs, pr = _tensors(mats, present)
    multi = np.flatnonzero(present.sum(1) >= 2)
    if len(multi) < 4:
        raise DataError(f"contrastive fusion needs >= 4 items with two views, got {len(multi)}")
    rng = np.random.default_rng(cfg.seed)
    tr, dv = _holdout(len(multi), 0.1, rng)
    tr, dv = multi[tr], multi[dv]
    dv = dv[present[dv, 0] & present[dv, 1]]
    loss = LOSSES.get("infonce")(temperature=cfg.temperature)
    gen = _item_batches(tr, cfg.batch_size, cfg.seed)

    def batches(epoch: int) -> Any:
        for b in gen(epoch):
            bt = torch.from_numpy(b)
            yield Batch("positive_pairs", {"x": ([x[bt] for x in xs], pr[bt])}, {}, len(b))

    def step(model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
        return model.pair_loss(loss, *batch.inputs["x"]), batch.size

    def dev(model: nn.Module) -> float:
        dvt = torch.from_numpy(dv)
        q, c = model.tower(0, xs[0][dvt]), model.tower(1, xs[1][dvt])
        return float(((q @ c.T).argmax(1) == torch.arange(len(dv))).float().mean())

    hist = fit(
        net,
        batches,
        step,
        _train_config(cfg),
        dev_metric=dev if len(dv) >= 2 else None,
        data_kind="positive_pairs",
        loss=loss,
        unit="items",
    )
    return hist.to_dict()


def _cos(a: Tensor, b: Tensor) -> Tensor:
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)
