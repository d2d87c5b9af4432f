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


def dgi_embed(x: np.ndarray, edge_index: np.ndarray, cfg: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Train DGI on one graph and return the frozen node embeddings ``(n, hidden)`` and the training history.

    Args:
        x: ``(n, F)`` node features (non-negative ones are row-normalised first).
        edge_index: ``(2, E)``.
        cfg: a :class:`~simlab.fusion.nodes.PropagationConfig` (``hidden``, ``epochs``, ``lr``, ``patience``,
            ``seed``, ``threads``, ``progress``).
    """
    import torch
    from torch import nn

    from simlab._deps import require
    from simlab.train import Batch, TrainConfig, fit

    require("torch_geometric")
    from torch_geometric.nn import DeepGraphInfomax, GCNConv

    x = np.asarray(x, np.float32)
    if (x >= 0).all():
        s = x.sum(1, keepdims=True)
        x = x / np.where(s == 0, 1, s)
    xt = torch.from_numpy(np.ascontiguousarray(x))
    ei = torch.from_numpy(np.ascontiguousarray(np.concatenate([edge_index, edge_index[::-1]], 1)))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = GCNConv(x.shape[1], cfg.hidden)
            self.act = nn.PReLU(cfg.hidden)

        def forward(self, feats: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
            return self.act(self.conv(feats, edges))

    prev = torch.get_num_threads()
    torch.manual_seed(cfg.seed)
    model = DeepGraphInfomax(cfg.hidden, Encoder(), summary=_summary, corruption=_corrupt)
    fixed = torch.randperm(len(x), generator=torch.Generator().manual_seed(cfg.seed + 1))

    def batches(epoch: int) -> Any:
        yield Batch("graph", {"x": xt, "edge_index": ei}, {}, len(x))

    def step(net: nn.Module, batch: Batch) -> tuple[torch.Tensor, int]:
        pos, neg, summ = net(batch.inputs["x"], batch.inputs["edge_index"])
        return net.loss(pos, neg, summ), batch.size

    def dev(net: nn.Module) -> float:
        pos = net.encoder(xt, ei)
        return -float(net.loss(pos, net.encoder(xt[fixed], ei), _summary(pos)))

    tcfg = TrainConfig(
        epochs=cfg.epochs,
        lr=cfg.lr,
        patience=cfg.patience,
        seed=cfg.seed,
        device="cpu",
        threads=cfg.threads,
        progress=cfg.progress,
        grad_clip=None,
    )
    try:
        hist = fit(model, batches, step, tcfg, dev_metric=dev, unit="nodes")
        with torch.no_grad():
            z = model.encoder(xt, ei).numpy()
    finally:
        torch.set_num_threads(prev)
    return z.astype(np.float32), hist.to_dict()


def _summary(z: Any, *args: Any, **kwargs: Any) -> Any:
    import torch

    return torch.sigmoid(z.mean(0))


def _corrupt(x: Any, edge_index: Any) -> tuple[Any, Any]:
    import torch

    return x[torch.randperm(x.size(0))], edge_index
