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

import threading
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


_local = threading.local()  # per-thread scratch: score buffer and FAISS heap object, reused across searches


def _scratch(size: int) -> np.ndarray:
    """A float32 score buffer of `size` elements, kept per thread and reused by later scans (no allocation,
    and no fresh pages from the OS, per search). At most 1024 x 1024 floats (4 MB) per thread: the largest
    block a scan asks for."""
    buf = getattr(_local, "buf", None)
    if buf is None or len(buf) < size:
        buf = np.empty(size, np.float32)
        _local.buf = buf
    return buf[:size]


def _heap(faiss: Any) -> Any:
    """This thread's FAISS heap descriptor for batches (its arrays are set by the caller before each use)."""
    h = getattr(_local, "heap", None)
    if h is None:
        h = _local.heap = faiss.float_minheap_array_t()
    return h


def _heap1(faiss: Any, k: int) -> Any:
    """This thread's FAISS heap descriptor for one query of k (nh and k set only when they change)."""
    h = getattr(_local, "heap1", None)
    if h is None:
        h = _local.heap1 = faiss.float_minheap_array_t()
        h.nh, h.k = 1, k
        _local.k1 = k
    elif _local.k1 != k:
        h.k = _local.k1 = k
    return h


_HEAP_FNS: tuple[Callable[..., Any], ...] | None = None


def _heap_fns(faiss: Any) -> tuple[Callable[..., Any], ...]:
    """``(swig_ptr, set_val, set_ids, heapify, addn, reorder)`` of FAISS's float min-heap, as the compiled
    functions its Python methods wrap (one Python frame less per call: ~0.7 us of a ~7 us one-query scan of
    1,000 rows), or through the methods where this FAISS build lays them out otherwise."""
    global _HEAP_FNS
    if _HEAP_FNS is None:
        low = getattr(faiss, "_swigfaiss", None)
        names = ("val_set", "ids_set", "heapify", "addn", "reorder")
        fns = [getattr(low, "float_minheap_array_t_" + n, None) for n in names]
        if low is not None and hasattr(low, "swig_ptr") and all(fns):
            _HEAP_FNS = (low.swig_ptr, *fns)
        else:  # pragma: no cover - other FAISS builds
            _HEAP_FNS = (
                faiss.swig_ptr,
                lambda h, p: setattr(h, "val", p),
                lambda h, p: setattr(h, "ids", p),
                lambda h: h.heapify(),
                lambda h, *a: h.addn(*a),
                lambda h: h.reorder(),
            )
    return _HEAP_FNS


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
    ptr = faiss.swig_ptr
    if nq == 1 and n <= SINGLE_BLOCK:  # one GEMV, one heap: the fewest Python-level calls
        s = np.dot(c, q[0], out=_scratch(n))
        heap = _heap1(faiss, k)
        sp, set_val, set_ids, heapify, addn, reorder = _HEAP_FNS or _heap_fns(faiss)
        set_val(heap, sp(vals))
        set_ids(heap, sp(rows))
        heapify(heap)
        addn(heap, n, sp(s), 0, 0, 1)
        reorder(heap)
        return rows, vals
    # all queries of a batch (up to 1024) share each 1024-row score block, as in FAISS's own
    # knn_inner_product: the corpus is streamed once per 1024 queries (256-query blocks streamed it 4 times
    # for 1,000 queries and were ~1.5x slower on 100k x 100)
    q_step = min(nq, 1024)
    c_step = max(512, min(n, max(1, budget_bytes // 4) // max(1, q_step), SINGLE_BLOCK if nq == 1 else 1024))
    buf = _scratch(q_step * c_step)
    heap = _heap(faiss)
    for qs in range(0, nq, q_step):
        qb = np.ascontiguousarray(q[qs : qs + q_step])
        nb = len(qb)
        heap.nh, heap.k = nb, k
        v, r = vals[qs : qs + nb], rows[qs : qs + nb]
        heap.val, heap.ids = ptr(v), ptr(r)
        heap.heapify()
        for cs in range(0, n, c_step):
            ce = min(n, cs + c_step)
            s = buf[: nb * (ce - cs)].reshape(nb, ce - cs)  # C-contiguous, as addn reads it
            np.matmul(qb, c[cs:ce].T, out=s)
            heap.addn(ce - cs, ptr(s), cs, 0, nb)
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
    n = len(c)
    if len(q) == 1 and k < n:  # the fewest numpy calls: one GEMV, one argpartition, one sort of k
        s1 = c @ q[0]
        part = np.argpartition(s1, n - k)[n - k :]
        v = s1[part]
        o = np.argsort(-v)
        top, v = part[o], v[o]
        if np.count_nonzero(s1 >= v[-1]) > k or not _decreasing1(v):  # exact ties: ordered by row
            cand = np.flatnonzero(s1 >= v[-1])
            top = cand[np.lexsort((cand, -s1[cand]))][:k]
            v = s1[top]
        return top[None, :], v[None, :]
    s = q @ c.T
    if k < n:
        part = np.argpartition(s, n - k, axis=1)[:, n - k :]
        kth = np.take_along_axis(s, part, 1).min(axis=1)
        part = np.where(s >= kth[:, None], np.arange(n)[None, :], n)  # rare path (batches): exact ties
        part = np.sort(part, axis=1)
        s = np.concatenate([s, np.full((len(q), 1), -np.inf, s.dtype)], axis=1)
        order = np.lexsort((part, -np.take_along_axis(s, part, 1)), axis=1)[:, :k]
        rows = np.take_along_axis(part, order, 1)
        return rows, np.take_along_axis(s, rows, 1)
    rows = np.lexsort((np.broadcast_to(np.arange(n), s.shape), -s), axis=1)
    return rows, np.take_along_axis(s, rows, 1)


def _decreasing1(v: np.ndarray) -> bool:
    """Whether the sorted (decreasing) scores `v` are k distinct floats: strictly decreasing, no ties."""
    return len(set(v.tolist())) == len(v)


SCANS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "numpy": numpy_scan,
    "faiss": faiss_scan,
    "knn": knn_scan,
    "partition": partition_scan,
}


def _interleaved(fns: dict[str, Callable[[], Any]], rounds: int = 3) -> dict[str, float]:
    """Fastest of `rounds` runs of each function, run in turn (a busy machine slows all alike).

    A run counts as the smaller of its wall time and the process's CPU time: on a machine shared with other
    jobs the wall time also counts the slices other processes took (on 2 cores at load 6, engines 20% apart
    swapped places), the CPU time does not; with several threads the wall time is the smaller one.
    """
    for f in fns.values():
        f()  # warm-up
    best = dict.fromkeys(fns, float("inf"))
    wall, cpu = time.perf_counter, time.process_time
    for _ in range(rounds):
        for name, f in fns.items():
            t0, c0 = wall(), cpu()
            f()
            best[name] = min(best[name], wall() - t0, cpu() - c0)
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
    # one query: knn runs faiss's code (FAISS would scan row by row), so only one of them is timed
    single_engines = [e for e in engines if e != "knn" or len(engines) == 1]
    single_fns = {
        e: (lambda s=SCANS[e]: [s(row[None], corpus, k, cfg.budget_bytes) for row in single])
        for e in single_engines + (["partition"] if cfg.engine == "auto" else [])
    }
    secs["single"] = _interleaved(single_fns)
    plan: dict[str, Any] = {
        "engine": {m: _fastest(secs[m], m) for m in secs},
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


def _fastest(d: dict[str, float], mode: str) -> str:
    """The fastest plain engine of one mode, against a reference kept unless another engine is clearly faster
    (by :data:`PRUNE_MARGIN`: timing noise must not pick a slower engine). The reference is what raw FAISS
    flat runs for a batch (``knn``: FAISS's own kNN) and simlab's GEMV + FAISS heap (``faiss``) for one query
    (where ``knn`` runs that same code and FAISS itself would scan row by row)."""
    best = min((e for e in d if e != "pruned"), key=d.get)
    order = ("knn", "faiss") if mode == "batch" else ("faiss", "knn")
    ref = next((e for e in order if e in d), best)
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
    so a busy moment of the machine slows both alike and cannot flip the decision. The plain scan is then
    reading grouped rows, which slows FAISS's heaps (better rows come later: more heap updates), so pruning
    must beat the faster of that and the plain scan of the rows in insertion order (timed before grouping).
    When neither mode keeps pruning, the rows go back to insertion order.
    """
    plain_before = {m: secs[m][plan["engine"][m]] for m in ("batch", "single")}
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
        best_plain = min(secs[m][plan["engine"][m]], plain_before[m])
        secs[m][plan["engine"][m]] = best_plain
        plan["prune"][m] = backend.config.prune is True or secs[m]["pruned"] < PRUNE_MARGIN * best_plain
    if not (plan["prune"]["batch"] or plan["prune"]["single"]):
        backend._ungroup()
