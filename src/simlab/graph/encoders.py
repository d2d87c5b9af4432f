"""Graph neural network encoders (PyTorch Geometric layers) and graph-level pooling.

Convolutions by name (registered in ``simlab.registry.ENCODERS``):

* ``gcn``  — GCNConv (Kipf & Welling, ICLR 2017): ``H' = D^-1/2 (A + I) D^-1/2 H W``
* ``gin``  — GINConv (Xu et al., ICLR 2019): ``h' = MLP((1 + eps) h + sum_{u in N(v)} h_u)``
* ``sage`` — SAGEConv (Hamilton et al., NeurIPS 2017): ``h' = W1 h + W2 mean_{u in N(v)} h_u``
* ``gat``  — GATConv (Velickovic et al., ICLR 2018), multi-head attention (heads concatenated)

A :class:`GNNEncoder` stacks `layers` convolutions of width `hidden` with ReLU, dropout, optional residual
connections and jumping knowledge (``jk="cat"|"max"|"last"``, Xu et al., ICML 2018). Graph-level pooling
(:class:`GraphPool`): ``sum``, ``mean`` or ``attention`` — SimGNN's global-context attention (Bai et al.,
WSDM 2019)::

    c = tanh(W mean_n u_n)      a_n = sigmoid(u_n . c)      h_G = sum_n a_n u_n

All poolings are sums/means over nodes, so the graph vector is invariant to node order.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from simlab._deps import require
from simlab.errors import ConfigError

require("torch_geometric")
import torch_geometric.nn as pyg  # noqa: E402
from torch_geometric.data import Batch as GraphBatch  # noqa: E402
from torch_geometric.utils import scatter  # noqa: E402

CONVS = ("gcn", "gin", "sage", "gat")
POOLS = ("sum", "mean", "attention")
JKS = ("last", "cat", "max")


def make_conv(name: str, in_dim: int, out_dim: int, heads: int = 4) -> nn.Module:
    """A PyG convolution by name (``gcn``, ``gin``, ``sage``, ``gat``) mapping `in_dim` -> `out_dim`."""
    if name == "gcn":
        return pyg.GCNConv(in_dim, out_dim)
    if name == "gin":
        mlp = nn.Sequential(nn.Linear(in_dim, out_dim), nn.ReLU(), nn.Linear(out_dim, out_dim))
        return pyg.GINConv(mlp, train_eps=True)
    if name == "sage":
        return pyg.SAGEConv(in_dim, out_dim)
    if name == "gat":
        if out_dim % heads:
            raise ConfigError(f"gat: hidden size {out_dim} must be divisible by heads={heads}")
        return pyg.GATConv(in_dim, out_dim // heads, heads=heads)
    raise ConfigError(f"unknown conv {name!r}; valid: {', '.join(CONVS)}")


class GNNEncoder(nn.Module):
    """Node encoder: a stack of PyG convolutions.

    Args:
        conv: ``gcn``, ``gin``, ``sage`` or ``gat``.
        in_dim: node feature size F.
        hidden: width of every layer.
        layers: number of convolutions.
        dropout: dropout after each layer (training only).
        residual: add each layer's input to its output (from the second layer on).
        jk: jumping knowledge: ``last`` (no JK), ``cat`` (concatenate all layers) or ``max``.
        heads: attention heads of ``gat``.

    Shapes:
        ``forward(x (N, F), edge_index (2, E)) -> (N, out_dim)`` with ``out_dim = hidden`` (``hidden *
        layers`` for ``jk="cat"``).
    """

    def __init__(
        self,
        conv: str,
        in_dim: int,
        hidden: int = 64,
        layers: int = 3,
        dropout: float = 0.0,
        residual: bool = True,
        jk: str = "last",
        heads: int = 4,
    ) -> None:
        super().__init__()
        if conv not in CONVS:
            raise ConfigError(f"unknown conv {conv!r}; valid: {', '.join(CONVS)}")
        if jk not in JKS:
            raise ConfigError(f"unknown jk {jk!r}; valid: {', '.join(JKS)}")
        if layers < 1 or hidden < 1:
            raise ConfigError("layers and hidden must be >= 1")
        self.conv_name, self.residual, self.dropout, self.jk_mode = conv, residual, dropout, jk
        self.convs = nn.ModuleList(
            make_conv(conv, in_dim if i == 0 else hidden, hidden, heads) for i in range(layers)
        )
        self.out_dim = hidden * layers if jk == "cat" else hidden

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        outs = []
        h = x
        for i, conv in enumerate(self.convs):
            z = torch.relu(conv(h, edge_index))
            if self.residual and i > 0:
                z = z + h
            h = nn.functional.dropout(z, self.dropout, self.training)
            outs.append(h)
        if self.jk_mode == "cat":
            return torch.cat(outs, dim=-1)
        if self.jk_mode == "max":
            return torch.stack(outs, 0).max(0).values
        return h


class GraphPool(nn.Module):
    """Graph-level pooling of node embeddings: ``sum``, ``mean`` or ``attention`` (SimGNN).

    Shapes:
        ``forward(h (N, d), batch (N,), num_graphs) -> (num_graphs, d)``.
    """

    def __init__(self, mode: str, dim: int) -> None:
        super().__init__()
        if mode not in POOLS:
            raise ConfigError(f"unknown pooling {mode!r}; valid: {', '.join(POOLS)}")
        self.mode = mode
        if mode == "attention":
            self.w = nn.Linear(dim, dim, bias=False)

    def forward(self, h: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        if self.mode == "sum":
            return pyg.global_add_pool(h, batch, num_graphs)
        if self.mode == "mean":
            return pyg.global_mean_pool(h, batch, num_graphs)
        mean = scatter(h, batch, 0, dim_size=num_graphs, reduce="mean")
        ctx = torch.tanh(self.w(mean))  # (G, d) global context
        att = torch.sigmoid((h * ctx[batch]).sum(-1, keepdim=True))  # (N, 1)
        return scatter(att * h, batch, 0, dim_size=num_graphs, reduce="sum")


class GraphEncoder(nn.Module):
    """GNN + pooling (+ optional linear projection): graphs -> one vector each.

    Shapes:
        ``forward(batch) -> (num_graphs, dim)`` for a PyG ``Batch`` with ``x``, ``edge_index``, ``batch``.
    """

    def __init__(
        self,
        conv: str,
        in_dim: int,
        hidden: int = 64,
        layers: int = 3,
        dropout: float = 0.0,
        residual: bool = True,
        jk: str = "cat",
        pool: str = "sum",
        dim: int | None = 64,
        heads: int = 4,
    ) -> None:
        super().__init__()
        self.gnn = GNNEncoder(conv, in_dim, hidden, layers, dropout, residual, jk, heads)
        self.pool = GraphPool(pool, self.gnn.out_dim)
        self.proj = nn.Linear(self.gnn.out_dim, dim) if dim else None
        self.dim = dim or self.gnn.out_dim

    def nodes(self, batch: GraphBatch) -> Tensor:
        return self.gnn(batch.x, batch.edge_index)

    def forward(self, batch: GraphBatch) -> Tensor:
        h = self.nodes(batch)
        g = self.pool(h, batch.batch, int(batch.num_graphs))
        return self.proj(g) if self.proj is not None else g


# -- registry factories: ENCODERS.get("gin")(input_dim, hidden=64, layers=3, ...) -> GNNEncoder --------------


def gcn(input_dim: int, **kwargs: Any) -> GNNEncoder:
    """GCN node encoder (Kipf & Welling 2017)."""
    return GNNEncoder("gcn", input_dim, **kwargs)


def gin(input_dim: int, **kwargs: Any) -> GNNEncoder:
    """GIN node encoder (Xu et al. 2019)."""
    return GNNEncoder("gin", input_dim, **kwargs)


def sage(input_dim: int, **kwargs: Any) -> GNNEncoder:
    """GraphSAGE node encoder (Hamilton et al. 2017)."""
    return GNNEncoder("sage", input_dim, **kwargs)


def gat(input_dim: int, **kwargs: Any) -> GNNEncoder:
    """Multi-head GAT node encoder (Velickovic et al. 2018)."""
    return GNNEncoder("gat", input_dim, **kwargs)
