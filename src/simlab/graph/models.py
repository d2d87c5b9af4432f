"""Graph similarity models trained on GED: a Siamese bi-encoder and a SimGNN-style pair model.

:class:`GraphBiEncoder` maps every graph to one vector with a shared GNN encoder; the predicted similarity is::

    s(G1, G2) = exp(-||f(G1) - f(G2)||_2)          (trained to regress exp(-nGED))

so ranking by s is ranking by Euclidean distance: graph vectors can go into any ``simlab.Index`` (metric
``euclidean``) and millions of graphs can be searched. Training uses :func:`simlab.train.fit` with
:func:`simlab.train.siamese_step` and the registered ``mse`` loss.

:class:`GraphPairModel` scores a pair jointly (SimGNN family, Bai et al., WSDM 2019): node embeddings from a
GNN, attention pooling with a global context, a neural tensor network on the two graph vectors::

    ntn_k = relu(h1^T W_k h2 + V_k [h1 + h2; |h1 - h2|] + b_k)      (W_k symmetrised, so s(a,b) = s(b,a))

plus node-level pairwise features (a normalised histogram of the sigmoid node-node similarities) and cheap
GED lower bounds (node-label multiset and edge-count differences, divided by the mean size); an MLP maps them
to a score in (0, 1). It is much slower per pair than a vector comparison but more accurate, so it re-ranks the
bi-encoder's candidates (:meth:`GraphBiEncoder.most_similar` with ``rerank=``). Pairs are always scored in
batches; node embeddings of each graph are computed once per call.

Both models implement ``fit(graphs, ged) -> self``, ``encode``, ``similarity``, ``most_similar``,
``score_pairs``, ``score_matrix``, ``embed_file``, ``save`` / ``simlab.load``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict, to_dict
from simlab.errors import ConfigError, DataError, NotFittedError
from simlab.graph.encoders import CONVS, GNNEncoder, GraphEncoder, GraphPool
from simlab.graph.features import Featurizer, GraphStore
from simlab.graph.ged import GEDTable
from simlab.graph.io import GraphSet
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphModelConfig:
    """Settings shared by the graph models.

    Attributes:
        conv: ``gcn``, ``gin``, ``sage`` or ``gat``.
        hidden / layers / dropout / residual / jk / heads: GNN settings (see :class:`GNNEncoder`).
        pool: ``sum``, ``mean`` or ``attention``.
        dim: output vector size of the bi-encoder (0: no projection).
        label_attr / feature_attrs / degree / max_degree / unknown: node features (see :class:`Featurizer`).
        epochs / batch_size / pairs_per_epoch / lr / weight_decay / patience: training (``batch_size`` pairs
            per step; ``pairs_per_epoch`` sampled each epoch, 0 = all pairs).
        dev_share: share of the training graphs held out as dev queries for early stopping (0: none).
        near_share / near_k: share of each epoch's pairs drawn from each graph's `near_k` most similar
            training partners (hard pairs that decide the top of a ranking; 0: uniform sampling).
        seed / device / threads: reproducibility and hardware.
    """

    conv: str = "gin"
    hidden: int = 64
    layers: int = 3
    dropout: float = 0.0
    residual: bool = True
    jk: str = "cat"
    heads: int = 4
    pool: str = "sum"
    dim: int = 64
    label_attr: str | None = "auto"
    feature_attrs: tuple[str, ...] = ()
    degree: bool | str = "auto"
    max_degree: int = 10
    unknown: str = "error"
    epochs: int = 30
    batch_size: int = 512
    pairs_per_epoch: int = 50000
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int | None = 8
    dev_share: float = 0.1
    near_share: float = 0.0
    near_k: int = 20
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.conv not in CONVS:
            raise ConfigError(f"unknown conv {self.conv!r}; valid: {', '.join(CONVS)}")
        if not 0 <= self.dev_share < 1:
            raise ConfigError(f"dev_share must be in [0, 1), got {self.dev_share}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 <= self.near_share < 1:
            raise ConfigError(f"near_share must be in [0, 1), got {self.near_share}")
        object.__setattr__(self, "feature_attrs", tuple(self.feature_attrs))


@dataclass(frozen=True)
class PairModelConfig(GraphModelConfig):
    """:class:`GraphModelConfig` plus the pair model's interaction settings.

    Attributes:
        ntn_k: slices of the neural tensor network.
        bins: bins of the node-node similarity histogram (0: no histogram).
        bounds: add the GED lower-bound features.
    """

    pool: str = "attention"
    jk: str = "cat"
    ntn_k: int = 16
    bins: int = 16
    bounds: bool = True


def _graphs(obj: Any) -> GraphSet:
    return GraphSet.coerce(obj)


def _ged_table(ged: Any, graphs: GraphSet) -> GEDTable:
    if isinstance(ged, GEDTable):
        for gid in set(ged.a) | set(ged.b):
            graphs.position(gid)
        return ged
    if isinstance(ged, str | Path):
        return GEDTable.read(ged, graphs)
    rows = list(ged)
    if not rows:
        raise DataError("no GED pairs given")
    a, b, g = zip(*[(r[0], r[1], r[2]) for r in rows], strict=True)
    for gid in set(a) | set(b):
        graphs.position(gid)
    return GEDTable(list(a), list(b), np.asarray(g, np.float64), np.ones(len(a), bool))


class _GraphModel:
    """Shared machinery: features, collection, batching, persistence."""

    kind = ""
    config_cls: type[GraphModelConfig] = GraphModelConfig

    def __init__(self, config: GraphModelConfig | dict[str, Any] | None = None, **kwargs: Any) -> None:
        if isinstance(config, GraphModelConfig):
            cfg = dataclasses.replace(config, **kwargs) if kwargs else config
            if not isinstance(cfg, self.config_cls):
                cfg = from_dict(self.config_cls, {**to_dict(cfg), **kwargs})
        else:
            cfg = from_dict(self.config_cls, {**(config or {}), **kwargs})
        self.config = cfg
        self.featurizer: Featurizer | None = None
        self.net: nn.Module | None = None
        self.collection: GraphSet | None = None
        self._store: GraphStore | None = None
        self._rep: Any = None
        self.history: dict[str, Any] = {}

    # -- to implement ------------------------------------------------------------------------------------------
    def _build(self, in_dim: int) -> nn.Module:
        raise NotImplementedError

    def _represent(self, store: GraphStore) -> Any:
        """Per-graph representation used to score pairs (vectors, node embeddings, ...)."""
        raise NotImplementedError

    def _score_rep(self, ra: Any, ia: Tensor, rb: Any, ib: Tensor) -> Tensor:
        raise NotImplementedError

    def _train_step(self) -> Any:
        raise NotImplementedError

    def _make_batch(self, store: GraphStore, ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> Any:
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------------------------
    def _check(self) -> None:
        if self.net is None or self.featurizer is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(...) or simlab.load(...)")

    @property
    def device(self) -> torch.device:
        from simlab.train import resolve_device

        return resolve_device(self.config.device)

    def _store_of(self, graphs: Any) -> GraphStore:
        self._check()
        return GraphStore(_graphs(graphs), self.featurizer)  # type: ignore[arg-type]

    def _collection_rep(self) -> Any:
        if self.collection is None:
            raise NotFittedError("the model has no collection; fit it or call set_collection(graphs)")
        if self._rep is None:
            self._store = self._store_of(self.collection)
            self._rep = self._represent(self._store)
        return self._rep

    def set_collection(self, graphs: Any) -> Any:
        """Replace the collection searched by :meth:`most_similar` (e.g. a larger set of graphs)."""
        self.collection = _graphs(graphs)
        self._rep = None
        self._store = None
        return self

    def _query_rep(self, x: Any) -> tuple[Any, int | None]:
        """Representation of one query (an id of the collection or a graph) and its collection position."""
        import networkx as nx

        if isinstance(x, nx.Graph):
            return self._represent(self._store_of(GraphSet([x], ["query"]))), None
        if self.collection is None:
            raise NotFittedError("the model has no collection to look ids up in")
        pos = self.collection.position(x)
        rep = self._collection_rep()
        return self._slice_rep(rep, [pos]), pos

    def _slice_rep(self, rep: Any, idx: Sequence[int]) -> Any:
        raise NotImplementedError

    @torch.no_grad()
    def _score_chunked(
        self, ra: Any, ia: np.ndarray, rb: Any, ib: np.ndarray, chunk: int = 16384
    ) -> np.ndarray:
        assert self.net is not None
        self.net.eval()
        out = np.empty(len(ia), np.float32)
        for s in range(0, len(ia), chunk):
            a = torch.as_tensor(ia[s : s + chunk], dtype=torch.long, device=self.device)
            b = torch.as_tensor(ib[s : s + chunk], dtype=torch.long, device=self.device)
            out[s : s + chunk] = self._score_rep(ra, a, rb, b).float().cpu().numpy()
        return out

    # -- public API ----------------------------------------------------------------------------------------------
    def fit(self, graphs: Any, ged: Any, *, dev: tuple[Any, Any] | None = None, resume: bool = False) -> Any:
        """Train on GED pairs.

        Args:
            graphs: the graph collection (GraphSet, path, list or mapping of networkx graphs). It also becomes
                the collection searched by :meth:`most_similar`.
            ged: a :class:`GEDTable`, a GED TSV path, or ``(id_a, id_b, ged)`` tuples; targets are exp(-nGED).
            dev: optional ``(graphs, ged)`` for early stopping; by default ``dev_share`` of the training
                graphs are held out as dev queries (their pairs with the other training graphs).
            resume: continue from the current weights and featurizer (a loaded model) instead of new ones.

        Returns:
            self.
        """
        from simlab.train import TrainConfig, fit

        cfg = self.config
        gs = _graphs(graphs)
        table = _ged_table(ged, gs)
        if not (resume and self.net is not None and self.featurizer is not None):
            self.featurizer = Featurizer(
                cfg.label_attr, list(cfg.feature_attrs), cfg.degree, cfg.max_degree, cfg.unknown
            ).fit(gs)
            torch.manual_seed(cfg.seed)
            self.net = self._build(self.featurizer.dim)
        store = GraphStore(gs, self.featurizer)
        ia = np.array([gs.position(x) for x in table.a], np.int64)
        ib = np.array([gs.position(x) for x in table.b], np.int64)
        sizes = store.sizes.numpy().astype(np.float64)
        y = np.exp(-table.ged / ((sizes[ia] + sizes[ib]) / 2)).astype(np.float32)
        rng = np.random.default_rng(cfg.seed)
        dev_fn = None
        if dev is not None:
            dgs = _graphs(dev[0])
            dtab = _ged_table(dev[1], dgs)
            dstore = GraphStore(dgs, self.featurizer)
            dia = np.array([dgs.position(x) for x in dtab.a])
            dib = np.array([dgs.position(x) for x in dtab.b])
            ds = dstore.sizes.numpy().astype(np.float64)
            dy = np.exp(-dtab.ged / ((ds[dia] + ds[dib]) / 2))
            dev_fn = self._dev_metric(dstore, dia, dib, dy)
        elif cfg.dev_share > 0 and len(gs) >= 20:
            involved = np.unique(np.concatenate([ia, ib]))
            n_dev = max(2, round(cfg.dev_share * len(involved)))
            dev_graphs = rng.choice(involved, n_dev, replace=False)
            is_dev = np.zeros(len(gs), bool)
            is_dev[dev_graphs] = True
            da, db = is_dev[ia], is_dev[ib]
            dev_rows = da ^ db
            train_rows = ~da & ~db
            if dev_rows.sum() >= 20 and train_rows.sum() >= 20:
                qa = np.where(da[dev_rows], ia[dev_rows], ib[dev_rows])
                qb = np.where(da[dev_rows], ib[dev_rows], ia[dev_rows])
                dev_fn = self._dev_metric(store, qa, qb, y[dev_rows].astype(np.float64))
                ia, ib, y = ia[train_rows], ib[train_rows], y[train_rows]
        n = len(ia)
        per_epoch = n if not cfg.pairs_per_epoch else min(cfg.pairs_per_epoch, n)
        near = _near_rows(ia, ib, y, cfg.near_k) if cfg.near_share > 0 else None

        def batches(epoch: int) -> Any:
            if near is None:
                order = rng.permutation(n)[:per_epoch]
            else:  # oversample each graph's most similar partners (they decide the top of the rankings)
                n_near = int(cfg.near_share * per_epoch)
                order = np.concatenate([rng.choice(near, n_near), rng.permutation(n)[: per_epoch - n_near]])
                order = order[rng.permutation(len(order))]
            for s in range(0, per_epoch, cfg.batch_size):
                sel = order[s : s + cfg.batch_size]
                yield self._make_batch(store, ia[sel], ib[sel], y[sel])

        tcfg = TrainConfig(
            epochs=cfg.epochs,
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            patience=cfg.patience,
            seed=cfg.seed,
            device=cfg.device,
            threads=cfg.threads,
            progress=cfg.progress,
        )
        step, loss = self._train_step()
        hist = fit(self.net, batches, step, tcfg, dev_metric=dev_fn, data_kind="scored_pairs", loss=loss)
        self.history = hist.to_dict()
        self.collection = gs
        self._rep = None
        return self

    def _dev_metric(self, store: GraphStore, qa: np.ndarray, qb: np.ndarray, y: np.ndarray) -> Any:
        from simlab.graph.evaluate import grouped_metrics

        def metric(net: nn.Module) -> float:
            rep = self._represent(store)
            pred = self._score_chunked(rep, qa, rep, qb)
            return grouped_metrics(qa, pred, y, ks=())["rho"]

        return metric

    def encode(self, graphs: Any) -> np.ndarray:
        """Graph vectors ``(n, dim)`` float32 for a GraphSet, path, list of graphs or one graph."""
        rep = self._represent(self._store_of(graphs))
        return self._vectors_of(rep)

    def _vectors_of(self, rep: Any) -> np.ndarray:
        raise NotImplementedError

    def _node_gnn(self) -> nn.Module:
        raise NotImplementedError

    @torch.no_grad()
    def node_embeddings(self, graphs: Any, chunk: int = 4096) -> np.ndarray:
        """The GNN's node embeddings before pooling, ``(n_graphs, max_nodes, d)`` float32, zero-padded.

        Row ``k`` of graph ``g`` is its ``k``-th node in ``g.nodes()`` order (what the edit-path search uses to
        guide its node assignment, see :class:`~simlab.graph.refine.EditPathScorer`).
        """
        from torch_geometric.utils import to_dense_batch

        store = self._store_of(graphs)
        gnn = self._node_gnn()
        gnn.eval()
        width = int(store.sizes.max()) if len(store) else 0
        out = []
        for s in range(0, len(store), chunk):
            b = store.batch(torch.arange(s, min(s + chunk, len(store)))).to(self.device)
            dense, _ = to_dense_batch(
                gnn(b.x, b.edge_index), b.batch, batch_size=int(b.num_graphs), max_num_nodes=width
            )
            out.append(dense.float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0, 0), np.float32)

    def score_pairs(self, graphs_a: Any, graphs_b: Any) -> np.ndarray:
        """Predicted exp(-nGED) of pairs ``(graphs_a[i], graphs_b[i])``, ``(n,)``, scored in batches."""
        ga, gb = _graphs(graphs_a), _graphs(graphs_b)
        if len(ga) != len(gb):
            raise DataError(f"score_pairs needs as many graphs on both sides: {len(ga)} vs {len(gb)}")
        ra, rb = self._represent(self._store_of(ga)), self._represent(self._store_of(gb))
        idx = np.arange(len(ga))
        return self._score_chunked(ra, idx, rb, idx)

    def score_id_pairs(self, graphs: Any, ids_a: Sequence[Any], ids_b: Sequence[Any]) -> np.ndarray:
        """Predicted exp(-nGED) of pairs given by ids of `graphs` (each graph is encoded once)."""
        gs = _graphs(graphs)
        rep = self._represent(self._store_of(gs))
        ia = np.array([gs.position(x) for x in ids_a], np.int64)
        ib = np.array([gs.position(x) for x in ids_b], np.int64)
        return self._score_chunked(rep, ia, rep, ib)

    def score_matrix(self, queries: Any, corpus: Any) -> np.ndarray:
        """``(len(queries), len(corpus))`` predicted exp(-nGED) for all query x corpus pairs."""
        rq, rc = self._represent(self._store_of(queries)), self._represent(self._store_of(corpus))
        nc = self._rep_len(rc)
        nq = self._rep_len(rq)
        ia = np.repeat(np.arange(nq), nc)
        ib = np.tile(np.arange(nc), nq)
        return self._score_chunked(rq, ia, rc, ib).reshape(nq, nc)

    def _rep_len(self, rep: Any) -> int:
        raise NotImplementedError

    def similarity(self, a: Any, b: Any) -> float:
        """Predicted exp(-nGED) of two graphs (ids of the collection or networkx graphs)."""
        self._check()
        ra, _ = self._query_rep(a)
        rb, _ = self._query_rep(b)
        return float(self._score_chunked(ra, np.zeros(1, np.int64), rb, np.zeros(1, np.int64))[0])

    def _most_similar_scores(
        self, query: Any, candidates: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, int | None]:
        rq, pos = self._query_rep(query)
        rc = self._collection_rep()
        cand = np.arange(self._rep_len(rc)) if candidates is None else np.asarray(candidates, np.int64)
        scores = self._score_chunked(rq, np.zeros(len(cand), np.int64), rc, cand)
        return cand, scores, pos

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """The k graphs of the collection most similar to `query` (an id of the collection, excluded from the
        results, or a networkx graph), scoring every collection graph in batches."""
        self._check()
        cand, scores, pos = self._most_similar_scores(query)
        return _top(self.collection, cand, scores, pos, k)  # type: ignore[arg-type]

    def embed_file(self, path: str | Path) -> Vectors:
        """Graph vectors of every graph in a graphs file / directory, keyed by graph id."""
        gs = _graphs(path)
        return Vectors(gs.ids, self.encode(gs))

    def evaluate_file(self, path: str | Path, **options: Any) -> Any:
        """Evaluate on a GED TSV (``id_a id_b ged``): ``simlab evaluate MODEL GED.tsv`` lands here."""
        from simlab.graph.evaluate import evaluate_ged

        return evaluate_ged(self, str(path), **options)

    @property
    def vectors(self) -> Vectors:
        """Graph vectors of the collection (keys = graph ids)."""
        self._check()
        rep = self._collection_rep()
        return Vectors(self.collection.ids, self._vectors_of(rep))  # type: ignore[union-attr]

    # -- persistence ---------------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact: weights (safetensors), config, label vocabulary, the collection (JSON lines)."""
        self._check()
        assert self.net is not None and self.featurizer is not None
        with ArtifactWriter(path, self.kind, to_dict(self.config)) as w:
            w.save_arrays("model.safetensors", {k: v.contiguous() for k, v in self.net.state_dict().items()})
            w.save_json("featurizer.json", self.featurizer.to_dict())
            w.save_json("history.json", self.history)
            if self.collection is not None:
                w.save_text("collection.jsonl", _collection_text(self.collection))
            self._save_extra(w)
        return Path(path)

    def _save_extra(self, w: ArtifactWriter) -> None:
        pass

    @classmethod
    def from_artifact(cls, art: Artifact) -> Any:
        cfg = dict(art.config)
        model = cls(cfg)
        model.featurizer = Featurizer.from_dict(art.json("featurizer.json"))
        torch.manual_seed(0)
        model.net = model._build(model.featurizer.dim)
        state = {k: torch.from_numpy(v.copy()) for k, v in art.arrays("model.safetensors").items()}
        try:
            model.net.load_state_dict(state)
        except RuntimeError as exc:
            raise DataError(f"{art.path}: weights do not fit the configured model ({exc})") from None
        model.net.to(model.device).eval()
        model.history = art.json("history.json") if "history.json" in art.files else {}
        if "collection.jsonl" in art.files:
            model.collection = GraphSet.from_jsonl_text(art.text("collection.jsonl"), art.path)
        return model

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load a model saved with :meth:`save` (checksums verified, nothing unpickled)."""
        return cls.from_artifact(Artifact(path, kind=cls.kind))


def _collection_text(gs: GraphSet) -> str:
    import json

    lines = []
    for gid, g in zip(gs.ids, gs.graphs, strict=True):
        nodes = [{"id": n, **{k: v for k, v in d.items() if k != "id"}} for n, d in g.nodes(data=True)]
        edges = [{"source": u, "target": v} for u, v in g.edges()]
        lines.append(json.dumps({"id": gid, "nodes": nodes, "edges": edges}, default=str))
    return "\n".join(lines) + "\n"


def _near_rows(ia: np.ndarray, ib: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Rows of the training pairs that are among the `k` most similar partners of either endpoint."""
    g = np.concatenate([ia, ib])
    rows = np.concatenate([np.arange(len(ia)), np.arange(len(ia))])
    yy = np.concatenate([y, y])
    order = np.lexsort((-yy, g))
    g, rows = g[order], rows[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    return np.unique(rows[rank < k])


def _top(collection: GraphSet, cand: np.ndarray, scores: np.ndarray, exclude: int | None, k: int) -> Hits:
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    keep = cand != exclude if exclude is not None else np.ones(len(cand), bool)
    cand, scores = cand[keep], scores[keep]
    order = np.lexsort((cand, -scores))[:k]
    return Hits([collection.ids[int(i)] for i in cand[order]], scores[order].astype(np.float32))


# -- bi-encoder ------------------------------------------------------------------------------------------------


class _BiNet(nn.Module):
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

    def encode(self, batch: Any) -> Tensor:
        return self.encoder(batch)

    @staticmethod
    def score(a: Tensor, b: Tensor) -> Tensor:
        return torch.exp(-torch.sqrt(((a - b) ** 2).sum(-1) + 1e-9))


class GraphBiEncoder(_GraphModel):
    """Siamese GNN bi-encoder: ``s(G1, G2) = exp(-||f(G1) - f(G2)||_2)`` regressed on exp(-nGED).

    Example:
        >>> model = GraphBiEncoder(conv="gin", epochs=5).fit(graphs, "GED.tsv")   # doctest: +SKIP
        >>> model.most_similar("g7", k=5)                                          # doctest: +SKIP

    Args:
        config: a :class:`GraphModelConfig` or dict; keyword arguments override it.
    """

    kind = "graph-biencoder"
    metric = "euclidean"

    def _build(self, in_dim: int) -> nn.Module:
        return _BiNet(self.config, in_dim)

    def _train_step(self) -> Any:
        from simlab.registry import LOSSES
        from simlab.train import siamese_step

        loss = LOSSES.get("mse")()
        return siamese_step(loss), loss

    def _make_batch(self, store: GraphStore, ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> Any:
        from simlab.train import Batch

        return Batch(
            "scored_pairs",
            {"a": store.batch(ia), "b": store.batch(ib)},
            {"score": torch.from_numpy(y)},
            len(ia),
        )

    @torch.no_grad()
    def _represent(self, store: GraphStore, chunk: int = 4096) -> Tensor:
        assert self.net is not None
        self.net.eval()
        out = []
        for s in range(0, len(store), chunk):
            b = store.batch(torch.arange(s, min(s + chunk, len(store)))).to(self.device)
            out.append(self.net.encode(b))  # type: ignore[operator]
        return torch.cat(out) if out else torch.zeros(0, self.net.encoder.dim)  # type: ignore[union-attr]

    def _slice_rep(self, rep: Tensor, idx: Sequence[int]) -> Tensor:
        return rep[list(idx)]

    def _rep_len(self, rep: Tensor) -> int:
        return int(rep.shape[0])

    def _score_rep(self, ra: Tensor, ia: Tensor, rb: Tensor, ib: Tensor) -> Tensor:
        return _BiNet.score(ra[ia], rb[ib])

    def _vectors_of(self, rep: Tensor) -> np.ndarray:
        return rep.float().cpu().numpy()

    def _node_gnn(self) -> nn.Module:
        return self.net.encoder.gnn  # type: ignore[union-attr,return-value]

    def most_similar(
        self,
        query: Any,
        k: int = 10,
        *,
        rerank: Any = None,
        candidates: int = 100,
        blend: float = 0.5,
        index: Any = None,
    ) -> Hits:
        """The k most similar graphs of the collection, by vector distance.

        Args:
            query: an id of the collection (excluded from the results) or a networkx graph.
            k: number of results.
            rerank: a fitted :class:`GraphPairModel` or a :class:`~simlab.graph.refine.EditPathScorer`; the
                bi-encoder's top `candidates` are re-scored by it.
            candidates: candidates passed to the re-ranker.
            blend: re-ranked score = ``blend * bi-encoder + (1 - blend) * pair model`` (0: the pair model's
                score only). Both predict exp(-nGED); on AIDS700nef the 0.5 blend beat either model alone.
            index: an optional ``simlab.Index`` over :attr:`vectors` (metric ``euclidean``) to search instead
                of an exact scan.
        """
        self._check()
        rq, pos = self._query_rep(query)
        rc = self._collection_rep()
        want = max(k, candidates if rerank is not None else k) + (1 if pos is not None else 0)
        qv = rq.float().cpu().numpy()
        if index is not None:
            hits = index.search(qv, k=want)
            cand = np.array([self.collection.position(x) for x in hits.keys[0]], np.int64)  # type: ignore[union-attr]
        else:
            from simlab.metrics import topk

            cand, _ = topk(qv, rc.float().cpu().numpy(), want, "euclidean")
            cand = cand[0]
        if pos is not None:
            cand = cand[cand != pos]
        if rerank is None:
            scores = self._score_chunked(rq, np.zeros(len(cand), np.int64), rc, cand)
            return _top(self.collection, cand, scores, None, k)  # type: ignore[arg-type]
        base = self._score_chunked(rq, np.zeros(len(cand), np.int64), rc, cand) if blend > 0 else None
        return rerank.rerank(
            query,
            [self.collection.ids[int(i)] for i in cand],
            k,  # type: ignore[union-attr]
            collection=self.collection,
            base_scores=base,
            blend=blend,
        )

    def _save_extra(self, w: ArtifactWriter) -> None:
        if self.collection is not None:
            self.vectors.to_artifact(w, prefix="collection_")


# -- pair model --------------------------------------------------------------------------------------------------


class _PairNet(nn.Module):
    def __init__(self, cfg: PairModelConfig, in_dim: int, n_labels: int) -> None:
        super().__init__()
        self.gnn = GNNEncoder(
            cfg.conv, in_dim, cfg.hidden, cfg.layers, cfg.dropout, cfg.residual, cfg.jk, cfg.heads
        )
        d = self.gnn.out_dim
        self.pool = GraphPool(cfg.pool, d)
        self.k, self.bins, self.bounds, self.n_labels = cfg.ntn_k, cfg.bins, cfg.bounds, n_labels
        self.W = nn.Parameter(torch.randn(cfg.ntn_k, d, d) / d)
        self.V = nn.Linear(2 * d, cfg.ntn_k)
        n_feat = cfg.ntn_k + cfg.bins + (3 if cfg.bounds else 0)
        self.mlp = nn.Sequential(
            nn.Linear(n_feat, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1)
        )

    def represent(self, batch: Any) -> dict[str, Tensor]:
        from torch_geometric.utils import scatter, to_dense_batch

        g = int(batch.num_graphs)
        u = self.gnn(batch.x, batch.edge_index)
        h = self.pool(u, batch.batch, g)
        dense, mask = to_dense_batch(u, batch.batch, batch_size=g)
        n = scatter(torch.ones_like(batch.batch, dtype=torch.float), batch.batch, 0, dim_size=g, reduce="sum")
        m = (
            scatter(
                torch.ones(batch.edge_index.shape[1], device=u.device),
                batch.batch[batch.edge_index[0]],
                0,
                dim_size=g,
                reduce="sum",
            )
            / 2
        )
        rep = {"h": h, "u": dense, "mask": mask, "n": n, "m": m}
        if self.n_labels:
            rep["labels"] = scatter(batch.x[:, : self.n_labels], batch.batch, 0, dim_size=g, reduce="sum")
        return rep

    def interact(self, ra: dict[str, Tensor], ia: Tensor, rb: dict[str, Tensor], ib: Tensor) -> Tensor:
        h1, h2 = ra["h"][ia], rb["h"][ib]
        w = (self.W + self.W.transpose(1, 2)) / 2
        bil = torch.einsum("bi,kij,bj->bk", h1, w, h2)
        feats = [torch.relu(bil + self.V(torch.cat([h1 + h2, (h1 - h2).abs()], -1)))]
        if self.bins:
            u1, u2 = ra["u"][ia], rb["u"][ib]
            m = ra["mask"][ia][:, :, None] & rb["mask"][ib][:, None, :]
            with torch.no_grad():
                s = torch.sigmoid(torch.bmm(u1, u2.transpose(1, 2)))
                s = (s + torch.sigmoid(torch.bmm(u2, u1.transpose(1, 2))).transpose(1, 2)) / 2
                bin_idx = (s * self.bins).long().clamp_(max=self.bins - 1)
                bin_idx = bin_idx + torch.arange(len(ia), device=s.device)[:, None, None] * self.bins
                hist = torch.zeros(len(ia) * self.bins, device=s.device)
                hist.index_add_(0, bin_idx[m], torch.ones(int(m.sum()), device=s.device))
                hist = hist.view(len(ia), self.bins)
                hist = hist / hist.sum(1, keepdim=True).clamp_min(1)
            feats.append(hist)
        if self.bounds:
            n1, n2 = ra["n"][ia], rb["n"][ib]
            avg = (n1 + n2) / 2
            if self.n_labels:
                common = torch.minimum(ra["labels"][ia], rb["labels"][ib]).sum(-1)
                node_lb = torch.maximum(n1, n2) - common
            else:
                node_lb = (n1 - n2).abs()
            lb = (node_lb + (ra["m"][ia] - rb["m"][ib]).abs()) / avg
            feats.append(torch.stack([lb, torch.exp(-lb), (n1 - n2).abs() / avg], -1))
        return torch.sigmoid(self.mlp(torch.cat(feats, -1)).squeeze(-1))

    def forward(self, batch: Any, ia: Tensor, ib: Tensor) -> Tensor:
        rep = self.represent(batch)
        return self.interact(rep, ia, rep, ib)


class GraphPairModel(_GraphModel):
    """SimGNN-style pair model (NTN + node-similarity histogram + GED bounds), trained on exp(-nGED).

    Example:
        >>> pair = GraphPairModel(conv="gin").fit(graphs, "GED.tsv")          # doctest: +SKIP
        >>> bi.most_similar("g7", k=5, rerank=pair, candidates=50)             # doctest: +SKIP
    """

    kind = "graph-pair"
    config_cls = PairModelConfig

    def _n_labels(self) -> int:
        assert self.featurizer is not None
        return len(self.featurizer.vocab or [])

    def _build(self, in_dim: int) -> nn.Module:
        return _PairNet(self.config, in_dim, self._n_labels())  # type: ignore[arg-type]

    def _train_step(self) -> Any:
        import torch.nn.functional as F

        from simlab.registry import LOSSES

        def step(net: nn.Module, batch: Any) -> tuple[Tensor, int]:
            pred = net(batch.inputs["graphs"], batch.inputs["ia"], batch.inputs["ib"])
            return F.mse_loss(pred, batch.targets["score"]), batch.size

        return step, LOSSES.get("mse")()

    def _make_batch(self, store: GraphStore, ia: np.ndarray, ib: np.ndarray, y: np.ndarray) -> Any:
        from simlab.train import Batch

        uniq, inv = np.unique(np.concatenate([ia, ib]), return_inverse=True)
        inv = torch.from_numpy(inv.astype(np.int64))
        return Batch(
            "scored_pairs",
            {"graphs": store.batch(uniq), "ia": inv[: len(ia)], "ib": inv[len(ia) :]},
            {"score": torch.from_numpy(y)},
            len(ia),
        )

    @torch.no_grad()
    def _represent(self, store: GraphStore, chunk: int = 4096) -> dict[str, Tensor]:
        assert self.net is not None
        self.net.eval()
        parts = []
        for s in range(0, len(store), chunk):
            b = store.batch(torch.arange(s, min(s + chunk, len(store)))).to(self.device)
            parts.append(self.net.represent(b))  # type: ignore[operator]
        if len(parts) == 1:
            return parts[0]
        width = max(p["u"].shape[1] for p in parts)
        out = {}
        for key in parts[0]:
            ts = [p[key] for p in parts]
            if key in ("u", "mask"):
                ts = [
                    nn.functional.pad(t, (0, 0, 0, width - t.shape[1]))
                    if key == "u"
                    else nn.functional.pad(t, (0, width - t.shape[1]))
                    for t in ts
                ]
            out[key] = torch.cat(ts)
        return out

    def _slice_rep(self, rep: dict[str, Tensor], idx: Sequence[int]) -> dict[str, Tensor]:
        return {k: v[list(idx)] for k, v in rep.items()}

    def _rep_len(self, rep: dict[str, Tensor]) -> int:
        return int(rep["h"].shape[0])

    def _score_rep(self, ra: dict[str, Tensor], ia: Tensor, rb: dict[str, Tensor], ib: Tensor) -> Tensor:
        return self.net.interact(ra, ia, rb, ib)  # type: ignore[union-attr,operator]

    def _vectors_of(self, rep: dict[str, Tensor]) -> np.ndarray:
        return rep["h"].float().cpu().numpy()

    def _node_gnn(self) -> nn.Module:
        return self.net.gnn  # type: ignore[union-attr,return-value]

    def rerank(
        self,
        query: Any,
        candidates: Sequence[Any],
        k: int = 10,
        *,
        collection: Any = None,
        base_scores: Sequence[float] | None = None,
        blend: float = 0.0,
    ) -> Hits:
        """Re-score candidate graphs (ids of `collection`, default this model's collection) for `query`.

        Args:
            query: a networkx graph or an id of `collection`.
            candidates: candidate ids (e.g. a bi-encoder's top 100).
            k: results to keep.
            collection: where the ids live (e.g. the bi-encoder's collection).
            base_scores: the first stage's scores of the candidates (same order), for blending.
            blend: final score = ``blend * base + (1 - blend) * pair`` (0: the pair model's score only).
        """
        import networkx as nx

        self._check()
        coll = _graphs(collection) if collection is not None else self.collection
        if coll is None:
            raise NotFittedError("rerank needs a collection")
        q = query if isinstance(query, nx.Graph) else coll[query]
        if not 0 <= blend <= 1:
            raise ConfigError(f"blend must be in [0, 1], got {blend}")
        if blend > 0 and (base_scores is None or len(base_scores) != len(candidates)):
            raise ConfigError("blend > 0 needs base_scores, one per candidate")
        keep = [i for i, c in enumerate(candidates) if isinstance(query, nx.Graph) or c != query]
        cand_ids = [candidates[i] for i in keep]
        if not cand_ids:
            return Hits([], np.zeros(0, np.float32))
        sub = coll.subset(cand_ids)
        rq = self._represent(self._store_of(GraphSet([q], ["query"])))
        rc = self._represent(self._store_of(sub))
        scores = self._score_chunked(rq, np.zeros(len(sub), np.int64), rc, np.arange(len(sub)))
        if blend > 0:
            base = np.asarray(base_scores, np.float32)[keep]
            scores = (blend * base + (1 - blend) * scores).astype(np.float32)
        return _top(sub, np.arange(len(sub)), scores, None, k)
