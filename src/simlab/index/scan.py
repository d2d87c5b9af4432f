"""Plain exact top-k scans over the exact backend's storage, and the probe that picks the fastest plan.

Two scan engines give the same top k (up to the order of exact ties at the k-th place):

* ``numpy``: :func:`simlab._topk.dot_topk` (BLAS GEMM blocks, strip maxima against a running threshold);
* ``faiss``: the same BLAS GEMM blocks, with each block's scores pushed through FAISS's C++ top-k heaps
  (``float_minheap_array_t.addn``), i.e. what ``faiss.IndexFlatIP`` does, on simlab's storage without a copy;
* ``knn``: FAISS's own brute-force kNN (``faiss.knn_inner_product``) on the stored rows in place (no
  Python-level blocks; batches of at least FAISS's BLAS threshold, smaller ones go to ``faiss``).

:func:`probe_plan` times the engines and the pruned search on a sample of the stored rows used as queries,
batch and one at a time, and keeps for each mode the fastest (pruning only if it beats the best plain scan).
Options that fix both the engine and pruning leave nothing to time: :func:`pinned_plan`, no probe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from simlab._topk import dot_topk
from simlab.index import faiss_backend as _fb

#: probe: queries drawn from the stored rows for the batch timing, and for the one-at-a-time timing
PROBE_BATCH, PROBE_SINGLE = 128, 8
#: pruning is kept only if the probe finds it at least this much faster than the best plain scan; likewise an
#: engine other than FAISS's heaps (the reference: raw FAISS flat's own selection) must beat them by this much
PRUNE_MARGIN = 0.8
#: below this many rows nothing is probed: numpy engine, no pruning
MIN_PROBED = 64
#: one query scores at most this many rows per GEMV block (the FAISS engine)
SINGLE_BLOCK = 1 << 16


def faiss_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("faiss") is not None


def numpy_scan(q: np.ndarray, c: np.ndarray, k: int, budget_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and scores ``(nq, k)`` of the top k inner products (ties: lower row)."""
    elems = max(1, min(budget_bytes // 4, 1 << 21 if len(q) == 1 else 1 << 20))
    return dot_topk(q, c, k, budget_elems=elems)


def faiss_scan(q: np.ndarray, c: np.ndarray, k: int, budget_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`numpy_scan`, with FAISS's C++ heaps doing the selection (sorted by score; ties unordered)."""
    faiss = _fb._faiss_mod or _fb._faiss()
    nq, n = len(q), len(c)
    vals = np.empty((nq, k), np.float32)
    rows = np.empty((nq, k), np.int64)
    if nq == 1 and n <= SINGLE_BLOCK:  # one GEMV, one heap: the fewest Python-level calls
        s = q @ c.T
        heap = faiss.float_minheap_array_t()
        heap.nh, heap.k, heap.val, heap.ids = 1, k, faiss.swig_ptr(vals), faiss.swig_ptr(rows)
        heap.heapify()
        heap.addn(n, faiss.swig_ptr(s), 0, 0, 1)
        heap.reorder()
        return rows, vals
    # all queries of a batch (up to 1024) share each 1024-row score block, as in FAISS's own
    # knn_inner_product: the corpus is streamed once per 1024 queries (256-query blocks streamed it 4 times
    # for 1,000 queries and were ~1.5x slower on 100k x 100)
    q_step = min(nq, 1024)
    c_step = max(512, min(n, max(1, budget_bytes // 4) // max(1, q_step), SINGLE_BLOCK if nq == 1 else 1024))
    buf = np.empty((q_step, c_step), np.float32)
    for qs in range(0, nq, q_step):
        qb = np.ascontiguousarray(q[qs : qs + q_step])
        nb = len(qb)
        heap = faiss.float_minheap_array_t()
        heap.nh, heap.k = nb, k
        v, r = vals[qs : qs + nb], rows[qs : qs + nb]
        heap.val, heap.ids = faiss.swig_ptr(v), faiss.swig_ptr(r)
        heap.heapify()
        for cs in range(0, n, c_step):
            ce = min(n, cs + c_step)
            s = buf[:nb, : ce - cs] if ce - cs == c_step else np.empty((nb, ce - cs), np.float32)
            np.matmul(qb, c[cs:ce].T, out=s)
            heap.addn(ce - cs, faiss.swig_ptr(s), cs, 0, nb)
        heap.reorder()
    return rows, vals  # by decreasing score; the caller orders exact ties (by id)


def knn_scan(q: np.ndarray, c: np.ndarray, k: int, budget_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """FAISS's own brute-force kNN (``faiss.knn_inner_product``, what ``IndexFlatIP.search`` runs) on the
    stored rows in place (they are C-contiguous; any other layout goes to :func:`faiss_scan`). Sorted by
    score; ties unordered. Fewer queries than FAISS's BLAS threshold (where FAISS scans row by row, ~3x
    slower) go to :func:`faiss_scan` too."""
    if len(q) < _fb.FAISS_BLAS_THRESHOLD or not c.flags.c_contiguous:  # FAISS would scan row by row
        return faiss_scan(q, c, k, budget_bytes)
    faiss = _fb._faiss_mod or _fb._faiss()
    q = np.ascontiguousarray(q, dtype=np.float32)
    nq, n = len(q), len(c)
    vals = np.empty((nq, k), np.float32)
    rows = np.empty((nq, k), np.int64)
    ptr = faiss.swig_ptr
    faiss.knn_inner_product(ptr(q), ptr(c), q.shape[1], nq, n, k, ptr(vals), ptr(rows))
    return rows, vals


def partition_scan(q: np.ndarray, c: np.ndarray, k: int, budget_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    """One GEMV/GEMM over all rows and ``np.argpartition``: the fewest calls, for single queries on small
    sets."""
    s = q @ c.T
    n = s.shape[1]
    if k < n:
        part = np.argpartition(s, n - k, axis=1)[:, n - k :]
        kth = np.take_along_axis(s, part, 1).min(axis=1)
        if len(q) == 1:  # every entry >= the k-th best (ties included), ordered by score then row
            cand = np.flatnonzero(s[0] >= kth[0])
            order = cand[np.lexsort((cand, -s[0, cand]))][:k]
            return order[None, :], s[0, order][None, :]
        part = np.where(s >= kth[:, None], np.arange(n)[None, :], n)  # rare path (batches): exact ties
        part = np.sort(part, axis=1)
        s = np.concatenate([s, np.full((len(q), 1), -np.inf, s.dtype)], axis=1)
        order = np.lexsort((part, -np.take_along_axis(s, part, 1)), axis=1)[:, :k]
        rows = np.take_along_axis(part, order, 1)
        return rows, np.take_along_axis(s, rows, 1)
    rows = np.lexsort((np.broadcast_to(np.arange(n), s.shape), -s), axis=1)
    return rows, np.take_along_axis(s, rows, 1)


SCANS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "numpy": numpy_scan,
    "faiss": faiss_scan,
    "knn": knn_scan,
    "partition": partition_scan,
}


def _interleaved(fns: dict[str, Callable[[], Any]], rounds: int = 3) -> dict[str, float]:
    """Fastest of `rounds` runs of each function, run in turn (a busy machine slows all alike)."""
    for f in fns.values():
        f()  # warm-up
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, f in fns.items():
            t0 = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def probe_plan(backend: Any, k: int = 10) -> dict[str, Any]:
    """Time every scan engine and (when the backend may prune) the pruned search; return the plan.

    Args:
        backend: an :class:`~simlab.index.exact.ExactBackend` holding rows.
        k: neighbours per probe query.

    Returns:
        ``{"engine": {"batch", "single"}, "prune": {"batch", "single"}, "skip_rate", "seconds", "rows",
        "probe_queries"}``: for each mode the fastest plain engine, whether pruning beat it, the share of
        (query, row) pairs the pruned probe skipped, and the probe timings (seconds per probe).
    """
    cfg = backend.config
    n = backend._n
    if cfg.engine != "auto" and cfg.prune != "auto":
        return pinned_plan(backend)
    if n < MIN_PROBED and cfg.prune is not True:
        eng = cfg.engine if cfg.engine != "auto" else "numpy"
        return {
            "engine": {"batch": eng, "single": eng},
            "prune": {"batch": False, "single": False},
            "skip_rate": None,
            "rows": n,
            "probe_queries": 0,
            "seconds": {},
        }
    rng = np.random.default_rng(cfg.seed + 1)
    pick = np.sort(rng.choice(n, min(n, PROBE_BATCH), replace=False))
    q = backend.query_rows(backend._buf[pick, : backend.dim])
    single = q[:PROBE_SINGLE]
    k = min(k, n)
    engines = (
        [cfg.engine] if cfg.engine != "auto" else ["numpy"] + (["faiss", "knn"] if faiss_available() else [])
    )
    corpus = backend._buf[:n]
    secs: dict[str, dict[str, float]] = {"batch": {}, "single": {}}
    secs["batch"] = _interleaved({e: (lambda s=SCANS[e]: s(q, corpus, k, cfg.budget_bytes)) for e in engines})
    single_fns = {
        e: (lambda s=SCANS[e]: [s(row[None], corpus, k, cfg.budget_bytes) for row in single])
        for e in engines + (["partition"] if cfg.engine == "auto" else [])
    }
    secs["single"] = _interleaved(single_fns)
    plan: dict[str, Any] = {
        "engine": {m: _fastest(secs[m]) for m in secs},
        "prune": {"batch": False, "single": False},
        "skip_rate": None,
        "rows": n,
        "probe_queries": len(q),
    }
    if backend.may_prune():
        _probe_pruning(backend, q, single, k, plan, secs)
    plan["seconds"] = {m: {e: round(v, 6) for e, v in d.items()} for m, d in secs.items()}
    return plan


def pinned_plan(backend: Any) -> dict[str, Any]:
    """The plan of a backend whose options fix both the engine and pruning (e.g. a distributed join that
    decided once for all its shards, :func:`simlab.scale.join`): nothing to time, so nothing is probed; the
    rows are grouped when pruning is on (and there are enough rows to group)."""
    cfg = backend.config
    prune = cfg.prune is True and backend.may_prune()
    if prune:
        backend._group()
    return {
        "engine": {"batch": cfg.engine, "single": cfg.engine},
        "prune": {"batch": prune, "single": prune},
        "skip_rate": None,
        "rows": backend._n,
        "probe_queries": 0,
        "seconds": {},
    }


def _fastest(d: dict[str, float]) -> str:
    """The fastest plain engine of one mode: the faster of FAISS's heaps (``faiss``, ``knn``) unless another
    is clearly faster (timing noise)."""
    best = min((e for e in d if e != "pruned"), key=d.get)
    refs = [e for e in ("faiss", "knn") if e in d]
    ref = min(refs, key=d.get) if refs else best
    return best if d[best] < PRUNE_MARGIN * d[ref] else ref


def _probe_pruning(
    backend: Any,
    q: np.ndarray,
    single: np.ndarray,
    k: int,
    plan: dict[str, Any],
    secs: dict[str, dict[str, float]],
) -> None:
    """Group the rows, time the pruned search (batch and one at a time) and keep it in `plan` where it beats
    the plain scan by :data:`PRUNE_MARGIN` (or the ``prune=True`` option asks for it).

    The pruned search is timed in turn with the fastest plain engine of the same mode (best of 3 rounds each),
    so a busy moment of the machine slows both alike and cannot flip the decision.
    """
    backend._group()
    corpus, budget = backend._buf[: backend._n], backend.config.budget_bytes
    batch_eng, single_eng = plan["engine"]["batch"], plan["engine"]["single"]
    both = _interleaved(
        {
            "plain": lambda: SCANS[batch_eng](q, corpus, k, budget),
            "pruned": lambda: backend._search_pruned(q, k, batch_eng),
        }
    )
    secs["batch"]["pruned"], secs["batch"][batch_eng] = both["pruned"], both["plain"]
    plan["skip_rate"] = max(0.0, 1.0 - backend.last_scanned)
    both = _interleaved(
        {
            "plain": lambda: [SCANS[single_eng](row[None], corpus, k, budget) for row in single],
            "pruned": lambda: [backend._search_pruned(row[None], k, single_eng) for row in single],
        }
    )
    secs["single"]["pruned"], secs["single"][single_eng] = both["pruned"], both["plain"]
    for m in ("batch", "single"):
        best_plain = secs[m][plan["engine"][m]]
        plan["prune"][m] = backend.config.prune is True or secs[m]["pruned"] < PRUNE_MARGIN * best_plain
