"""Graph ANN backends over other libraries: hnswlib and usearch (HNSW graphs), behind the :class:`Index` API.

Both are imported lazily (``pip install 'simlab[ann]'``). Cosine rows arrive L2-normalised from the Index and
are searched by inner product; Euclidean by squared L2. ``efSearch`` (search breadth) is a saved setting,
overridable per call; ``M`` and ``efConstruction`` are build options. Removal is real in usearch and a
tombstone in hnswlib (``mark_deleted``: filtered by the library at search time).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError
from simlab.index.common import Backend, _check_positive


@dataclasses.dataclass(frozen=True)
class GraphConfig:
    """Options of the hnswlib and usearch backends.

    Attributes:
        M: graph degree (links per node; hnswlib ``M``, usearch ``connectivity``). Default 16.
        efConstruction: build breadth (default 200 for hnswlib, 128 for usearch).
        efSearch: search breadth (recall vs speed), saved and overridable per call. Default 64.
        threads: threads the library uses per call (None: 1, like the rest of simlab's searches).
        seed: random seed of the graph levels (hnswlib).
    """

    M: int = 16
    efConstruction: int | None = None
    efSearch: int = 64
    threads: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _check_positive(self, ("M", "efConstruction", "efSearch", "threads"))


class _GraphBase(Backend):
    Config = GraphConfig
    family = "graph"
    overridable = ("efSearch",)
    candidate_options: ClassVar[dict[str, Any]] = {"threads": 1}

    def __init__(self, dim: int, metric: str, config: GraphConfig) -> None:
        super().__init__(dim, metric, config)
        self.settings: dict[str, Any] = {"efSearch": int(config.efSearch)}
        self._lock = threading.Lock()
        self._threads = int(config.threads or 1)

    def _apply(self, name: str, value: Any) -> None:
        if name != "efSearch":
            raise ConfigError(f"unknown search setting {name!r}; valid: efSearch")
        self.settings[name] = int(value)

    def _ef(self, overrides: Mapping[str, Any]) -> int:
        bad = sorted(set(overrides) - {"efSearch"})
        if bad:
            raise ConfigError(f"unknown search setting(s) {', '.join(bad)} for {self.name}; valid: efSearch")
        return int(overrides.get("efSearch", self.settings["efSearch"]))

    def _raw(self, dist: np.ndarray) -> np.ndarray:
        """Library distances -> simlab raw values (inner products, or squared L2 distances)."""
        return dist if self._l2 else 1.0 - dist


class HnswlibBackend(_GraphBase):
    """hnswlib's HNSW graph (``M`` = 16, ``efConstruction`` = 200, ``efSearch`` = 64 by default)."""

    name = "hnswlib"

    def __init__(self, dim: int, metric: str, config: GraphConfig) -> None:
        super().__init__(dim, metric, config)
        from simlab._deps import require

        self._lib = require("hnswlib")
        self._h = self._lib.Index(space="l2" if self._l2 else "ip", dim=dim)
        self._h.init_index(
            max_elements=1024,
            ef_construction=int(config.efConstruction or 200),
            M=int(config.M),
            random_seed=int(config.seed),
        )
        self._h.set_num_threads(self._threads)
        self._deleted = 0

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        need = self._h.element_count + len(x)
        if need > self._h.max_elements:
            self._h.resize_index(max(need, int(self._h.max_elements * 1.5)))
        self._h.add_items(x, ids, num_threads=self._threads)

    def remove(self, ids: np.ndarray) -> None:
        for i in ids:
            self._h.mark_deleted(int(i))
        self._deleted += len(ids)

    @property
    def dead(self) -> int:
        return self._deleted

    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        ef = self._ef(overrides)
        with self._lock:
            self._h.set_ef(ef)
            try:
                labels, dist = self._h.knn_query(q, k=k, num_threads=self._threads)
            except RuntimeError:  # fewer than k reachable live elements: ask for what there is, pad
                labels, dist = self._padded(q, k)
            finally:
                self._h.set_ef(self.settings["efSearch"])
        return labels.astype(np.int64), self._score(self._raw(dist)).astype(np.float32)

    def _padded(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labels = np.full((len(q), k), -1, np.int64)
        dist = np.full((len(q), k), np.inf if self._l2 else 2.0, np.float32)
        for i, row in enumerate(q):
            for kk in range(min(k, self._h.get_current_count()), 0, -1):
                try:
                    lab, d = self._h.knn_query(row[None], k=kk, num_threads=1)
                except RuntimeError:
                    continue
                labels[i, :kk], dist[i, :kk] = lab[0], d[0]
                break
        return labels, dist

    def reconstruct(self, ident: int) -> np.ndarray:
        return np.asarray(self._h.get_items([int(ident)])[0], np.float32)

    @property
    def nbytes(self) -> int:
        n, m = self._h.element_count, int(self.config.M)
        return int(n * (self.dim * 4 + 2 * m * 4 + 4 + 8) + n / max(1, np.log(m)) * m * 4)

    def to_files(self, w: ArtifactWriter) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "index.hnsw")
            self._h.save_index(path)
            with open(path, "rb") as f:
                w.save_bytes("index.hnswlib", f.read())
        w.save_arrays("graph_state.safetensors", {"deleted": np.array([self._deleted], np.int64)})

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: GraphConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> HnswlibBackend:
        b = cls(dim, metric, config)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "index.hnsw")
            with open(path, "wb") as f:
                f.write(art.bytes("index.hnswlib"))
            b._h.load_index(path)
        b._h.set_num_threads(b._threads)
        b._deleted = int(art.arrays("graph_state.safetensors")["deleted"][0])
        for name, v in (settings or {}).items():
            b._apply(name, v)
        return b


class UsearchBackend(_GraphBase):
    """usearch's HNSW graph (``connectivity`` = M = 16, ``expansion_add`` = 128, ``expansion_search`` =
    64)."""

    name = "usearch"

    def __init__(self, dim: int, metric: str, config: GraphConfig) -> None:
        super().__init__(dim, metric, config)
        from simlab._deps import require

        self._lib = require("usearch.index")
        self._u = self._new()

    def _new(self) -> Any:
        c = self.config
        return self._lib.Index(
            ndim=self.dim,
            metric="l2sq" if self._l2 else "ip",
            dtype="f32",
            connectivity=int(c.M),
            expansion_add=int(c.efConstruction or 128),
            expansion_search=int(self.settings["efSearch"]),
        )

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        self._u.add(ids.astype(np.uint64), x, threads=self._threads)

    def remove(self, ids: np.ndarray) -> None:
        self._u.remove(ids.astype(np.uint64))

    dead = 0

    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        ef = self._ef(overrides)
        with self._lock:
            self._u.expansion_search = ef
            try:
                m = self._u.search(q, k, threads=self._threads)
            finally:
                self._u.expansion_search = self.settings["efSearch"]
        keys = np.asarray(m.keys, np.int64).reshape(len(q), -1)
        dist = np.asarray(m.distances, np.float32).reshape(len(q), -1)
        counts = (
            np.asarray(m.counts).reshape(-1) if hasattr(m, "counts") else np.array([len(np.asarray(m.keys))])
        )
        if keys.shape[1] < k:
            keys = np.pad(keys, ((0, 0), (0, k - keys.shape[1])))
            dist = np.pad(dist, ((0, 0), (0, k - dist.shape[1])))
        missing = np.arange(k)[None, :] >= counts[:, None]
        keys = np.where(missing, -1, keys[:, :k])
        raw = np.where(missing, np.inf if self._l2 else -np.inf, self._raw(dist[:, :k]))
        return keys, self._score(raw).astype(np.float32)

    def _apply(self, name: str, value: Any) -> None:
        super()._apply(name, value)
        self._u.expansion_search = int(value)

    def reconstruct(self, ident: int) -> np.ndarray:
        return np.asarray(self._u.get(np.uint64(ident)), np.float32).reshape(-1)

    @property
    def nbytes(self) -> int:
        return int(self._u.memory_usage)

    def to_files(self, w: ArtifactWriter) -> None:
        w.save_bytes("index.usearch", bytes(self._u.save()))

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: GraphConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> UsearchBackend:
        b = cls(dim, metric, config)
        b._u = b._lib.Index.restore(bytearray(art.bytes("index.usearch")))
        for name, v in (settings or {}).items():
            b._apply(name, v)
        return b
