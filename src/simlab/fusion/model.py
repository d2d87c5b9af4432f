"""`FusedModel`: one similarity over several named views of the same items.

Methods (``FusionConfig.method``), all built on the one combiner :mod:`simlab.fuse`:

- ``early`` -- per-view L2 normalisation and weighted concatenation (:func:`simlab.fuse.concat_views`),
  optional PCA (:class:`simlab.index.reduce.PCA`). Weights: given, equal, or chosen on labelled items by
  leave-one-out 1-NN accuracy (or on pairs by AUC / Spearman).
- ``late`` -- per-view cosines standardised and combined by :class:`simlab.fuse.ScoreFusion` (weights chosen
  the same way); ``search="rrf"`` ranks by :func:`simlab.fuse.reciprocal_rank_fusion` of the views' rankings.
- ``learned`` -- a gating network (or learnt view weights) trained on labelled items or pairs
  (:class:`~simlab.fusion.learned.GatedFusion`).
- ``contrastive`` -- towers aligned with InfoNCE so one view retrieves another
  (:class:`~simlab.fusion.learned.Towers`; ``most_similar(q, view="text", target_view="graph")``).

``encode`` of a late-fusion model is the concatenation with weights ``w_v / sd_v`` (renormalised), so the
cosine of two complete items ranks exactly like the standardised score fusion (the means only shift every
score).

Missing views: an item lacking a view is still encoded and scored; weights are renormalised over its present
views (early, late, learned) or the towers of its present views stand in (contrastive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, NotFittedError
from simlab.fuse import ScoreFusion, concat_views, normalize_weights, reciprocal_rank_fusion, search_weights
from simlab.fusion.views import KeyedView, SeriesChannels, coerce_view
from simlab.model import Model, TrainConfig
from simlab.vectors import Hits, Vectors

METHODS = ("early", "late", "learned", "contrastive")
#: the optimisation defaults of the learned and contrastive fusions
FUSION_TRAIN = TrainConfig(epochs=200, lr=1e-3, patience=20, seed=0, device="cpu", threads=1, grad_clip=1.0)


@dataclass(frozen=True)
class FusionConfig:
    """Settings of :class:`FusedModel`.

    Attributes:
        method: ``early``, ``late``, ``learned`` or ``contrastive``.
        weights: fixed per-view weights (early/late; None: equal, or chosen by ``fit`` on labels/pairs).
        pca: early: reduce the fused vectors to this many dimensions (None: keep).
        search: late: ``score`` (standardised score fusion) or ``rrf`` (reciprocal-rank fusion).
        rrf_c: the RRF constant.
        dim / hidden / gate: learned and contrastive networks (``gate``: ``network`` or ``weights``;
            ``dim=None``: the learned gate works on the raw views, no projection).
        loss: learned: ``auto`` (InfoNCE on classes, contrastive on binary pairs, CoSENT on scores) or a name.
        temperature: InfoNCE temperature.
        batch_size: items (or pairs) per training batch.
        max_items: most labelled items used to choose weights (pairwise matrices are ``max_items^2``).
        train: the optimisation settings (:class:`~simlab.model.TrainConfig`; flat keys such as ``epochs=50``
            or ``seed=1`` are routed into it). Fusion's defaults: 200 epochs, lr 1e-3, patience 20, seed 0
            (also the seed of weight choice), ``device="cpu"``, and ``threads=1`` while training (restored
            afterwards): the networks are small, and two threads on a busy 2-core machine trained 30x slower
            than one.
    """

    method: str = "early"
    weights: tuple[float, ...] | None = None
    pca: int | None = None
    search: str = "score"
    rrf_c: float = 60.0
    dim: int | None = 64
    hidden: int = 128
    gate: str = "network"
    loss: str = "auto"
    temperature: float = 0.1
    batch_size: int = 256
    max_items: int = 1500
    train: TrainConfig = field(default_factory=lambda: FUSION_TRAIN)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown fusion method {self.method!r}; valid: {', '.join(METHODS)}")
        if self.search not in ("score", "rrf"):
            raise ConfigError(f"unknown late-fusion search {self.search!r}; valid: score, rrf")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))


class FusedModel(Model):
    """A fused model over named views (see the module docstring).

    Args:
        views: name -> view: :class:`~simlab.Vectors`, a model with ``.vectors``, an artifact path, a
            :class:`~simlab.fusion.views.KeyedView` or :class:`~simlab.fusion.views.SeriesChannels`.
        config: a :class:`FusionConfig` or dict; keyword arguments override it.

    Example:
        >>> import numpy as np, simlab
        >>> a = simlab.Vectors(["x", "y", "z"], np.eye(3, dtype="float32"))
        >>> b = simlab.Vectors(["x", "y"], np.array([[1, 0], [1, 0.1]], "float32"))
        >>> m = FusedModel({"a": a, "b": b}).fit()
        >>> m.most_similar("x", k=1).keys
        ['y']
    """

    KIND = "fusion"
    kind = KIND  # the name before the model contract
    Config = FusionConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches"})
    COLLECTION_ATTR = "vectors"

    def __init__(
        self,
        views: Mapping[str, Any],
        config: FusionConfig | Mapping[str, Any] | None = None,
        /,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, **kwargs)
        if not views:
            raise ConfigError("a fused model needs at least one view")
        self.views = {str(n): coerce_view(v) for n, v in views.items()}
        self.names = list(self.views)
        self.weights = normalize_weights(self.config.weights, len(self.names)).tolist()
        self.score: ScoreFusion | None = None
        self.pca: Any = None
        self.net: Any = None
        self.history: dict[str, Any] = {}
        self.fitted = False
        self._vectors: Vectors | None = None

    # -- items -----------------------------------------------------------------------------------------------
    @property
    def keyed(self) -> bool:
        return all(isinstance(v, KeyedView) for v in self.views.values())

    @property
    def modality(self) -> str | None:
        return "series" if any(isinstance(v, SeriesChannels) for v in self.views.values()) else None

    @property
    def keys(self) -> list[Any]:
        """Every item id of the keyed views (union, in order of first appearance)."""
        seen: dict[Any, None] = {}
        for v in self.views.values():
            if isinstance(v, KeyedView):
                seen.update(dict.fromkeys(v.keys))
        return list(seen)

    def raw(self, items: Sequence[Any]) -> tuple[list[np.ndarray], np.ndarray]:
        """Each view's vectors of `items` and the ``(n, V)`` present mask."""
        out = [v.encode(list(items)) for v in self.views.values()]
        return [m for m, _ in out], np.stack([p for _, p in out], 1)

    # -- fitting ---------------------------------------------------------------------------------------------
    def fit(
        self, labels: Mapping[Any, Any] | None = None, pairs: Sequence[tuple[Any, Any, float]] | None = None
    ) -> FusedModel:
        """Fit the fusion: choose weights (early/late), train the gate (learned) or the towers (contrastive).

        Args:
            labels: item id -> class, for choosing weights / training the gate (validation data: never the
                items you test on).
            pairs: ``(id_a, id_b, target)`` with 0/1 or graded targets, the alternative to `labels`.

        Returns:
            self.
        """
        from simlab.fusion import fitting

        fitting.fit_model(self, labels, pairs)
        self.fitted = True
        self._vectors = None
        return self

    # -- encoding --------------------------------------------------------------------------------------------
    def _effective_weights(self) -> list[float]:
        if self.score is None:
            return self.weights
        w = np.asarray(self.score.weights) / np.asarray(self.score.std or [1.0] * len(self.names))
        return (w / w.sum()).tolist()

    def encode(self, items: Sequence[Any] | None = None, *, view: str | None = None) -> np.ndarray:
        """``(n, dim)`` fused vectors of item ids (keyed views) or raw items (series views); all keys by
        default.

        Args:
            view: learned/contrastive: the embedding of that one view only (cross-modal queries).
        """
        items = self.keys if items is None else list(items)
        mats, present = self.raw(items)
        method = self.config.method
        if method in ("learned", "contrastive"):
            return self._net_encode(mats, present, view)
        if view is not None:
            i = self._view_index(view)
            mats, present = [mats[i]], present[:, i : i + 1]
            return concat_views(mats, None, present)
        z = concat_views(mats, self._effective_weights(), present)
        return self.pca.transform(z) if self.pca is not None else z

    def embed(self, items: Sequence[Any] | None = None, **kw: Any) -> np.ndarray:
        """Alias of :meth:`encode`."""
        return self.encode(items, **kw)

    def _view_index(self, view: str) -> int:
        if view not in self.views:
            raise ConfigError(f"unknown view {view!r}; views: {', '.join(self.names)}")
        return self.names.index(view)

    def torch_modules(self) -> list[Any]:
        """The trained gate / towers (learned and contrastive methods)."""
        return [] if self.net is None else [self.net]

    def _net_encode(self, mats: list[np.ndarray], present: np.ndarray, view: str | None) -> np.ndarray:
        import torch

        if self.net is None:
            raise NotFittedError(f"the {self.config.method} fusion is not trained; call fit(...) first")
        dev = next(self.net.parameters()).device
        xs = [torch.from_numpy(np.ascontiguousarray(m)).to(dev) for m in mats]
        with torch.no_grad():
            self.net.eval()
            if view is None:
                z = self.net(xs, torch.from_numpy(present).to(dev))
            elif self.config.method == "contrastive":
                z = self.net.tower(self._view_index(view), xs[self._view_index(view)])
            else:
                z = self.net.views(xs)[self._view_index(view)]
            return z.cpu().numpy().astype(np.float32)

    @property
    def vectors(self) -> Vectors:
        """Fused vectors of every item of the keyed views (cached)."""
        if not self.keyed:
            raise ConfigError("series views have no fixed collection; use encode(series) and search(...)")
        if self._vectors is None:
            self._vectors = Vectors(self.keys, self.encode(self.keys))
        return self._vectors

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the fused vectors of the keyed views' items (None for series views)."""
        return self.vectors if self.keyed else None

    # -- scoring ---------------------------------------------------------------------------------------------
    def view_scores(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        """Per-view cosine of item pairs ``(n, V)``; NaN where an item lacks the view."""
        ma, pa = self.raw(a)
        mb, pb = self.raw(b)
        out = np.empty((len(a), len(self.names)))
        for v in range(len(self.names)):
            ua = ma[v] / np.maximum(np.linalg.norm(ma[v], axis=1, keepdims=True), 1e-12)
            ub = mb[v] / np.maximum(np.linalg.norm(mb[v], axis=1, keepdims=True), 1e-12)
            out[:, v] = np.where(pa[:, v] & pb[:, v], (ua * ub).sum(1), np.nan)
        return out

    def score_pairs(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        """Fused similarity of each pair ``(a_i, b_i)``, ``(n,)`` (higher = more similar)."""
        if self.config.method == "late" and self.score is not None:
            return self.score.combine(self.view_scores(a, b))
        za, zb = self.encode(a), self.encode(b)
        na, nb = np.linalg.norm(za, axis=1), np.linalg.norm(zb, axis=1)
        return (za * zb).sum(1) / np.maximum(na * nb, 1e-12)

    def similarity(self, a: Any, b: Any) -> float:
        """Fused similarity of two items."""
        return float(self.score_pairs([a], [b])[0])

    def most_similar(
        self, query: Any, k: int = 10, *, view: str | None = None, target_view: str | None = None
    ) -> Hits:
        """The k items most similar to an item id.

        Args:
            view / target_view: cross-modal search: the query's `view` embedding against the `target_view`
                embeddings of the items that have that view (contrastive/learned methods; early/late compare
                raw views, which only works when the two views share a space).
        """
        keys = self.keys
        if view is not None or target_view is not None:
            q = self.encode([query], view=view or self.names[0])
            tv = target_view or self.names[-1]
            has = self.views[tv].encode(keys)[1]
            cand = [kk for kk, h in zip(keys, has, strict=True) if h]
            return Vectors(cand, self.encode(cand, view=tv)).most_similar(q[0], k=k)
        if self.config.method == "late" and self.config.search == "rrf":
            return self._rrf(query, k)
        if self.config.method == "late" and self.score is not None:
            s = self.score.combine(self.view_scores([query] * len(keys), keys))
            qk = _find(query, keys)
            order = [i for i in np.argsort(-np.nan_to_num(s, nan=-np.inf), kind="stable") if keys[i] != qk][
                :k
            ]
            return Hits([keys[i] for i in order], s[order].astype(np.float32))
        return self.vectors.most_similar(_find(query, self.vectors.keys), k=k)

    def _rrf(self, query: Any, k: int) -> Hits:
        rankings = []
        for v in self.views.values():
            assert isinstance(v, KeyedView)
            key = v.lookup(query)
            rankings.append([] if key is None else v.vectors.most_similar(key, k=max(10 * k, 100)).keys)
        fused = reciprocal_rank_fusion(rankings, k=k, weights=self.weights, c=self.config.rrf_c)
        return Hits([kk for kk, _ in fused], np.array([s for _, s in fused], np.float32))

    def search(self, queries: np.ndarray, collection: Vectors, k: int = 10) -> Hits:
        """Cosine search of encoded `queries` ``(q, dim)`` in a collection of encoded items (batched Hits)."""
        from simlab.metrics import topk

        idx, sc = topk(np.asarray(queries, np.float32), collection.matrix, k, "cosine")
        return Hits([[collection.keys[j] for j in row] for row in idx], sc)

    # -- persistence -----------------------------------------------------------------------------------------
    def to_artifact(self, w: ArtifactWriter) -> None:
        """Views, weights and trained state (keyed views are copied in: the artifact is self-contained)."""
        from simlab.fusion.persist import write_model

        write_model(self, w)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> FusedModel:
        """Rebuild the model (a trained gate / towers on ``device="auto"`` here)."""
        from simlab.fusion.persist import read_model

        return read_model(cls, artifact)

    def __repr__(self) -> str:
        return f"FusedModel(method={self.config.method!r}, views={self.names})"


def _find(q: Any, keys: Sequence[Any]) -> Any:
    if q in keys:
        return q
    alt: Any = None
    if isinstance(q, str):
        try:
            alt = int(q)
        except ValueError:
            alt = None
    elif isinstance(q, int):
        alt = str(q)
    return alt if alt is not None and alt in keys else q


__all__ = ["METHODS", "FusedModel", "FusionConfig", "search_weights"]
