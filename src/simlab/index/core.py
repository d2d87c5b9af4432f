"""`Index`: keys + vectors over a registered backend; `recall_at_k` against exact search."""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from simlab import metrics as M
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict
from simlab.errors import ConfigError, DataError, DimensionError, NotFittedError, SimlabError, UnknownKeyError
from simlab.index.common import resolve_metric
from simlab.registry import INDEXES
from simlab.vectors import Hits

log = logging.getLogger(__name__)


class KeyTable:
    """The keys of an index and their int64 ids (the position at insertion; a removed key leaves ``None``).

    Args:
        keys: saved keys, ``None`` where one was removed.
    """

    def __init__(self, keys: Iterable[Any] = ()) -> None:
        self.key_of: list[Any] = list(keys)  # id -> key (None once removed)
        self.id_of: dict[Any, int] = {key: i for i, key in enumerate(self.key_of) if key is not None}
        self._arr: np.ndarray | None = None  # key_of as an object array, plus None for id -1
        self._ident = _are_ids(self.key_of, 0)  # every key is its id (ints 0..n-1, none removed)

    def __len__(self) -> int:
        return len(self.id_of)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self.id_of
        except TypeError:
            return False

    @property
    def keys(self) -> list[Any]:
        """Keys in insertion order (removed ones left out)."""
        if len(self.id_of) != len(self.key_of):
            return [k for k in self.key_of if k is not None]
        return list(self.key_of)

    def check_new(self, keys: list[Any]) -> None:
        """Raise :class:`DataError` for a None key, a duplicate or a key already present."""
        seen: set[Any] = set()
        for key in keys:
            if key is None:
                raise DataError("None cannot be a key")
            if key in self.id_of or key in seen:
                raise DataError(f"key {key!r} is already in the index (remove it first)")
            seen.add(key)

    def append(self, keys: list[Any]) -> np.ndarray:
        """Give `keys` the next ids; returns them."""
        start = len(self.key_of)
        self._ident = self._ident and _are_ids(keys, start)
        self.key_of.extend(keys)
        self.id_of.update(zip(keys, range(start, start + len(keys)), strict=True))
        self._arr = None
        return np.arange(start, start + len(keys), dtype=np.int64)

    def drop(self, keys: list[Any]) -> np.ndarray:
        """Forget `keys` (all known); returns their ids, sorted."""
        ids = np.array(sorted({self.id_of[key] for key in keys}), dtype=np.int64)
        for key in keys:
            i = self.id_of.pop(key, None)
            if i is not None:
                self.key_of[i] = None
        self._arr = None
        self._ident = False
        return ids

    def lookup(self, ids: np.ndarray) -> list[Any]:
        """Keys of an id array (any shape); id -1 gives ``None``."""
        if self._ident and (ids.size == 0 or ids.min() >= 0):  # keys 0..n-1: the ids are the keys
            return ids.tolist()
        if self._arr is None:
            arr = np.empty(len(self.key_of) + 1, dtype=object)  # last slot: None for id -1
            arr[:-1] = np.fromiter(self.key_of, dtype=object, count=len(self.key_of))
            self._arr = arr
        return self._arr[ids].tolist()


def _are_ids(keys: list[Any], start: int) -> bool:
    """Whether `keys` are the Python ints ``start, start + 1, ...`` (then an id is its key)."""
    return all(type(key) is int for key in keys) and keys == list(range(start, start + len(keys)))


class IndexArtifact:
    """The persistence protocol of :class:`Index` (the same method names as :class:`simlab.model.Model`):
    ``get_params`` (the manifest's config), ``to_artifact`` / ``from_artifact``, ``save`` / ``load``."""

    backend_name: str
    metric: str
    dim: int | None
    options: dict[str, Any]
    settings: dict[str, Any]
    nbytes: int
    config: Any
    _backend: Any
    _cls: Any
    _keys: KeyTable

    def __len__(self) -> int:  # pragma: no cover - Index implements it
        raise NotImplementedError

    KIND = "index"

    def get_params(self) -> dict[str, Any]:
        """The manifest's config: backend, metric, dim, options, saved settings, count and the backend's
        plan."""
        cfg: dict[str, Any] = {
            "backend": self.backend_name,
            "metric": self.metric,
            "dim": self.dim,
            "options": self.options,
            "settings": self.settings,
            "count": len(self),
        }
        plan = self._backend.plan if self._backend is not None else None
        if plan:  # how the backend chose to search (exact: scan engine, pruning, skip rate; auto: the choice)
            cfg["plan"] = plan
        return cfg

    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Write the keys and the backend's files into an open artifact (the manifest comes from
        :meth:`get_params`)."""
        writer.save_json("keys.json", self._keys.key_of)
        if self._backend is not None:
            self._backend.to_files(writer)
        writer.metrics["nbytes"] = self.nbytes

    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (config, saved search settings, keys, backend data), atomically."""
        with ArtifactWriter(path, self.KIND, self.get_params()) as w:
            self.to_artifact(w)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load an index saved with :meth:`save` (checksums verified, nothing unpickled)."""
        return cls.from_artifact(Artifact(path, kind=cls.KIND))

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Any:
        """Rebuild an index from a verified ``index`` artifact."""
        art, c = artifact, artifact.config
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
            idx._backend = idx._cls.from_files(art, idx.dim, idx.metric, idx.config, c.get("settings"))
        if not all(k is None or (isinstance(k, str | int) and not isinstance(k, bool)) for k in keys):
            raise SimlabError(f"{art.path}/keys.json: keys must be strings, integers or null")
        top = idx._backend.id_bound() if idx._backend is not None else 0
        if top > len(keys):
            raise SimlabError(f"{art.path}/keys.json: {len(keys)} keys for {top} stored vectors (truncated?)")
        idx._keys = KeyTable(keys)
        return idx


class Index(IndexArtifact):
    """Keys + vectors searchable by similarity, over a registered backend.

    Args:
        backend: ``"exact"`` (the reference), ``"faiss"``, ``"hnswlib"``, ``"usearch"``, ``"scann"`` or
            ``"auto"`` (measures those on the data, keeps the fastest at ``target_recall``; see
            ``simlab list indexes``).
        metric: ``cosine``, ``dot``, ``euclidean`` or ``sqeuclidean`` (aliases: cos, ip, inner_product, l2).
        dim: vector dimension; taken from the first :meth:`add` when omitted.
        **options: backend options (exact: ``prune``, ``engine``, ``budget_bytes``; faiss: ``factory``,
            ``efSearch``, ``nprobe``, ``efConstruction``, ``k_factor``, ``train_size``, ``seed``;
            hnswlib/usearch: ``M``, ``efConstruction``, ``efSearch``, ``threads``; scann: ``leaves``,
            ``leaves_to_search``, ``reorder``; auto: ``target_recall``, ``k``, ``candidates``, ``sample``).
            Unknown names raise :class:`ConfigError`.

    Example:
        >>> import numpy as np
        >>> idx = Index("exact", metric="dot").add(["a", "b"], np.eye(2, dtype="float32"))
        >>> idx.search(np.array([[1.0, 0.0]]), k=1).keys
        [['a']]
    """

    CAPABILITIES = frozenset({"searches"})  #: for the CLI and the service (simlab.model.capabilities)

    def __init__(
        self, backend: str = "exact", metric: str = "cosine", dim: int | None = None, **options: Any
    ) -> None:
        self.backend_name = INDEXES.canonical(backend)
        self._cls = INDEXES.get(self.backend_name)
        self.metric = resolve_metric(metric, self._cls.metrics)
        self.spec = M.get_metric(self.metric)
        self.config = from_dict(self._cls.Config, options)
        self.options = {k: v for k, v in dataclasses.asdict(self.config).items()}
        if dim is not None and (not isinstance(dim, int | np.integer) or dim < 1):
            raise ConfigError(f"dim must be a positive integer, got {dim!r}")
        self.dim: int | None = None if dim is None else int(dim)
        self._backend: Any = None if dim is None else self._cls(self.dim, self.metric, self.config)
        self._keys = KeyTable()

    # -- basics --------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __repr__(self) -> str:
        extra = "".join(f", {name}={value!r}" for name, value in self.declared["shown"].items())
        where = f"metric={self.metric!r}, dim={self.dim}, n={len(self)}"
        return f"Index(backend={self.backend_name!r}{extra}, {where})"

    @property
    def keys(self) -> list[Any]:
        """Keys in insertion order (removed ones left out)."""
        return self._keys.keys

    @property
    def settings(self) -> dict[str, Any]:
        """The saved search settings (e.g. ``{"efSearch": 64}``); per-call overrides do not change them."""
        return dict(self._backend.settings) if self._backend is not None else {}

    @property
    def declared(self) -> dict[str, Any]:
        """What the backend declares (:class:`~simlab.index.common.Backend`): ``learns``, ``compactable``,
        ``shown`` (its shown options and their values, e.g. FAISS's ``factory``)."""
        shown = {name: getattr(self.config, name) for name in self._cls.shown_options}
        return {"learns": self._cls.learns, "compactable": self._cls.compactable, "shown": shown}

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
        valid = self._backend.overridable
        for name, value in settings.items():
            if name not in valid:
                raise ConfigError(
                    f"unknown search setting {name!r} for this index; valid: {', '.join(valid) or '(none)'}"
                )
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
        norm = normalize and self.spec.normalizes
        if norm and type(x) is np.ndarray and x.dtype == np.float32 and 1 <= x.ndim <= 2:
            arr = x.reshape(1, -1) if x.ndim == 1 else x  # float32 already: no conversion, no copy
        else:
            # normalising: finite norms imply finite values, so the values are only checked when a norm is not
            arr = M.as_matrix(x, np.float32, name, check_finite=not norm)
        if self.dim is not None and arr.shape[1] != self.dim:
            raise DimensionError(f"{name} have dimension {arr.shape[1]}, the index has dimension {self.dim}")
        if norm and len(arr) == 1:  # one query: one dot product, one division (a new C-contiguous row)
            sq = float(np.vdot(arr, arr))  # BLAS sdot; an overflow gives inf without a warning
            if 0.0 < sq < math.inf:  # a finite norm: finite values
                return arr * (1.0 / math.sqrt(sq))  # float32 (a Python float scales in the array's type)
        faiss = sys.modules.get("faiss") if norm else None
        if faiss is not None:  # FAISS loaded: its normalize_L2 on a copy (one C++ pass, FAISS's own rounding)
            out = np.array(arr, dtype=np.float32, order="C")
            faiss.normalize_L2(out)
            if np.isfinite(out).all():
                return out
        if norm:  # as M.l2_normalize, with a cheaper norm (einsum)
            norms = np.sqrt(np.einsum("ij,ij->i", arr, arr))
            if not np.isfinite(norms).all():  # NaN/inf values raise here (or a finite overflow passes)
                M.as_matrix(arr, np.float32, name)
            if not norms.all():
                norms[norms == 0] = 1
            arr = arr / norms[:, None]
        return np.ascontiguousarray(arr, dtype=np.float32)

    def train(self, vectors: Any) -> Index:
        """Train an IVF/PQ index on representative vectors ``(n, dim)`` (done automatically by the first
        add)."""
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
        keys = keys.tolist() if isinstance(keys, np.ndarray) else list(keys)  # numpy ints become ints
        x = (
            self._prepare(vectors, "vectors", normalize=not self._cls.normalizes_rows)
            if len(keys)
            else np.zeros((0, self.dim or 0), np.float32)
        )
        if x.shape[0] != len(keys):
            raise DimensionError(f"{len(keys)} keys but {x.shape[0]} vectors")
        if not keys:
            return self
        self._keys.check_new(keys)
        self._ensure_backend(x.shape[1])
        start = len(self._keys.key_of)
        self._backend.add(x, np.arange(start, start + len(keys), dtype=np.int64))
        self._keys.append(keys)
        return self

    def remove(self, keys: Iterable[Any]) -> Index:
        """Remove keys (and their vectors).

        Raises:
            UnknownKeyError: a key that is not in the index (nothing is removed then).
        """
        keys = [keys] if isinstance(keys, str | int) else list(keys)
        for key in keys:
            if key not in self:
                raise UnknownKeyError(
                    f"cannot remove unknown key {key!r} (not among the {len(self)} indexed keys)"
                )
        if keys:
            self._backend.remove(np.array(sorted({self._keys.id_of[key] for key in keys}), dtype=np.int64))
            self._keys.drop(keys)
        return self

    @property
    def dead(self) -> int:
        """Removed vectors the backend still holds (FAISS HNSW tombstones; 0 for the other backends)."""
        return int(self._backend.dead) if self._backend is not None else 0

    def compact(self) -> Index:
        """Rebuild without the tombstones that removals leave in indexes that cannot delete (FAISS HNSW).

        Live keys keep their order and saved search settings are kept; the vectors are read back from the
        index (for compressed storage such as ``HNSW32,PQ16`` the decoded vectors are re-encoded). A no-op
        when nothing is dead.
        """
        if not self.dead:
            return self
        keys = self.keys
        x = self._backend.reconstruct_many(np.array([self._keys.id_of[k] for k in keys], np.int64))
        settings = self.settings
        fresh = Index(self.backend_name, self.metric, dim=self.dim, **self.options)
        if keys:
            fresh.add(keys, x)
        if settings:
            fresh.set(**settings)
        self._backend, self._keys = fresh._backend, fresh._keys
        return self

    # -- search --------------------------------------------------------------------------------------------
    def search(self, queries: Any, k: int = 10, **overrides: Any) -> Hits:
        """The k most similar indexed keys of each query.

        Args:
            queries: ``(q, dim)`` (a batch) or ``(dim,)`` (one query).
            k: neighbours per query (at most the number of indexed keys).
            **overrides: search settings for this call only, e.g. ``efSearch=256`` (HNSW), ``nprobe=32``
                (IVF).

        Returns:
            :class:`Hits`: for a batch, ``keys`` is a list of q lists and ``scores`` is ``(q, k)``; for one
            ``(dim,)`` query, a list of k keys and ``(k,)`` scores. Scores are similarities (higher = more
            similar; negated distances for Euclidean). An approximate index that finds fewer than k live
            neighbours pads with key ``None`` and score ``-inf``.

        Raises:
            DataError: the index is empty. DimensionError: wrong query dimension. ConfigError: bad k or
            unknown setting names.
        """
        if type(k) is not int or k < 1:
            _check_k(k)
            k = int(k)
        n = len(self._keys.id_of)
        if n == 0:
            raise DataError("cannot search an empty index: add vectors first")
        b = self._backend
        ids, scores = b.search(self._prepare(queries, "queries"), k if k <= n else n, overrides)
        if b.pads and (ids < 0).any():  # fewer than k found: key None (id -1), score -inf
            scores = np.where(ids < 0, -np.inf, scores).astype(np.float32)
        if _is_one_query(queries):
            return Hits(self._keys.lookup(ids[0]), scores[0])
        return Hits(self._keys.lookup(ids), scores)

    def vector(self, key: Any) -> np.ndarray:
        """The stored vector of `key` ``(dim,)`` (unit length for cosine; decoded, so lossy, for PQ)."""
        if key not in self:
            raise UnknownKeyError(f"unknown key {key!r} (not among the {len(self)} indexed keys)")
        return np.asarray(self._backend.reconstruct(self._keys.id_of[key]), dtype=np.float32)

    def most_similar(self, query: Any, k: int = 10, exclude_query: bool = True, **overrides: Any) -> Hits:
        """Neighbours of a stored key (itself excluded) or of a ``(dim,)`` vector, as one-query
        :class:`Hits`."""
        if isinstance(query, np.ndarray) or hasattr(query, "detach"):
            return self.search(np.asarray(query, np.float32).reshape(-1), k, **overrides)
        vec = self.vector(query)
        want = min(k + (1 if exclude_query else 0), len(self))
        hits = self.search(vec, want, **overrides)
        pairs = [
            (kk, s)
            for kk, s in zip(hits.keys, hits.scores, strict=True)
            if not (exclude_query and kk == query)
        ][:k]
        return Hits([p[0] for p in pairs], np.array([p[1] for p in pairs], np.float32))

    @classmethod
    def from_vectors(
        cls, vectors: Any, backend: str = "exact", metric: str = "cosine", **options: Any
    ) -> Index:
        """An index over a :class:`~simlab.vectors.Vectors` (its keys and matrix), e.g. to pass to
        ``vectors.most_similar(..., index=)``.

        Args:
            vectors: the Vectors to index.
            backend: a registered backend (see the class).
            metric: the ranking metric.
            **options: backend options.
        """
        idx = cls(backend=backend, metric=metric, dim=vectors.dim, **options)
        return idx.add(vectors.keys, vectors.matrix)


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")


def _is_one_query(queries: Any) -> bool:
    """A ``(dim,)`` vector (array, tensor, list or tuple) rather than a batch."""
    return getattr(queries, "ndim", None) == 1 or (
        isinstance(queries, list | tuple) and np.ndim(queries) == 1
    )


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
