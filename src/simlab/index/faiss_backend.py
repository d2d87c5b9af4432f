"""FAISS backend: any ``faiss.index_factory`` string, with keys, removal and saved search settings.

FAISS is imported lazily; see :data:`FAISS_BLAS_THRESHOLD` for the one process-wide setting simlab changes.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, SimlabError
from simlab.index.common import Backend, _check_positive

log = logging.getLogger(__name__)

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
        k_factor: re-ranking indexes (factory ending in ``,RFlat``, e.g. ``IVF1024,PQ50x4fs,RFlat``: IVF-PQ
            fast-scan with exact re-ranking): ``k_factor * k`` candidates are re-scored exactly (default 4).
            Saved, overridable per call.
    """

    factory: str = "HNSW32"
    efSearch: int | None = None
    nprobe: int | None = None
    efConstruction: int | None = None
    train_size: int | None = None
    seed: int = 0
    k_factor: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.factory, str) or not self.factory.strip():
            raise ValueError(f"factory must be a non-empty string, got {self.factory!r}")
        _check_positive(self, ("efSearch", "nprobe", "efConstruction", "train_size", "k_factor"))


def _faiss_msg(exc: BaseException) -> str:
    """The message of a FAISS C++ exception without its source location, on one line."""
    text = " ".join(str(exc).split())
    m = re.search(r"Error in .*? at \S+:\d+: (.*)", text)
    return m.group(1) if m else text


#: search settings that can be changed per call, by backend family
_OVERRIDABLE = {"hnsw": ("efSearch",), "ivf": ("nprobe",), "ivf_refine": ("nprobe", "k_factor"), "other": ()}


class FaissBackend(Backend):
    """Any FAISS index built from a factory string, with simlab keys, removal, saved search settings.

    Ids: vectors get int64 ids; index types that store ids (IVF) get them directly, the others are wrapped in
    ``IndexIDMap``. Removal uses FAISS's ``remove_ids`` where the index supports it (Flat, IVF); otherwise
    (HNSW) removed ids become tombstones filtered out at search time by an ``IDSelector``.
    """

    Config = FaissConfig
    name = "faiss"
    shown_options = ("factory",)
    learns = True

    def __init__(self, dim: int, metric: str, config: FaissConfig) -> None:
        faiss = _faiss()
        super().__init__(dim, metric, config)
        ftype = faiss.METRIC_L2 if self._l2 else faiss.METRIC_INNER_PRODUCT
        try:
            self._raw = faiss.index_factory(dim, config.factory, ftype)
        except RuntimeError as exc:
            raise ConfigError(f"invalid faiss factory string {config.factory!r}: {_faiss_msg(exc)}") from None
        self._index: Any = None  # the object searched: the raw index or an IDMap around it
        self._tomb = np.zeros(0, dtype=np.int64)
        self._lock = threading.Lock()
        self._core = faiss.downcast_index(self._unwrap(self._raw))
        self.family = (
            "hnsw"
            if isinstance(self._core, faiss.IndexHNSW)
            else ("ivf" if faiss.try_extract_index_ivf(self._raw) is not None else "other")
        )
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
        self._refine = isinstance(faiss.downcast_index(self._raw), faiss.IndexRefine)
        if self._refine and self.family == "ivf":
            self.family = "ivf_refine"
            self._apply("k_factor", int(config.k_factor or 4))
        elif config.k_factor is not None:
            raise ConfigError(f"k_factor applies to re-ranking indexes (',RFlat'), not {config.factory!r}")
        if self.family in ("ivf", "ivf_refine"):
            ivf = faiss.extract_index_ivf(self._raw)
            ivf.cp.seed = int(config.seed)
            self._apply("nprobe", int(config.nprobe or min(ivf.nlist, 16)))
        elif config.nprobe is not None:
            raise ConfigError(f"nprobe applies to IVF indexes, not {config.factory!r}")
        self.overridable = _OVERRIDABLE[self.family]

    @staticmethod
    def _unwrap(index: Any) -> Any:
        faiss = _faiss()
        index = faiss.downcast_index(index)
        while isinstance(index, faiss.IndexPreTransform | faiss.IndexIDMap | faiss.IndexRefine):
            index = faiss.downcast_index(
                index.index if not isinstance(index, faiss.IndexRefine) else index.base_index
            )
        return index

    def _apply(self, name: str, value: Any) -> None:
        faiss = _faiss()
        if name == "k_factor":
            faiss.downcast_index(self._raw).k_factor = float(value)
            self.settings[name] = int(value)
            return
        try:
            faiss.ParameterSpace().set_index_parameter(self._raw, name, value)
        except RuntimeError as exc:
            raise ConfigError(
                f"cannot set {name}={value!r} on {self.config.factory!r}: {_faiss_msg(exc)}"
            ) from None
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
            raise DataError(
                f"faiss index {self.config.factory!r} needs at least {n_min} training vectors, got {len(x)}"
            )
        if self.config.train_size is not None and len(x) > self.config.train_size:
            rng = np.random.default_rng(self.config.seed)
            x = x[np.sort(rng.choice(len(x), self.config.train_size, replace=False))]
        _quiet_clustering(self._raw, self._core, len(x), self.config.factory)
        try:
            self._raw.train(np.ascontiguousarray(x))
        except RuntimeError as exc:
            raise DataError(
                f"training faiss index {self.config.factory!r} failed: {_faiss_msg(exc)}"
            ) from None

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
            self._index = (
                self._raw
                if faiss.try_extract_index_ivf(self._raw) is not None
                and not isinstance(faiss.downcast_index(self._raw), faiss.IndexRefine)
                else faiss.IndexIDMap(self._raw)
            )
        try:
            self._index.add_with_ids(np.ascontiguousarray(x), np.ascontiguousarray(ids, dtype=np.int64))
        except RuntimeError as exc:
            raise DataError(
                f"adding to faiss index {self.config.factory!r} failed: {_faiss_msg(exc)}"
            ) from None

    def remove(self, ids: np.ndarray) -> None:
        if self._index is None:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        try:
            self._index.remove_ids(ids)
        except RuntimeError:  # HNSW & co cannot remove: tombstones, filtered at search time
            self._tomb = np.union1d(self._tomb, ids)

    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        params = _search_params(self, overrides)
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
                    raw, ids = _search_filtered(self, q, k, overrides)
        except RuntimeError as exc:
            raise SimlabError(f"faiss search failed: {_faiss_msg(exc)}") from None
        return ids, self._score(raw).astype(np.float32, copy=False)

    @property
    def dead(self) -> int:
        """Removed vectors still held by the index (tombstones)."""
        return len(self._tomb)

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        """``(len(ids), dim)`` stored vectors (decoded, for compressed storage)."""
        faiss = _faiss()
        idx = faiss.downcast_index(self._index)
        if isinstance(idx, faiss.IndexIDMap) and len(ids):
            id_map = faiss.vector_to_array(idx.id_map)
            pos = np.searchsorted(id_map, np.asarray(ids, np.int64))  # ids are added in increasing order
            try:
                stored = idx.index.reconstruct_n(0, int(idx.index.ntotal))
            except RuntimeError as exc:
                raise SimlabError(
                    f"faiss index {self.config.factory!r} cannot return stored vectors: {_faiss_msg(exc)}"
                ) from None
            return np.asarray(stored[pos], np.float32)
        return (
            np.stack([self.reconstruct(int(i)) for i in ids]).astype(np.float32)
            if len(ids)
            else np.zeros((0, self.dim), np.float32)
        )

    def id_bound(self) -> int:
        return self.ntotal

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
            raise SimlabError(
                f"faiss index {self.config.factory!r} cannot return stored vectors: {_faiss_msg(exc)}"
            ) from None

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
        w.save_arrays(
            "faiss_state.safetensors",
            {"tombstones": self._tomb, "added": np.array([self._index is not None], np.int8)},
        )

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: FaissConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> FaissBackend:
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


MIN_POINTS_PER_CENTROID = 39  # FAISS's default: below it k-means prints a C++ WARNING on stderr


def _quiet_clustering(raw: Any, core: Any, n: int, factory: str) -> None:
    """Silence FAISS's C++ "WARNING clustering N points to K centroids" (printed once per k-means, eight times
    for a PQ) and say it once, through simlab's logger, when there are fewer training vectors than k-means
    wants."""
    faiss = _faiss()
    ks = []
    for owner in (faiss.try_extract_index_ivf(raw), core):
        if owner is None:
            continue
        if hasattr(owner, "cp") and hasattr(owner, "nlist"):
            owner.cp.min_points_per_centroid = 1
            ks.append(int(owner.nlist))
        pq = getattr(owner, "pq", None)
        if pq is not None and hasattr(pq, "cp"):
            pq.cp.min_points_per_centroid = 1
            ks.append(1 << int(pq.nbits))
    if ks and n < MIN_POINTS_PER_CENTROID * max(ks):
        log.warning(
            "faiss %s: training on %d vectors, fewer than the %d per centroid k-means wants (%d "
            "centroids); the index may be poor (more vectors or fewer lists/bits)",
            factory,
            n,
            MIN_POINTS_PER_CENTROID,
            max(ks),
        )


def _search_params(b: FaissBackend, overrides: Mapping[str, Any]) -> Any:
    """FAISS search parameters for one call: the saved settings with `overrides`, and a selector that skips
    tombstones (None when neither is needed)."""
    faiss = _faiss()
    valid = b.overridable
    bad = sorted(set(overrides) - set(valid))
    if bad:
        raise ConfigError(
            f"unknown search setting(s) {', '.join(bad)} for faiss index {b.config.factory!r};"
            f" valid: {', '.join(valid) or '(none)'}"
        )
    if not overrides and not len(b._tomb):
        return None
    sel = None
    if len(b._tomb):
        batch = faiss.IDSelectorBatch(b._tomb)
        sel = faiss.IDSelectorNot(batch)
        sel._keep = batch  # keep the inner selector alive
    try:
        vals = {**b.settings, **{k: int(v) for k, v in overrides.items()}}
    except (TypeError, ValueError):
        raise ConfigError(f"search settings must be integers, got {dict(overrides)}") from None
    if b.family == "hnsw":
        p = faiss.SearchParametersHNSW(efSearch=int(vals["efSearch"]))
    elif b.family in ("ivf", "ivf_refine"):
        ivf = faiss.extract_index_ivf(b._raw)
        p = faiss.SearchParametersIVF(nprobe=int(vals["nprobe"]), max_codes=int(ivf.max_codes))
        if b.family == "ivf_refine":
            base = p
            p = faiss.IndexRefineSearchParameters(k_factor=float(vals["k_factor"]), base_index_params=base)
            p._keep_base = base
    else:
        p = faiss.SearchParameters()
    if sel is not None:
        p.sel = sel
        p._keep = sel
    return p


def _search_filtered(
    b: FaissBackend, q: np.ndarray, k: int, overrides: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Search an index type that takes no selector: over-fetch by the tombstone count and filter them."""
    faiss = _faiss()
    old = {name: b.settings[name] for name in overrides}
    with b._lock:
        for name, v in overrides.items():
            faiss.ParameterSpace().set_index_parameter(b._raw, name, int(v))
        try:
            raw, ids = b._index.search(q, min(k + len(b._tomb), b.ntotal))
        finally:
            for name, v in old.items():
                faiss.ParameterSpace().set_index_parameter(b._raw, name, v)
    dead = np.isin(ids, b._tomb)
    order = np.argsort(dead, axis=1, kind="stable")[:, :k]
    ids = np.where(np.take_along_axis(dead, order, 1), -1, np.take_along_axis(ids, order, 1))
    return np.take_along_axis(raw, order, 1), ids
