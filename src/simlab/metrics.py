"""Similarity and distance metrics: pairwise ``(n, m)``, row-wise ``(n,)`` and chunked top-k.

Convention: a *similarity* is always "higher = more similar"; a *distance* is called a distance.
``euclidean`` and ``manhattan`` as similarities are the negated distances; :func:`distance` and
:func:`pairwise_distance` give the real ones. Cosine with a zero vector is 0, never NaN.

Inputs may be numpy arrays, torch tensors or nested lists; computation is float32 unless
``dtype=np.float64`` is asked for. NaN or infinite input raises :class:`~simlab.errors.DataError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, DimensionError
from simlab.registry import METRICS

#: default memory budget of one block of scores in top-k and chunked metrics (bytes)
DEFAULT_BUDGET = 128 * 1024 * 1024


def as_matrix(x: Any, dtype: Any = np.float32, name: str = "input", check_finite: bool = True) -> np.ndarray:
    """Convert `x` to a C-contiguous 2-D array of `dtype` (a 1-D vector becomes one row).

    Raises:
        DataError: NaN/inf values, non-numeric data or more than 2 dimensions.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor, no torch import needed
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: not numeric ({exc})") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise DimensionError(f"{name}: expected a vector or a 2-D matrix, got shape {arr.shape}")
    if check_finite and arr.size and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(f"{name}: contains NaN or infinite values (first at row {bad[0]}, column {bad[1]})")
    return np.ascontiguousarray(arr)


def _check_dims(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise DimensionError(f"dimension mismatch: {a.shape[1]} vs {b.shape[1]}")


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero. Shape ``(n, d)`` -> ``(n, d)``."""
    # scale each row by its largest magnitude first, so squares of large values (1e20) do not overflow
    scale = np.abs(x).max(axis=1, keepdims=True) if x.size else np.ones((len(x), 1), x.dtype)
    scale[~(scale > 0)] = 1
    y = x / scale
    norms = np.linalg.norm(y, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return y / norms


def _chunk_rows(n_other: int, d: int, itemsize: int, budget: int = DEFAULT_BUDGET) -> int:
    return max(1, budget // max(1, n_other * d * itemsize))


# -- pairwise similarity kernels: (n, d), (m, d) -> (n, m) -------------------------------------------------


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.clip(l2_normalize(a) @ l2_normalize(b).T, -1.0, 1.0)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a @ b.T


def _sq_euclidean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] - 2 * (a @ b.T) + (b * b).sum(1)[None, :]
    return np.maximum(d2, 0, out=d2)


def _euclidean_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(_sq_euclidean(a, b))


def _blockwise(
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Apply a broadcasting ``(r,1,d),(1,m,d)->(r,m)`` kernel in row blocks so memory stays bounded."""

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.empty((a.shape[0], b.shape[0]), dtype=a.dtype)
        step = _chunk_rows(b.shape[0], a.shape[1], a.itemsize, 32 * 1024 * 1024)
        for i in range(0, a.shape[0], step):
            out[i : i + step] = fn(a[i : i + step, None, :], b[None, :, :])
        return out

    return run


_manhattan_dist = _blockwise(lambda x, y: np.abs(x - y).sum(-1))
_chebyshev_dist = _blockwise(
    lambda x, y: np.abs(x - y).max(-1) if x.shape[-1] else np.zeros(x.shape[:1] + y.shape[1:2])
)
_hamming_dist = _blockwise(
    lambda x, y: (x != y).mean(-1) if x.shape[-1] else np.zeros(x.shape[:1] + y.shape[1:2])
)


def _jaccard_sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a_b, b_b = (a != 0).astype(a.dtype), (b != 0).astype(b.dtype)
    inter = a_b @ b_b.T
    union = a_b.sum(1)[:, None] + b_b.sum(1)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.where(union > 0, inter / np.where(union > 0, union, 1), 1.0)
    return sim.astype(a.dtype, copy=False)


# -- row-wise kernels: (n, d), (n, d) -> (n,) ---------------------------------------------------------------


def _row_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.clip((l2_normalize(a) * l2_normalize(b)).sum(1), -1.0, 1.0)


def _row_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a_b, b_b = a != 0, b != 0
    inter = (a_b & b_b).sum(1)
    union = (a_b | b_b).sum(1)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0).astype(a.dtype)


#: kernels a metric can declare (:attr:`Metric.kernel`): what a search backend computes for it
KERNEL_IP = "inner_product"  # raw score = inner product (of unit rows when the metric normalizes)
KERNEL_L2 = "l2"  # raw score = squared L2 distance
KERNEL_L1 = "l1"  # raw score = L1 distance
KERNEL_OTHER = "other"  # no BLAS-friendly kernel: scored by ``pairwise`` only
KERNELS = (KERNEL_IP, KERNEL_L2, KERNEL_L1, KERNEL_OTHER)


@dataclass(frozen=True)
class Metric:
    """A registered similarity, with the capabilities search engines read instead of its name.

    Attributes:
        name: registry name.
        pairwise: ``(n, d), (m, d) -> (n, m)`` similarity, higher = more similar.
        rowwise: ``(n, d), (n, d) -> (n,)`` similarity.
        distance_name: the distance this similarity is derived from, if any.
        to_distance: maps a similarity to that distance (``None`` when the metric has none, e.g. dot).
        description: one line for ``simlab list metrics``.
        normalizes: inputs are scaled to unit L2 norm first (cosine-like): an index stores unit rows.
        kernel: what a search backend computes: :data:`KERNEL_IP` (inner product), :data:`KERNEL_L2` (squared
            L2 distance), :data:`KERNEL_L1` (L1 distance) or :data:`KERNEL_OTHER` (``pairwise`` only).
        from_raw: maps the kernel's raw value (an inner product, a squared L2 or an L1 distance) to this
            metric's similarity (higher = more similar; ``to_distance`` of it is the distance). ``None`` when
            the metric has no kernel.
    """

    name: str
    pairwise: Callable[[np.ndarray, np.ndarray], np.ndarray]
    rowwise: Callable[[np.ndarray, np.ndarray], np.ndarray]
    distance_name: str | None
    to_distance: Callable[[np.ndarray], np.ndarray] | None
    description: str = ""
    normalizes: bool = False
    kernel: str = KERNEL_OTHER
    from_raw: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS:
            raise ConfigError(
                f"metric {self.name!r}: unknown kernel {self.kernel!r}; valid: {', '.join(KERNELS)}"
            )
        if (self.kernel == KERNEL_OTHER) != (self.from_raw is None):
            raise ConfigError(f"metric {self.name!r}: a kernel needs from_raw, and from_raw needs a kernel")

    @property
    def __doc__(self) -> str:  # type: ignore[override]  # used by the registry's one-line help
        return self.description

    def score_raw(self, raw: np.ndarray) -> np.ndarray:
        """Raw kernel values -> similarities (see :attr:`from_raw`)."""
        if self.from_raw is None:
            raise ConfigError(f"metric {self.name!r} has no search kernel")
        return self.from_raw(raw)


def _clip_unit(raw: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(raw, -1.0), 1.0)  # np.clip's result, without its Python-level wrapper


def _neg_sqrt(raw: np.ndarray) -> np.ndarray:
    return -np.sqrt(np.maximum(raw, 0))


def _neg_clamped(raw: np.ndarray) -> np.ndarray:
    return -np.maximum(raw, 0)


def _identity(raw: np.ndarray) -> np.ndarray:
    return raw


def _reg(m: Metric, aliases: tuple[str, ...] = ()) -> None:
    METRICS.register(m.name, m, aliases=aliases, help=m.description)


_reg(
    Metric(
        "cosine",
        _cosine,
        _row_cosine,
        "cosine",
        lambda s: 1.0 - s,
        "cosine similarity in [-1, 1]; 0 for a zero vector; distance = 1 - similarity",
        normalizes=True,
        kernel=KERNEL_IP,
        from_raw=_clip_unit,
    ),
    aliases=("cos",),
)
_reg(
    Metric(
        "dot",
        _dot,
        lambda a, b: (a * b).sum(1),
        None,
        None,
        "inner product (no distance)",
        kernel=KERNEL_IP,
        from_raw=_identity,
    ),
    aliases=("inner_product", "ip"),
)
_reg(
    Metric(
        "euclidean",
        lambda a, b: -_euclidean_dist(a, b),
        lambda a, b: -np.linalg.norm(a - b, axis=1),
        "euclidean",
        lambda s: -s,
        "negated Euclidean (L2) distance",
        kernel=KERNEL_L2,
        from_raw=_neg_sqrt,
    ),
    aliases=("l2",),
)
_reg(
    Metric(
        "sqeuclidean",
        lambda a, b: -_sq_euclidean(a, b),
        lambda a, b: -((a - b) ** 2).sum(1),
        "sqeuclidean",
        lambda s: -s,
        "negated squared Euclidean distance",
        kernel=KERNEL_L2,
        from_raw=_neg_clamped,
    )
)
_reg(
    Metric(
        "manhattan",
        lambda a, b: -_manhattan_dist(a, b),
        lambda a, b: -np.abs(a - b).sum(1),
        "manhattan",
        lambda s: -s,
        "negated Manhattan (L1, cityblock) distance",
        kernel=KERNEL_L1,
        from_raw=_neg_clamped,
    ),
    aliases=("l1", "cityblock"),
)
_reg(
    Metric(
        "chebyshev",
        lambda a, b: -_chebyshev_dist(a, b),
        lambda a, b: -(np.abs(a - b).max(1) if a.shape[1] else np.zeros(len(a), a.dtype)),
        "chebyshev",
        lambda s: -s,
        "negated Chebyshev (L-infinity) distance",
    )
)
_reg(
    Metric(
        "jaccard",
        _jaccard_sim,
        _row_jaccard,
        "jaccard",
        lambda s: 1.0 - s,
        "Jaccard similarity of binary/set vectors (non-zero = member); distance = 1 - similarity",
    )
)
_reg(
    Metric(
        "hamming",
        lambda a, b: 1.0 - _hamming_dist(a, b),
        lambda a, b: 1.0 - ((a != b).mean(1) if a.shape[1] else np.zeros(len(a), a.dtype)),
        "hamming",
        lambda s: 1.0 - s,
        "share of equal positions; distance = share of differing positions",
    )
)


def get_metric(metric: str | Metric) -> Metric:
    """Resolve a metric name (or alias) or pass a :class:`Metric` through."""
    return METRICS.get(metric)


def pairwise(
    a: Any, b: Any | None = None, metric: str | Metric = "cosine", dtype: Any = np.float32
) -> np.ndarray:
    """All-pairs similarity.

    Args:
        a: ``(n, d)`` (or a ``(d,)`` vector).
        b: ``(m, d)``; defaults to `a`.
        metric: a registered metric name or a :class:`Metric`.
        dtype: computation dtype (float32 by default, ``np.float64`` on request).

    Returns:
        ``(n, m)`` similarities, higher = more similar.
    """
    m = get_metric(metric)
    A = as_matrix(a, dtype, "a")
    B = A if b is None else as_matrix(b, dtype, "b")
    _check_dims(A, B)
    return m.pairwise(A, B).astype(dtype, copy=False)


def rowwise(a: Any, b: Any, metric: str | Metric = "cosine", dtype: Any = np.float32) -> np.ndarray:
    """Similarity of row i of `a` with row i of `b`: ``(n, d), (n, d) -> (n,)``."""
    m = get_metric(metric)
    A, B = as_matrix(a, dtype, "a"), as_matrix(b, dtype, "b")
    _check_dims(A, B)
    if A.shape[0] != B.shape[0]:
        raise DimensionError(
            f"row-wise similarity needs the same number of rows: {A.shape[0]} vs {B.shape[0]}"
        )
    return m.rowwise(A, B).astype(dtype, copy=False)


def similarity(a: Any, b: Any, metric: str | Metric = "cosine", dtype: Any = np.float32) -> float:
    """Similarity of two vectors, as a Python float."""
    return float(rowwise(a, b, metric, dtype)[0])


def _distance_of(metric: str | Metric) -> Metric:
    m = get_metric(metric)
    if m.to_distance is None:
        raise ConfigError(
            f"metric {m.name!r} has no distance; metrics with one: "
            + ", ".join(n for n in METRICS.names() if METRICS.get(n).to_distance is not None)
        )
    return m


def pairwise_distance(
    a: Any, b: Any | None = None, metric: str | Metric = "euclidean", dtype: Any = np.float32
) -> np.ndarray:
    """All-pairs distance ``(n, m)``, lower = more similar (e.g. the real Euclidean distance)."""
    m = _distance_of(metric)
    return m.to_distance(pairwise(a, b, m, dtype)).astype(dtype, copy=False)  # type: ignore[misc]


def distance(a: Any, b: Any, metric: str | Metric = "euclidean", dtype: Any = np.float32) -> float:
    """Distance between two vectors, as a Python float."""
    m = _distance_of(metric)
    return float(m.to_distance(rowwise(a, b, m, dtype))[0])  # type: ignore[misc]


def topk(
    queries: Any,
    corpus: Any,
    k: int,
    metric: str | Metric = "cosine",
    *,
    budget_bytes: int = DEFAULT_BUDGET,
    corpus_prepared: bool = False,
    normalized: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k most similar corpus rows for each query, computed in blocks.

    No block of scores larger than `budget_bytes` is ever built, whatever the corpus size.

    Args:
        queries: ``(q, d)``.
        corpus: ``(n, d)``.
        k: neighbours per query (clipped to ``n``).
        metric: similarity to rank by.
        budget_bytes: memory budget of one score block.
        corpus_prepared: the corpus is already validated float32 (skips a copy/check; used by indexes).
        normalized: queries and corpus are already unit rows (a metric that normalizes then ranks by the plain
            kernel, without normalising again).

    Returns:
        ``(indices, scores)``, both ``(q, k)``, sorted by decreasing similarity (ties by lower index).
    """
    m = get_metric(metric)
    Q = as_matrix(queries, np.float32, "queries")
    C = corpus if corpus_prepared else as_matrix(corpus, np.float32, "corpus")
    _check_dims(Q, C)
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    n, nq = C.shape[0], Q.shape[0]
    k = min(k, n)
    if n == 0 or nq == 0:
        return np.zeros((nq, 0), dtype=np.int64), np.zeros((nq, 0), dtype=np.float32)
    if m.kernel in (KERNEL_IP, KERNEL_L2):
        return _topk_gemm(m, Q, C, k, budget_bytes, normalized)
    return _topk_pairwise(m, Q, C, k, budget_bytes)


def _topk_gemm(
    m: Metric, Q: np.ndarray, C: np.ndarray, k: int, budget_bytes: int, normalized: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Top k of an inner-product or L2 kernel metric: one BLAS GEMM per cache-sized block and a running
    k-th-best threshold (:mod:`simlab._topk`); exact, ties by lower index. A normalizing metric ranks by
    ``q.c / |c|`` over unit queries; an L2 kernel by ``q.c - |c|^2 / 2``."""
    from simlab._topk import dot_topk

    scale = bias = None
    if m.normalizes and not normalized:
        Q = l2_normalize(Q).astype(np.float32, copy=False)
        cn = np.sqrt(np.einsum("ij,ij->i", C, C))
        cn[cn == 0] = 1
        scale = (1.0 / cn).astype(np.float32)
    if m.kernel == KERNEL_L2:
        bias = (-0.5 * np.einsum("ij,ij->i", C, C)).astype(np.float32)
    elems = max(1, min(budget_bytes // 4, 1 << 21 if len(Q) == 1 else 1 << 20))
    out_i, out_s = dot_topk(Q, C, k, budget_elems=elems, col_scale=scale, col_bias=bias)
    if m.kernel != KERNEL_L2:
        return out_i, np.asarray(m.score_raw(out_s), dtype=np.float32)
    # exact distances of the winners (no cancellation error), re-sorted
    diff = C[out_i] - Q[:, None, :]
    sc = m.score_raw(np.einsum("qkd,qkd->qk", diff, diff))
    order = np.lexsort((out_i, -sc), axis=1)
    return np.take_along_axis(out_i, order, 1), np.take_along_axis(sc, order, 1).astype(np.float32)


def _topk_pairwise(
    m: Metric, Q: np.ndarray, C: np.ndarray, k: int, budget_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Top k by any registered metric's pairwise scores, in blocks (non-GEMM metrics)."""
    from simlab._topk import _merge

    nq, n = Q.shape[0], C.shape[0]
    out_i = np.zeros((nq, k), dtype=np.int64)
    out_s = np.zeros((nq, k), dtype=np.float32)
    big = np.iinfo(np.int64).max
    max_elems = max(1, budget_bytes // 4)
    q_step = max(1, min(nq, 512, max_elems))
    c_step = max(1, min(n, max_elems // q_step, (1 << 21) // q_step))
    for qs in range(0, nq, q_step):
        q = Q[qs : qs + q_step]
        nb = q.shape[0]
        best_s = np.full((nb, k), -np.inf, dtype=np.float32)
        best_i = np.full((nb, k), big, dtype=np.int64)
        thr = np.full(nb, -np.inf, dtype=np.float32)
        for cs in range(0, n, c_step):
            s = np.asarray(m.pairwise(q, C[cs : cs + c_step]), dtype=np.float32)
            rows, cols = np.nonzero(s > thr[:, None] if cs else np.ones(s.shape, bool))
            if len(rows):
                changed = _merge(best_s, best_i, rows, cols + cs, s[rows, cols], k)
                thr[changed] = best_s[changed, k - 1]
        out_s[qs : qs + q_step] = best_s
        out_i[qs : qs + q_step] = best_i
    return out_i, out_s


# -- classical series distances (DTW via dtaidistance, imported lazily; z-normalised Euclidean) -------------


def znormalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Z-normalise along `axis` (mean 0, sd 1); a constant slice becomes 0. Any shape -> the same shape."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=axis, keepdims=True)
    sd = x.std(axis=axis, keepdims=True)
    return (x - mu) / np.where(sd > 1e-8, sd, 1.0)


def dtw_window(length: int, window: float | int | None) -> int | None:
    """Sakoe-Chiba band in steps: None = full; a float in (0, 1) is a share of `length` (at least 1 step)."""
    if window is None:
        return None
    if isinstance(window, float) and 0 < window < 1:
        return max(1, int(np.ceil(window * length)))
    if int(window) < 1:
        raise ConfigError(f"DTW window must be >= 1 step or a share in (0, 1), got {window}")
    return int(window)


#: the largest DTW job (dynamic-programming cells over all pairs) run without being asked: about 10^11 cells
#: is a few minutes of dtaidistance's C code on one core. DTW runs in C and cannot be stopped per pair, so its
#: cost is bounded before it starts; raise it with ``max_cells=`` or the SIMLAB_DTW_MAX_CELLS variable.
DTW_MAX_CELLS = 1e11


def dtw_cells(query_lengths: Any, corpus_lengths: Any, window: int | None) -> float:
    """Dynamic-programming cells of DTW over all (query, corpus) pairs, with a Sakoe-Chiba band of
    `window`."""
    lq = np.asarray(query_lengths, dtype=np.float64)[:, None]
    lc = np.asarray(corpus_lengths, dtype=np.float64)[None, :]
    full = lq * lc
    if window is None:
        return float(full.sum())
    return float(np.minimum(full, np.maximum(lq, lc) * (2 * window + 1)).sum())


def dtw_distance_matrix(
    queries: list[np.ndarray],
    corpus: list[np.ndarray],
    window: float | int | None = None,
    max_cells: float | None = None,
) -> np.ndarray:
    """``(q, n)`` dynamic time warping distances (dtaidistance's C implementation, Sakoe & Chiba 1978).

    Args:
        queries: series of shape ``(len_i,)`` (univariate) or ``(len_i, channels)`` (multivariate, the
            squared Euclidean step cost over channels); lengths may differ; no NaN.
        corpus: series of the same kind.
        window: Sakoe-Chiba band: None (full), steps, or a share of the longest series (e.g. 0.1).
        max_cells: refuse a job of more dynamic-programming cells than this (default :data:`DTW_MAX_CELLS`,
            or the SIMLAB_DTW_MAX_CELLS environment variable).

    Returns:
        float64 distances, lower = more similar.

    Raises:
        ConfigError: the job exceeds `max_cells` (checked before any work; use a window or raise the limit).
    """
    from simlab._deps import require

    require("dtaidistance")
    from dtaidistance import dtw, dtw_ndim

    nq = len(queries)
    if nq == 0 or not len(corpus):
        return np.zeros((nq, len(corpus)))
    multi = queries[0].ndim == 2 and queries[0].shape[1] > 1
    squeeze = (lambda s: s) if multi else (lambda s: s.reshape(len(s)) if s.ndim == 2 else s)
    seqs = [
        np.ascontiguousarray(squeeze(np.asarray(s, dtype=np.float64))) for s in list(queries) + list(corpus)
    ]
    w = dtw_window(max(len(s) for s in seqs), window)
    limit = (
        max_cells if max_cells is not None else float(os.environ.get("SIMLAB_DTW_MAX_CELLS", DTW_MAX_CELLS))
    )
    cells = dtw_cells([len(s) for s in seqs[:nq]], [len(s) for s in seqs[nq:]], w)
    if not cells <= limit:
        raise ConfigError(
            f"DTW over {nq} x {len(corpus)} series needs {cells:.3g} cells, above the limit of "
            f"{limit:.3g} (a few minutes per 1e11 on one core): use a window (e.g. dtw10), fewer "
            "series, or raise max_cells / SIMLAB_DTW_MAX_CELLS"
        )
    kw = {} if w is None else {"window": w}
    fn = dtw_ndim.distance_matrix_fast if multi else dtw.distance_matrix_fast
    m = fn(seqs, block=((0, nq), (nq, len(seqs))), compact=False, **kw)
    return np.asarray(m)[:nq, nq:]


def _dtw_pairwise(window: float | int | None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return -dtw_distance_matrix(list(a), list(b), window).astype(a.dtype)

    return run


def _dtw_rowwise(window: float | int | None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.array(
            [_dtw_pairwise(window)(x[None], y[None])[0, 0] for x, y in zip(a, b, strict=True)], dtype=a.dtype
        )

    return run


def dtw_metric(window: float | int | None = None, znorm: bool = True) -> Metric:
    """A DTW similarity (negated distance) over rows treated as univariate series, optionally z-normalised.

    Usable anywhere a metric is: ``pairwise(X, Y, dtw_metric(0.1))``, ``topk``, :func:`rerank`.
    """

    def prep(
        f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        if not znorm:
            return f
        return lambda a, b: f(znormalize(a).astype(a.dtype), znormalize(b).astype(b.dtype))

    label = "full window" if window is None else f"window {window}"
    return Metric(
        f"dtw(window={window})",
        prep(_dtw_pairwise(window)),
        prep(_dtw_rowwise(window)),
        "dtw",
        lambda s: -s,
        f"negated DTW distance ({label}, dtaidistance)",
    )


_reg(
    Metric(
        "dtw",
        dtw_metric(None).pairwise,
        dtw_metric(None).rowwise,
        "dtw",
        lambda s: -s,
        "negated DTW distance of rows as z-normalised series, full window (dtaidistance, lazy import)",
    )
)
_reg(
    Metric(
        "dtw10",
        dtw_metric(0.1).pairwise,
        dtw_metric(0.1).rowwise,
        "dtw10",
        lambda s: -s,
        "negated DTW distance, z-normalised rows, Sakoe-Chiba band of 10% of the length",
    ),
    aliases=("dtw_window",),
)
_reg(
    Metric(
        "znorm_euclidean",
        lambda a, b: -_euclidean_dist(*(znormalize(x).astype(a.dtype) for x in (a, b))),
        lambda a, b: -np.linalg.norm(znormalize(a) - znormalize(b), axis=1).astype(a.dtype),
        "znorm_euclidean",
        lambda s: -s,
        "negated Euclidean distance of z-normalised rows (series shape only)",
    ),
    aliases=("ed_znorm",),
)


def rerank(
    queries: Any, corpus: Any, candidates: Any, k: int, metric: str | Metric = "dtw"
) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank candidate rows (e.g. an :class:`~simlab.Index` top-c) of each query by another metric.

    Args:
        queries: ``(q, d)``.
        corpus: ``(n, d)`` rows the candidate indices point into.
        candidates: ``(q, c)`` corpus row indices (from a first-stage search; -1 entries are skipped).
        k: neighbours kept per query (clipped to c).
        metric: the re-ranking similarity, e.g. ``dtw`` or ``dtw_metric(0.1)``.

    Returns:
        ``(indices, scores)`` ``(q, k)``, by decreasing similarity (ties: first-stage order).
    """
    m = get_metric(metric)
    Q = as_matrix(queries, np.float32, "queries")
    C = as_matrix(corpus, np.float32, "corpus")
    _check_dims(Q, C)
    cand = np.asarray(candidates, dtype=np.int64).reshape(len(Q), -1)
    k = min(k, cand.shape[1])
    out_i = np.full((len(Q), k), -1, dtype=np.int64)
    out_s = np.full((len(Q), k), -np.inf, dtype=np.float32)
    for i, row in enumerate(cand):
        row = row[row >= 0]
        if not len(row):
            continue
        s = m.pairwise(Q[i : i + 1], C[row])[0]
        order = np.argsort(-s, kind="stable")[:k]
        out_i[i, : len(order)], out_s[i, : len(order)] = row[order], s[order]
    return out_i, out_s
