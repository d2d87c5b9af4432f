"""Similarity and search of a Siamese model: the similarity it ships and the collection it searches.

The similarity is the head over embeddings, or, for a series model whose fallback chose one
(:mod:`simlab.sequence.fallback`), a classical or blended distance over the raw series.
:class:`SimilaritySearch` holds these methods for :class:`~simlab.sequence.model.SiameseModel`; the ranking
functions are :func:`head_search` (embeddings, by the head) and :func:`series_search` (raw series, by the
shipped distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simlab.errors import DataError
from simlab.vectors import Hits, Vectors


class SimilaritySearch:
    """Similarity, series distances and collection search of :class:`~simlab.sequence.model.SiameseModel`.

    A mixin over the model's ``encode`` / ``embed`` / ``score_pairs`` / ``pairwise_scores``, its
    ``featurizer``, ``config.head``, ``selection`` and collection (``collection``, ``collection_labels``,
    ``raw_collection``, an attached index).
    """

    def similarity(self, a: Any, b: Any) -> float:
        """Similarity of two items (higher = more similar): the head's score, or, when the fallback chose a
        classical or blended similarity, the negated distance it ships (:attr:`selection`)."""
        if self._classical_active():
            return -float(self.series_distances([a], [b])[0, 0])
        return float(self.score_pairs([a], [b])[0])

    # -- series distances (learned, classical, blended) --------------------------------------------------
    def _classical_active(self) -> bool:
        return self.selection is not None and self.selection.choice != "learned"

    def learned_distances(self, queries: Any, corpus: Any) -> np.ndarray:
        """``(q, n)`` distances of the learned similarity: ``1 - cos`` (cosine head), L1 (malstm head) or
        ``1 - score`` (learned head) between embeddings."""
        from simlab.metrics import pairwise, pairwise_distance

        self.check_fitted()
        qe, ce = self.encode(self.featurizer.as_items(queries)), self.encode(self.featurizer.as_items(corpus))
        if self.config.head == "cosine":
            return 1.0 - pairwise(qe, ce, "cosine", dtype=np.float64)
        if self.config.head == "malstm":
            return pairwise_distance(qe, ce, "manhattan", dtype=np.float64)
        return 1.0 - self.pairwise_scores(qe, ce).astype(np.float64)

    def series_distances(self, queries: Any, corpus: Any) -> np.ndarray:
        """``(q, n)`` distances of the similarity this model ships (learned, classical or blended; see
        :attr:`selection`), lower = more similar."""
        self.check_fitted()
        if self.selection is None:
            return self.learned_distances(queries, corpus)
        q, c = self.featurizer.as_items(queries), self.featurizer.as_items(corpus)
        return self.selection.distances(q, c, self.learned_distances)

    def knn_predict(self, train: Any, test: Any) -> np.ndarray:
        """1-NN labels of `test` series among the labelled `train` series with the shipped similarity."""
        if train.labels is None:
            raise DataError("1-NN needs a labelled training collection")
        return train.labels[np.argmin(self.series_distances(test, train), axis=1)]

    # -- search ------------------------------------------------------------------------------------------
    def search(self, queries: np.ndarray, corpus: Vectors, k: int) -> Hits:
        """Top-k corpus keys for query embeddings ``(q, d)``, ranked by the head."""
        return head_search(self, queries, corpus, k)

    def index(
        self, items: Any, keys: Sequence[Any] | None = None, labels: Sequence[Any] | None = None
    ) -> Any:
        """Embed a collection that :meth:`most_similar` searches (replaces the training collection)."""
        self.check_fitted()
        items = self.featurizer.as_items(items)
        self.raw_collection = items if self._classical_active() else None
        self.collection = self.embed(items, keys)
        self.collection_labels = None if labels is None else [str(x) for x in labels]
        return self

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """The k items of the collection (:meth:`index`, or the training items) most similar to `query`: a raw
        item (a sentence, a series) or the key of a collection item (left out of its own results). Ranked by
        the shipped similarity: the head, or the fallback's classical / blended distance; through an attached
        index (:meth:`attach_index`) when one is set."""
        self.check_fitted()
        if self._classical_active() and self.raw_collection is not None:
            return series_search(self, query, k)
        if self.collection is None or len(self.collection) == 0:
            raise DataError("no collection to search; call index(items) first")
        exclude = None
        if not isinstance(query, np.ndarray) and query in self.collection:
            exclude, q = query, self.collection[query][None, :]
        elif isinstance(query, int | np.integer):
            raise DataError(f"unknown collection key {query!r}")
        else:
            q = self.encode(query)
        n = k + (exclude is not None)
        hits = self.search(q, self.collection, n) if self._index is None else self._index.search(q, n)
        pairs = [(kk, s) for kk, s in hits[0] if kk != exclude][:k]
        return Hits([p[0] for p in pairs], np.array([p[1] for p in pairs], np.float32))

    def most_similar_text(self, text: str, k: int = 10) -> Hits:
        """Alias of :meth:`most_similar` for free text (used by ``simlab similar --text``)."""
        return self.most_similar(text, k)


def head_search(model: Any, queries: np.ndarray, corpus: Vectors, k: int) -> Hits:
    """Top-k corpus keys for query embeddings ``(q, d)`` ranked by the model's head: the core top-k for a head
    with a core metric (malstm scores mapped back to ``exp(-L1)``), else the learned head on every pair."""
    if model.metric is not None:
        from simlab.metrics import topk

        idx, sc = topk(queries, corpus.matrix, k, model.metric)
        if model.config.head == "malstm":
            sc = np.exp(sc)  # -L1 -> exp(-L1), the head's own score
    else:
        s = model.pairwise_scores(queries, corpus.matrix)
        k = min(k, s.shape[1])
        idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
        sc = np.take_along_axis(s, idx, 1)
    keys = [[corpus.keys[j] for j in row] for row in idx]
    return Hits(keys, sc.astype(np.float32))


def series_search(model: Any, query: Any, k: int) -> Hits:
    """`most_similar` over the raw collection series with the fallback's classical or blended distance (a key
    query is left out of its own results); scores are negated distances."""
    raw = model.raw_collection or []
    keys = list(model.collection.keys) if model.collection is not None else list(range(len(raw)))
    if isinstance(query, int | np.integer) and not isinstance(query, bool):
        if query not in keys:
            raise DataError(f"unknown collection key {query!r}")
        pos = keys.index(query)
        d = model.series_distances([raw[pos]], raw)[0]
        d[pos] = np.inf
    else:
        d = model.series_distances(query, raw)[0]
    order = np.argsort(d, kind="stable")[: min(k, int(np.isfinite(d).sum()))]
    return Hits([keys[i] for i in order], (-d[order]).astype(np.float32))
