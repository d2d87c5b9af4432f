"""Dimensionality reduction and compression of vectors: PCA, random projection, product quantisation.

* :class:`PCA` and :class:`RandomProjection` map a :class:`~simlab.Vectors` (or an ``(n, d)`` array) to fewer
  dimensions: ``fit(vectors) -> self``, ``transform(vectors) -> Vectors``; both save as artifacts.
* :func:`product_quantize` builds a FAISS PQ (or IVF-PQ) :class:`~simlab.index.Index`: vectors are stored as
  ``m`` bytes each (``nbits=8``) instead of ``4 * dim``.
* Quality is measured against exact search: :func:`recall_at_k` (an approximate index vs the exact one, same
  queries) and :func:`neighbour_recall` (neighbours in a reduced space vs the original space).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simlab import metrics as M
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, DimensionError, NotFittedError
from simlab.index.core import Index, recall_at_k
from simlab.vectors import Vectors

__all__ = [
    "PCA",
    "RandomProjection",
    "compression_ratio",
    "neighbour_recall",
    "product_quantize",
    "recall_at_k",
]


def _matrix(vectors: Any) -> np.ndarray:
    if isinstance(vectors, Vectors):
        return vectors.matrix
    return M.as_matrix(vectors, np.float32, "vectors")


def _wrap(vectors: Any, out: np.ndarray) -> Any:
    if isinstance(vectors, Vectors):
        return Vectors(vectors.keys, out, vectors.counts)
    return out


class _Projection:
    """Shared transform/persistence of linear projections ``y = (x - mean) @ components.T``."""

    KIND = ""
    #: a projection transforms vectors: none of :data:`simlab.model.CAPABILITY_NAMES`
    CAPABILITIES: frozenset[str] = frozenset()
    components: np.ndarray | None
    mean: np.ndarray | None

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, int | np.integer) or dim < 1:
            raise ConfigError(f"dim must be a positive integer, got {dim!r}")
        self.dim = int(dim)
        self.components = None
        self.mean = None

    def _check_fit_input(self, x: np.ndarray) -> None:
        if x.shape[0] == 0:
            raise DataError("cannot fit on zero vectors")
        if self.dim > x.shape[1]:
            raise DimensionError(f"cannot reduce {x.shape[1]} dimensions to {self.dim}")

    def transform(self, vectors: Any) -> Any:
        """Project ``(n, d)`` vectors (or a :class:`Vectors`, keys kept) to ``(n, dim)``."""
        if self.components is None or self.mean is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit(vectors) first")
        x = _matrix(vectors)
        if x.shape[1] != self.components.shape[1]:
            raise DimensionError(f"vectors have dimension {x.shape[1]}, fitted on {self.components.shape[1]}")
        out = ((x - self.mean) @ self.components.T).astype(np.float32)
        return _wrap(vectors, out)

    def fit_transform(self, vectors: Any) -> Any:
        """``fit(vectors).transform(vectors)``."""
        return self.fit(vectors).transform(vectors)  # type: ignore[attr-defined]

    def fit(self, vectors: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def get_params(self) -> dict[str, Any]:
        """The manifest's config (``dim``, and ``seed`` for a random projection)."""
        return self._config()

    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Write the fitted projection (``projection.safetensors``) into an open artifact."""
        if self.components is None or self.mean is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        arrays = {"components": self.components, "mean": self.mean, **self._extra_arrays()}
        writer.save_arrays("projection.safetensors", arrays)

    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (``projection.safetensors``)."""
        if self.components is None or self.mean is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted")
        with ArtifactWriter(path, self.KIND, self.get_params()) as w:
            self.to_artifact(w)
        return Path(path)

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def load(cls, path: str | Path) -> Any:
        """Load a projection saved with :meth:`save`."""
        return cls.from_artifact(Artifact(path, kind=cls.KIND))

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Any:
        """Rebuild the projection from a verified artifact of its kind."""
        obj = cls(**artifact.config)
        arr = artifact.arrays("projection.safetensors")
        obj.components, obj.mean = arr["components"], arr["mean"]
        obj._set_extra(arr)
        return obj

    def _set_extra(self, arrays: dict[str, np.ndarray]) -> None:
        pass


class PCA(_Projection):
    """Principal component analysis (exact, from the ``d x d`` covariance; deterministic signs).

    ``y = (x - mean) @ components.T`` with the top-`dim` eigenvectors of the covariance as components
    (Pearson 1901; Hotelling 1933).

    Args:
        dim: output dimension.

    Attributes:
        components: ``(dim, d)`` orthonormal rows. mean: ``(d,)``.
        explained_variance_ratio: ``(dim,)`` share of the total variance kept by each component.
    """

    KIND = kind = "pca"

    def __init__(self, dim: int = 2) -> None:
        super().__init__(dim)
        self.explained_variance_ratio: np.ndarray | None = None

    def fit(self, vectors: Any) -> PCA:
        """Fit on ``(n, d)`` vectors (or a :class:`Vectors`)."""
        x = _matrix(vectors)
        self._check_fit_input(x)
        mean = x.mean(0, dtype=np.float64)
        cov = np.zeros((x.shape[1], x.shape[1]))
        for s in range(0, len(x), 65536):  # float64 accumulation in blocks
            b = x[s : s + 65536].astype(np.float64) - mean
            cov += b.T @ b
        cov /= max(1, len(x) - 1)
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1][: self.dim]
        comps = vecs[:, order].T
        signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
        comps *= np.where(signs == 0, 1, signs)[:, None]
        total = float(vals.clip(min=0).sum()) or 1.0
        self.components = comps.astype(np.float32)
        self.mean = mean.astype(np.float32)
        self.explained_variance_ratio = (vals[order].clip(min=0) / total).astype(np.float32)
        return self

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {"explained_variance_ratio": self.explained_variance_ratio}  # type: ignore[dict-item]

    def _set_extra(self, arrays: dict[str, np.ndarray]) -> None:
        self.explained_variance_ratio = arrays.get("explained_variance_ratio")


class RandomProjection(_Projection):
    """Gaussian random projection: ``y = x @ R.T`` with ``R[i, j] ~ N(0, 1 / dim)``.

    Preserves pairwise distances up to a factor ``1 +- eps`` with high probability when
    ``dim >= 4 ln(n) / (eps^2/2 - eps^3/3)`` (Johnson & Lindenstrauss 1984; Achlioptas 2003). Not centred.

    Args:
        dim: output dimension.
        seed: seed of the random matrix.
    """

    KIND = kind = "random-projection"

    def __init__(self, dim: int = 32, seed: int = 0) -> None:
        super().__init__(dim)
        self.seed = int(seed)

    def fit(self, vectors: Any) -> RandomProjection:
        """Draw the ``(dim, d)`` matrix for the input dimension of `vectors` (the data itself is not used)."""
        x = _matrix(vectors)
        self._check_fit_input(x)
        rng = np.random.default_rng(self.seed)
        self.components = (rng.normal(size=(self.dim, x.shape[1])) / np.sqrt(self.dim)).astype(np.float32)
        self.mean = np.zeros(x.shape[1], dtype=np.float32)
        return self

    def _config(self) -> dict[str, Any]:
        return {"dim": self.dim, "seed": self.seed}


def product_quantize(
    vectors: Any,
    m: int = 16,
    nbits: int = 8,
    metric: str = "cosine",
    nlist: int | None = None,
    **options: Any,
) -> Index:
    """A FAISS product-quantised index of `vectors` (``PQ{m}x{nbits}``, or ``IVF{nlist},PQ{m}x{nbits}``).

    Each vector is split into `m` sub-vectors, each replaced by the nearest of ``2**nbits`` centroids learned
    by k-means on the data (Jégou, Douze & Schmid 2011, "Product quantization for nearest neighbor search"):
    ``m * nbits / 8`` bytes per vector instead of ``4 * dim``.

    Args:
        vectors: a :class:`Vectors` (keys kept) or an ``(n, d)`` array (keys ``0..n-1``); `d` divisible by
            `m`.
        m: sub-quantizers (bytes per vector for nbits=8).
        nbits: bits per sub-quantizer code.
        metric: ranking metric.
        nlist: with a value, an IVF-PQ index with that many lists (faster search, trained on the data).
        **options: more :class:`~simlab.index.FaissConfig` options (``nprobe``, ``train_size``, ``seed``).
    """
    x = _matrix(vectors)
    if x.shape[1] % m:
        raise ConfigError(f"dimension {x.shape[1]} is not divisible by m={m}")
    factory = f"PQ{m}x{nbits}" if nlist is None else f"IVF{nlist},PQ{m}x{nbits}"
    keys = vectors.keys if isinstance(vectors, Vectors) else range(len(x))
    return Index("faiss", metric, dim=x.shape[1], factory=factory, **options).add(keys, x)


def compression_ratio(index: Index) -> float:
    """Raw float32 bytes of the indexed vectors / the index's bytes (> 1 means smaller than the raw data)."""
    if not len(index) or not index.nbytes:
        return float("nan")
    return float(len(index) * (index.dim or 0) * 4 / index.nbytes)


def neighbour_recall(
    reduced: Vectors,
    original: Vectors,
    k: int = 10,
    n_queries: int = 200,
    metric: str = "cosine",
    seed: int = 0,
) -> float:
    """Share of each key's exact top-k neighbours (original space) also found in the reduced space.

    Args:
        reduced: the transformed vectors (same keys as `original`).
        original: the original vectors.
        k: neighbours compared (the query key itself excluded).
        n_queries: keys sampled as queries.
        metric: ranking metric in both spaces.
        seed: sampling seed.
    """
    if reduced.keys != original.keys:
        raise DataError("reduced and original vectors must have the same keys in the same order")
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(original), min(n_queries, len(original)), replace=False)
    kk = min(k + 1, len(original))
    a, _ = M.topk(original.matrix[rows], original.matrix, kk, metric, corpus_prepared=True)
    b, _ = M.topk(reduced.matrix[rows], reduced.matrix, kk, metric, corpus_prepared=True)
    scores = []
    for r, ra, rb in zip(rows, a, b, strict=True):
        sa = [int(i) for i in ra if i != r][:k]
        sb = [int(i) for i in rb if i != r][:k]
        scores.append(len(set(sa) & set(sb)) / max(1, len(sa)))
    return float(np.mean(scores))
