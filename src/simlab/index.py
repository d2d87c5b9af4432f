"""Nearest-neighbour indexes over keyed vectors: an exact BLAS backend (the reference) and FAISS.

Usage::

    idx = Index("faiss", metric="cosine", factory="HNSW32", efSearch=64).add(keys, matrix)
    hits = idx.search(queries, k=10)              # Hits: keys (q lists of k), scores (q, k)
    hits = idx.search(queries, k=10, efSearch=256) # per-call override of a recall setting
    idx.save("runs/idx"); idx2 = Index.load("runs/idx")

Metrics: ``cosine`` (vectors and queries are L2-normalised, then inner product), ``dot`` (inner product),
``euclidean`` and ``sqeuclidean``. Scores follow simlab's convention "higher = more similar": Euclidean scores
are *negated* distances.

Backends are registered in :data:`simlab.registry.INDEXES` (``exact``, ``faiss``). A backend is a class with a
nested frozen dataclass ``Config`` (its options) and the small interface of :class:`ExactBackend`.

FAISS is imported lazily (``simlab._deps.require("faiss")``); importing this module never loads it. When simlab
loads FAISS it lowers ``faiss.cvar.distance_compute_blas_threshold`` to :data:`FAISS_BLAS_THRESHOLD`: with the
default of faiss-cpu 1.15, any batch smaller than the threshold takes a non-BLAS path that rescans the database
once per query (about 19x slower for batches of a few hundred queries on a flat index or an IVF coarse
quantizer). This is a process-wide FAISS setting.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from simlab import metrics as M
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict
from simlab.errors import (
    ConfigError,
    DataError,
    DimensionError,
    NotFittedError,
    SimlabError,
    UnknownKeyError,
    UnknownNameError,
)
from simlab.registry import INDEXES, KINDS, METRICS
from simlab.vectors import Hits

log = logging.getLogger(__name__)

#: metrics an index can rank by (aliases of the metrics registry are accepted: cos, ip, inner_product, l2)
INDEX_METRICS = ("cosine", "dot", "euclidean", "sqeuclidean")

#: value simlab gives ``faiss.cvar.distance_compute_blas_threshold`` when it loads FAISS (batches of at
#: least this many queries use BLAS); see the module docstring.
FAISS_BLAS_THRESHOLD = 8

_faiss_mod: Any = None


def _faiss() -> Any:
    """FAISS, loaded on first use, with the BLAS threshold lowered (see :data:`FAISS_BLAS_THRESHOLD`)."""
    global _faiss_mod
    if _faiss_mod is None:
        from simlab._deps import require

        mod = require("faiss")
        mod.cvar.distance_compute_blas_threshold = FAISS_BLAS_THRESHOLD
        _faiss_mod = mod
    return _faiss_mod


def resolve_metric(metric: str) -> str:
    """Canonical index metric name for `metric` (aliases allowed).

    Raises:
        UnknownNameError: listing the metrics an index supports.
    """
    name = str(metric).lower()
    if name in METRICS:
        name = METRICS.canonical(name)
    if name not in INDEX_METRICS:
        raise UnknownNameError("index metric", str(metric), INDEX_METRICS)
    return name


def _to_score(metric: str, raw: np.ndarray) -> np.ndarray:
    """Backend raw values (inner products or squared L2 distances) -> similarities (higher = better)."""
    if metric == "euclidean":
        return -np.sqrt(np.maximum(raw, 0))
    if metric == "sqeuclidean":
        return -np.maximum(raw, 0)
    if metric == "cosine":
        return np.clip(raw, -1.0, 1.0)
    return raw


def _check_positive(cfg: Any, names: tuple[str, ...]) -> None:
    for name in names:
        v = getattr(cfg, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")


# =====================================================================================================
# exact backend
# =====================================================================================================


@dataclasses.dataclass(frozen=True)
class ExactConfig:
    """Options of the exact backend.

    Attributes:
        budget_bytes: memory budget of one block of scores during search (see :func:`simlab.metrics.topk`).
        prune: skip groups of vectors that provably cannot reach a query's top k (results stay exact).
        prune_min: use pruning from this many vectors on (below it a plain scan is as fast).
        seed: seed of the k-means grouping used for pruning.
    """

    budget_bytes: int = M.DEFAULT_BUDGET
    prune: bool = True
    prune_min: int = 20000
    seed: int = 0

    def __post_init__(self) -> None:
        _check_positive(self, ("budget_bytes", "prune_min"))


class ExactBackend:
    """Exact search: BLAS inner products with chunked top-k selection (:func:`simlab.metrics.topk`).

    The reference every other backend is measured against. Every metric is an inner-product search over the
    stored rows: unit vectors for cosine, and for Euclidean rows augmented with ``-|x|^2 / 2`` (ranking by
    ``q.x - |x|^2 / 2`` is ranking by distance); the returned distances are then recomputed exactly.

    Pruning (exact): from ``prune_min`` vectors on, the rows are grouped by k-means (about 3,000 per group) and
    stored group by group; a group with centre ``c`` and radius ``r`` cannot hold a row scoring more than
    ``q.c + |q| r`` (Cauchy-Schwarz). Each query scans its groups in decreasing order of that bound and stops
    when the bound falls below its current k-th best score; queries that scan the same group share one GEMM.
    On clustered data (real embeddings) this scans a small share of the rows; on structureless data it
    degrades to a full scan. Ties are broken by insertion order.
    """

    Config = ExactConfig
    name = "exact"
    group_size = 3000

    def __init__(self, dim: int, metric: str, config: ExactConfig) -> None:
        self.dim, self.metric, self.config = dim, metric, config
        self._l2 = metric in ("euclidean", "sqeuclidean")
        width = dim + 1 if self._l2 else dim
        # storage is column-major: self._bt is (width, capacity) C-contiguous and self._buf its (capacity,
        # width) transposed view; one-query scans (GEMV) stream about 30% faster in this layout
        self._bt = np.zeros((width, 0), dtype=np.float32)
        self._buf = self._bt.T
        self._ids = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._n_grouped = 0  # rows [0, _n_grouped) are stored group by group; later rows are a scanned tail
        self._labels = np.zeros(0, dtype=np.int32)
        self._cent = np.zeros((0, width), dtype=np.float32)
        self._rad = np.zeros(0, dtype=np.float64)
        self.last_scanned = 1.0  # share of (query, row) pairs the last search scored (pruning statistics)

    is_trained = True
    settings: ClassVar[dict[str, Any]] = {}

    def train(self, x: np.ndarray) -> None:
        """Nothing to train."""

    #: the Index passes raw (validated) vectors; this backend normalises (cosine) chunk by chunk into its
    #: storage, so adding never holds a second full copy
    normalizes = True

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        self._append(x, ids, normalize=self.metric == "cosine")

    def _append(self, x: np.ndarray, ids: np.ndarray, normalize: bool) -> None:
        need = self._n + len(x)
        if need > len(self._buf):
            cap = max(need, int(len(self._buf) * 1.5), 1024)
            bt = np.empty((self._bt.shape[0], cap), dtype=np.float32)
            bt[:, : self._n] = self._bt[:, : self._n]
            self._bt, self._buf = bt, bt.T
            ids_buf = np.empty(cap, dtype=np.int64)
            ids_buf[: self._n] = self._ids[: self._n]
            self._ids = ids_buf
        for s in range(0, len(x), 8192):  # small chunks: temporaries stay far below the data size
            rows = x[s : s + 8192]
            if normalize:
                rows = M.l2_normalize(rows)
            if self._l2:
                rows = np.hstack([rows, -0.5 * (rows * rows).sum(1, keepdims=True)])
            self._buf[self._n + s : self._n + s + len(rows)] = rows
        self._ids[self._n : need] = ids
        self._n = need

    def remove(self, ids: np.ndarray) -> None:
        keep = ~np.isin(self._ids[: self._n], ids)
        n = int(keep.sum())
        self._bt = np.ascontiguousarray(self._bt[:, : self._n][:, keep])
        self._buf = self._bt.T
        self._ids = self._ids[: self._n][keep].copy()
        if self._n_grouped:  # groups stay contiguous; radii stay valid upper bounds
            kept = keep[: self._n_grouped]
            self._labels = self._labels[kept]
            self._n_grouped = int(kept.sum())
        self._n = n

    @property
    def matrix(self) -> np.ndarray:
        """The stored vectors ``(n, dim)`` (unit rows for cosine; group order, not insertion order)."""
        return self._buf[: self._n, : self.dim]

    # -- pruning structure ---------------------------------------------------------------------------------
    def _group(self) -> None:
        """k-means groups of the stored rows; rows are reordered group by group (stable: insertion order)."""
        n = self._n
        x = self._buf[:n]
        m = int(min(512, max(8, n // self.group_size)))
        rng = np.random.default_rng(self.config.seed)
        sample = x[np.sort(rng.choice(n, min(n, 40 * m), replace=False))]
        cent = sample[rng.choice(len(sample), m, replace=False)].copy()
        for _ in range(8):  # Lloyd iterations on the sample
            lab = np.argmax(sample @ cent.T - 0.5 * (cent * cent).sum(1)[None, :], axis=1)
            sums = np.zeros_like(cent, dtype=np.float64)
            np.add.at(sums, lab, sample)
            cnt = np.bincount(lab, minlength=m)
            nz = cnt > 0
            cent[nz] = (sums[nz] / cnt[nz, None]).astype(np.float32)
        labels = np.empty(n, dtype=np.int64)
        half = 0.5 * (cent * cent).sum(1)[None, :]
        for s in range(0, n, 65536):
            labels[s : s + 65536] = np.argmax(x[s : s + 65536] @ cent.T - half, axis=1)
        used, labels = np.unique(labels, return_inverse=True)
        cent = cent[used]
        order = np.argsort(labels, kind="stable")
        for i in range(self._bt.shape[0]):  # permute one coordinate at a time: no full temporary copy
            self._bt[i, :n] = self._bt[i, :n][order]
        self._ids[:n] = self._ids[:n][order]
        labels = labels[order].astype(np.int32)
        # exact centres of the full groups, and radii around them
        offs = np.searchsorted(labels, np.arange(len(used) + 1))
        rad = np.zeros(len(used))
        for j in range(len(used)):
            block = self._buf[offs[j] : offs[j + 1]]
            cent[j] = block.mean(0, dtype=np.float64)
            rad[j] = np.sqrt(((block - cent[j]) ** 2).sum(1, dtype=np.float64).max())
        self._cent, self._rad, self._labels, self._n_grouped = cent, rad, labels, n

    def _prunable(self) -> bool:
        if not self.config.prune or self._n < self.config.prune_min:
            return False
        if self._n_grouped == 0 or self._n - self._n_grouped > 0.2 * self._n_grouped:
            self._group()
        return True

    def _search_pruned(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``(nq, k)`` and inner products of the exact top k, scanning only groups that can qualify."""
        budget = self.config.budget_bytes
        nq, big = len(q), np.iinfo(np.int64).max
        best_s = np.full((nq, k), -np.inf, dtype=np.float32)
        best_r = np.zeros((nq, k), dtype=np.int64)
        best_id = np.full((nq, k), big, dtype=np.int64)

        def merge(sel: np.ndarray, rows: np.ndarray, sc: np.ndarray) -> None:
            cs = np.concatenate([best_s[sel], sc], axis=1)
            cr = np.concatenate([best_r[sel], rows], axis=1)
            ci = np.concatenate([best_id[sel], self._ids[rows]], axis=1)
            o = np.lexsort((ci, -cs), axis=1)[:, :k]
            best_s[sel] = np.take_along_axis(cs, o, 1)
            best_r[sel] = np.take_along_axis(cr, o, 1)
            best_id[sel] = np.take_along_axis(ci, o, 1)

        scanned = 0
        ng = self._n_grouped
        if ng < self._n:  # the tail added since grouping: scanned for every query
            rows, sc = M.topk(q, self._buf[ng : self._n], k, "dot", budget_bytes=budget, corpus_prepared=True)
            merge(np.arange(nq), rows + ng, sc)
        offs = np.searchsorted(self._labels[:ng], np.arange(len(self._cent) + 1))
        qn = np.linalg.norm(q, axis=1).astype(np.float64)
        cn = np.linalg.norm(self._cent, axis=1).astype(np.float64)
        ub = q.astype(np.float64) @ self._cent.T.astype(np.float64) + qn[:, None] * self._rad[None, :]
        ub += 1e-4 * qn[:, None] * (cn + self._rad)[None, :] + 1e-30  # margin for float32 rounding
        order = np.argsort(-ub, axis=1)
        active = np.ones(nq, dtype=bool)
        allq = np.arange(nq)
        for r in range(order.shape[1]):
            j = order[:, r]
            # ub[:, order] decreases along r and the k-th best only rises: an inactive query stays inactive
            active &= ub[allq, j] >= best_s[:, k - 1]
            qa = np.flatnonzero(active)
            if not len(qa):
                break
            jj = j[qa]
            srt = np.argsort(jj, kind="stable")
            qa, jj = qa[srt], jj[srt]
            groups, starts = np.unique(jj, return_index=True)
            ends = np.append(starts[1:], len(jj))
            for g, a, b in zip(groups, starts, ends, strict=True):
                lo, hi = int(offs[g]), int(offs[g + 1])
                if hi <= lo:
                    continue
                sel = qa[a:b]
                scanned += len(sel) * (hi - lo)
                rows, sc = M.topk(q[sel], self._buf[lo:hi], min(k, hi - lo), "dot", budget_bytes=budget,
                                  corpus_prepared=True)
                merge(sel, rows + lo, sc)
            if r == 0:
                # queries whose bounds leave more than half of the groups open gain nothing from pruning:
                # one plain blocked scan is cheaper than many small GEMMs
                dense = np.flatnonzero((ub >= best_s[:, k - 1][:, None]).mean(1) > 0.5)
                if len(dense):
                    scanned += len(dense) * self._n
                    rows, sc = M.topk(q[dense], self._buf[: self._n], k, "dot", budget_bytes=budget,
                                      corpus_prepared=True)
                    ids = self._ids[rows]
                    o = np.lexsort((ids, -sc), axis=1)
                    best_s[dense] = np.take_along_axis(sc, o, 1)
                    best_r[dense] = np.take_along_axis(rows, o, 1)
                    best_id[dense] = np.take_along_axis(ids, o, 1)
                    active[dense] = False
        self.last_scanned = (scanned + nq * (self._n - ng)) / max(1, nq * self._n)
        return best_r, best_s

    # -- search --------------------------------------------------------------------------------------------
    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        if overrides:
            raise ConfigError(f"the exact backend has no search settings; got {', '.join(sorted(overrides))}")
        corpus = self._buf[: self._n]
        qa = np.hstack([q, np.ones((len(q), 1), np.float32)]) if self._l2 else q
        if self._prunable():
            rows, raw = self._search_pruned(qa, k)
        else:
            self.last_scanned = 1.0
            rows, raw = M.topk(qa, corpus, k, "dot", budget_bytes=self.config.budget_bytes, corpus_prepared=True)
        ids = self._ids[rows]
        if self._l2:  # exact distances of the k winners
            diff = corpus[rows, : self.dim] - q[:, None, :]
            raw = np.einsum("qkd,qkd->qk", diff, diff).astype(np.float32)
            order = np.lexsort((ids, raw), axis=1)
        else:
            order = np.lexsort((ids, -raw), axis=1)  # ties by insertion order
        ids = np.take_along_axis(ids, order, 1)
        raw = np.take_along_axis(raw, order, 1)
        return ids, _to_score(self.metric, raw).astype(np.float32, copy=False)

    def reconstruct(self, ident: int) -> np.ndarray:
        row = np.flatnonzero(self._ids[: self._n] == ident)
        return self._buf[row[0], : self.dim].copy()

    @property
    def nbytes(self) -> int:
        return int(self._n * (self._buf.shape[1] * 4 + 8 + 4) + self._cent.nbytes + self._rad.nbytes)

    def to_files(self, w: ArtifactWriter) -> None:
        w.save_arrays("exact.safetensors", {
            "matrix": self._buf[: self._n, : self.dim], "ids": self._ids[: self._n],
            "labels": self._labels[: self._n_grouped], "centres": self._cent, "radii": self._rad})

    @classmethod
    def from_files(cls, art: Artifact, dim: int, metric: str, config: ExactConfig) -> ExactBackend:
        b = cls(dim, metric, config)
        arr = art.arrays("exact.safetensors")
        b._append(arr["matrix"].astype(np.float32, copy=False), arr["ids"].astype(np.int64), normalize=False)
        if "labels" in arr and len(arr["labels"]):
            b._labels = arr["labels"].astype(np.int32)
            b._n_grouped = len(b._labels)
            b._cent = arr["centres"].astype(np.float32)
            b._rad = arr["radii"].astype(np.float64)
        return b


# =====================================================================================================
# faiss backend
# =====================================================================================================


@dataclasses.dataclass(frozen=True)
class FaissConfig:
    """Options of the FAISS backend.

    Attributes:
        factory: a ``faiss.index_factory`` string: ``"HNSW32"``, ``"IVF256,Flat"``, ``"IVF256,PQ16"``,
            ``"PQ16"``, ``"Flat"``, ``"OPQ16,IVF256,PQ16"`` ...
        efSearch: HNSW search breadth (recall vs speed); default 64. Saved, overridable per call.
        nprobe: IVF lists visited per query (recall vs speed); default ``min(nlist, 16)``. Saved, overridable.
        efConstruction: HNSW build breadth (default 80); used while adding.
        train_size: train IVF/PQ on at most this many of the vectors (a seeded random sample); None = all.
        seed: seed of the training sample and of FAISS's k-means.
    """

    factory: str = "HNSW32"
    efSearch: int | None = None
    nprobe: int | None = None
    efConstruction: int | None = None
    train_size: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.factory, str) or not self.factory.strip():
            raise ValueError(f"factory must be a non-empty string, got {self.factory!r}")
        _check_positive(self, ("efSearch", "nprobe", "efConstruction", "train_size"))


def _faiss_msg(exc: BaseException) -> str:
    """The message of a FAISS C++ exception without its source location, on one line."""
    text = " ".join(str(exc).split())
    m = re.search(r"Error in .*? at \S+:\d+: (.*)", text)
    return m.group(1) if m else text


#: search settings that can be changed per call, by backend family
_OVERRIDABLE = {"hnsw": ("efSearch",), "ivf": ("nprobe",), "other": ()}


class FaissBackend:
    """Any FAISS index built from a factory string, with simlab keys, removal, saved search settings.

    Ids: vectors get int64 ids; index types that store ids (IVF) get them directly, the others are wrapped in
    ``IndexIDMap``. Removal uses FAISS's ``remove_ids`` where the index supports it (Flat, IVF); otherwise
    (HNSW) removed ids become tombstones filtered out at search time by an ``IDSelector``.
    """

    Config = FaissConfig
    name = "faiss"

    def __init__(self, dim: int, metric: str, config: FaissConfig) -> None:
        faiss = _faiss()
        self.dim, self.metric, self.config = dim, metric, config
        ftype = faiss.METRIC_L2 if metric in ("euclidean", "sqeuclidean") else faiss.METRIC_INNER_PRODUCT
        try:
            self._raw = faiss.index_factory(dim, config.factory, ftype)
        except RuntimeError as exc:
            raise ConfigError(f"invalid faiss factory string {config.factory!r}: {_faiss_msg(exc)}") from None
        self._index: Any = None  # the object searched: the raw index or an IDMap around it
        self._tomb = np.zeros(0, dtype=np.int64)
        self._lock = threading.Lock()
        self._core = faiss.downcast_index(self._unwrap(self._raw))
        self.family = "hnsw" if isinstance(self._core, faiss.IndexHNSW) else (
            "ivf" if faiss.try_extract_index_ivf(self._raw) is not None else "other")
        self.settings: dict[str, Any] = {}
        if getattr(self._core, "do_polysemous_training", False):
            # the factory turns on polysemous training for PQ (about 15x slower to train); it only serves
            # polysemous Hamming filtering, which simlab does not use
            self._core.do_polysemous_training = False
        if self.family == "hnsw":
            self._core.hnsw.efConstruction = int(config.efConstruction or 80)
            self._apply("efSearch", int(config.efSearch or 64))
        elif config.efSearch is not None or config.efConstruction is not None:
            raise ConfigError(f"efSearch/efConstruction apply to HNSW indexes, not {config.factory!r}")
        if self.family == "ivf":
            ivf = faiss.extract_index_ivf(self._raw)
            ivf.cp.seed = int(config.seed)
            self._apply("nprobe", int(config.nprobe or min(ivf.nlist, 16)))
        elif config.nprobe is not None:
            raise ConfigError(f"nprobe applies to IVF indexes, not {config.factory!r}")

    @staticmethod
    def _unwrap(index: Any) -> Any:
        faiss = _faiss()
        index = faiss.downcast_index(index)
        while isinstance(index, faiss.IndexPreTransform | faiss.IndexIDMap | faiss.IndexRefine):
            index = faiss.downcast_index(index.index if not isinstance(index, faiss.IndexRefine) else index.base_index)
        return index

    def _apply(self, name: str, value: Any) -> None:
        faiss = _faiss()
        try:
            faiss.ParameterSpace().set_index_parameter(self._raw, name, value)
        except RuntimeError as exc:
            raise ConfigError(f"cannot set {name}={value!r} on {self.config.factory!r}: {_faiss_msg(exc)}") from None
        self.settings[name] = value

    @property
    def is_trained(self) -> bool:
        return bool(self._raw.is_trained)

    @property
    def ntotal(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    def train(self, x: np.ndarray) -> None:
        n_min = self._min_train()
        if len(x) < n_min:
            raise DataError(f"faiss index {self.config.factory!r} needs at least {n_min} training vectors, "
                            f"got {len(x)}")
        if self.config.train_size is not None and len(x) > self.config.train_size:
            rng = np.random.default_rng(self.config.seed)
            x = x[np.sort(rng.choice(len(x), self.config.train_size, replace=False))]
        try:
            self._raw.train(np.ascontiguousarray(x))
        except RuntimeError as exc:
            raise DataError(f"training faiss index {self.config.factory!r} failed: {_faiss_msg(exc)}") from None

    def _min_train(self) -> int:
        faiss = _faiss()
        n = 1
        ivf = faiss.try_extract_index_ivf(self._raw)
        if ivf is not None:
            n = max(n, int(ivf.nlist))
        core = self._core
        pq = getattr(core, "pq", None)
        if pq is not None and not self._raw.is_trained:
            n = max(n, 1 << int(pq.nbits))
        return n

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        faiss = _faiss()
        if not self._raw.is_trained:
            self.train(x)
        if self._index is None:
            # index types that store ids natively (IVF) take them directly; others get an IDMap
            self._index = self._raw if faiss.try_extract_index_ivf(self._raw) is not None and not isinstance(
                faiss.downcast_index(self._raw), faiss.IndexRefine) else faiss.IndexIDMap(self._raw)
        try:
            self._index.add_with_ids(np.ascontiguousarray(x), np.ascontiguousarray(ids, dtype=np.int64))
        except RuntimeError as exc:
            raise DataError(f"adding to faiss index {self.config.factory!r} failed: {_faiss_msg(exc)}") from None

    def remove(self, ids: np.ndarray) -> None:
        if self._index is None:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        try:
            self._index.remove_ids(ids)
        except RuntimeError:  # HNSW & co cannot remove: tombstones, filtered at search time
            self._tomb = np.union1d(self._tomb, ids)

    def _params(self, overrides: Mapping[str, Any]) -> Any:
        faiss = _faiss()
        valid = _OVERRIDABLE[self.family]
        bad = sorted(set(overrides) - set(valid))
        if bad:
            raise ConfigError(f"unknown search setting(s) {', '.join(bad)} for faiss index {self.config.factory!r};"
                              f" valid: {', '.join(valid) or '(none)'}")
        if not overrides and not len(self._tomb):
            return None
        sel = None
        if len(self._tomb):
            batch = faiss.IDSelectorBatch(self._tomb)
            sel = faiss.IDSelectorNot(batch)
            sel._keep = batch  # keep the inner selector alive
        try:
            vals = {**self.settings, **{k: int(v) for k, v in overrides.items()}}
        except (TypeError, ValueError):
            raise ConfigError(f"search settings must be integers, got {dict(overrides)}") from None
        if self.family == "hnsw":
            p = faiss.SearchParametersHNSW(efSearch=int(vals["efSearch"]))
        elif self.family == "ivf":
            ivf = faiss.extract_index_ivf(self._raw)
            p = faiss.SearchParametersIVF(nprobe=int(vals["nprobe"]), max_codes=int(ivf.max_codes))
        else:
            p = faiss.SearchParameters()
        if sel is not None:
            p.sel = sel
            p._keep = sel
        return p

    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        params = self._params(overrides)
        try:
            if params is None:
                raw, ids = self._index.search(q, k)
            else:
                try:
                    raw, ids = self._index.search(q, k, params=params)
                except RuntimeError:
                    if not len(self._tomb):
                        raise
                    # this index type takes no selector: over-fetch and filter the tombstones
                    raw, ids = self._search_filtered(q, k, overrides)
        except RuntimeError as exc:
            raise SimlabError(f"faiss search failed: {_faiss_msg(exc)}") from None
        return ids, _to_score(self.metric, raw).astype(np.float32, copy=False)

    def _search_filtered(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        old = {name: self.settings[name] for name in overrides}
        with self._lock:
            for name, v in overrides.items():
                faiss.ParameterSpace().set_index_parameter(self._raw, name, int(v))
            try:
                raw, ids = self._index.search(q, min(k + len(self._tomb), self.ntotal))
            finally:
                for name, v in old.items():
                    faiss.ParameterSpace().set_index_parameter(self._raw, name, v)
        dead = np.isin(ids, self._tomb)
        order = np.argsort(dead, axis=1, kind="stable")[:, :k]
        ids = np.where(np.take_along_axis(dead, order, 1), -1, np.take_along_axis(ids, order, 1))
        return np.take_along_axis(raw, order, 1), ids

    def reconstruct(self, ident: int) -> np.ndarray:
        faiss = _faiss()
        idx = faiss.downcast_index(self._index)
        try:
            if isinstance(idx, faiss.IndexIDMap):
                id_map = faiss.vector_to_array(idx.id_map)
                pos = int(np.searchsorted(id_map, ident))  # ids are added in increasing order
                return idx.index.reconstruct(pos)
            ivf = faiss.extract_index_ivf(self._raw)
            if ivf.direct_map.type == faiss.DirectMap.NoMap:
                ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            return self._raw.reconstruct(int(ident))
        except RuntimeError as exc:
            raise SimlabError(f"faiss index {self.config.factory!r} cannot return stored vectors: {_faiss_msg(exc)}") from None

    @property
    def nbytes(self) -> int:
        """Bytes of the serialised FAISS index (a close estimate of its memory)."""
        if self._index is None:
            return 0
        return int(_faiss().serialize_index(self._index).nbytes)

    def to_files(self, w: ArtifactWriter) -> None:
        faiss = _faiss()
        obj = self._index if self._index is not None else self._raw
        w.save_bytes("index.faiss", faiss.serialize_index(obj).tobytes())
        w.save_arrays("faiss_state.safetensors", {"tombstones": self._tomb,
                                                   "added": np.array([self._index is not None], np.int8)})

    @classmethod
    def from_files(cls, art: Artifact, dim: int, metric: str, config: FaissConfig,
                   settings: Mapping[str, Any] | None = None) -> FaissBackend:
        faiss = _faiss()
        b = cls(dim, metric, config)
        data = np.frombuffer(art.bytes("index.faiss"), dtype=np.uint8)
        try:
            obj = faiss.deserialize_index(data)
        except RuntimeError as exc:
            raise SimlabError(f"{art.path}: unreadable faiss index ({_faiss_msg(exc)})") from None
        state = art.arrays("faiss_state.safetensors")
        if int(state["added"][0]):
            b._index = obj
            obj = faiss.downcast_index(obj)
            b._raw = obj.index if isinstance(obj, faiss.IndexIDMap) else obj
        else:
            b._raw = obj
        b._core = faiss.downcast_index(cls._unwrap(b._raw))
        b._tomb = state["tombstones"].astype(np.int64)
        for name, v in (settings or {}).items():
            b._apply(name, v)
        return b


INDEXES.register("exact", "simlab.index:ExactBackend", help="exact search: BLAS inner products + chunked top-k")
INDEXES.register("faiss", "simlab.index:FaissBackend",
                 help="FAISS index from a factory string (HNSW32, IVF256,Flat, IVF256,PQ16, Flat ...)")
KINDS.register("index", "simlab.index:Index", help="nearest-neighbour index (exact or faiss)")
KINDS.register("pca", "simlab.reduce:PCA", help="PCA dimensionality reduction")
KINDS.register("random_projection", "simlab.reduce:RandomProjection", help="Gaussian random projection")


# =====================================================================================================
# Index
# =====================================================================================================


class Index:
    """Keys + vectors searchable by similarity, over a registered backend.

    Args:
        backend: ``"exact"`` (the reference) or ``"faiss"`` (see ``simlab list indexes``).
        metric: ``cosine``, ``dot``, ``euclidean`` or ``sqeuclidean`` (aliases: cos, ip, inner_product, l2).
        dim: vector dimension; taken from the first :meth:`add` when omitted.
        **options: backend options (exact: ``budget_bytes``; faiss: ``factory``, ``efSearch``, ``nprobe``,
            ``efConstruction``, ``train_size``, ``seed``). Unknown names raise :class:`ConfigError`.

    Example:
        >>> import numpy as np
        >>> idx = Index("exact", metric="dot").add(["a", "b"], np.eye(2, dtype="float32"))
        >>> idx.search(np.array([[1.0, 0.0]]), k=1).keys
        [['a']]
    """

    def __init__(self, backend: str = "exact", metric: str = "cosine", dim: int | None = None,
                 **options: Any) -> None:
        self.backend_name = INDEXES.canonical(backend)
        self._cls = INDEXES.get(self.backend_name)
        self.metric = resolve_metric(metric)
        self.config = from_dict(self._cls.Config, options)
        self.options = {k: v for k, v in dataclasses.asdict(self.config).items()}
        if dim is not None and (not isinstance(dim, int | np.integer) or dim < 1):
            raise ConfigError(f"dim must be a positive integer, got {dim!r}")
        self.dim: int | None = None if dim is None else int(dim)
        self._backend: Any = None if dim is None else self._cls(self.dim, self.metric, self.config)
        self._key_of: list[Any] = []  # id -> key (None once removed)
        self._id_of: dict[Any, int] = {}
        self._key_arr: np.ndarray | None = None

    # -- basics --------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._id_of)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self._id_of
        except TypeError:
            return False

    def __repr__(self) -> str:
        extra = f", factory={self.config.factory!r}" if self.backend_name == "faiss" else ""
        return f"Index(backend={self.backend_name!r}{extra}, metric={self.metric!r}, dim={self.dim}, n={len(self)})"

    @property
    def keys(self) -> list[Any]:
        """Keys in insertion order (removed ones left out)."""
        return [k for k in self._key_of if k is not None] if len(self._id_of) != len(self._key_of) else list(
            self._key_of)

    @property
    def settings(self) -> dict[str, Any]:
        """The saved search settings (e.g. ``{"efSearch": 64}``); per-call overrides do not change them."""
        return dict(getattr(self._backend, "settings", {}) or {}) if self._backend is not None else {}

    @property
    def is_trained(self) -> bool:
        """False for an IVF/PQ index that has not seen training data yet."""
        return self._backend is not None and bool(self._backend.is_trained)

    @property
    def nbytes(self) -> int:
        """Approximate memory of the stored vectors/codes and graph (keys excluded)."""
        return 0 if self._backend is None else int(self._backend.nbytes)

    def set(self, **settings: Any) -> Index:
        """Change saved search settings, e.g. ``idx.set(efSearch=128)`` or ``idx.set(nprobe=32)``."""
        self._ensure_backend(None)
        valid = _OVERRIDABLE.get(getattr(self._backend, "family", "other"), ())
        for name, value in settings.items():
            if name not in valid:
                raise ConfigError(f"unknown search setting {name!r} for this index; valid: {', '.join(valid) or '(none)'}")
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"search setting {name} must be a positive integer, got {value!r}")
            self._backend._apply(name, int(value))
        return self

    # -- building ------------------------------------------------------------------------------------------
    def _ensure_backend(self, d: int | None) -> None:
        if self._backend is None:
            if d is None:
                raise NotFittedError("the index has no dimension yet: pass dim= or add vectors first")
            self.dim = int(d)
            self._backend = self._cls(self.dim, self.metric, self.config)

    def _prepare(self, x: Any, name: str, normalize: bool = True) -> np.ndarray:
        arr = M.as_matrix(x, np.float32, name)
        if self.dim is not None and arr.shape[1] != self.dim:
            raise DimensionError(f"{name} have dimension {arr.shape[1]}, the index has dimension {self.dim}")
        if normalize and self.metric == "cosine":
            arr = M.l2_normalize(arr).astype(np.float32, copy=False)
        return np.ascontiguousarray(arr)

    def train(self, vectors: Any) -> Index:
        """Train an IVF/PQ index on representative vectors ``(n, dim)`` (done automatically by the first add)."""
        x = self._prepare(vectors, "training vectors")
        self._ensure_backend(x.shape[1])
        self._backend.train(x)
        return self

    def add(self, keys: Iterable[Any], vectors: Any) -> Index:
        """Add vectors under new keys.

        Args:
            keys: n unique keys (str or int) not already in the index.
            vectors: ``(n, dim)`` array-like.

        Returns:
            self.

        Raises:
            DataError: duplicate keys, a key already present, or NaN values.
            DimensionError: wrong dimension or a key count that does not match the rows.
        """
        keys = list(keys)
        own_norm = bool(getattr(self._cls, "normalizes", False))
        x = (self._prepare(vectors, "vectors", normalize=not own_norm) if len(keys)
             else np.zeros((0, self.dim or 0), np.float32))
        if x.shape[0] != len(keys):
            raise DimensionError(f"{len(keys)} keys but {x.shape[0]} vectors")
        if not keys:
            return self
        seen: set[Any] = set()
        for key in keys:
            if key is None:
                raise DataError("None cannot be a key")
            if key in self._id_of or key in seen:
                raise DataError(f"key {key!r} is already in the index (remove it first)")
            seen.add(key)
        self._ensure_backend(x.shape[1])
        start = len(self._key_of)
        ids = np.arange(start, start + len(keys), dtype=np.int64)
        self._backend.add(x, ids)
        self._key_of.extend(keys)
        self._id_of.update(zip(keys, range(start, start + len(keys)), strict=True))
        self._key_arr = None
        return self

    def remove(self, keys: Iterable[Any]) -> Index:
        """Remove keys (and their vectors).

        Raises:
            UnknownKeyError: a key that is not in the index (nothing is removed then).
        """
        keys = [keys] if isinstance(keys, str | int) else list(keys)
        for key in keys:
            if key not in self:
                raise UnknownKeyError(f"cannot remove unknown key {key!r} (not among the {len(self)} indexed keys)")
        ids = np.array(sorted({self._id_of[key] for key in keys}), dtype=np.int64)
        if len(ids):
            self._backend.remove(ids)
            for key in keys:
                i = self._id_of.pop(key, None)
                if i is not None:
                    self._key_of[i] = None
            self._key_arr = None
        return self

    # -- search --------------------------------------------------------------------------------------------
    def _keys_array(self) -> np.ndarray:
        if self._key_arr is None:
            arr = np.empty(len(self._key_of) + 1, dtype=object)  # last slot: None for id -1
            arr[:-1] = np.fromiter(self._key_of, dtype=object, count=len(self._key_of))
            self._key_arr = arr
        return self._key_arr

    def search(self, queries: Any, k: int = 10, **overrides: Any) -> Hits:
        """The k most similar indexed keys of each query.

        Args:
            queries: ``(q, dim)`` (a batch) or ``(dim,)`` (one query).
            k: neighbours per query (at most the number of indexed keys).
            **overrides: search settings for this call only, e.g. ``efSearch=256`` (HNSW), ``nprobe=32`` (IVF).

        Returns:
            :class:`Hits`: for a batch, ``keys`` is a list of q lists and ``scores`` is ``(q, k)``; for one
            ``(dim,)`` query, a list of k keys and ``(k,)`` scores. Scores are similarities (higher = more
            similar; negated distances for Euclidean). An approximate index that finds fewer than k live
            neighbours pads with key ``None`` and score ``-inf``.

        Raises:
            DataError: the index is empty. DimensionError: wrong query dimension. ConfigError: bad k or
            unknown setting names.
        """
        single = (getattr(queries, "ndim", None) == 1 or
                  (isinstance(queries, list | tuple) and np.ndim(queries) == 1))
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        if len(self) == 0:
            raise DataError("cannot search an empty index: add vectors first")
        q = self._prepare(queries, "queries")
        k = min(int(k), len(self))
        ids, scores = self._backend.search(q, k, overrides)
        missing = ids < 0
        if missing.any():
            scores = np.where(missing, -np.inf, scores).astype(np.float32)
            ids = np.where(missing, len(self._key_of), ids)
        keys = self._keys_array()[ids].tolist()
        if single:
            return Hits(keys[0], scores[0])
        return Hits(keys, scores)

    def vector(self, key: Any) -> np.ndarray:
        """The stored vector of `key` ``(dim,)`` (unit length for cosine; decoded, so lossy, for PQ)."""
        if key not in self:
            raise UnknownKeyError(f"unknown key {key!r} (not among the {len(self)} indexed keys)")
        return np.asarray(self._backend.reconstruct(self._id_of[key]), dtype=np.float32)

    def most_similar(self, query: Any, k: int = 10, exclude_query: bool = True, **overrides: Any) -> Hits:
        """Neighbours of a stored key (itself excluded) or of a ``(dim,)`` vector, as one-query :class:`Hits`."""
        if isinstance(query, np.ndarray) or hasattr(query, "detach"):
            return self.search(np.asarray(query, np.float32).reshape(-1), k, **overrides)
        vec = self.vector(query)
        want = min(k + (1 if exclude_query else 0), len(self))
        hits = self.search(vec, want, **overrides)
        pairs = [(kk, s) for kk, s in zip(hits.keys, hits.scores, strict=True)
                 if not (exclude_query and kk == query)][:k]
        return Hits([p[0] for p in pairs], np.array([p[1] for p in pairs], np.float32))

    # -- persistence ---------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (config, saved search settings, keys, backend data), atomically."""
        cfg = {"backend": self.backend_name, "metric": self.metric, "dim": self.dim, "options": self.options,
               "settings": self.settings, "count": len(self)}
        with ArtifactWriter(path, "index", cfg) as w:
            w.save_json("keys.json", self._key_of)
            if self._backend is not None:
                self._backend.to_files(w)
            w.metrics["nbytes"] = self.nbytes
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Index:
        """Load an index saved with :meth:`save` (checksums verified, nothing unpickled)."""
        return cls._from_artifact(Artifact(path, kind="index"))

    @classmethod
    def _from_artifact(cls, art: Artifact) -> Index:
        c = art.config
        try:
            idx = cls(c["backend"], c["metric"], None, **(c.get("options") or {}))
            dim = c.get("dim")
        except KeyError as exc:
            raise SimlabError(f"{art.path}: index manifest lacks {exc}") from None
        keys = art.json("keys.json")
        if not isinstance(keys, list):
            raise SimlabError(f"{art.path}: keys.json is not a list")
        if dim is not None:
            idx.dim = int(dim)
            if idx.backend_name == "faiss":
                idx._backend = idx._cls.from_files(art, idx.dim, idx.metric, idx.config, c.get("settings"))
            else:
                idx._backend = idx._cls.from_files(art, idx.dim, idx.metric, idx.config)
        idx._key_of = keys
        idx._id_of = {key: i for i, key in enumerate(keys) if key is not None}
        return idx


def recall_at_k(index: Index, exact_index: Index, queries: Any, k: int = 10, **overrides: Any) -> float:
    """Mean share of the exact top-k keys that `index` also returns in its top k.

    Args:
        index: the approximate index.
        exact_index: the reference (normally the ``exact`` backend over the same vectors and metric).
        queries: ``(q, dim)``.
        k: neighbours compared.
        **overrides: search settings for `index` (e.g. ``efSearch=32``).

    Returns:
        recall@k in [0, 1].
    """
    got = index.search(queries, k, **overrides).keys
    ref = exact_index.search(queries, k).keys
    if not ref:
        return float("nan")
    return float(np.mean([len(set(g) & set(r)) / max(1, len(r)) for g, r in zip(got, ref, strict=True)]))
