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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict, to_dict
from simlab.errors import ConfigError, DataError, NotFittedError
from simlab.evaluate import Report
from simlab.graph.encoders import CONVS, GNNEncoder, make_conv
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeConfig:
    """Settings of :class:`NodeEmbedder`.

    Attributes:
        conv / hidden / layers / dropout / residual / jk / heads: the GNN.
        dim: embedding size (the last convolution's output; 0: `hidden`).
        epochs / lr / weight_decay / patience: training (one full-graph step per epoch).
        neg_ratio: negatives per positive edge.
        val_share / test_share: edges held out for early stopping / evaluation.
        normalize_features: scale each node's numeric feature row to sum 1.
        label_attr / feature_attrs / degree / max_degree / unknown: node features of networkx input.
        node_ids: add a learnt input vector per node (transductive): ``"auto"`` does so when the nodes have
            neither labels nor numeric features (degree features alone cannot tell apart structurally alike
            nodes of different communities); True / False.
    """

    conv: str = "sage"
    hidden: int = 64
    layers: int = 2
    dim: int = 32
    dropout: float = 0.0
    residual: bool = False
    jk: str = "last"
    heads: int = 4
    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 0.0
    patience: int | None = 50
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
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True

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


def _undirected_unique(ei: np.ndarray) -> np.ndarray:
    a, b = np.minimum(ei[0], ei[1]), np.maximum(ei[0], ei[1])
    keep = a != b
    pairs = np.unique(np.stack([a[keep], b[keep]], 1), axis=0)
    return pairs.T


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


class NodeEmbedder:
    """Unsupervised GNN node embeddings trained by link prediction with negative sampling.

    Args:
        config: a :class:`NodeConfig` or dict; keyword arguments override it.
    """

    kind = "graph-nodes"

    def __init__(self, config: NodeConfig | dict[str, Any] | None = None, **kwargs: Any) -> None:
        base = to_dict(config) if isinstance(config, NodeConfig) else dict(config or {})
        self.config = from_dict(NodeConfig, {**base, **kwargs})
        self.net: _NodeNet | None = None
        self.featurizer: Any = None
        self.keys: list[Any] = []
        self.x: np.ndarray | None = None
        self.train_edges: np.ndarray | None = None
        self.test_pos: np.ndarray = np.zeros((2, 0), np.int64)
        self.test_neg: np.ndarray = np.zeros((2, 0), np.int64)
        self.source = ""
        self.n_ids = 0
        self._vectors: Vectors | None = None
        self.history: dict[str, Any] = {}

    # -- data --------------------------------------------------------------------------------------------------
    def _featurize_nx(self, g: Any, fit: bool) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        from simlab.graph.features import Featurizer
        from simlab.graph.io import GraphSet

        gs = GraphSet([g], ["graph"])
        cfg = self.config
        if fit:
            self.featurizer = Featurizer(
                cfg.label_attr, list(cfg.feature_attrs), cfg.degree, cfg.max_degree, cfg.unknown
            ).fit(gs)
        x, ei = self.featurizer.transform_graph(gs.graphs[0], "graph")
        return x, ei, list(gs.graphs[0].nodes())

    def _prep_x(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if self.config.normalize_features:
            s = x.sum(1, keepdims=True)
            x = x / np.where(s == 0, 1, s)
        return x

    # -- training ----------------------------------------------------------------------------------------------
    def fit(
        self,
        graph: Any,
        *,
        features: Any = None,
        keys: list[Any] | None = None,
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
        import networkx as nx

        from simlab.train import Batch, TrainConfig, fit

        cfg = self.config
        if isinstance(graph, str | Path):
            from simlab.graph.io import GraphSet

            gs = GraphSet.read(graph)
            if len(gs) != 1:
                raise DataError(f"node embeddings need one graph, the file holds {len(gs)}", graph)
            graph = gs.graphs[0]
            name = name or Path(str(gs.source)).stem
        if isinstance(graph, nx.Graph):
            from simlab.graph.io import normalize_graph

            warm = resume and self.featurizer is not None
            x, ei, node_keys = self._featurize_nx(normalize_graph(graph, name or "graph"), fit=not warm)
        else:
            ei = np.asarray(graph, np.int64)
            if features is None:
                raise ConfigError("an edge-index input needs features=(n, F) node features")
            x = np.asarray(features, np.float32)
            if ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and ei.max() >= len(x)):
                raise DataError(f"edge_index must be (2, E) with node ids < {len(x)}")
            node_keys = list(range(len(x))) if keys is None else list(keys)
        if len(node_keys) < 3:
            raise DataError(f"node embeddings need a graph with at least 3 nodes, got {len(node_keys)}")
        self.keys, self.source = node_keys, name
        self.x = self._prep_x(x)
        n = len(self.x)
        und = _undirected_unique(ei)
        m = und.shape[1]
        if m < 5:
            raise DataError(f"the graph has {m} edges; link-prediction training needs at least 5")
        rng = np.random.default_rng(cfg.seed)
        perm = rng.permutation(m)
        n_test, n_val = int(cfg.test_share * m), int(cfg.val_share * m)
        test_e, val_e, train_e = (
            und[:, perm[:n_test]],
            und[:, perm[n_test : n_test + n_val]],
            und[:, perm[n_test + n_val :]],
        )
        existing = {(int(a), int(b)) for a, b in und.T}
        negs = _sample_non_edges(n, n_test + n_val, existing, rng)
        self.test_pos, self.test_neg = test_e, negs[:, :n_test]
        val_neg = negs[:, n_test:]
        self.train_edges = train_e
        torch.manual_seed(cfg.seed)
        structural_only = (
            self.featurizer is not None and not self.featurizer.vocab and not self.featurizer.n_numeric
        )
        n_ids = n if (cfg.node_ids is True or (cfg.node_ids == "auto" and structural_only)) else 0
        if resume and self.net is not None:
            if n_ids != self.n_ids:
                raise ConfigError(
                    f"cannot resume: the model was trained on a graph of {self.n_ids} nodes, this one has {n}"
                )
        else:
            self.n_ids = n_ids
            self.net = _NodeNet(cfg, self.x.shape[1], self.n_ids)
        xt = torch.from_numpy(self.x)
        mp = torch.from_numpy(np.concatenate([train_e, train_e[::-1]], 1).copy())
        pos = torch.from_numpy(train_e)
        n_neg = max(1, int(cfg.neg_ratio * train_e.shape[1]))

        def batches(epoch: int) -> Any:
            g = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)
            neg = torch.randint(0, n, (2, n_neg), generator=g)
            yield Batch(
                "binary_pairs", {"x": xt, "edge_index": mp, "pos": pos, "neg": neg}, {}, train_e.shape[1]
            )

        def step(net: nn.Module, batch: Any) -> tuple[Tensor, int]:
            z = net(batch.inputs["x"], batch.inputs["edge_index"])
            p, q = batch.inputs["pos"], batch.inputs["neg"]
            lp = (z[p[0]] * z[p[1]]).sum(-1)
            ln = (z[q[0]] * z[q[1]]).sum(-1)
            f = nn.functional.binary_cross_entropy_with_logits
            return f(lp, torch.ones_like(lp)) + f(ln, torch.zeros_like(ln)), batch.size

        dev = None
        if val_e.shape[1]:

            def dev(net: nn.Module) -> float:
                z = net(xt.to(self.device), mp.to(self.device)).cpu()
                return auc_ap(self._dot(z, val_e), self._dot(z, val_neg))[0]

        tcfg = TrainConfig(
            epochs=cfg.epochs,
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            patience=cfg.patience,
            seed=cfg.seed,
            device=cfg.device,
            threads=cfg.threads,
            progress=cfg.progress,
            grad_clip=None,
        )
        self.history = fit(self.net, batches, step, tcfg, dev_metric=dev).to_dict()
        self._vectors = None
        return self

    @staticmethod
    def _dot(z: Tensor, e: np.ndarray) -> np.ndarray:
        e = torch.from_numpy(np.ascontiguousarray(e))
        return (z[e[0]] * z[e[1]]).sum(-1).detach().numpy()

    @property
    def device(self) -> torch.device:
        from simlab.train import resolve_device

        return resolve_device(self.config.device)

    def _check(self) -> None:
        if self.net is None or self.x is None or self.train_edges is None:
            raise NotFittedError("NodeEmbedder is not fitted; call fit(...) or simlab.load(...)")

    @torch.no_grad()
    def _embed(self) -> Tensor:
        self._check()
        assert self.net is not None and self.train_edges is not None and self.x is not None
        self.net.eval()
        mp = torch.from_numpy(np.concatenate([self.train_edges, self.train_edges[::-1]], 1).copy())
        return self.net(torch.from_numpy(self.x).to(self.device), mp.to(self.device)).cpu()

    # -- public API --------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """Node embeddings of the training graph (message passing over its training edges)."""
        if self._vectors is None:
            self._vectors = Vectors(self.keys, self._embed().numpy())
        return self._vectors

    def encode(self, graph: Any = None) -> np.ndarray:
        """``(n, dim)`` node embeddings of the training graph (None) or of a new networkx graph / file
        featurised like the training graph (inductive)."""
        if graph is None:
            return self.vectors.matrix
        return (
            self.embed_file(graph).matrix if isinstance(graph, str | Path) else self._embed_nx(graph).matrix
        )

    def _embed_nx(self, g: Any) -> Vectors:
        from simlab.graph.io import normalize_graph

        self._check()
        if self.featurizer is None:
            raise ConfigError("this model was trained on arrays; it cannot featurise networkx graphs")
        x, ei, keys = self._featurize_nx(normalize_graph(g, "graph"), fit=False)
        assert self.net is not None
        self.net.eval()
        with torch.no_grad():
            z = self.net(torch.from_numpy(self._prep_x(x)), torch.from_numpy(ei))
        return Vectors(keys, z.numpy())

    def embed_file(self, path: str | Path) -> Vectors:
        """Node embeddings of the (single) graph in a graph file."""
        from simlab.graph.io import GraphSet

        gs = GraphSet.read(path)
        if len(gs) != 1:
            raise DataError(f"expected one graph, the file holds {len(gs)}", path)
        return self._embed_nx(gs.graphs[0])

    def most_similar(self, query: Any, k: int = 10, *, index: Any = None) -> Hits:
        """The k nodes most similar (cosine) to a node key; `index`: an optional ``simlab.Index`` built with
        ``Index.from_vectors(model.vectors, ...)`` to search instead of the exact scan."""
        return self.vectors.most_similar(_key(query, self.vectors), k=k, index=index)

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two nodes' embeddings."""
        return self.vectors.similarity(_key(a, self.vectors), _key(b, self.vectors))

    def link_probability(self, a: Any, b: Any) -> float:
        """Predicted probability of an edge between nodes a and b: ``sigmoid(z_a . z_b)``."""
        v = self.vectors
        return float(1 / (1 + np.exp(-float(v[_key(a, v)] @ v[_key(b, v)]))))

    def link_prediction(self) -> dict[str, float]:
        """AUC and AP on the held-out test edges vs as many held-out non-edges."""
        if self.test_pos.shape[1] == 0:
            raise ConfigError("the model holds out no test edges (test_share=0)")
        z = self._embed()
        auc, ap = auc_ap(self._dot(z, self.test_pos), self._dot(z, self.test_neg))
        return {"auc": auc, "ap": ap}

    # -- persistence -------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save weights, node features, training edges, held-out edges, keys and the featurizer."""
        self._check()
        assert self.net is not None
        with ArtifactWriter(path, self.kind, to_dict(self.config)) as w:
            w.save_arrays("model.safetensors", {k: v.contiguous() for k, v in self.net.state_dict().items()})
            w.save_arrays(
                "graph.safetensors",
                {
                    "x": self.x,
                    "train_edges": self.train_edges,
                    "test_pos": self.test_pos,
                    "test_neg": self.test_neg,
                },
            )
            w.save_json("keys.json", self.keys)
            w.save_json(
                "meta.json",
                {
                    "source": self.source,
                    "n_ids": self.n_ids,
                    "featurizer": self.featurizer.to_dict() if self.featurizer is not None else None,
                    "history": self.history,
                },
            )
        return Path(path)

    @classmethod
    def from_artifact(cls, art: Artifact) -> NodeEmbedder:
        from simlab.graph.features import Featurizer

        m = cls(dict(art.config))
        g = art.arrays("graph.safetensors")
        m.x, m.train_edges, m.test_pos, m.test_neg = g["x"], g["train_edges"], g["test_pos"], g["test_neg"]
        m.keys = art.json("keys.json")
        meta = art.json("meta.json")
        m.source, m.history = meta.get("source", ""), meta.get("history", {})
        m.featurizer = Featurizer.from_dict(meta["featurizer"]) if meta.get("featurizer") else None
        m.n_ids = int(meta.get("n_ids", 0))
        m.net = _NodeNet(m.config, m.x.shape[1], m.n_ids)
        m.net.load_state_dict(
            {k: torch.from_numpy(v.copy()) for k, v in art.arrays("model.safetensors").items()}
        )
        m.net.eval()
        return m

    @classmethod
    def load(cls, path: str | Path) -> NodeEmbedder:
        """Load a model saved with :meth:`save`."""
        return cls.from_artifact(Artifact(path, kind=cls.kind))


def _key(q: Any, v: Vectors) -> Any:
    return v.key_like(q)


def _same_graph(a: str, b: str) -> bool:
    """Whether two graph names/paths name the same graph: equal names, the same file, or the same file stem
    (a model trained on ``data/karate.graphml`` records the graph name ``karate``)."""
    import os
    from pathlib import Path

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
