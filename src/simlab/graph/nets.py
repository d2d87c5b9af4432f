"""The networks of the graph similarity models, behind one small interface.

A graph model (:class:`~simlab.graph.models.GraphBiEncoder`, :class:`~simlab.graph.models.GraphPairModel`)
holds a :class:`~simlab.graph.features.Featurizer` and one of these nets; everything that differs between
the two models lives in the net:

* ``build(config, featurizer)``: the net for a config and fitted node features;
* ``represent(batch) -> Reps``: per-graph representations of a PyG batch (``"h"``: the graph vectors; the
  pair net adds padded node embeddings, node/edge counts and label counts);
* ``interact(ra, ia, rb, ib) -> (B,)``: predicted exp(-nGED) of pairs ``(ra[ia[k]], rb[ib[k]])``;
* ``node_gnn``: the GNN whose node embeddings guide the edit-path search;
* ``training_batch(store, ia, ib, y)`` and ``objective()``: how a batch of scored pairs is trained.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Batch as GraphBatch

from simlab.errors import ArtifactError
from simlab.graph.config import GraphModelConfig, PairModelConfig
from simlab.graph.encoders import GNNEncoder, GraphEncoder, GraphPool
from simlab.graph.features import Featurizer, GraphStore
from simlab.train import Batch

#: Per-graph representations: name -> tensor with one row per graph (``"h"``: graph vectors).
Reps = dict[str, Tensor]
#: A training step: ``(net, batch) -> (loss, items)``.
Step = Callable[[nn.Module, Batch], tuple[Tensor, int]]
N = TypeVar("N", bound=nn.Module)
CHUNK_GRAPHS = 4096  # graphs per encoding batch
CHUNK_PAIRS = 16384  # pairs per scoring batch


def build_net(make: Callable[[], N], seed: int | None = None) -> N:
    """Build a net without touching the global torch RNG: with `seed`, its initial weights are those of
    ``torch.manual_seed(seed)`` (so training from a seed is reproducible); without, arbitrary (weights that
    are loaded next)."""
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        return make()


def load_weights(net: nn.Module, arrays: Mapping[str, np.ndarray], where: object) -> None:
    """Load saved weights into `net`; weights that do not fit the configured net are an ArtifactError."""
    state = {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ArtifactError(f"{where}: weights do not fit the configured model ({exc})") from None


def weights(net: nn.Module) -> dict[str, Tensor]:
    """The net's state as contiguous tensors (for ``ArtifactWriter.save_arrays``)."""
    return {k: v.contiguous() for k, v in net.state_dict().items()}


def slice_reps(rep: Reps, idx: Sequence[int]) -> Reps:
    """The representations of the graphs at positions `idx`."""
    return {k: v[list(idx)] for k, v in rep.items()}


def cat_reps(parts: Sequence[Reps]) -> Reps:
    """Concatenate representations of consecutive chunks (padded node embeddings to the widest chunk)."""
    if len(parts) == 1:
        return parts[0]
    width = max((p["u"].shape[1] for p in parts if "u" in p), default=0)
    return {key: torch.cat([_pad_nodes(key, p[key], width) for p in parts]) for key in parts[0]}


def _pad_nodes(key: str, t: Tensor, width: int) -> Tensor:
    if key == "u":
        return nn.functional.pad(t, (0, 0, 0, width - t.shape[1]))
    if key == "mask":
        return nn.functional.pad(t, (0, width - t.shape[1]))
    return t


# -- batched inference (on the net's device) -----------------------------------------------------------------
@torch.no_grad()
def represent(net: GraphNet, store: GraphStore, chunk: int = CHUNK_GRAPHS) -> Reps:
    """The net's representations of every graph of `store`, encoded in chunks on the net's device."""
    net.eval()
    device = next(net.parameters()).device
    parts = [
        net.represent(store.batch(torch.arange(s, min(s + chunk, len(store)))).to(device))
        for s in range(0, len(store), chunk)
    ]
    return cat_reps(parts) if parts else {"h": torch.zeros(0, net.dim, device=device)}


@torch.no_grad()
def score_reps(
    net: GraphNet, ra: Reps, ia: np.ndarray, rb: Reps, ib: np.ndarray, chunk: int = CHUNK_PAIRS
) -> np.ndarray:
    """``(n,)`` float32 predicted exp(-nGED) of pairs ``(ra[ia[k]], rb[ib[k]])``, scored in chunks."""
    net.eval()
    device = next(net.parameters()).device
    out = np.empty(len(ia), np.float32)
    for s in range(0, len(ia), chunk):
        a = torch.as_tensor(ia[s : s + chunk], dtype=torch.long, device=device)
        b = torch.as_tensor(ib[s : s + chunk], dtype=torch.long, device=device)
        out[s : s + chunk] = net.interact(ra, a, rb, b).float().cpu().numpy()
    return out


@torch.no_grad()
def dense_node_embeddings(gnn: GNNEncoder, store: GraphStore, chunk: int = CHUNK_GRAPHS) -> np.ndarray:
    """``(n_graphs, max_nodes, d)`` float32 node embeddings of `gnn`, zero-padded (row k: k-th node)."""
    from torch_geometric.utils import to_dense_batch

    gnn.eval()
    device = next(gnn.parameters()).device
    width = int(store.sizes.max()) if len(store) else 0
    out = []
    for s in range(0, len(store), chunk):
        b = store.batch(torch.arange(s, min(s + chunk, len(store)))).to(device)
        u = gnn(b.x, b.edge_index)
        dense, _ = to_dense_batch(u, b.batch, batch_size=int(b.num_graphs), max_num_nodes=width)
        out.append(dense.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0, 0), np.float32)


# -- bi-encoder ----------------------------------------------------------------------------------------------
class BiNet(nn.Module):
    """Siamese GNN encoder: ``s(G1, G2) = exp(-||f(G1) - f(G2)||_2)``."""

    def __init__(self, cfg: GraphModelConfig, in_dim: int) -> None:
        super().__init__()
        self.encoder = GraphEncoder(
            cfg.conv,
            in_dim,
            cfg.hidden,
            cfg.layers,
            cfg.dropout,
            cfg.residual,
            cfg.jk,
            cfg.pool,
            cfg.dim or None,
            cfg.heads,
        )
        self.dim = self.encoder.dim

    @classmethod
    def build(cls, cfg: GraphModelConfig, featurizer: Featurizer) -> BiNet:
        return cls(cfg, featurizer.dim)

    @property
    def node_gnn(self) -> GNNEncoder:
        return self.encoder.gnn

    def encode(self, batch: GraphBatch) -> Tensor:
        return self.encoder(batch)

    @staticmethod
    def score(a: Tensor, b: Tensor) -> Tensor:
        return torch.exp(-torch.sqrt(((a - b) ** 2).sum(-1) + 1e-9))

    def represent(self, batch: GraphBatch) -> Reps:
        return {"h": self.encode(batch)}

    def interact(self, ra: Reps, ia: Tensor, rb: Reps, ib: Tensor) -> Tensor:
        return self.score(ra["h"][ia], rb["h"][ib])

    @staticmethod
    def training_batch(store: GraphStore, ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> Batch:
        return Batch(
            "scored_pairs",
            {"a": store.batch(ia), "b": store.batch(ib)},
            {"score": torch.from_numpy(y)},
            len(ia),
        )

    @staticmethod
    def objective() -> tuple[Step, nn.Module]:
        from simlab.registry import LOSSES
        from simlab.train import siamese_step

        loss = LOSSES.get("mse")()
        return siamese_step(loss), loss


# -- pair model ----------------------------------------------------------------------------------------------
class PairNet(nn.Module):
    """SimGNN-style pair scorer: NTN on attention-pooled graph vectors + node-similarity histogram + GED
    lower-bound features, mapped to (0, 1) by an MLP."""

    def __init__(self, cfg: PairModelConfig, in_dim: int, n_labels: int) -> None:
        super().__init__()
        self.gnn = GNNEncoder(
            cfg.conv, in_dim, cfg.hidden, cfg.layers, cfg.dropout, cfg.residual, cfg.jk, cfg.heads
        )
        d = self.gnn.out_dim
        self.dim = d
        self.pool = GraphPool(cfg.pool, d)
        self.k, self.bins, self.bounds, self.n_labels = cfg.ntn_k, cfg.bins, cfg.bounds, n_labels
        self.W = nn.Parameter(torch.randn(cfg.ntn_k, d, d) / d)
        self.V = nn.Linear(2 * d, cfg.ntn_k)
        n_feat = cfg.ntn_k + cfg.bins + (3 if cfg.bounds else 0)
        self.mlp = nn.Sequential(
            nn.Linear(n_feat, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)
        )

    @classmethod
    def build(cls, cfg: PairModelConfig, featurizer: Featurizer) -> PairNet:
        return cls(cfg, featurizer.dim, len(featurizer.vocab or []))

    @property
    def node_gnn(self) -> GNNEncoder:
        return self.gnn

    def represent(self, batch: GraphBatch) -> Reps:
        from torch_geometric.utils import scatter, to_dense_batch

        g = int(batch.num_graphs)
        u = self.gnn(batch.x, batch.edge_index)
        h = self.pool(u, batch.batch, g)
        dense, mask = to_dense_batch(u, batch.batch, batch_size=g)
        ones = torch.ones_like(batch.batch, dtype=torch.float)
        n = scatter(ones, batch.batch, 0, dim_size=g, reduce="sum")
        edge_graph = batch.batch[batch.edge_index[0]]
        ones_e = torch.ones(batch.edge_index.shape[1], device=u.device)
        m = scatter(ones_e, edge_graph, 0, dim_size=g, reduce="sum") / 2
        rep = {"h": h, "u": dense, "mask": mask, "n": n, "m": m}
        if self.n_labels:
            rep["labels"] = scatter(batch.x[:, : self.n_labels], batch.batch, 0, dim_size=g, reduce="sum")
        return rep

    def interact(self, ra: Reps, ia: Tensor, rb: Reps, ib: Tensor) -> Tensor:
        h1, h2 = ra["h"][ia], rb["h"][ib]
        w = (self.W + self.W.transpose(1, 2)) / 2
        bil = torch.einsum("bi,kij,bj->bk", h1, w, h2)
        feats = [torch.relu(bil + self.V(torch.cat([h1 + h2, (h1 - h2).abs()], -1)))]
        if self.bins:
            feats.append(self._histogram(ra, ia, rb, ib))
        if self.bounds:
            feats.append(self._bounds(ra, ia, rb, ib))
        return torch.sigmoid(self.mlp(torch.cat(feats, -1)).squeeze(-1))

    @torch.no_grad()
    def _histogram(self, ra: Reps, ia: Tensor, rb: Reps, ib: Tensor) -> Tensor:
        """``(B, bins)`` normalised histogram of the symmetrised sigmoid node-node similarities."""
        u1, u2 = ra["u"][ia], rb["u"][ib]
        m = ra["mask"][ia][:, :, None] & rb["mask"][ib][:, None, :]
        s = torch.sigmoid(torch.bmm(u1, u2.transpose(1, 2)))
        s = (s + torch.sigmoid(torch.bmm(u2, u1.transpose(1, 2))).transpose(1, 2)) / 2
        bin_idx = (s * self.bins).long().clamp_(max=self.bins - 1)
        bin_idx = bin_idx + torch.arange(len(ia), device=s.device)[:, None, None] * self.bins
        hist = torch.zeros(len(ia) * self.bins, device=s.device)
        hist.index_add_(0, bin_idx[m], torch.ones(int(m.sum()), device=s.device))
        hist = hist.view(len(ia), self.bins)
        return hist / hist.sum(1, keepdim=True).clamp_min(1)

    def _bounds(self, ra: Reps, ia: Tensor, rb: Reps, ib: Tensor) -> Tensor:
        """``(B, 3)`` GED lower-bound features: normalised bound, its exp(-.) and the size gap."""
        n1, n2 = ra["n"][ia], rb["n"][ib]
        avg = (n1 + n2) / 2
        if self.n_labels:
            common = torch.minimum(ra["labels"][ia], rb["labels"][ib]).sum(-1)
            node_lb = torch.maximum(n1, n2) - common
        else:
            node_lb = (n1 - n2).abs()
        lb = (node_lb + (ra["m"][ia] - rb["m"][ib]).abs()) / avg
        return torch.stack([lb, torch.exp(-lb), (n1 - n2).abs() / avg], -1)

    def forward(self, batch: GraphBatch, ia: Tensor, ib: Tensor) -> Tensor:
        rep = self.represent(batch)
        return self.interact(rep, ia, rep, ib)

    @staticmethod
    def training_batch(store: GraphStore, ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> Batch:
        uniq, inv = np.unique(np.concatenate([ia, ib]), return_inverse=True)
        pos = torch.from_numpy(inv.astype(np.int64))
        return Batch(
            "scored_pairs",
            {"graphs": store.batch(uniq), "ia": pos[: len(ia)], "ib": pos[len(ia) :]},
            {"score": torch.from_numpy(y)},
            len(ia),
        )

    @staticmethod
    def objective() -> tuple[Step, nn.Module]:
        from simlab.registry import LOSSES

        return _pair_step, LOSSES.get("mse")()


#: The nets of the graph models.
GraphNet = BiNet | PairNet


def _pair_step(net: nn.Module, batch: Batch) -> tuple[Tensor, int]:
    pred = net(batch.inputs["graphs"], batch.inputs["ia"], batch.inputs["ib"])
    return nn.functional.mse_loss(pred, batch.targets["score"]), batch.size
