"""The one training loop shared by every Siamese model (sequence and graph encoders alike).

A model is any ``torch.nn.Module``; the data is a function ``batches(epoch) -> iterable of Batch``; a step
function turns a batch into a loss. For bi-encoders :func:`siamese_step` encodes each input of the batch with
the shared encoder (``model.encode``) and applies a loss component to the embeddings with the model's head
(``model.score``). Pair models (e.g. SimGNN) pass their own step. Seeded, early stopping on a dev metric, the
best weights kept (in memory and, optionally, as a safetensors checkpoint), progress bar with loss and
items/s, CUDA when present (``device="auto"``).
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simlab.errors import ConfigError, DataError
from simlab.model import TrainConfig, resolve_device, thread_limit

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def to_device(obj: Any, device: torch.device) -> Any:
    """Move tensors (and objects with ``.to``, such as PyG batches) inside dicts/lists/tuples to `device`."""
    if isinstance(obj, Tensor) or (hasattr(obj, "to") and not isinstance(obj, type | nn.Module)):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


@dataclass
class Batch:
    """One training batch.

    Attributes:
        kind: data kind (``binary_pairs``, ``scored_pairs``, ``triplets``, ``labelled``, ``positive_pairs``).
        inputs: input name -> model input (e.g. ``{"a": ..., "b": ...}``), each encoded by the shared encoder.
        targets: ``label`` / ``score`` -> ``(n,)`` tensor.
        size: number of examples (pairs, triplets or items), used for the items/s rate.
    """

    kind: str
    inputs: dict[str, Any]
    targets: dict[str, Tensor]
    size: int

    def to(self, device: torch.device) -> Batch:
        return Batch(self.kind, to_device(self.inputs, device), to_device(self.targets, device), self.size)


def check_compatible(loss: Any, kind: str) -> None:
    """Raise :class:`ConfigError` if `loss` cannot train on data of `kind`."""
    expects = getattr(loss, "expects", ())
    if kind not in expects:
        raise ConfigError(
            f"loss {type(loss).__name__} expects {' or '.join(expects)} data, but the training data is {kind}"
        )


def siamese_step(loss: nn.Module) -> Callable[[nn.Module, Batch], tuple[Tensor, int]]:
    """The step of a bi-encoder: one shared encoder for every input of the batch, then `loss`."""

    def step(model: nn.Module, batch: Batch) -> tuple[Tensor, int]:
        emb = {name: model.encode(x) for name, x in batch.inputs.items()}
        return loss(emb, batch.targets, model.score), batch.size

    return step


@dataclass
class EpochLog:
    epoch: int
    loss: float
    dev: float | None
    items_per_s: float
    seconds: float


@dataclass
class History:
    """What :func:`fit` did: per-epoch logs, the best epoch and its dev score."""

    epochs: list[EpochLog] = field(default_factory=list)
    best_epoch: int | None = None
    best_dev: float | None = None
    stopped_early: bool = False
    interrupted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "epochs": [vars(e) for e in self.epochs],
            "best_epoch": self.best_epoch,
            "best_dev": self.best_dev,
            "stopped_early": self.stopped_early,
        }
        if self.interrupted:
            out["interrupted"] = self.interrupted
        return out


def save_state(path: str | Path, state: Mapping[str, Tensor]) -> None:
    """Write a state dict to a safetensors file atomically."""
    from safetensors.torch import save_file

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp))
    os.replace(tmp, p)


def fit(
    model: nn.Module,
    batches: Callable[[int], Iterable[Batch]],
    step: Callable[[nn.Module, Batch], tuple[Tensor, int]],
    config: TrainConfig | None = None,
    *,
    dev_metric: Callable[[nn.Module], float] | None = None,
    maximize: bool = True,
    checkpoint: str | Path | None = None,
    data_kind: str | None = None,
    loss: nn.Module | None = None,
    callbacks: Iterable[Callable[[EpochLog], bool | None]] = (),
    unit: str = "items",
) -> History:
    """Train `model` in place and restore the weights of the best dev epoch.

    Args:
        model: the model (moved to the configured device).
        batches: ``epoch -> iterable of Batch``; called once per epoch (so sampling can change per epoch).
        step: ``(model, batch) -> (loss, items)``, e.g. :func:`siamese_step`.
        config: optimisation settings (``threads`` holds for this call only, see :func:`thread_limit`).
        dev_metric: ``model -> float`` evaluated after each epoch in eval mode (early stopping and best
            checkpoint); without it the last epoch is kept.
        maximize: whether a larger dev metric is better.
        checkpoint: a ``.safetensors`` path where the best weights are written whenever they improve.
        data_kind / loss: when both are given, checked against ``loss.expects`` before the first step.
        callbacks: called with each :class:`EpochLog`; returning True stops training.
        unit: what one counted example is (``pairs``, ``triplets``, ``graphs``), for the progress bar's rate.

    Returns:
        The :class:`History`.
    """
    cfg = config or TrainConfig()
    if data_kind is not None and loss is not None:
        check_compatible(loss, data_kind)
    with thread_limit(cfg.threads):
        seed_everything(cfg.seed)
        device = resolve_device(cfg.device)
        model.to(device)
        params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ConfigError("the model has no trainable parameters")
        run = _Run(model, batches, step, cfg, make_optimizer(params, cfg), params, device)
        run.dev_metric, run.maximize, run.checkpoint = dev_metric, maximize, checkpoint
        run.callbacks, run.unit = list(callbacks), unit
        run.best = -math.inf if maximize else math.inf
        return run.train()


def make_optimizer(params: list[Any], cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer `cfg` names (``adam``, ``adamw`` or ``sgd`` with momentum 0.9) over `params`."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


@dataclass
class _Run:
    """The state of one :func:`fit` call: the epoch loop, the best weights so far and the progress bar."""

    model: nn.Module
    batches: Callable[[int], Iterable[Batch]]
    step: Callable[[nn.Module, Batch], tuple[Tensor, int]]
    cfg: TrainConfig
    opt: torch.optim.Optimizer
    params: list[Any]
    device: torch.device
    dev_metric: Callable[[nn.Module], float] | None = None
    maximize: bool = True
    checkpoint: str | Path | None = None
    callbacks: list[Callable[[EpochLog], bool | None]] = field(default_factory=list)
    unit: str = "items"
    hist: History = field(default_factory=History)
    best: float = -math.inf
    best_state: dict[str, Tensor] | None = None
    bad_epochs: int = 0
    last_dev: float | None = None
    bar: Any = None

    def train(self) -> History:
        """Run the epochs; on Ctrl-C / SIGTERM keep the best epoch so far (if any); restore the best
        weights."""
        from tqdm.auto import tqdm

        # one bar over the whole training (epochs x batches), its total known once the first epoch's batches
        # are
        self.bar = tqdm(
            total=None, desc="training", unit="batch", disable=None if self.cfg.progress else True
        )
        try:
            for epoch in range(1, self.cfg.epochs + 1):
                if self.epoch(epoch):
                    self.hist.stopped_early = epoch < self.cfg.epochs
                    break
        except KeyboardInterrupt as exc:
            if self.best_state is None:
                raise
            self.hist.interrupted = "terminated" if type(exc).__name__ == "Terminated" else "interrupted"
            log.warning(
                "training %s after %d epochs; keeping the best epoch so far (%s)",
                self.hist.interrupted,
                len(self.hist.epochs),
                self.hist.best_epoch,
            )
        finally:
            self.bar.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        return self.hist

    def epoch(self, epoch: int) -> bool:
        """Train one epoch, evaluate, keep the best weights; returns whether to stop."""
        t0 = time.perf_counter()
        total, n_items = self.train_epoch(epoch, t0)
        secs = time.perf_counter() - t0
        dev = None
        if self.dev_metric is not None:
            self.model.eval()
            with torch.no_grad():
                dev = float(self.dev_metric(self.model))
            self.last_dev = dev
        entry = EpochLog(epoch, total / max(n_items, 1), dev, n_items / max(secs, 1e-9), secs)
        self.hist.epochs.append(entry)
        log.info("epoch %d loss %.4f dev %s %.0f items/s", epoch, entry.loss, dev, entry.items_per_s)
        self.keep_if_best(epoch, dev)
        stop = any(bool(cb(entry)) for cb in self.callbacks)
        patience = self.cfg.patience
        return stop or (patience is not None and dev is not None and self.bad_epochs >= patience)

    def train_epoch(self, epoch: int, t0: float) -> tuple[float, int]:
        """One pass over the epoch's batches; returns (summed loss x items, items)."""
        cfg, bar = self.cfg, self.bar
        self.model.train()
        total, n_items, n_steps = 0.0, 0, 0
        epoch_batches = self.batches(epoch)
        if bar.total is None and hasattr(epoch_batches, "__len__"):
            bar.total = cfg.epochs * len(epoch_batches)  # type: ignore[arg-type]
            bar.refresh()
        for batch in epoch_batches:
            items, value = self.train_step(batch, epoch)
            total += value * items
            n_items += items
            n_steps += 1
            rate = n_items / max(time.perf_counter() - t0, 1e-9)
            post = {
                "epoch": f"{epoch}/{cfg.epochs}",
                "loss": f"{total / max(n_items, 1):.4f}",
                f"{self.unit}/s": f"{rate:,.0f}",
            }
            if self.last_dev is not None:
                post["dev"] = f"{self.last_dev:.4f}"
            bar.set_postfix(post, refresh=False)
            bar.update(1)
        if n_steps == 0:
            bar.close()
            raise DataError(f"no training batches in epoch {epoch} (empty data?)")
        return total, n_items

    def train_step(self, batch: Any, epoch: int) -> tuple[int, float]:
        """One optimisation step; returns (items, loss)."""
        batch = batch.to(self.device) if isinstance(batch, Batch) else to_device(batch, self.device)
        self.opt.zero_grad(set_to_none=True)
        value, items = self.step(self.model, batch)
        if not torch.isfinite(value):
            self.bar.close()
            raise DataError(f"training diverged: loss is {value.item()} at epoch {epoch} (lower lr?)")
        value.backward()
        if self.cfg.grad_clip:
            nn.utils.clip_grad_norm_(self.params, self.cfg.grad_clip)
        self.opt.step()
        return items, float(value.detach())

    def keep_if_best(self, epoch: int, dev: float | None) -> None:
        """Keep the weights (and write the checkpoint) when `dev` improves on the best so far."""
        cfg, best = self.cfg, self.best
        improved = dev is None or (
            dev > best + cfg.min_delta if self.maximize else dev < best - cfg.min_delta
        )
        if dev is not None and math.isnan(dev):
            improved = self.best_state is None
        if not improved:
            self.bad_epochs += 1
            return
        self.best = dev if dev is not None else best
        self.hist.best_epoch, self.hist.best_dev = epoch, dev
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.bad_epochs = 0
        if self.checkpoint is not None:
            save_state(self.checkpoint, self.best_state)


#: the one thread rule (simlab.model.thread_limit), under the name the training code has always used
torch_threads = thread_limit
