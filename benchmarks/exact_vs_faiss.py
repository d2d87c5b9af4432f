"""Small check: simlab's default exact index vs raw ``faiss.IndexFlatIP`` (cosine, k = 10, 1 thread), batch
and one query at a time, interleaved in one process.

Both sides do the same work: the raw-FAISS user normalises the queries too (``faiss.normalize_L2`` on a copy,
inside the timing), as simlab does inside ``search``. Rows are normalised once, outside the timing, on both
sides (FAISS's copy before ``add``; simlab when adding).

Run: ``python benchmarks/exact_vs_faiss.py [--sizes siamese,gnn_nodes,10000,100000] [--nq 1000]
[--single 300]``. Real sets (``siamese``, ``gnn_nodes``) come from ``benchmarks/.cache`` when built
(``benchmarks/index_data.py``), else a clustered synthetic set of the same shape stands in (labelled).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import pin_threads

THREADS = pin_threads(1)

import numpy as np  # noqa: E402

K = 10


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    r = np.random.default_rng(seed)
    centres = r.normal(size=(20, dim)).astype(np.float32)
    return centres[r.integers(0, 20, n)] + 0.3 * r.normal(size=(n, dim)).astype(np.float32)


def dataset(name: str, nq: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(label, database, held-out queries)."""
    from index_data import load

    shapes = {"siamese": (987, 16), "gnn_nodes": (2438, 64)}
    if name in shapes:
        got = load(name)
        if got is not None:
            x, label = got[0], f"{name} (real)"
        else:
            x, label = clustered(shapes[name][0] + nq, shapes[name][1], 0), f"{name}-shaped (synthetic)"
    else:
        kind, n = name.split(":") if ":" in name else ("gaussian", name)
        r = np.random.default_rng(0)
        x = r.normal(size=(int(n) + nq, 100)).astype(np.float32)
        if kind == "sphere":
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        label = f"{kind} {int(n):,}"
    r = np.random.default_rng(1)
    held = np.zeros(len(x), bool)
    real = "(real)" in label
    held[r.choice(len(x), min(nq, len(x) // 10) if real else nq, replace=False)] = True
    return label, np.ascontiguousarray(x[~held]), np.ascontiguousarray(x[held])


def agreement(ids: np.ndarray, sc: np.ndarray, ref: np.ndarray, ref_sc: np.ndarray) -> str:
    """'same': same ids in the same order; else the share of queries with the same id sets, and the largest
    score difference at equal ranks (order differences between scores that equal within float rounding)."""
    nq = len(ids)
    if (ids == ref[:nq]).all():
        return "same"
    sets = np.mean([set(a) == set(b) for a, b in zip(ids, ref[:nq], strict=True)])
    return f"sets {sets:.3f}, max score diff {np.abs(sc - ref_sc[:nq]).max():.1e}"


CLOCK = time.perf_counter  # --clock cpu: this thread's CPU time (time.thread_time), robust on a busy machine


def best_of(fns: dict, rounds: int) -> dict:
    for f in fns.values():
        f()
    best = dict.fromkeys(fns, float("inf"))
    for r in range(rounds):
        for name in list(fns) if r % 2 == 0 else list(fns)[::-1]:
            t0 = CLOCK()
            fns[name]()
            best[name] = min(best[name], CLOCK() - t0)
    return best


def per_call(fns: dict, n: int, rounds: int = 5) -> dict:
    """Sum over n queries of each query's fastest of `rounds` calls (interleaved)."""
    best = {name: np.full(n, np.inf) for name in fns}
    names = list(fns)
    for r in range(rounds):
        for i in range(n):
            for name in names if (r + i) % 2 == 0 else names[::-1]:
                t0 = CLOCK()
                fns[name](i)
                dt = CLOCK() - t0
                if dt < best[name][i]:
                    best[name][i] = dt
    return {name: float(v.sum()) for name, v in best.items()}


def measure(name: str, a: argparse.Namespace) -> None:
    """Build both indexes over one set, check they agree, time them interleaved and print one line."""
    import faiss

    from simlab.index import Index

    label, x, q = dataset(name, a.nq)
    n, d = x.shape
    t0 = time.perf_counter()
    idx = Index("exact", "cosine").add(np.arange(n), x)
    idx.search(q[:1], K)  # the first search probes and fixes the plan
    t_build = time.perf_counter() - t0
    xn = x.copy()
    faiss.normalize_L2(xn)
    flat = faiss.IndexFlatIP(d)
    flat.add(xn)

    def faiss_search(qq):
        qc = np.array(qq, dtype=np.float32, order="C", ndmin=2)  # a copy: the caller's queries stay
        faiss.normalize_L2(qc)
        return flat.search(qc, K)

    got = idx.search(q, K)
    ref_s, ref = faiss_search(q)
    same = agreement(np.array(got.keys), got.scores, ref, ref_s)
    ones = [idx.search(q[i], K) for i in range(min(100, len(q)))]
    one_same = agreement(np.array([h.keys for h in ones]), np.array([h.scores for h in ones]), ref, ref_s)
    rounds = a.rounds if n * d <= 1e6 else 3
    tb = best_of({"simlab": lambda: idx.search(q, K), "faiss": lambda: faiss_search(q)}, rounds)
    ns = min(a.single if n * d <= 1e6 else a.single // 3, len(q))
    ts = per_call({"simlab": lambda i: idx.search(q[i], K), "faiss": lambda i: faiss_search(q[i])}, ns)
    plan = idx._backend.plan
    eng = f"{plan['engine']['batch']}/{plan['engine']['single']}"
    prune = f"{'P' if plan['prune']['batch'] else '-'}{'P' if plan['prune']['single'] else '-'}"
    print(
        f"{label:28s} {n:>7d}x{d:<3d} batch {len(q) / tb['simlab']:>9.0f} vs {len(q) / tb['faiss']:>9.0f} "
        f"QPS = {tb['faiss'] / tb['simlab']:.3f}x | 1-by-1 {ts['simlab'] / ns * 1e6:7.1f} vs "
        f"{ts['faiss'] / ns * 1e6:7.1f} us = {ts['faiss'] / ts['simlab']:.3f}x | plan {eng} {prune} | "
        f"vs faiss: batch {same}, 1-by-1 {one_same} | build+probe {t_build:.1f}s | "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )


def main() -> None:
    import faiss

    from simlab.index import FAISS_BLAS_THRESHOLD

    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="siamese,gnn_nodes,10000,100000,sphere:100000")
    ap.add_argument("--nq", type=int, default=1000)
    ap.add_argument("--single", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    a = ap.parse_args()
    global CLOCK
    CLOCK = time.thread_time if a.clock == "cpu" else time.perf_counter
    faiss.omp_set_num_threads(THREADS)
    faiss.cvar.distance_compute_blas_threshold = FAISS_BLAS_THRESHOLD
    print(f"load average {os.getloadavg()}, {THREADS} thread, {a.clock} clock", flush=True)
    for name in a.sizes.split(","):
        measure(name, a)


if __name__ == "__main__":
    main()
