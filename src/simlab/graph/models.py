"""Graph similarity models trained on GED: a Siamese bi-encoder and a SimGNN-style pair model.

:class:`GraphBiEncoder` maps every graph to one vector with a shared GNN encoder; the predicted similarity is
::

    s(G1, G2) = exp(-||f(G1) - f(G2)||_2)          (trained to regress exp(-nGED))

so ranking by s is ranking by Euclidean distance: graph vectors can go into any ``simlab.Index`` (metric
``euclidean``) and millions of graphs can be searched. Training uses :func:`simlab.train.fit` with
:func:`simlab.train.siamese_step` and the registered ``mse`` loss.

:class:`GraphPairModel` scores a pair jointly (SimGNN family, Bai et al., WSDM 2019): node embeddings from a
GNN, attention pooling with a global context, a neural tensor network on the two graph vectors::

    ntn_k = relu(h1^T W_k h2 + V_k [h1 + h2; |h1 - h2|] + b_k)      (W_k symmetrised, so s(a,b) = s(b,a))

plus node-level pairwise features (a normalised histogram of the sigmoid node-node similarities) and cheap
GED lower bounds (node-label multiset and edge-count differences, divided by the mean size); an MLP maps them
to a score in (0, 1). It is much slower per pair than a vector comparison but more accurate, so it re-ranks
the bi-encoder's candidates (:meth:`GraphBiEncoder.most_similar` with ``rerank=``). Pairs are always scored in
batches; node embeddings of each graph are computed once per call.

Both models are :class:`simlab.model.Model` s built from the same parts: a :class:`Featurizer` for node
features and a net from :mod:`simlab.graph.nets` (everything that differs between them lives in the net).
They implement ``fit(graphs, ged) -> self``, ``encode``, ``similarity``, ``most_similar``, ``score_pairs``,
``score_matrix``, ``embed_file``, ``save`` / ``simlab.load``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

import networkx as nx
import numpy as np
import torch

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError
from simlab.evaluate import Report
from simlab.graph.config import GraphModelConfig, PairModelConfig
from simlab.graph.features import Featurizer, GraphStore
from simlab.graph.ged import GEDTable
from simlab.graph.io import GraphSet, GraphsLike, collection_text
from simlab.graph.nets import (
    CHUNK_GRAPHS,
    BiNet,
    GraphNet,
    PairNet,
    Reps,
    build_net,
    dense_node_embeddings,
    load_weights,
    represent,
    score_reps,
    slice_reps,
    weights,
)
from simlab.graph.pairs import GEDInput, PairSampler, ScoredPairs, dev_queries, ged_table
from simlab.model import Model, config_dict
from simlab.vectors import Hits, Vectors

if TYPE_CHECKING:
    from simlab.index import Index

log = logging.getLogger(__name__)

#: A query: an id of the model's collection or a networkx graph.
GraphQuery = Hashable | nx.Graph


class GraphReranker(Protocol):
    """Re-scores a first stage's candidates (:class:`GraphPairModel`,
    :class:`~simlab.graph.refine.EditPathScorer`)."""

    def rerank(
        self,
        query: GraphQuery,
        candidates: Sequence[Hashable],
        k: int = 10,
        *,
        collection: GraphSet | None = None,
        base_scores: np.ndarray | None = None,
        blend: float = 0.0,
    ) -> Hits: ...


class RankDev:
    """Dev metric of :func:`simlab.train.fit`: mean per-query Spearman rho of the dev pairs."""

    def __init__(self, store: GraphStore, pairs: ScoredPairs) -> None:
        self.store, self.pairs = store, pairs

    def __call__(self, net: GraphNet) -> float:
        from simlab.graph.evaluate import grouped_metrics

        rep = represent(net, self.store)
        pred = score_reps(net, rep, self.pairs.ia, rep, self.pairs.ib)
        return grouped_metrics(self.pairs.ia, pred, self.pairs.y, ks=())["rho"]


def _training_data(
    cfg: GraphModelConfig,
    gs: GraphSet,
    table: GEDTable,
    feat: Featurizer,
    net: GraphNet,
    dev: tuple[GraphsLike, GEDInput] | None,
) -> tuple[PairSampler, RankDev | None]:
    """The per-epoch sampler of the training pairs and the dev metric (one seeded generator for both)."""
    store = GraphStore(gs, feat)
    rng = np.random.default_rng(cfg.train.seed)
    pairs, dev_metric = _dev_split(cfg, ScoredPairs.of(table, gs, store, np.float32), store, feat, dev, rng)
    batches = (cfg.batch_size, cfg.pairs_per_epoch, cfg.near_share, cfg.near_k)
    return PairSampler(store, pairs, net.training_batch, *batches, rng), dev_metric


def _dev_split(
    cfg: GraphModelConfig,
    pairs: ScoredPairs,
    store: GraphStore,
    feat: Featurizer,
    dev: tuple[GraphsLike, GEDInput] | None,
    rng: np.random.Generator,
) -> tuple[ScoredPairs, RankDev | None]:
    """The training pairs and the dev metric: on `dev`, or on ``dev_share`` of the training graphs."""
    if dev is not None:
        dgs = GraphSet.coerce(dev[0])
        dstore = GraphStore(dgs, feat)
        return pairs, RankDev(dstore, ScoredPairs.of(ged_table(dev[1], dgs), dgs, dstore))
    if cfg.dev_share > 0 and len(store) >= 20:
        split = dev_queries(pairs, len(store), cfg.dev_share, rng)
        if split is not None:
            return split[0], RankDev(store, split[1])
    return pairs, None


def _top(collection: GraphSet, cand: np.ndarray, scores: np.ndarray, exclude: int | None, k: int) -> Hits:
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    keep = cand != exclude if exclude is not None else np.ones(len(cand), bool)
    cand, scores = cand[keep], scores[keep]
    order = np.lexsort((cand, -scores))[:k]
    return Hits([collection.ids[int(i)] for i in cand[order]], scores[order].astype(np.float32))


# -- the shared model ----------------------------------------------------------------------------------------
class GraphNetModel(Model):
    """A GED-trained graph model: a fitted :class:`Featurizer`, a net and the collection it searches.

    Subclasses declare ``KIND``, ``Config``, ``CAPABILITIES`` and ``NET`` (:class:`~simlab.graph.nets.BiNet`
    or :class:`~simlab.graph.nets.PairNet`); how graphs are represented, scored and trained is the net's.

    Attributes:
        featurizer: node features (fitted with the net).
        net: the torch module (None before fitting).
        collection: the graphs searched by :meth:`most_similar` (a :class:`GraphSet`).
        history: the training history.
    """

    NET: ClassVar[type[GraphNet]]
    SCORES_GRAPHS: ClassVar[bool] = True  # pairs of whole graphs (the ``ged`` evaluator checks it)
    config: GraphModelConfig
    collection: GraphSet | None

    def __init__(
        self, config: GraphModelConfig | Mapping[str, object] | None = None, /, **overrides: object
    ) -> None:
        super().__init__(config, **overrides)
        self.featurizer: Featurizer | None = None
        self.net: GraphNet | None = None
        self.collection = None
        self.history: dict[str, object] = {}
        self._rep: Reps | None = None

    # -- the contract ---------------------------------------------------------------------------------------
    @classmethod
    def build_config(
        cls, config: GraphModelConfig | Mapping[str, object] | None = None, /, **overrides: object
    ) -> GraphModelConfig:
        """The base rule, plus: the other graph model's config carries its shared keys over."""
        if isinstance(config, GraphModelConfig) and not isinstance(config, cls.Config):
            config = config_dict(config)
        return super().build_config(config, **overrides)

    def torch_modules(self) -> list[torch.nn.Module]:
        return [self.net] if self.net is not None else []

    def check_fitted(self) -> None:
        self._fitted()

    def _fitted(self) -> tuple[GraphNet, Featurizer]:
        if self.net is None or self.featurizer is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(...) or simlab.load(...)")
        return self.net, self.featurizer

    def to(self, device: str | torch.device = "auto") -> GraphNetModel:
        self._rep = None  # cached representations live on the old device
        return super().to(device)

    # -- training --------------------------------------------------------------------------------------------
    def fit(
        self,
        graphs: GraphsLike,
        ged: GEDInput,
        *,
        dev: tuple[GraphsLike, GEDInput] | None = None,
        resume: bool = False,
    ) -> GraphNetModel:
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
        from simlab.train import fit

        cfg = self.config
        gs = GraphSet.coerce(graphs)
        table = ged_table(ged, gs)
        if not (resume and self.net is not None and self.featurizer is not None):
            feat = cfg.featurizer().fit(gs)
            self.net = build_net(lambda: self.NET.build(cfg, feat), seed=cfg.train.seed)
            self.featurizer = feat
        net, feat = self._fitted()
        sampler, dev_metric = _training_data(cfg, gs, table, feat, net, dev)
        step, loss = net.objective()
        with self.threads():
            hist = fit(
                net, sampler, step, cfg.train, dev_metric=dev_metric, data_kind="scored_pairs", loss=loss
            )
        self.history = hist.to_dict()
        self.collection = gs
        self._rep = None
        return self

    # -- representations -------------------------------------------------------------------------------------
    def _store(self, graphs: GraphsLike) -> GraphStore:
        _, feat = self._fitted()
        return GraphStore(GraphSet.coerce(graphs), feat)

    def _represent(self, graphs: GraphsLike) -> Reps:
        net, _ = self._fitted()
        return represent(net, self._store(graphs))

    def _score(self, ra: Reps, ia: np.ndarray, rb: Reps, ib: np.ndarray) -> np.ndarray:
        net, _ = self._fitted()
        return score_reps(net, ra, ia, rb, ib)

    def _collection_rep(self) -> Reps:
        if self.collection is None:
            raise NotFittedError("the model has no collection; fit it or call set_collection(graphs)")
        if self._rep is None:
            self._rep = self._represent(self.collection)
        return self._rep

    def _query_rep(self, x: GraphQuery) -> tuple[Reps, int | None]:
        """Representation of one query (an id of the collection or a graph) and its collection position."""
        if isinstance(x, nx.Graph):
            return self._represent(GraphSet([x], ["query"])), None
        if self.collection is None:
            raise NotFittedError("the model has no collection to look ids up in")
        pos = self.collection.position(x)
        return slice_reps(self._collection_rep(), [pos]), pos

    def set_collection(self, graphs: GraphsLike) -> GraphNetModel:
        """Replace the collection searched by :meth:`most_similar` (e.g. a larger set of graphs)."""
        self.collection = GraphSet.coerce(graphs)
        self._rep = None
        self._index = None
        return self

    # -- public API ------------------------------------------------------------------------------------------
    def encode(self, graphs: GraphsLike) -> np.ndarray:
        """Graph vectors ``(n, dim)`` float32 for a GraphSet, path, list of graphs or one graph."""
        with self.threads():
            return self._represent(graphs)["h"].float().cpu().numpy()

    def embed(self, graphs: GraphsLike, keys: Sequence[Hashable] | None = None) -> Vectors:
        """Graph vectors as :class:`Vectors` keyed by `keys` (default: the graph ids)."""
        gs = GraphSet.coerce(graphs)
        return Vectors(list(gs.ids) if keys is None else list(keys), self.encode(gs))

    def embed_file(self, path: str | Path) -> Vectors:
        """Graph vectors of every graph in a graphs file / directory, keyed by graph id."""
        return self.embed(GraphSet.coerce(path))

    def node_embeddings(self, graphs: GraphsLike, chunk: int = CHUNK_GRAPHS) -> np.ndarray:
        """The GNN's node embeddings before pooling, ``(n_graphs, max_nodes, d)`` float32, zero-padded.

        Row ``k`` of graph ``g`` is its ``k``-th node in ``g.nodes()`` order (what the edit-path search uses
        to guide its node assignment, see :class:`~simlab.graph.refine.EditPathScorer`).
        """
        net, _ = self._fitted()
        with self.threads():
            return dense_node_embeddings(net.node_gnn, self._store(graphs), chunk)

    def score_pairs(self, graphs_a: GraphsLike, graphs_b: GraphsLike) -> np.ndarray:
        """Predicted exp(-nGED) of pairs ``(graphs_a[i], graphs_b[i])``, ``(n,)``, scored in batches."""
        ga, gb = GraphSet.coerce(graphs_a), GraphSet.coerce(graphs_b)
        if len(ga) != len(gb):
            raise DataError(f"score_pairs needs as many graphs on both sides: {len(ga)} vs {len(gb)}")
        with self.threads():
            idx = np.arange(len(ga))
            return self._score(self._represent(ga), idx, self._represent(gb), idx)

    def score_id_pairs(
        self, graphs: GraphsLike, ids_a: Sequence[Hashable], ids_b: Sequence[Hashable]
    ) -> np.ndarray:
        """Predicted exp(-nGED) of pairs given by ids of `graphs` (each graph is encoded once)."""
        gs = GraphSet.coerce(graphs)
        ia = np.array([gs.position(x) for x in ids_a], np.int64)
        ib = np.array([gs.position(x) for x in ids_b], np.int64)
        with self.threads():
            rep = self._represent(gs)
            return self._score(rep, ia, rep, ib)

    def score_matrix(self, queries: GraphsLike, corpus: GraphsLike) -> np.ndarray:
        """``(len(queries), len(corpus))`` predicted exp(-nGED) for all query x corpus pairs."""
        with self.threads():
            rq, rc = self._represent(queries), self._represent(corpus)
            nq, nc = len(rq["h"]), len(rc["h"])
            ia, ib = np.repeat(np.arange(nq), nc), np.tile(np.arange(nc), nq)
            return self._score(rq, ia, rc, ib).reshape(nq, nc)

    def similarity(self, a: GraphQuery, b: GraphQuery) -> float:
        """Predicted exp(-nGED) of two graphs (ids of the collection or networkx graphs)."""
        with self.threads():
            (ra, _), (rb, _) = self._query_rep(a), self._query_rep(b)
            zero = np.zeros(1, np.int64)
            return float(self._score(ra, zero, rb, zero)[0])

    def most_similar(self, query: GraphQuery, k: int = 10) -> Hits:
        """The k graphs of the collection most similar to `query` (an id of the collection, excluded from the
        results, or a networkx graph), scoring every collection graph in batches."""
        self.check_fitted()
        with self.threads():
            rq, pos = self._query_rep(query)
            rc = self._collection_rep()
            cand = np.arange(len(rc["h"]))
            scores = self._score(rq, np.zeros(len(cand), np.int64), rc, cand)
        assert self.collection is not None  # set by _collection_rep
        return _top(self.collection, cand, scores, pos, k)

    def evaluate_file(self, path: str | Path, **options: object) -> Report:
        """Evaluate on a GED TSV (``id_a id_b ged``): ``simlab evaluate MODEL GED.tsv`` lands here."""
        from simlab.graph.evaluate import evaluate_ged

        return evaluate_ged(self, str(path), **options)

    @property
    def vectors(self) -> Vectors:
        """Graph vectors of the collection (keys = graph ids)."""
        self.check_fitted()
        rep = self._collection_rep()
        assert self.collection is not None  # set by _collection_rep
        return Vectors(self.collection.ids, rep["h"].float().cpu().numpy())

    def collection_vectors(self) -> Vectors:
        return self.vectors

    # -- persistence -----------------------------------------------------------------------------------------
    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Weights (safetensors), label vocabulary, history and the collection (JSON lines)."""
        net, feat = self._fitted()
        writer.save_arrays("model.safetensors", weights(net))
        writer.save_json("featurizer.json", feat.to_dict())
        writer.save_json("history.json", self.history)
        if self.collection is not None:
            writer.save_text("collection.jsonl", collection_text(self.collection))

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> GraphNetModel:
        """The saved model, weights on ``device="auto"`` of this machine (a flat or nested saved config)."""
        model = cls(artifact.config)
        feat = Featurizer.from_dict(artifact.json("featurizer.json"))
        net = build_net(lambda: cls.NET.build(model.config, feat))  # weights overwritten next
        load_weights(net, artifact.arrays("model.safetensors"), artifact.path)
        model.featurizer, model.net = feat, net.eval()
        model.history = artifact.json("history.json") if "history.json" in artifact.files else {}
        if "collection.jsonl" in artifact.files:
            model.collection = GraphSet.from_jsonl_text(artifact.text("collection.jsonl"), artifact.path)
        return model.to("auto")


# -- bi-encoder ----------------------------------------------------------------------------------------------
class GraphBiEncoder(GraphNetModel):
    """Siamese GNN bi-encoder: ``s(G1, G2) = exp(-||f(G1) - f(G2)||_2)`` regressed on exp(-nGED).

    Example:
        >>> model = GraphBiEncoder(conv="gin", epochs=5).fit(graphs, "GED.tsv")   # doctest: +SKIP
        >>> model.most_similar("g7", k=5)                                          # doctest: +SKIP

    Args:
        config: a :class:`GraphModelConfig` or a mapping; keyword arguments override it.
    """

    KIND = "graph-biencoder"
    Config = GraphModelConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches"})
    NET = BiNet
    metric = "euclidean"

    def most_similar(
        self,
        query: GraphQuery,
        k: int = 10,
        *,
        rerank: GraphReranker | None = None,
        candidates: int = 100,
        blend: float = 0.5,
        index: Index | None = None,
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
                of an exact scan (default: the index set by :meth:`attach_index`, if any).
        """
        self.check_fitted()
        with self.threads():
            rq, pos = self._query_rep(query)
            rc = self._collection_rep()
            want = max(k, candidates if rerank is not None else k) + (1 if pos is not None else 0)
            cand = self._candidates(rq["h"].float().cpu().numpy(), rc, want, index)
            if pos is not None:
                cand = cand[cand != pos]
            zero = np.zeros(len(cand), np.int64)
            scores = self._score(rq, zero, rc, cand) if rerank is None or blend > 0 else None
        coll = self.collection
        assert coll is not None  # set by _collection_rep
        if rerank is None:
            assert scores is not None
            return _top(coll, cand, scores, None, k)
        ids = [coll.ids[int(i)] for i in cand]
        return rerank.rerank(query, ids, k, collection=coll, base_scores=scores, blend=blend)

    def _candidates(self, qv: np.ndarray, rc: Reps, want: int, index: Index | None) -> np.ndarray:
        """Collection positions of the `want` nearest vectors (through `index` or an exact scan)."""
        index = index if index is not None else self._index
        if index is not None:
            assert self.collection is not None
            hits = index.search(qv, k=want)
            return np.array([self.collection.position(x) for x in hits.keys[0]], np.int64)
        from simlab.metrics import topk

        cand, _ = topk(qv, rc["h"].float().cpu().numpy(), want, "euclidean")
        return cand[0]

    def to_artifact(self, writer: ArtifactWriter) -> None:
        """As :meth:`GraphNetModel.to_artifact`, plus the collection's graph vectors."""
        super().to_artifact(writer)
        if self.collection is not None:
            self.vectors.to_artifact(writer, prefix="collection_")


# -- pair model ----------------------------------------------------------------------------------------------
class GraphPairModel(GraphNetModel):
    """SimGNN-style pair model (NTN + node-similarity histogram + GED bounds), trained on exp(-nGED).

    Example:
        >>> pair = GraphPairModel(conv="gin").fit(graphs, "GED.tsv")          # doctest: +SKIP
        >>> bi.most_similar("g7", k=5, rerank=pair, candidates=50)             # doctest: +SKIP
    """

    KIND = "graph-pair"
    Config = PairModelConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "reranks"})
    NET = PairNet

    def rerank(
        self,
        query: GraphQuery,
        candidates: Sequence[Hashable],
        k: int = 10,
        *,
        collection: GraphsLike | None = None,
        base_scores: Sequence[float] | np.ndarray | None = None,
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
        self.check_fitted()
        coll = GraphSet.coerce(collection) if collection is not None else self.collection
        if coll is None:
            raise NotFittedError("rerank needs a collection")
        is_graph = isinstance(query, nx.Graph)
        q = query if is_graph else coll[query]
        if not 0 <= blend <= 1:
            raise ConfigError(f"blend must be in [0, 1], got {blend}")
        if blend > 0 and (base_scores is None or len(base_scores) != len(candidates)):
            raise ConfigError("blend > 0 needs base_scores, one per candidate")
        keep = [i for i, c in enumerate(candidates) if is_graph or c != query]
        if not keep:
            return Hits([], np.zeros(0, np.float32))
        sub = coll.subset([candidates[i] for i in keep])
        with self.threads():
            rq, rc = self._represent(GraphSet([q], ["query"])), self._represent(sub)
            scores = self._score(rq, np.zeros(len(sub), np.int64), rc, np.arange(len(sub)))
        if blend > 0:
            base = np.asarray(base_scores, np.float32)[keep]
            scores = (blend * base + (1 - blend) * scores).astype(np.float32)
        return _top(sub, np.arange(len(sub)), scores, None, k)
