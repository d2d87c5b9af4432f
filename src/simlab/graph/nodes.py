"""Node embeddings: a GNN trained without labels by link prediction, and link-prediction evaluation.

:class:`NodeEmbedder` encodes every node with a GNN (``sage`` by default) and is trained like GraphSAGE's
unsupervised objective / a graph auto-encoder (Hamilton et al., NeurIPS 2017; Kipf & Welling, 2016): edges
are positives, uniformly sampled node pairs are negatives::

    L = - mean_{(u,v) in E} log sigmoid(z_u . z_v) - mean_{(u,v) ~ negatives} log(1 - sigmoid(z_u . z_v))

Before training, ``test_share`` of the edges (and as many non-edges) are held out and saved with the model,
so :func:`evaluate_link_prediction` measures AUC / AP on edges the model never saw; ``val_share`` more are
used for early stopping. Node vectors are a :class:`simlab.Vectors` (``most_similar`` by cosine, or through
``Index.from_vectors(model.vectors)``).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import torch
from torch import Tensor, nn

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError
from simlab.evaluate import Report
from simlab.graph.encoders import CONVS, GNNEncoder, make_conv
from simlab.graph.features import Featurizer
from simlab.graph.io import GraphSet, normalize_graph
from simlab.graph.nets import build_net, load_weights, weights
from simlab.model import Model, TrainConfig
from simlab.train import Batch
from simlab.vectors import Hits, Vectors

if TYPE_CHECKING:
    from simlab.index import Index

log = logging.getLogger(__name__)

#: What :meth:`NodeEmbedder.fit` trains on: a networkx graph, a graph file, or a ``(2, E)`` edge index.
NodeGraph = nx.Graph | str | Path | np.ndarray


def _node_train() -> TrainConfig:
    return TrainConfig(epochs=200, lr=0.01, patience=50, grad_clip=None)


@dataclass(frozen=True)
class NodeConfig:
    """Settings of :class:`NodeEmbedder`.

    Attributes:
        conv / hidden / layers / dropout / residual / jk / heads: the GNN.
        dim: embedding size (the last convolution's output; 0: `hidden`).
        neg_ratio: negatives per positive edge.
        val_share / test_share: edges held out for early stopping / evaluation.
        normalize_features: scale each node's numeric feature row to sum 1.
        label_attr / feature_attrs / degree / max_degree / unknown: node features of networkx input.
        node_ids: add a learnt input vector per node (transductive): ``"auto"`` does so when the nodes have
            neither labels nor numeric features (degree features alone cannot tell apart structurally alike
            nodes of different communities); True / False.
        train: optimisation, one full-graph step per epoch (:class:`~simlab.model.TrainConfig`: epochs 200,
            lr 0.01, patience 50, no gradient clipping, seed, device, threads...); its keys may also be given
            flat (``epochs=50``).
    """

    conv: str = "sage"
    hidden: int = 64
    layers: int = 2
    dim: int = 32
    dropout: float = 0.0
    residual: bool = False
    jk: str = "last"
    heads: int = 4
    neg_ratio: float = 1.0
    val_share: float = 0.05
    test_share: float = 0.10
    normalize_features: bool = True
    label_attr: str | None = "auto"
    feature_attrs: tuple[str, ...] = ()
    degree: bool | str = "auto"
    max_degree: int = 10
    unknown: str = "error"
    node_ids: bool | str = "auto"
    train: TrainConfig = field(default_factory=_node_train)

    def __post_init__(self) -> None:
        if self.conv not in CONVS:
            raise ConfigError(f"unknown conv {self.conv!r}; valid: {', '.join(CONVS)}")
        if self.node_ids not in ("auto", True, False):
            raise ConfigError(f"node_ids must be 'auto', true or false, got {self.node_ids!r}")
        if not (
            0 <= self.val_share < 1 and 0 <= self.test_share < 1 and self.val_share + self.test_share < 0.9
        ):
            raise ConfigError("val_share and test_share must be in [0, 1) with a sum below 0.9")
        object.__setattr__(self, "feature_attrs", tuple(self.feature_attrs))


class _NodeNet(nn.Module):
    """``layers - 1`` convolutions with ReLU (a :class:`GNNEncoder`), then a last convolution to `dim` without
    activation (the graph auto-encoder layout)."""

    def __init__(self, cfg: NodeConfig, in_dim: int, n_nodes: int = 0) -> None:
        super().__init__()
        self.ids = nn.Embedding(n_nodes, cfg.hidden) if n_nodes else None
        if self.ids is not None:
            nn.init.normal_(self.ids.weight, std=0.1)
            in_dim += cfg.hidden
        self.gnn = (
            GNNEncoder(
                cfg.conv, in_dim, cfg.hidden, cfg.layers - 1, cfg.dropout, cfg.residual, cfg.jk, cfg.heads
            )
            if cfg.layers > 1
            else None
        )
        self.out = make_conv(
            cfg.conv,
            self.gnn.out_dim if self.gnn is not None else in_dim,
            cfg.dim or cfg.hidden,
            1 if cfg.conv == "gat" else cfg.heads,
        )

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if self.ids is not None:
            if x.shape[0] != self.ids.num_embeddings:
                raise ConfigError(
                    "this model learnt one input vector per training node (node_ids); it cannot "
                    "embed the nodes of another graph"
                )
            x = torch.cat([x, self.ids.weight], -1)
        h = self.gnn(x, edge_index) if self.gnn is not None else x
        return self.out(h, edge_index)


# -- edges and link-prediction training ----------------------------------------------------------------------
def _undirected_unique(ei: np.ndarray) -> np.ndarray:
    a, b = np.minimum(ei[0], ei[1]), np.maximum(ei[0], ei[1])
    keep = a != b
    pairs = np.unique(np.stack([a[keep], b[keep]], 1), axis=0)
    return pairs.T


def _both_directions(edges: np.ndarray) -> Tensor:
    """``(2, 2E)`` message-passing edges of undirected ``(2, E)`` edges."""
    return torch.from_numpy(np.concatenate([edges, edges[::-1]], 1).copy())


def _sample_non_edges(
    n: int, count: int, existing: set[tuple[int, int]], rng: np.random.Generator
) -> np.ndarray:
    out: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    while len(out) < count:
        u, v = rng.integers(0, n, 2 * (count - len(out)) + 16).reshape(2, -1)
        for a, b in zip(u.tolist(), v.tolist(), strict=True):
            if a == b:
                continue
            key = (min(a, b), max(a, b))
            if key in existing or key in seen:
                continue
            seen.add(key)
            out.append(key)
            if len(out) == count:
                break
    return np.array(out, np.int64).T.reshape(2, -1)


@dataclass
class EdgeSplit:
    """Undirected edges ``(2, E)`` split for link prediction, with as many sampled non-edges as held-out
    edges.

    Attributes:
        train: message passing and positives of training.
        val_pos / val_neg: early stopping.
        test_pos / test_neg: evaluation (saved with the model).
    """

    train: np.ndarray
    val_pos: np.ndarray
    val_neg: np.ndarray
    test_pos: np.ndarray
    test_neg: np.ndarray

    @classmethod
    def draw(
        cls, und: np.ndarray, n: int, test_share: float, val_share: float, rng: np.random.Generator
    ) -> EdgeSplit:
        m = und.shape[1]
        perm = rng.permutation(m)
        n_test, n_val = int(test_share * m), int(val_share * m)
        existing = {(int(a), int(b)) for a, b in und.T}
        negs = _sample_non_edges(n, n_test + n_val, existing, rng)
        return cls(
            train=und[:, perm[n_test + n_val :]],
            val_pos=und[:, perm[n_test : n_test + n_val]],
            val_neg=negs[:, n_test:],
            test_pos=und[:, perm[:n_test]],
            test_neg=negs[:, :n_test],
        )


class LinkBatches:
    """``epoch -> [Batch]`` of :func:`simlab.train.fit`: one full-graph step per epoch over the training
    edges, with fresh uniform negatives drawn from a per-epoch generator (the global RNG is not used)."""

    def __init__(self, x: Tensor, train_edges: np.ndarray, neg_ratio: float, seed: int) -> None:
        self.x, self.seed = x, seed
        self.mp = _both_directions(train_edges)
        self.pos = torch.from_numpy(train_edges)
        self.n_pos = train_edges.shape[1]
        self.n_neg = max(1, int(neg_ratio * self.n_pos))

    def __call__(self, epoch: int) -> Iterator[Batch]:
        g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
        neg = torch.randint(0, len(self.x), (2, self.n_neg), generator=g)
        inputs = {"x": self.x, "edge_index": self.mp, "pos": self.pos, "neg": neg}
        yield Batch("binary_pairs", inputs, {}, self.n_pos)


def link_step(net: nn.Module, batch: Batch) -> tuple[Tensor, int]:
    """Binary cross-entropy of ``z_u . z_v`` on the positive edges vs the sampled negatives."""
    z = net(batch.inputs["x"], batch.inputs["edge_index"])
    p, q = batch.inputs["pos"], batch.inputs["neg"]
    lp = (z[p[0]] * z[p[1]]).sum(-1)
    ln = (z[q[0]] * z[q[1]]).sum(-1)
    f = nn.functional.binary_cross_entropy_with_logits
    return f(lp, torch.ones_like(lp)) + f(ln, torch.zeros_like(ln)), batch.size


class LinkDev:
    """Dev metric: AUC of held-out edges vs non-edges."""

    def __init__(self, x: Tensor, mp: Tensor, pos: np.ndarray, neg: np.ndarray) -> None:
        self.x, self.mp, self.pos, self.neg = x, mp, pos, neg

    def __call__(self, net: nn.Module) -> float:
        device = next(net.parameters()).device
        z = net(self.x.to(device), self.mp.to(device)).cpu()
        return auc_ap(_dot(z, self.pos), _dot(z, self.neg))[0]


def _dot(z: Tensor, e: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(e))
    return (z[t[0]] * z[t[1]]).sum(-1).detach().numpy()


def auc_ap(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """ROC AUC (Mann-Whitney, ties averaged) and average precision of positive vs negative scores."""
    from scipy.stats import rankdata

    s = np.concatenate([pos, neg])
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    r = rankdata(s)
    auc = (r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    order = np.argsort(-s, kind="stable")
    yt = y[order]
    prec = np.cumsum(yt) / np.arange(1, len(yt) + 1)
    ap = float((prec * yt).sum() / max(yt.sum(), 1))
    return float(auc), ap


def _one_graph(path: str | Path) -> nx.Graph:
    """The single graph of a graph file (a file of several graphs raises DataError)."""
    gs = GraphSet.read(path)
    if len(gs) != 1:
        raise DataError(f"node embeddings need one graph, the file holds {len(gs)}", path)
    return gs.graphs[0]


def _edge_index_input(
    graph: np.ndarray, features: np.ndarray | None, keys: Sequence[Hashable] | None
) -> tuple[np.ndarray, np.ndarray, list[Hashable]]:
    """``(x, edge_index, keys)`` of an edge-index input with its ``(n, F)`` node features."""
    ei = np.asarray(graph, np.int64)
    if features is None:
        raise ConfigError("an edge-index input needs features=(n, F) node features")
    x = np.asarray(features, np.float32)
    if ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and ei.max() >= len(x)):
        raise DataError(f"edge_index must be (2, E) with node ids < {len(x)}")
    return x, ei, list(range(len(x))) if keys is None else list(keys)


# -- the model -----------------------------------------------------------------------------------------------
class NodeEmbedder(Model):
    """Unsupervised GNN node embeddings trained by link prediction with negative sampling.

    Args:
        config: a :class:`NodeConfig` or a mapping; keyword arguments override it.

    Attributes:
        keys: node keys of the training graph (rows of :attr:`vectors`).
        x: ``(n, F)`` node features of the training graph.
        train_edges / test_pos / test_neg: ``(2, E)`` training edges, held-out edges and non-edges.
        source: the training graph's name (checked by the ``linkpred`` evaluator).
    """

    KIND = "graph-nodes"
    Config = NodeConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches"})
    config: NodeConfig

    def __init__(self, config: NodeConfig | Mapping[str, Any] | None = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.net: _NodeNet | None = None
        self.featurizer: Featurizer | None = None
        self.keys: list[Hashable] = []
        self.x: np.ndarray | None = None
        self.train_edges: np.ndarray | None = None
        self.test_pos: np.ndarray = np.zeros((2, 0), np.int64)
        self.test_neg: np.ndarray = np.zeros((2, 0), np.int64)
        self.source = ""
        self.n_ids = 0
        self._vectors: Vectors | None = None
        self.history: dict[str, Any] = {}

    def torch_modules(self) -> list[nn.Module]:
        return [self.net] if self.net is not None else []

    def check_fitted(self) -> None:
        self._fitted()

    def _fitted(self) -> tuple[_NodeNet, np.ndarray, np.ndarray]:
        if self.net is None or self.x is None or self.train_edges is None:
            raise NotFittedError("NodeEmbedder is not fitted; call fit(...) or simlab.load(...)")
        return self.net, self.x, self.train_edges

    def to(self, device: str | torch.device = "auto") -> NodeEmbedder:
        self._vectors = None
        return super().to(device)

    # -- data ------------------------------------------------------------------------------------------------
    def _featurize_nx(self, g: nx.Graph, fit: bool) -> tuple[np.ndarray, np.ndarray, list[Hashable]]:
        gs = GraphSet([g], ["graph"])
        cfg = self.config
        if fit:
            self.featurizer = Featurizer(
                cfg.label_attr, list(cfg.feature_attrs), cfg.degree, cfg.max_degree, cfg.unknown
            ).fit(gs)
        if self.featurizer is None:
            raise ConfigError("this model was trained on arrays; it cannot featurise networkx graphs")
        x, ei = self.featurizer.transform_graph(gs.graphs[0], "graph")
        return x, ei, list(gs.graphs[0].nodes())

    def _prep_x(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if self.config.normalize_features:
            s = x.sum(1, keepdims=True)
            x = x / np.where(s == 0, 1, s)
        return x

    def _read_graph(
        self,
        graph: NodeGraph,
        features: np.ndarray | None,
        keys: Sequence[Hashable] | None,
        name: str,
        resume: bool,
    ) -> tuple[np.ndarray, np.ndarray, list[Hashable], str]:
        """``(x, edge_index, node keys, name)`` of the training input (featurizer fitted unless resuming)."""
        if isinstance(graph, str | Path):
            graph, name = _one_graph(graph), name or Path(graph).stem
        if isinstance(graph, nx.Graph):
            warm = resume and self.featurizer is not None
            x, ei, node_keys = self._featurize_nx(normalize_graph(graph, name or "graph"), fit=not warm)
            return x, ei, node_keys, name
        return (*_edge_index_input(graph, features, keys), name)

    def _start_net(self, n: int, in_dim: int, resume: bool) -> _NodeNet:
        """The net to train: the current one when resuming (same graph size), else a new seeded one."""
        cfg, feat = self.config, self.featurizer
        structural_only = feat is not None and not feat.vocab and not feat.n_numeric
        n_ids = n if cfg.node_ids is True or (cfg.node_ids == "auto" and structural_only) else 0
        if resume and self.net is not None:
            if n_ids != self.n_ids:
                raise ConfigError(
                    f"cannot resume: the model was trained on a graph of {self.n_ids} nodes, this one has {n}"
                )
            return self.net
        self.n_ids = n_ids
        self.net = build_net(lambda: _NodeNet(cfg, in_dim, n_ids), seed=cfg.train.seed)
        return self.net

    # -- training --------------------------------------------------------------------------------------------
    def fit(
        self,
        graph: NodeGraph,
        *,
        features: np.ndarray | None = None,
        keys: Sequence[Hashable] | None = None,
        name: str = "",
        resume: bool = False,
    ) -> NodeEmbedder:
        """Train on one graph.

        Args:
            graph: a networkx graph, a graph file, or an ``(2, E)`` edge index array (then `features` gives
                the ``(n, F)`` node features).
            features: node features for an edge-index input.
            keys: node keys for an edge-index input (default ``0..n-1``).
            name: a name for the graph (used by the link-prediction evaluator, e.g. ``"Cora"``).
            resume: continue from the current weights and featurizer (a loaded model, same graph).

        Returns:
            self.
        """
        from simlab.train import fit

        cfg = self.config
        x, ei, node_keys, name = self._read_graph(graph, features, keys, name, resume)
        if len(node_keys) < 3:
            raise DataError(f"node embeddings need a graph with at least 3 nodes, got {len(node_keys)}")
        self.keys, self.source = node_keys, name
        self.x = self._prep_x(x)
        und = _undirected_unique(ei)
        if und.shape[1] < 5:
            raise DataError(f"the graph has {und.shape[1]} edges; link-prediction training needs at least 5")
        rng = np.random.default_rng(cfg.train.seed)
        split = EdgeSplit.draw(und, len(self.x), cfg.test_share, cfg.val_share, rng)
        self.train_edges, self.test_pos, self.test_neg = split.train, split.test_pos, split.test_neg
        net = self._start_net(len(self.x), self.x.shape[1], resume)
        batches = LinkBatches(torch.from_numpy(self.x), split.train, cfg.neg_ratio, cfg.train.seed)
        dev = LinkDev(batches.x, batches.mp, split.val_pos, split.val_neg) if split.val_pos.shape[1] else None
        with self.threads():
            self.history = fit(net, batches, link_step, cfg.train, dev_metric=dev).to_dict()
        self._vectors = None
        return self

    @torch.no_grad()
    def _embed(self) -> Tensor:
        net, x, train_edges = self._fitted()
        net.eval()
        device = torch.device(self.device)
        with self.threads():
            return net(torch.from_numpy(x).to(device), _both_directions(train_edges).to(device)).cpu()

    # -- public API ------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """Node embeddings of the training graph (message passing over its training edges)."""
        if self._vectors is None:
            self._vectors = Vectors(self.keys, self._embed().numpy())
        return self._vectors

    def collection_vectors(self) -> Vectors:
        """The searchable nodes: :attr:`vectors`."""
        self.check_fitted()
        return self.vectors

    def embed(self, graph: nx.Graph | str | Path | None = None) -> Vectors:
        """Node embeddings keyed by node: of the training graph (None) or of a new networkx graph / graph
        file featurised like the training graph (inductive)."""
        if graph is None:
            return self.vectors
        return self.embed_file(graph) if isinstance(graph, str | Path) else self._embed_nx(graph)

    def encode(self, graph: nx.Graph | str | Path | None = None) -> np.ndarray:
        """``(n, dim)`` node embeddings of the training graph (None) or of a new networkx graph / file
        featurised like the training graph (inductive)."""
        return self.embed(graph).matrix

    def _embed_nx(self, g: nx.Graph) -> Vectors:
        net, _, _ = self._fitted()
        x, ei, keys = self._featurize_nx(normalize_graph(g, "graph"), fit=False)
        net.eval()
        device = torch.device(self.device)
        with self.threads(), torch.no_grad():
            z = net(torch.from_numpy(self._prep_x(x)).to(device), torch.from_numpy(ei).to(device)).cpu()
        return Vectors(keys, z.numpy())

    def embed_file(self, path: str | Path) -> Vectors:
        """Node embeddings of the (single) graph in a graph file."""
        return self._embed_nx(_one_graph(path))

    def most_similar(self, query: Hashable, k: int = 10, *, index: Index | None = None) -> Hits:
        """The k nodes most similar (cosine) to a node key; `index`: an optional ``simlab.Index`` built with
        ``Index.from_vectors(model.vectors, ...)`` to search instead of the exact scan (default: the attached
        one)."""
        v = self.vectors
        return v.most_similar(v.key_like(query), k=k, index=index if index is not None else self._index)

    def similarity(self, a: Hashable, b: Hashable) -> float:
        """Cosine similarity of two nodes' embeddings."""
        v = self.vectors
        return v.similarity(v.key_like(a), v.key_like(b))

    def score_pairs(self, keys_a: Sequence[Hashable], keys_b: Sequence[Hashable]) -> np.ndarray:
        """``(n,)`` cosine similarities of aligned node pairs ``(keys_a[i], keys_b[i])``."""
        if len(keys_a) != len(keys_b):
            raise DataError(f"score_pairs needs as many nodes on both sides: {len(keys_a)} vs {len(keys_b)}")
        return np.array([self.similarity(a, b) for a, b in zip(keys_a, keys_b, strict=True)], np.float32)

    def link_probability(self, a: Hashable, b: Hashable) -> float:
        """Predicted probability of an edge between nodes a and b: ``sigmoid(z_a . z_b)``."""
        v = self.vectors
        return float(1 / (1 + np.exp(-float(v[v.key_like(a)] @ v[v.key_like(b)]))))

    def link_prediction(self) -> dict[str, float]:
        """AUC and AP on the held-out test edges vs as many held-out non-edges."""
        if self.test_pos.shape[1] == 0:
            raise ConfigError("the model holds out no test edges (test_share=0)")
        z = self._embed()
        auc, ap = auc_ap(_dot(z, self.test_pos), _dot(z, self.test_neg))
        return {"auc": auc, "ap": ap}

    # -- persistence -----------------------------------------------------------------------------------------
    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Weights, node features, training edges, held-out edges, keys and the featurizer."""
        net, x, train_edges = self._fitted()
        writer.save_arrays("model.safetensors", weights(net))
        graph = {"x": x, "train_edges": train_edges, "test_pos": self.test_pos, "test_neg": self.test_neg}
        writer.save_arrays("graph.safetensors", graph)
        writer.save_json("keys.json", self.keys)
        feat = self.featurizer.to_dict() if self.featurizer is not None else None
        meta = {"source": self.source, "n_ids": self.n_ids, "featurizer": feat, "history": self.history}
        writer.save_json("meta.json", meta)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> NodeEmbedder:
        """The saved model, weights on ``device="auto"`` of this machine (a flat or nested saved config)."""
        m = cls(artifact.config)
        g = artifact.arrays("graph.safetensors")
        m.x, m.train_edges, m.test_pos, m.test_neg = g["x"], g["train_edges"], g["test_pos"], g["test_neg"]
        m.keys = artifact.json("keys.json")
        meta = artifact.json("meta.json")
        m.source, m.history = meta.get("source", ""), meta.get("history", {})
        m.featurizer = Featurizer.from_dict(meta["featurizer"]) if meta.get("featurizer") else None
        m.n_ids = n_ids = int(meta.get("n_ids", 0))
        in_dim = m.x.shape[1]
        net = build_net(lambda: _NodeNet(m.config, in_dim, n_ids))  # weights overwritten next
        load_weights(net, artifact.arrays("model.safetensors"), artifact.path)
        m.net = net.eval()
        return m.to("auto")


def _same_graph(a: str, b: str) -> bool:
    """Whether two graph names/paths name the same graph: equal names, the same file, or the same file stem
    (a model trained on ``data/karate.graphml`` records the graph name ``karate``)."""
    import os

    if a.lower() == b.lower():
        return True
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return Path(a.rstrip("/")).stem.lower() == Path(b.rstrip("/")).stem.lower()


def evaluate_link_prediction(model: Any, target: str = "", **options: Any) -> Report:
    """Evaluator ``linkpred``: AUC / AP of a :class:`NodeEmbedder` on its held-out test edges.

    `target` (``Cora``, ``CiteSeer`` or a graph name) must match the graph the model was trained on; the
    held-out edges and non-edges were drawn before training and saved with the model.
    """
    if not isinstance(model, NodeEmbedder):
        raise ConfigError(f"link prediction evaluates node embedders, not a {type(model).__name__}")
    if target and model.source and not _same_graph(target, str(model.source)):
        raise ConfigError(
            f"the model was trained on {model.source!r}, not {target!r}; held-out edges belong "
            "to the training graph"
        )
    m = model.link_prediction()
    return Report(
        f"linkpred:{model.source or target}",
        "auc",
        m,
        {
            "test_edges": int(model.test_pos.shape[1]),
            "test_non_edges": int(model.test_neg.shape[1]),
            "nodes": len(model.keys),
        },
    )
