"""Exact backend: blocked BLAS inner products with a running top-k threshold and exact group pruning."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from simlab import metrics as M
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError
from simlab.index.common import Backend, _check_positive
from simlab.index.faiss_backend import FAISS_BLAS_THRESHOLD
from simlab.index.scan import SCANS, probe_plan


@dataclasses.dataclass(frozen=True)
class ExactConfig:
    """Options of the exact backend.

    Attributes:
        budget_bytes: memory budget of one block of scores during search (see :func:`simlab.metrics.topk`).
        prune: ``"auto"`` (default): group the rows by k-means and keep pruning only where a probe at the
            first search finds it faster than the plain scan (batch and one at a time decided separately);
            ``True``: always prune; ``False``: never (results are exact in every case).
        prune_min: never group fewer rows than this (smaller groups than ~64 rows cannot skip anything).
        engine: plain-scan engine: ``"auto"`` (the fastest on the probe), ``"numpy"``, ``"faiss"``,
            ``"knn"`` (FAISS's own brute-force kNN on the rows in place) or ``"partition"`` (one GEMV +
            ``argpartition``: single queries on small sets). With both `engine` and `prune` given (not
            ``"auto"``) nothing is left to decide and nothing is probed.
        seed: seed of the k-means grouping and of the probe sample.
    """

    budget_bytes: int = M.DEFAULT_BUDGET
    prune: bool | str = "auto"
    prune_min: int = 512
    engine: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        _check_positive(self, ("budget_bytes", "prune_min"))
        if self.prune not in (True, False, "auto"):
            raise ValueError(f"prune must be true, false or 'auto', got {self.prune!r}")
        if self.engine not in ("auto", "numpy", "faiss", "knn", "partition"):
            raise ValueError(
                f"engine must be 'auto', 'numpy', 'faiss', 'knn' or 'partition', got {self.engine!r}"
            )


class ExactBackend(Backend):
    """Exact search: BLAS inner products with chunked top-k selection (:func:`simlab.metrics.topk`).

    The reference every other backend is measured against. Every metric is an inner-product search over the
    stored rows: unit vectors for cosine, and for Euclidean rows augmented with ``-|x|^2 / 2`` (ranking by
    ``q.x - |x|^2 / 2`` is ranking by distance); the returned distances are then recomputed exactly.

    Plan (decided from the data, :func:`simlab.index.scan.probe_plan`): at the first search after the rows
    changed by more than 20%, a probe of stored rows used as queries times the plain scan engines and the
    pruned search, batch and one at a time, and each mode keeps the fastest; the plan is saved and shown by
    ``simlab info``.

    Pruning (exact): the rows are grouped by k-means (about 3,000 per group) and stored group by group; a
    group with centre ``c`` and radius ``r`` cannot hold a row scoring more than ``q.c + |q| r``
    (Cauchy-Schwarz). Each query scans its groups in decreasing order of that bound and stops when the bound
    falls below its current k-th best score; queries that scan the same group share one GEMM. On clustered
    data (real embeddings) this scans a small share of the rows; on structureless data it degrades to a full
    scan. Ties are broken by insertion order, also at the k-th place (every engine and plan returns the same
    rows: :meth:`_break_ties`).
    """

    Config = ExactConfig
    name = "exact"
    group_size = 3000

    def __init__(self, dim: int, metric: str, config: ExactConfig) -> None:
        super().__init__(dim, metric, config)
        width = dim + 1 if self._l2 else dim
        # storage is row-major (capacity, width), C-contiguous: the first n rows are one contiguous block that
        # FAISS's own brute-force kNN (the "knn" engine) reads in place, and batch GEMMs read each row block
        # contiguously (column-major storage strided every row block by the capacity: ~5% slower batches)
        self._buf = np.zeros((0, width), dtype=np.float32)
        self._ids = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._n_grouped = 0  # rows [0, _n_grouped) are stored group by group; later rows are a scanned tail
        self._labels = np.zeros(0, dtype=np.int32)
        self._cent = np.zeros((0, width), dtype=np.float32)
        self._rad = np.zeros(0, dtype=np.float64)
        self.last_scanned = 1.0  # share of (query, row) pairs the last search scored (pruning statistics)
        self.plan: dict[str, Any] | None = None  # see simlab.index.scan.probe_plan
        self._plan_checked: tuple[Any, int, int] | None = None  # (plan, _n, _n_grouped) at the last check
        # stored row i has id i (insertion order, nothing removed): a search's rows are its ids
        self._ident = True
        self._clip = self.spec.name == "cosine"  # scores clipped to [-1, 1] (Metric.from_raw of cosine)

    settings: ClassVar[dict[str, Any]] = {}
    pads = False  # always k results: the Index need not look for id -1

    #: the Index passes raw (validated) vectors; this backend normalises (cosine) chunk by chunk into its
    #: storage, so adding never holds a second full copy
    normalizes_rows = True

    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        self._append(x, ids, normalize=self.spec.normalizes)

    def _append(self, x: np.ndarray, ids: np.ndarray, normalize: bool) -> None:
        need = self._n + len(x)
        if need > len(self._buf):
            cap = max(need, int(len(self._buf) * 1.5), 1024)
            buf = np.empty((cap, self._buf.shape[1]), dtype=np.float32)
            buf[: self._n] = self._buf[: self._n]
            self._buf = buf
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
        self._ident = self._ident and bool(np.array_equal(ids, np.arange(self._n, need)))
        self._n = need

    def remove(self, ids: np.ndarray) -> None:
        keep = ~np.isin(self._ids[: self._n], ids)
        n = int(keep.sum())
        self._buf = np.ascontiguousarray(self._buf[: self._n][keep])
        self._ids = self._ids[: self._n][keep].copy()
        if self._n_grouped:  # groups stay contiguous; radii stay valid upper bounds
            kept = keep[: self._n_grouped]
            self._labels = self._labels[kept]
            self._n_grouped = int(kept.sum())
        self._n = n
        self._ident = bool(np.array_equal(self._ids[:n], np.arange(n)))

    @property
    def matrix(self) -> np.ndarray:
        """The stored vectors ``(n, dim)`` (unit rows for cosine; group order, not insertion order)."""
        return self._buf[: self._n, : self.dim]

    # -- pruning structure ---------------------------------------------------------------------------------
    def _group(self) -> None:
        """k-means groups of the stored rows; rows are reordered group by group (stable: insertion order)."""
        group_rows(self)

    def _ungroup(self) -> None:
        """Back to insertion order, without groups (when the probe keeps no pruning: a plain scan of grouped
        rows is up to ~25% slower on clustered data, as FAISS's top-k heaps then see better rows later)."""
        ungroup_rows(self)

    def may_prune(self) -> bool:
        """Whether pruning may be used at all (the option allows it and there are enough rows to group)."""
        return self.config.prune is not False and self._n >= max(self.config.prune_min, 8 * 64)

    def _current_plan(self) -> dict[str, Any]:
        """The plan for the stored rows: probed again once the rows changed by more than 20%."""
        p = self.plan
        c = self._plan_checked
        if p is not None and c is not None and c[0] is p and c[1] == self._n and c[2] == self._n_grouped:
            return p  # the decision below depends on these only: same as at the last check
        stale = p is None or abs(self._n - p["rows"]) > 0.2 * max(1, p["rows"])
        if (
            not stale
            and (p["prune"]["batch"] or p["prune"]["single"])
            and (self._n_grouped == 0 or self._n - self._n_grouped > 0.2 * self._n_grouped)
        ):
            self._group()
        if stale:
            self.plan = probe_plan(self)
        self._plan_checked = (self.plan, self._n, self._n_grouped)
        return self.plan

    def query_rows(self, q: np.ndarray) -> np.ndarray:
        """Queries ``(nq, dim)`` in the stored rows' space (Euclidean: a trailing 1 for the ``-|x|^2/2``
        column)."""
        if not self._l2:
            return np.ascontiguousarray(q, dtype=np.float32)
        return np.hstack([q, np.ones((len(q), 1), np.float32)])

    def _scan(self, q: np.ndarray, rows: slice, k: int, engine: str) -> tuple[np.ndarray, np.ndarray]:
        return SCANS[engine](q, self._buf[rows], k, self.config.budget_bytes)

    def _search_pruned(self, q: np.ndarray, k: int, engine: str = "numpy") -> tuple[np.ndarray, np.ndarray]:
        """Rows ``(nq, k)`` and inner products of the exact top k, scanning only groups that can qualify."""
        return search_pruned(self, q, k, engine)

    # -- search --------------------------------------------------------------------------------------------
    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        if overrides:
            raise ConfigError(f"the exact backend has no search settings; got {', '.join(sorted(overrides))}")
        if 1 < len(q) < FAISS_BLAS_THRESHOLD:
            # below FAISS's BLAS threshold a batch engine scans query by query anyway (no GEMM): the one-query
            # plan, one query at a time, is faster (2 queries of 100k x 100: 3.0 ms instead of 6.5 ms)
            parts = [self.search(q[i : i + 1], k, overrides) for i in range(len(q))]
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        qa = self.query_rows(q)
        plan = self._current_plan()
        mode = "single" if len(q) == 1 else "batch"
        prune, engine = plan["prune"][mode], plan["engine"][mode]
        kk = min(k + 1, self._n)  # one more than asked: a tie across the k-th place shows
        rows, raw = self._top(qa, kk, prune, engine)
        if len(raw) == 1 and not self._l2:  # one query: one conversion to floats answers the tie checks
            v = raw[0].tolist()
            if len(set(v)) == len(v):  # distinct sorted scores: no ties, none across the k-th place either
                rows, raw = rows[:, :k], raw[:, :k]
                ids = rows if self._ident else self._ids[rows]
                if not self._clip or (v[0] <= 1.0 and v[:k][-1] >= -1.0):
                    return ids, raw
                return ids, self._score(raw).astype(np.float32, copy=False)
        if kk > k:
            rows, raw = self._break_ties(qa, k, rows, raw, prune, engine)
        ids = rows if self._ident else self._ids[rows]
        if self._l2:  # exact distances of the k winners
            diff = self._buf[rows, : self.dim] - q[:, None, :]
            raw = np.einsum("qkd,qkd->qk", diff, diff).astype(np.float32)
            order = np.lexsort((ids, raw), axis=1)
        elif k == 1 or _decreasing(raw):  # already in order, no ties: nothing to sort
            return ids, self._sorted_scores(raw)
        else:  # exact ties in some rows: those rows ordered by (score, insertion order)
            tied = np.flatnonzero(~(raw[:, 1:] < raw[:, :-1]).all(axis=1))
            sub_ids, sub_raw = ids[tied], raw[tied]
            order = np.lexsort((sub_ids, -sub_raw), axis=1)
            ids[tied] = np.take_along_axis(sub_ids, order, 1)
            raw[tied] = np.take_along_axis(sub_raw, order, 1)
            return ids, self._sorted_scores(raw)
        at = np.arange(len(q))[:, None]
        return ids[at, order], self._score(raw[at, order]).astype(np.float32, copy=False)

    def _sorted_scores(self, raw: np.ndarray) -> np.ndarray:
        """Similarities of inner products sorted by decreasing value in each row: cosine clips to [-1, 1]
        only when the first or last column leaves it (one scalar test for a single query)."""
        if self._clip:
            if len(raw) == 1:
                out = raw[0, 0] > 1.0 or raw[0, -1] < -1.0
            else:
                out = raw[:, 0].max() > 1.0 or raw[:, -1].min() < -1.0
            return self._score(raw).astype(np.float32, copy=False) if out else raw
        return self._score(raw).astype(np.float32, copy=False)

    def _top(self, qa: np.ndarray, k: int, prune: bool, engine: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows and raw inner products ``(nq, k)`` of the top k by score (pruned or a plain scan)."""
        if prune:
            return self._search_pruned(qa, k, engine)
        self.last_scanned = 1.0
        return SCANS[engine](qa, self._buf[: self._n], k, self.config.budget_bytes)

    def _break_ties(
        self, qa: np.ndarray, k: int, rows: np.ndarray, raw: np.ndarray, prune: bool, engine: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top k ``(nq, k)`` from the top ``k + 1`` (sorted by score), with rows tied at the k-th place
        chosen by the lower id, whatever the engine (FAISS's heaps keep an arbitrary one of tied rows) and
        the storage order (grouping reorders rows).

        Where the ``(k+1)``-th score is below the k-th, the top k is one set; where it equals it (rare: an
        exact float tie), that query is searched again for more rows until a lower score shows, so every row
        tied at the k-th place is among its candidates, then ranked by (score, id).
        """
        tied = np.flatnonzero(raw[:, k] == raw[:, k - 1])
        rows, raw = rows[:, :k], raw[:, :k]
        if not len(tied):
            return rows, raw
        rows, raw = rows.copy(), raw.copy()
        m = min(self._n, 2 * k + 16)
        while len(tied):
            r2, s2 = self._top(qa[tied], m, prune, engine)
            kth = s2[:, k - 1]
            done = (s2[:, -1] < kth) | (m >= self._n)
            sel = tied[done]
            i2 = self._ids[r2[done]]
            o = np.lexsort((i2, -s2[done]), axis=1)[:, :k]
            rows[sel] = np.take_along_axis(r2[done], o, 1)
            raw[sel] = np.take_along_axis(s2[done], o, 1)
            tied, m = tied[~done], min(self._n, 2 * m)
        return rows, raw

    def id_bound(self) -> int:
        return int(self._ids[: self._n].max()) + 1 if self._n else 0

    def reconstruct(self, ident: int) -> np.ndarray:
        row = np.flatnonzero(self._ids[: self._n] == ident)
        return self._buf[row[0], : self.dim].copy()

    @property
    def nbytes(self) -> int:
        return int(self._n * (self._buf.shape[1] * 4 + 8 + 4) + self._cent.nbytes + self._rad.nbytes)

    def to_files(self, w: ArtifactWriter) -> None:
        w.save_arrays(
            "exact.safetensors",
            {
                "matrix": self._buf[: self._n, : self.dim],
                "ids": self._ids[: self._n],
                "labels": self._labels[: self._n_grouped],
                "centres": self._cent,
                "radii": self._rad,
            },
        )
        if self.plan is not None:
            w.save_json("exact_plan.json", self.plan)

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: ExactConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> ExactBackend:
        b = cls(dim, metric, config)
        arr = art.arrays("exact.safetensors")
        b._append(arr["matrix"].astype(np.float32, copy=False), arr["ids"].astype(np.int64), normalize=False)
        if "labels" in arr and len(arr["labels"]):
            b._labels = arr["labels"].astype(np.int32)
            b._n_grouped = len(b._labels)
            b._cent = arr["centres"].astype(np.float32)
            b._rad = arr["radii"].astype(np.float64)
        if "exact_plan.json" in art.files:
            b.plan = art.json("exact_plan.json")
        return b


# -- pruning: k-means groups with radii; the search skips the groups that cannot qualify ---------------
def _kmeans(sample: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` centres from 8 Lloyd iterations on `sample` (seeded by `rng`)."""
    cent = sample[rng.choice(len(sample), m, replace=False)].copy()
    for _ in range(8):
        lab = np.argmax(sample @ cent.T - 0.5 * (cent * cent).sum(1)[None, :], axis=1)
        sums = np.zeros_like(cent, dtype=np.float64)
        np.add.at(sums, lab, sample)
        cnt = np.bincount(lab, minlength=m)
        nz = cnt > 0
        cent[nz] = (sums[nz] / cnt[nz, None]).astype(np.float32)
    return cent


def _decreasing(raw: np.ndarray) -> bool:
    """Whether every row of `raw` ``(nq, k)``, sorted by decreasing value (as every scan returns it), strictly
    decreases: no exact ties to order by id (one query: its k scores are k distinct floats)."""
    if len(raw) == 1:
        return len(set(raw[0].tolist())) == raw.shape[1]
    return bool((raw[:, 1:] < raw[:, :-1]).all())


def group_rows(b: ExactBackend) -> None:
    """Group the stored rows of `b` by k-means (about ``group_size`` rows each), reorder them group by group
    (stable: insertion order within a group) and keep each group's exact centre and radius."""
    n = b._n
    x = b._buf[:n]
    m = int(min(512, max(8, n // b.group_size)))
    rng = np.random.default_rng(b.config.seed)
    cent = _kmeans(x[np.sort(rng.choice(n, min(n, 40 * m), replace=False))], m, rng)
    labels = np.empty(n, dtype=np.int64)
    half = 0.5 * (cent * cent).sum(1)[None, :]
    for s in range(0, n, 65536):
        labels[s : s + 65536] = np.argmax(x[s : s + 65536] @ cent.T - half, axis=1)
    used, labels = np.unique(labels, return_inverse=True)
    cent = cent[used]
    order = np.argsort(labels, kind="stable")
    for j in range(0, b._buf.shape[1], 8):  # permute 8 coordinates at a time: no full temporary copy
        b._buf[:n, j : j + 8] = b._buf[:n, j : j + 8][order]
    b._ids[:n] = b._ids[:n][order]
    labels = labels[order].astype(np.int32)
    # exact centres of the full groups, and radii around them
    offs = np.searchsorted(labels, np.arange(len(used) + 1))
    rad = np.zeros(len(used))
    for j in range(len(used)):
        block = b._buf[offs[j] : offs[j + 1]]
        cent[j] = block.mean(0, dtype=np.float64)
        rad[j] = np.sqrt(((block - cent[j]) ** 2).sum(1, dtype=np.float64).max())
    b._cent, b._rad, b._labels, b._n_grouped = cent, rad, labels, n
    b._ident = False


def ungroup_rows(b: ExactBackend) -> None:
    """Undo :func:`group_rows`: rows back in insertion order (ids only grow with insertion), no groups."""
    n = b._n
    order = np.argsort(b._ids[:n], kind="stable")
    if not np.array_equal(order, np.arange(n)):
        for j in range(0, b._buf.shape[1], 8):  # as group_rows: 8 coordinates at a time
            b._buf[:n, j : j + 8] = b._buf[:n, j : j + 8][order]
        b._ids[:n] = b._ids[:n][order]
    width = b._buf.shape[1]
    b._labels, b._n_grouped = np.zeros(0, dtype=np.int32), 0
    b._cent, b._rad = np.zeros((0, width), dtype=np.float32), np.zeros(0, dtype=np.float64)
    b._ident = bool(np.array_equal(b._ids[:n], np.arange(n)))


class _Best:
    """The running top k of each query: scores, stored rows and ids (ties broken by the lower id)."""

    def __init__(self, nq: int, k: int) -> None:
        self.k = k
        self.s = np.full((nq, k), -np.inf, dtype=np.float32)
        self.r = np.zeros((nq, k), dtype=np.int64)
        self.id = np.full((nq, k), np.iinfo(np.int64).max, dtype=np.int64)

    def merge(self, sel: np.ndarray, rows: np.ndarray, sc: np.ndarray, ids: np.ndarray) -> None:
        """Merge candidates ``(len(sel), c)`` into the top k of the queries `sel`."""
        cs = np.concatenate([self.s[sel], sc], axis=1)
        cr = np.concatenate([self.r[sel], rows], axis=1)
        ci = np.concatenate([self.id[sel], ids], axis=1)
        self.put(sel, cs, cr, ci, np.lexsort((ci, -cs), axis=1)[:, : self.k])

    def put(self, sel: np.ndarray, sc: np.ndarray, rows: np.ndarray, ids: np.ndarray, o: np.ndarray) -> None:
        self.s[sel] = np.take_along_axis(sc, o, 1)
        self.r[sel] = np.take_along_axis(rows, o, 1)
        self.id[sel] = np.take_along_axis(ids, o, 1)


def search_pruned(
    b: ExactBackend, q: np.ndarray, k: int, engine: str = "numpy"
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(nq, k)`` and inner products of the exact top k over the rows of `b`, scanning only the groups
    whose bound can still beat a query's k-th best; the share of rows scored goes to ``b.last_scanned``."""
    nq, ng = len(q), b._n_grouped
    best = _Best(nq, k)
    scanned = 0
    if ng < b._n:  # the tail added since grouping: scanned for every query
        rows, sc = b._scan(q, slice(ng, b._n), min(k, b._n - ng), engine)
        best.merge(np.arange(nq), rows + ng, sc, b._ids[rows + ng])
    offs = np.searchsorted(b._labels[:ng], np.arange(len(b._cent) + 1))
    qn = np.linalg.norm(q, axis=1).astype(np.float64)
    cn = np.linalg.norm(b._cent, axis=1).astype(np.float64)
    ub = q.astype(np.float64) @ b._cent.T.astype(np.float64) + qn[:, None] * b._rad[None, :]
    ub += 1e-4 * qn[:, None] * (cn + b._rad)[None, :] + 1e-30  # margin for float32 rounding
    order = np.argsort(-ub, axis=1)
    active = np.ones(nq, dtype=bool)
    allq = np.arange(nq)
    for r in range(order.shape[1]):
        j = order[:, r]
        # ub[:, order] decreases along r and the k-th best only rises: an inactive query stays inactive
        active &= ub[allq, j] >= best.s[:, k - 1]
        qa = np.flatnonzero(active)
        if not len(qa):
            break
        scanned += _scan_groups(b, q, qa, j[qa], offs, best, engine)
        if r == 0:
            scanned += _scan_dense(b, q, ub, best, active, engine)
    b.last_scanned = (scanned + nq * (b._n - ng)) / max(1, nq * b._n)
    return best.r, best.s


def _scan_groups(
    b: ExactBackend, q: np.ndarray, qa: np.ndarray, jj: np.ndarray, offs: np.ndarray, best: _Best, engine: str
) -> int:
    """Score the queries `qa` against their groups `jj` (queries of one group share one GEMM); returns the
    (query, row) pairs scored."""
    srt = np.argsort(jj, kind="stable")
    qa, jj = qa[srt], jj[srt]
    groups, starts = np.unique(jj, return_index=True)
    ends = np.append(starts[1:], len(jj))
    scanned = 0
    for g, a, e in zip(groups, starts, ends, strict=True):
        lo, hi = int(offs[g]), int(offs[g + 1])
        if hi <= lo:
            continue
        sel = qa[a:e]
        scanned += len(sel) * (hi - lo)
        rows, sc = b._scan(q[sel], slice(lo, hi), min(best.k, hi - lo), engine)
        best.merge(sel, rows + lo, sc, b._ids[rows + lo])
    return scanned


def _scan_dense(
    b: ExactBackend, q: np.ndarray, ub: np.ndarray, best: _Best, active: np.ndarray, engine: str
) -> int:
    """Queries whose bounds leave more than half of the groups open gain nothing from pruning: one plain
    blocked scan is cheaper than many small GEMMs. Returns the (query, row) pairs scored."""
    dense = np.flatnonzero((ub >= best.s[:, best.k - 1][:, None]).mean(1) > 0.5)
    if not len(dense):
        return 0
    rows, sc = b._scan(q[dense], slice(0, b._n), best.k, engine)
    ids = b._ids[rows]
    best.put(dense, sc, rows, ids, np.lexsort((ids, -sc), axis=1))
    active[dense] = False
    return len(dense) * b._n
