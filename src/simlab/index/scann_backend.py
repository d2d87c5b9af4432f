"""ScaNN backend: a k-means tree + anisotropic quantisation (``score_ah``) + exact re-ranking, from Google's
scann.

ScaNN is imported lazily (``pip install 'simlab[scann]'``). Its searcher is built from the stored rows at the
first search after a change (adds and removals mark it stale) and again after loading: the artifact holds the
rows, the ids and the settings, never ScaNN's own files. Saved settings: ``leaves_to_search`` and ``reorder``
(candidates re-ranked exactly), overridable per call.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError
from simlab.index.common import Backend, _check_positive

_SETTINGS = ("leaves_to_search", "reorder")


@dataclasses.dataclass(frozen=True)
class ScannConfig:
    """Options of the ScaNN backend.

    Attributes:
        leaves: k-means tree leaves (default ``sqrt(n)``, at most 2,000).
        leaves_to_search: leaves visited per query (default ``leaves / 10``, at least 8); saved, overridable.
        reorder: candidates re-ranked with exact scores (default 100); saved, overridable.
        dims_per_block: anisotropic-quantisation block size (2, ScaNN's recommendation).
        aq_threshold: anisotropic quantisation threshold for inner products (0.2; Euclidean: none).
        train_size: rows the tree is trained on (default: all, at most 250,000).
        threads: search threads (default 1).
    """

    leaves: int | None = None
    leaves_to_search: int | None = None
    reorder: int = 100
    dims_per_block: int = 2
    aq_threshold: float = 0.2
    train_size: int | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        _check_positive(
            self, ("leaves", "leaves_to_search", "reorder", "dims_per_block", "train_size", "threads")
        )


class ScannBackend(Backend):
    """ScaNN searcher over the stored rows (rebuilt lazily after changes)."""

    Config = ScannConfig
    name = "scann"
    family = "scann"
    overridable = _SETTINGS
    candidate_options: ClassVar[dict[str, Any]] = {"threads": 1}

    def __init__(self, dim: int, metric: str, config: ScannConfig) -> None:
        from simlab._deps import require

        self._scann = require("scann")
        super().__init__(dim, metric, config)
        self._x = np.zeros((0, dim), np.float32)
        self._ids = np.zeros(0, np.int64)
        self._searcher: Any = None
        self._lock = threading.Lock()
        self.settings: dict[str, Any] = {"reorder": int(config.reorder)}
        if config.leaves_to_search is not None:
            self.settings["leaves_to_search"] = int(config.leaves_to_search)

    def train(self, x: np.ndarray) -> None:
        """Trained when the searcher is built."""

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        self._x = np.concatenate([self._x, x]).astype(np.float32, copy=False)
        self._ids = np.concatenate([self._ids, ids])
        self._searcher = None

    def remove(self, ids: np.ndarray) -> None:
        keep = ~np.isin(self._ids, ids)
        self._x, self._ids = self._x[keep], self._ids[keep]
        self._searcher = None

    def _leaves(self) -> int:
        return int(self.config.leaves or min(2000, max(1, round(np.sqrt(len(self._x))))))

    def _build(self) -> Any:
        n = len(self._x)
        b = self._scann.scann_ops_pybind.builder(self._x, 10, "squared_l2" if self._l2 else "dot_product")
        leaves = min(self._leaves(), n)
        if n >= 1000 and leaves >= 2:
            self.settings.setdefault("leaves_to_search", max(8, leaves // 10))
            b = b.tree(
                num_leaves=leaves,
                num_leaves_to_search=min(leaves, self.settings["leaves_to_search"]),
                training_sample_size=min(n, self.config.train_size or 250_000),
            )
            aq = (
                float("nan") if self._l2 else self.config.aq_threshold
            )  # anisotropic loss is for inner products
            b = b.score_ah(self.config.dims_per_block, anisotropic_quantization_threshold=aq)
            b = b.reorder(self.settings["reorder"])
        else:  # too few rows for a tree: ScaNN's exact scan
            b = b.score_brute_force()
        s = b.build()
        s.set_num_threads(int(self.config.threads or 1))
        return s

    def _apply(self, name: str, value: Any) -> None:
        if name not in _SETTINGS:
            raise ConfigError(f"unknown search setting {name!r}; valid: {', '.join(_SETTINGS)}")
        self.settings[name] = int(value)

    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        bad = sorted(set(overrides) - set(_SETTINGS))
        if bad:
            raise ConfigError(
                f"unknown search setting(s) {', '.join(bad)} for scann; valid: {', '.join(_SETTINGS)}"
            )
        with self._lock:
            if self._searcher is None:
                self._searcher = self._build()
        vals = {**self.settings, **{name: int(v) for name, v in overrides.items()}}
        kw: dict[str, Any] = {"final_num_neighbors": k}
        if "leaves_to_search" in vals and len(self._x) >= 1000:
            kw["leaves_to_search"] = vals["leaves_to_search"]
            kw["pre_reorder_num_neighbors"] = max(k, vals["reorder"])
        pos, dist = self._searcher.search_batched(q, **kw)
        pos = np.asarray(pos, np.int64)
        dist = np.asarray(dist, np.float32)
        ids = np.where(pos >= 0, self._ids[np.clip(pos, 0, None)], -1)
        return ids, self._score(dist).astype(np.float32)

    def id_bound(self) -> int:
        return int(self._ids.max()) + 1 if len(self._ids) else 0

    def reconstruct(self, ident: int) -> np.ndarray:
        return self._x[int(np.flatnonzero(self._ids == ident)[0])].copy()

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        pos = {int(i): p for p, i in enumerate(self._ids)}
        return self._x[[pos[int(i)] for i in ids]]

    @property
    def nbytes(self) -> int:
        """Stored rows + ScaNN's quantised codes (``dim / dims_per_block`` 4-bit codes per row) + ids."""
        n = len(self._x)
        return int(self._x.nbytes + n * (self.dim / self.config.dims_per_block / 2 + 8))

    def to_files(self, w: ArtifactWriter) -> None:
        w.save_arrays("scann.safetensors", {"rows": self._x, "ids": self._ids})

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: ScannConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> ScannBackend:
        b = cls(dim, metric, config)
        arr = art.arrays("scann.safetensors")
        b._x, b._ids = arr["rows"].astype(np.float32), arr["ids"].astype(np.int64)
        for name, v in (settings or {}).items():
            b._apply(name, v)
        return b
