"""Deep Graph Infomax (Velickovic et al., ICLR 2019) node embeddings with PyG's ``DeepGraphInfomax`` and
``GCNConv`` (no layer re-implemented), trained with the shared loop :func:`simlab.train.fit`.

A one-layer GCN encoder ``H = PReLU(Â X W)`` is trained to tell the nodes of the graph from those of a
corrupted graph (rows of X shuffled) given the graph summary ``s = sigmoid(mean(H))``:
``L = -E[log D(h_i, s)] - E[log(1 - D(h~_j, s))]`` with a bilinear discriminator ``D``. Early stopping on the
loss against one fixed corruption (patience 20, as in the paper).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from simlab.model import resolve_device, thread_limit
from simlab.train import Batch, fit


class Encoder(nn.Module):
    """``PReLU(GCNConv(x))``: DGI's one-layer encoder."""

    def __init__(self, in_dim: int, hidden: int) -> None:
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.conv = GCNConv(in_dim, hidden)
        self.act = nn.PReLU(hidden)

    def forward(self, feats: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(feats, edges))


class _Graph:
    """The one graph DGI trains on: one batch per epoch; dev = minus the loss against a fixed corruption."""

    def __init__(self, x: torch.Tensor, ei: torch.Tensor, fixed: torch.Tensor) -> None:
        self.x, self.ei, self.fixed = x, ei, fixed

    def batches(self, epoch: int) -> Any:
        yield Batch("graph", {"x": self.x, "edge_index": self.ei}, {}, len(self.x))

    def step(self, net: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        pos, neg, summ = net(batch.inputs["x"], batch.inputs["edge_index"])
        return net.loss(pos, neg, summ), batch.size

    def dev(self, net: nn.Module) -> float:
        pos = net.encoder(self.x, self.ei)
        return -float(net.loss(pos, net.encoder(self.x[self.fixed], self.ei), _summary(pos)))


def dgi_embed(x: np.ndarray, edge_index: np.ndarray, cfg: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Train DGI on one graph and return the frozen node embeddings ``(n, hidden)`` and the training history.

    Args:
        x: ``(n, F)`` node features (non-negative ones are row-normalised first).
        edge_index: ``(2, E)``.
        cfg: a :class:`~simlab.fusion.nodes.PropagationConfig` (``hidden`` and ``train``: epochs, lr,
            patience, seed, device, threads, progress).
    """
    from simlab._deps import require

    require("torch_geometric")
    from torch_geometric.nn import DeepGraphInfomax

    tcfg = cfg.train
    x = np.asarray(x, np.float32)
    if (x >= 0).all():
        s = x.sum(1, keepdims=True)
        x = x / np.where(s == 0, 1, s)
    dev = resolve_device(tcfg.device)
    xt = torch.from_numpy(np.ascontiguousarray(x)).to(dev)
    ei = np.ascontiguousarray(np.concatenate([edge_index, edge_index[::-1]], 1))
    ei_t = torch.from_numpy(ei).to(dev)
    with thread_limit(tcfg.threads):
        torch.manual_seed(tcfg.seed)  # the encoder's initial weights (training only)
        model = DeepGraphInfomax(
            cfg.hidden, Encoder(x.shape[1], cfg.hidden), summary=_summary, corruption=_corrupt
        )
        fixed = torch.randperm(len(x), generator=torch.Generator().manual_seed(tcfg.seed + 1)).to(dev)
        graph = _Graph(xt, ei_t, fixed)
        hist = fit(model, graph.batches, graph.step, tcfg, dev_metric=graph.dev, unit="nodes")
        with torch.no_grad():
            z = model.encoder(xt, ei_t).cpu().numpy()
    return z.astype(np.float32), hist.to_dict()


def _summary(z: Any, *args: Any, **kwargs: Any) -> Any:
    return torch.sigmoid(z.mean(0))


def _corrupt(x: Any, edge_index: Any) -> tuple[Any, Any]:
    return x[torch.randperm(x.size(0), device=x.device)], edge_index
