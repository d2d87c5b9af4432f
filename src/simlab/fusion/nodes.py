"""Unsupervised node embeddings that fuse node features with graph structure, and the single-view baselines.

:class:`PropagatedNodes` needs no training. Its ``view`` decides what it embeds:

- ``"fused"`` (default) -- feature propagation over the graph (SGC, Wu et al., ICML 2019)::

      Z = Â^K X,   Â = D^{-1/2} (A + I) D^{-1/2},   X row-normalised (each row sums to 1)

  or, with ``alpha > 0``, personalised-PageRank propagation (APPNP, Klicpera et al., ICLR 2019)::

      H_0 = X,   H_{t+1} = (1 - alpha) Â H_t + alpha X,   Z = H_K

  Each node's words are averaged with those of its K-hop neighbourhood: features and structure in one vector.
- ``"features"`` -- the row-normalised features alone (``K = 0``).
- ``"structure"`` -- the structure alone: the top-`dim` eigenvectors of Â (a spectral embedding; Belkin &
  Niyogi 2003), no features.
- ``"dgi"`` -- a trained contrastive GNN: Deep Graph Infomax (Velickovic et al., ICLR 2019) with PyG's layers
  (:mod:`simlab.fusion.dgi`), `hidden` dimensions.

Defaults (``K=2``, ``alpha=0``) are SGC's published defaults, not tuned on any benchmark here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError
from simlab.model import Model, TrainConfig
from simlab.vectors import Hits, Vectors

VIEWS = ("fused", "features", "structure", "dgi")
#: DGI's training defaults (the paper's: Adam 0.001, patience 20; 300 epochs at most, one thread)
DGI_TRAIN = TrainConfig(epochs=300, lr=0.001, patience=20, seed=0, device="cpu", threads=1, grad_clip=None)


@dataclass(frozen=True)
class PropagationConfig:
    """Settings of :class:`PropagatedNodes`.

    Attributes:
        view: ``fused`` (propagated features), ``features`` or ``structure`` (spectral).
        k: propagation steps (hops).
        alpha: restart probability (0: SGC, > 0: APPNP).
        dim: size of the spectral embedding (``view="structure"``), and of the PCA of the propagated features
            when `pca` is set.
        pca: reduce the propagated features to `dim` with :class:`simlab.index.reduce.PCA` (for a compact
            index).
        hidden: DGI's hidden units (``view="dgi"``; the paper's 512).
        train: DGI's training (:class:`~simlab.model.TrainConfig`; flat keys such as ``epochs=50`` are routed
            into it): the paper's Adam 0.001 and patience 20, 300 epochs at most, seed 0, one thread.
    """

    view: str = "fused"
    k: int = 2
    alpha: float = 0.0
    dim: int = 64
    pca: bool = False
    hidden: int = 512
    train: TrainConfig = field(default_factory=lambda: DGI_TRAIN)

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ConfigError(f"unknown node view {self.view!r}; valid: {', '.join(VIEWS)}")
        if self.k < 0 or not 0 <= self.alpha < 1 or self.dim < 1:
            raise ConfigError("need k >= 0, 0 <= alpha < 1 and dim >= 1")


def _adjacency(edge_index: np.ndarray, n: int) -> Any:
    """``A + I`` as a scipy CSR matrix (edges taken as undirected, no duplicate edges)."""
    import scipy.sparse as sp

    ei = np.asarray(edge_index, np.int64)
    if ei.size and (ei.min() < 0 or ei.max() >= n):
        raise DataError(f"edge_index refers to nodes outside 0..{n - 1}")
    a = sp.coo_matrix((np.ones(ei.shape[1], np.float64), (ei[0], ei[1])), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64)
    a.setdiag(0)
    a.eliminate_zeros()
    return a + sp.eye(n, format="csr")


def normalized_adjacency(edge_index: np.ndarray, n: int) -> Any:
    """``D^{-1/2} (A + I) D^{-1/2}`` as a scipy CSR matrix (edges taken as undirected)."""
    import scipy.sparse as sp

    a = _adjacency(edge_index, n)
    dm = sp.diags(1.0 / np.sqrt(np.asarray(a.sum(1)).ravel()))
    return (dm @ a @ dm).tocsr()


def propagate(x: np.ndarray, edge_index: np.ndarray, k: int = 2, alpha: float = 0.0) -> np.ndarray:
    """``Â^K X`` (SGC) or K steps of ``(1 - alpha) Â H + alpha X`` (APPNP); ``(n, F)``.

    Non-negative features (counts, bags of words) are row-normalised to sum 1 first, as in SGC; features with
    negative values are used as given.
    """
    x = np.asarray(x, np.float64)
    if (x >= 0).all():
        s = x.sum(1, keepdims=True)
        x = x / np.where(s == 0, 1, s)
    a = normalized_adjacency(edge_index, len(x))
    h = x
    for _ in range(k):
        h = (1 - alpha) * (a @ h) + alpha * x
    return np.asarray(h, np.float32)


def spectral_embedding(edge_index: np.ndarray, n: int, dim: int = 64) -> np.ndarray:
    """The top-`dim` eigenvectors of the normalised adjacency, ``(n, dim)``: structure only.

    A connected graph uses Â itself. A graph with several connected components has a repeated top eigenvalue
    of Â (1, once per component: CiteSeer has 438), and the basis the eigensolver picks inside that eigenspace
    changes from run to run; such a graph uses the regularised ``D_t^{-1/2} (A + I + t/n 11^T) D_t^{-1/2}``
    with ``D_t = D + t I`` and ``t`` the mean degree (regularised spectral clustering, Qin & Rohe 2013), whose
    ``t/n 11^T`` term joins the components, so the embedding is the same on every run.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse.linalg import LinearOperator, eigsh

    dim = min(dim, n - 2)
    a = _adjacency(edge_index, n)
    deg = np.asarray(a.sum(1)).ravel()
    tau = float(deg.mean()) if connected_components(a, directed=False)[0] > 1 else 0.0
    scale = 1.0 / np.sqrt(deg + tau)
    a_s = (sp.diags(scale) @ a @ sp.diags(scale)).tocsr()

    def matvec(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v).reshape(n, -1)
        return a_s @ v + (tau / n) * np.outer(scale, scale @ v)

    op = a_s if tau == 0 else LinearOperator((n, n), matvec=matvec, matmat=matvec, dtype=np.float64)
    v0 = np.full(n, 1.0 / np.sqrt(n))  # deterministic start
    _, vecs = eigsh(op, k=dim, which="LA", v0=v0)
    signs = np.sign(vecs[np.abs(vecs).argmax(0), np.arange(vecs.shape[1])])
    return (vecs * np.where(signs == 0, 1, signs)).astype(np.float32)


class PropagatedNodes(Model):
    """Node embeddings from feature propagation (fused), features alone, or structure alone.

    Args:
        config: a :class:`PropagationConfig` or dict; keyword arguments override it.

    Example:
        >>> from simlab.fusion.data import contextual_sbm
        >>> g = contextual_sbm(n=60, seed=0)
        >>> PropagatedNodes(k=2).fit(g).vectors.dim
        32
    """

    KIND = "fusion-nodes"
    kind = KIND  # the name before the model contract
    Config = PropagationConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches"})
    COLLECTION_ATTR = "vectors"

    def __init__(self, config: PropagationConfig | dict[str, Any] | None = None, /, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._vectors: Vectors | None = None
        self.source = ""

    def fit(
        self, graph: Any, *, features: Any = None, keys: list[Any] | None = None, name: str = ""
    ) -> PropagatedNodes:
        """Embed the nodes of one graph.

        Args:
            graph: a :class:`~simlab.fusion.data.NodeGraph`, a node-graph file (JSON lines, see
                :mod:`simlab.fusion.data`), or a ``(2, E)`` edge index (then `features` gives ``(n, F)``).
            features: node features for an edge-index input.
            keys: node keys for an edge-index input (default ``0..n-1``).
            name: the graph's name (``Cora``) for evaluators.

        Returns:
            self.
        """
        from simlab.fusion.data import NodeGraph, read_node_graph

        if isinstance(graph, str | Path):
            graph = read_node_graph(graph)
        if isinstance(graph, NodeGraph):
            ei, x, node_keys, name = graph.edge_index, graph.x, graph.keys, name or graph.name
        else:
            ei, x = (
                np.asarray(graph, np.int64),
                None if features is None else np.asarray(features, np.float32),
            )
            n = len(x) if x is not None else int(ei.max()) + 1 if ei.size else 0
            node_keys = list(range(n)) if keys is None else list(keys)
        cfg = self.config
        if len(node_keys) < 3:
            raise DataError(f"node embeddings need at least 3 nodes, got {len(node_keys)}")
        self.history: dict[str, Any] = {}
        if cfg.view == "structure":
            z = spectral_embedding(ei, len(node_keys), cfg.dim)
        elif cfg.view == "dgi":
            from simlab.fusion.dgi import dgi_embed

            if x is None:
                raise ConfigError("view='dgi' needs node features ('x' or 'text' per node)")
            z, self.history = dgi_embed(x, ei, cfg)
        else:
            if x is None:
                raise ConfigError(f"view={cfg.view!r} needs node features ('x' or 'text' per node)")
            z = propagate(x, ei, 0 if cfg.view == "features" else cfg.k, cfg.alpha)
            if cfg.pca and z.shape[1] > cfg.dim:
                from simlab.index.reduce import PCA

                z = PCA(cfg.dim).fit_transform(z)
        self._vectors = Vectors(node_keys, z)
        self.source = name
        return self

    @property
    def vectors(self) -> Vectors:
        """The node embeddings."""
        if self._vectors is None:
            raise NotFittedError("PropagatedNodes is not fitted; call fit(graph) or simlab.load(...)")
        return self._vectors

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the node embeddings (None before fitting)."""
        return self._vectors

    def check_fitted(self) -> None:
        self.vectors  # noqa: B018 - raises NotFittedError before fitting

    @property
    def keys(self) -> list[Any]:
        return self.vectors.keys

    def encode(self, keys: list[Any] | None = None) -> np.ndarray:
        """``(n, dim)`` embeddings of the given node keys (all nodes by default)."""
        return self.vectors.matrix if keys is None else self.vectors[[_key(k, self.vectors) for k in keys]]

    def embed(self, keys: list[Any] | None = None) -> np.ndarray:
        """Alias of :meth:`encode`."""
        return self.encode(keys)

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two nodes."""
        v = self.vectors
        return v.similarity(_key(a, v), _key(b, v))

    def score_pairs(self, a: list[Any], b: list[Any]) -> np.ndarray:
        """``(n,)`` cosine similarity of each node pair ``(a_i, b_i)``."""
        return np.array([self.similarity(x, y) for x, y in zip(a, b, strict=True)], dtype=np.float64)

    def most_similar(self, query: Any, k: int = 10, *, index: Any = None) -> Hits:
        """The k nodes most similar (cosine) to a node key."""
        index = self._index if index is None else index
        return self.vectors.most_similar(_key(query, self.vectors), k=k, index=index)

    def to_artifact(self, w: ArtifactWriter) -> None:
        """The node vectors and the graph's name (artifact kind ``fusion-nodes``)."""
        self.vectors.to_artifact(w)
        w.save_json("meta.json", {"source": self.source})

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> PropagatedNodes:
        """Rebuild from an artifact (a flat config of an older version is routed too)."""
        m = cls(dict(artifact.config))
        m._vectors = Vectors.from_artifact(artifact)
        m.source = artifact.json("meta.json").get("source", "")
        return m


def _key(q: Any, v: Vectors) -> Any:
    return v.key_like(q)
