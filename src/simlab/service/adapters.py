"""One small adapter per model family: what a loaded artifact can do, as plain callables.

A :class:`ServedModel` holds a loaded artifact and its capabilities (``embeds``, ``scores_pairs``,
``searches``, ``reranks``), each a callable or None. The HTTP handlers only ever call these; which family a
model is of is decided once, here, by its artifact kind (the registry's name), so that the adapters can later
move onto the model contract without touching the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.vectors import Hits, Vectors

Embeds = Callable[[list[Any]], np.ndarray]
ScoresPairs = Callable[[list[Any], list[Any]], np.ndarray]
#: (query, k, by_key, rerank) -> Hits; query is a key when by_key else a decoded raw item
Searches = Callable[[Any, int, bool, "str | None"], Hits]


@dataclass
class ServedModel:
    """A loaded artifact with its capabilities.

    Attributes:
        name: the name it is served under (``/v1/models/{name}``).
        kind: the artifact kind (``word2vec``, ``graph-biencoder``, ...).
        item_type: what a raw item is: ``word``, ``text``, ``series``, ``graph`` or ``key`` (a model's key).
        key_type: what keys look like: ``str`` or ``int`` (keys from a URL are converted).
        embeds: raw items -> ``(n, dim)`` vectors, or None.
        scores_pairs: two lists of raw items -> ``(n,)`` similarities, or None.
        searches: top-k over the model's own collection, or None.
        reranks: names of the re-rankers :attr:`searches` accepts.
        vectors: the model's collection as :class:`Vectors` (for the explorer's map), or None.
    """

    name: str
    kind: str
    obj: Any
    item_type: str
    dim: int | None
    metric: str | None
    config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    key_type: str = "str"
    embeds: Embeds | None = None
    scores_pairs: ScoresPairs | None = None
    searches: Searches | None = None
    reranks: tuple[str, ...] = ()
    vectors: Callable[[], Vectors] | None = None
    labels: Callable[[], dict[Any, str]] | None = None
    graph_of: Callable[[Any], Any] | None = None

    def describe(self) -> dict[str, Any]:
        """JSON description (``GET /v1/models``)."""
        caps = [c for c in ("embeds", "scores_pairs", "searches") if getattr(self, c) is not None]
        if self.reranks:
            caps.append("reranks")
        size = None
        if self.vectors is not None:
            try:
                size = len(self.vectors())
            except Exception:  # a model without a collection
                size = None
        return {
            "name": self.name,
            "kind": self.kind,
            "item_type": self.item_type,
            "dim": self.dim,
            "metric": self.metric,
            "capabilities": caps,
            "reranks": list(self.reranks),
            "size": size,
            "config": _jsonable(self.config),
            "metrics": _jsonable(self.metrics),
        }

    def key(self, raw: Any) -> Any:
        """A key as the model stores it (``"12"`` -> ``12`` for integer-keyed models)."""
        if self.key_type == "int" and isinstance(raw, str):
            try:
                return int(raw)
            except ValueError:
                raise UnknownKeyError(f"unknown key {raw!r} (this model's keys are integers)") from None
        return raw


def _jsonable(obj: Any) -> Any:
    import json

    return json.loads(json.dumps(obj, default=str))


def _hits(keys: list[Any], scores: Any) -> Hits:
    return Hits(list(keys), np.asarray(scores, np.float32))


def _no_rerank(rerank: str | None) -> None:
    if rerank:
        raise ConfigError(f"this model has no re-ranker {rerank!r}")


# -- families ------------------------------------------------------------------------------------------------


def _vector_search(vecs: Callable[[], Vectors], metric: str = "cosine") -> Searches:
    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        return vecs().most_similar(query, k, metric=metric)

    return search


def _vectors(m: ServedModel, v: Vectors) -> None:
    m.item_type, m.dim, m.metric = "key", v.dim if len(v) else None, "cosine"
    m.key_type = "int" if v.keys and isinstance(v.keys[0], int) else "str"
    m.embeds = lambda items: v[[m.key(x) for x in items]].reshape(len(items), v.dim)
    m.scores_pairs = lambda a, b: np.array(
        [v.similarity(m.key(x), m.key(y)) for x, y in zip(a, b, strict=True)]
    )
    m.searches = _vector_search(lambda: v)
    m.vectors = lambda: v


def _index(m: ServedModel, idx: Any) -> None:
    m.item_type, m.dim, m.metric = "key", idx.dim, idx.metric
    keys = idx.keys
    m.key_type = "int" if keys and isinstance(keys[0], int) else "str"
    m.embeds = lambda items: (
        np.stack([idx.vector(m.key(x)) for x in items]) if items else np.zeros((0, idx.dim))
    )

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        return idx.most_similar(query, k)

    m.searches = search
    cache: list[Vectors] = []

    def vectors() -> Vectors:  # the index never changes while served: reconstruct once
        if not cache:
            keys = idx.keys
            cache.append(
                Vectors(keys, np.stack([idx.vector(x) for x in keys]) if keys else np.zeros((0, idx.dim)))
            )
        return cache[0]

    m.vectors = vectors


def _word_model(m: ServedModel, model: Any) -> None:
    m.item_type, m.dim, m.metric = "word", model.vectors.dim, "cosine"
    m.embeds = lambda items: model.lookup(items)[1]
    m.scores_pairs = lambda a, b: np.array([model.similarity(x, y) for x, y in zip(a, b, strict=True)])

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        return model.most_similar(query, k)

    m.searches = search
    m.vectors = lambda: model.vectors


def _doc_model(m: ServedModel, model: Any) -> None:
    m.item_type, m.dim, m.metric = "text", model.vectors.dim, "cosine"
    encode = model.encode_texts

    def embeds(items: list[Any]) -> np.ndarray:
        out = encode(items)
        bad = np.isnan(out).any(1)
        if bad.any():
            raise DataError(f"item {int(np.argmax(bad))}: no known word in the text")
        return out

    m.embeds = embeds
    m.scores_pairs = lambda a, b: np.array([model.similarity_text(x, y) for x, y in zip(a, b, strict=True)])

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        return model.most_similar(query, k) if by_key else model.most_similar_text(query, k)

    m.searches = search
    m.vectors = lambda: model.vectors


def _siamese(m: ServedModel, model: Any) -> None:
    m.item_type = "series" if model.modality == "series" else "text"
    m.dim, m.metric = model.dim, model.metric
    coll = model.collection
    m.key_type = "int" if coll is not None and coll.keys and isinstance(coll.keys[0], int) else "str"
    m.embeds = lambda items: model.encode(items)
    m.scores_pairs = lambda a, b: model.score_pairs(a, b)

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        if by_key and (model.collection is None or query not in model.collection):
            raise UnknownKeyError(f"unknown key {query!r} (not in the model's collection)")
        if not by_key and m.item_type == "series":
            query = query[:, 0] if query.shape[1] == 1 else query
        return model.most_similar(query, k)

    m.searches = search
    if coll is not None:
        m.vectors = lambda: model.collection
        labels = model.collection_labels
        if labels is not None:
            m.labels = lambda: dict(zip(model.collection.keys, labels, strict=False))


def _graph_model(m: ServedModel, model: Any) -> None:
    from simlab.graph.io import GraphSet
    from simlab.model import can

    # the pair model re-ranks and scores pairs; the bi-encoder embeds, and its search can be re-ranked
    biencoder = not can(model, "reranks")
    m.item_type = "graph"
    m.metric = model.metric if biencoder else None
    coll = model.collection
    m.key_type = "int" if coll is not None and coll.ids and isinstance(coll.ids[0], int) else "str"
    if biencoder:
        m.dim = (
            int(model.encode(GraphSet([coll.graphs[0]], ["q"])).shape[1])
            if coll is not None and len(coll)
            else None
        )
        m.embeds = lambda items: model.encode(GraphSet(items, list(range(len(items)))))
        m.reranks = ("editpath",)
    m.scores_pairs = lambda a, b: model.score_pairs(
        GraphSet(a, list(range(len(a)))), GraphSet(b, list(range(len(b))))
    )

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        if by_key and (model.collection is None or query not in model.collection):
            raise UnknownKeyError(f"unknown graph id {query!r} (not in the model's collection)")
        if rerank and not biencoder:
            _no_rerank(rerank)
        if rerank:
            if rerank != "editpath":
                raise ConfigError(f"unknown re-ranker {rerank!r}; valid: editpath")
            from simlab.graph.refine import EditPathScorer

            return model.most_similar(query, k, rerank=EditPathScorer(model), candidates=max(2 * k, 20))
        return model.most_similar(query, k)

    m.searches = search
    if coll is not None:
        m.graph_of = lambda key: model.collection[key]
        if biencoder:
            m.vectors = lambda: model.vectors


def _nodes(m: ServedModel, model: Any) -> None:
    v = model.vectors
    m.item_type, m.dim, m.metric = "key", v.dim, "cosine"
    m.key_type = "int" if v.keys and isinstance(v.keys[0], int) else "str"
    m.embeds = lambda items: v[[m.key(x) for x in items]].reshape(len(items), v.dim)
    m.scores_pairs = lambda a, b: np.array(
        [model.similarity(m.key(x), m.key(y)) for x, y in zip(a, b, strict=True)]
    )

    def search(query: Any, k: int, by_key: bool, rerank: str | None) -> Hits:
        _no_rerank(rerank)
        return model.most_similar(query, k)

    m.searches = search
    m.vectors = lambda: v


#: artifact kind -> adapter (fills the capabilities of a ServedModel)
ADAPTERS: dict[str, Callable[[ServedModel, Any], None]] = {
    "vectors": _vectors,
    "index": _index,
    "word2vec": _word_model,
    "fasttext": _word_model,
    "doc2vec": _doc_model,
    "sif": _doc_model,
    "sequence-siamese": _siamese,
    "graph-biencoder": _graph_model,
    "graph-pair": _graph_model,
    "graph-nodes": _nodes,
}


def serve_model(path: str | Path, name: str | None = None) -> ServedModel:
    """Load an artifact and wrap it with its family's adapter.

    Args:
        path: an artifact directory.
        name: the name to serve it under (default: the directory name).

    Raises:
        ConfigError: an artifact kind the service cannot serve (the message lists those it can).
    """
    from simlab.artifacts import Artifact, load

    art = Artifact(path)
    if art.kind not in ADAPTERS:
        raise ConfigError(
            f"{path}: cannot serve an artifact of kind {art.kind!r}; servable: {', '.join(ADAPTERS)}"
        )
    obj = load(path)
    m = ServedModel(
        name or Path(path).resolve().name,
        art.kind,
        obj,
        "key",
        None,
        None,
        dict(art.config),
        dict(art.metrics),
    )
    ADAPTERS[art.kind](m, obj)
    return m
