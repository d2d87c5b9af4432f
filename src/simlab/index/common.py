"""Shared parts of the index backends: the metrics an index ranks by and what every backend declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from simlab import metrics as M
from simlab.errors import UnknownNameError
from simlab.registry import METRICS

#: metrics an index can rank by (aliases of the metrics registry are accepted: cos, ip, inner_product, l2):
#: the registered metrics whose kernel a search backend computes (inner product or squared L2)
INDEX_METRICS = ("cosine", "dot", "euclidean", "sqeuclidean")


def resolve_metric(metric: str, supported: tuple[str, ...] = INDEX_METRICS) -> str:
    """Canonical index metric name for `metric` (aliases allowed).

    Args:
        metric: a metric name or alias.
        supported: the metrics the backend declares (:attr:`Backend.metrics`).

    Raises:
        UnknownNameError: listing the metrics the backend supports.
    """
    name = str(metric).lower()
    if name in METRICS:
        name = METRICS.canonical(name)
    if name not in supported:
        raise UnknownNameError("index metric", str(metric), supported)
    return name


def to_score(metric: str | M.Metric, raw: np.ndarray) -> np.ndarray:
    """Backend raw values (inner products or squared L2 distances) -> similarities, as the metric declares
    (:attr:`simlab.metrics.Metric.from_raw`)."""
    return M.get_metric(metric).score_raw(raw)


class Backend:
    """What every index backend declares (class attributes) and the small interface :class:`~simlab.Index`
    uses: ``train``, ``add``, ``remove``, ``search(q, k, overrides) -> (ids, scores)``, ``reconstruct``,
    ``reconstruct_many``, ``nbytes``, ``to_files`` / ``from_files``.

    Attributes:
        Config: the frozen dataclass of the backend's options.
        name: the registry name.
        metrics: the metrics the backend ranks by (canonical names).
        overridable: search settings that :meth:`Index.set` saves and ``search(**overrides)`` changes per call
            (a backend whose settings depend on its options, such as FAISS, sets it per instance).
        normalizes_rows: the backend unit-normalises the rows of a normalizing metric itself (the Index then
            passes them unnormalised).
        shown_options: options shown in the Index's ``repr``.
        candidate_options: options the auto backend sets when it builds this backend as a candidate.
        learns: the backend learns from data before adding (IVF/PQ): bulk builds train on every vector first.
        pads: a search may find fewer than k (approximate backends): id -1 marks the missing ones.
        compactable: :meth:`Index.compact` can rebuild it with the same settings (the auto backend cannot: a
            rebuild would re-run its measurements).
        spec: the :class:`~simlab.metrics.Metric` ranked by (its kernel, normalisation and raw-score mapping).
    """

    Config: ClassVar[type]
    name: ClassVar[str] = ""
    metrics: ClassVar[tuple[str, ...]] = INDEX_METRICS
    overridable: tuple[str, ...] = ()
    normalizes_rows: ClassVar[bool] = False
    shown_options: ClassVar[tuple[str, ...]] = ()
    candidate_options: ClassVar[Mapping[str, Any]] = {}
    learns: ClassVar[bool] = False
    pads: ClassVar[bool] = True
    compactable: ClassVar[bool] = True
    is_trained: bool = True
    dead: int = 0
    plan: dict[str, Any] | None = None

    def __init__(self, dim: int, metric: str, config: Any) -> None:
        self.dim, self.metric, self.config = dim, metric, config
        self.spec = M.get_metric(metric)
        self._l2 = self.spec.kernel == M.KERNEL_L2

    def _score(self, raw: np.ndarray) -> np.ndarray:
        """Backend raw values (inner products or squared L2 distances) -> similarities (higher = better)."""
        return self.spec.score_raw(raw)

    def train(self, x: np.ndarray) -> None:
        """Nothing to train (IVF/PQ backends override)."""

    def id_bound(self) -> int:
        """One past the largest stored id (0 when the backend does not keep its ids apart); loading checks
        that the saved keys cover it."""
        return 0

    def reconstruct(self, ident: int) -> np.ndarray:  # pragma: no cover - every backend overrides
        raise NotImplementedError

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        """``(len(ids), dim)`` stored vectors (decoded, for compressed storage)."""
        return (
            np.stack([self.reconstruct(int(i)) for i in ids]).astype(np.float32)
            if len(ids)
            else np.zeros((0, self.dim), np.float32)
        )


def _check_positive(cfg: Any, names: tuple[str, ...]) -> None:
    for name in names:
        v = getattr(cfg, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
