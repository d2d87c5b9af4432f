"""Scale-out: the local engine (one process) vs the Ray engine (a local Ray instance on 2 CPUs), same jobs.

Rows:
- embed: first a small job (2,000 reviews: the start-up cost of the first Ray Data job of a Ray session), then
  the 100,000 IMDB reviews (shared/data/imdb, train + test + unsup, written once as one Parquet file of
  5,000-row groups: the splittable input a cluster job would read) with a SIF model (Arora et al. 2017) over
  Word2Vec vectors trained by simlab.text.Word2Vec on the 25k train reviews (dim 100, 3 epochs; setup, not
  timed in the comparison). Default settings everywhere (nothing tuned).
- join (real): k = 10 nearest IMDB review vectors (cosine) of 10,000 query reviews among all 100,000, exact
  and HNSW32 per shard (efSearch 64, the default); HNSW recall@10 measured against the exact join of the same
  run.
- join (synthetic, labelled so): clustered 100-d vectors, A x B = 20,000 x 200,000 exact and 100,000 x 200,000
  HNSW (the issue's 1M x 200k is capped to fit a shared 2-core machine; every cost is linear in |A|, see the
  cost model).

Each job runs on both engines in this process; the Ray output is checked identical to the local output. The
local engine uses 2 BLAS/FAISS threads (the whole machine); Ray runs 2 one-thread workers. Peak memory is
sampled (RSS every 0.25 s) for the driver and for each Ray worker process. The cost model (per-row CPU
seconds, bytes written between stages) is fitted from these runs and projects 100M x 100M on N machines
(docs/scale.md).

Run: ``flock /tmp/simlab-bench.lock python benchmarks/bench_scale.py [--quick]``; the issue's full-size joins
(1M x 200k) one at a time, each added as a row: ``... bench_scale.py --full-size hnsw|exact [--rows N ...]
[--rounds R]`` (e.g. only the exact rows: ``--full-size exact --rows 400000 1000000``; ``--rounds 2`` runs
local, ray, local, ray and records the medians). A join row keeps each engine's ``JoinResult.stats``
(seconds per phase, the scan plan).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = pin_threads(2)

import numpy as np  # noqa: E402


class PeakRSS:
    """Max resident memory of this process and of any Ray worker (``ray::`` title) while the block runs."""

    def __init__(self) -> None:
        import psutil

        self.psutil, self.driver, self.worker, self._stop = psutil, 0, 0, threading.Event()

    def _run(self) -> None:
        me = self.psutil.Process()
        while not self._stop.is_set():
            self.driver = max(self.driver, me.memory_info().rss)
            for p in self.psutil.process_iter(["cmdline", "memory_info"]):
                cmd = p.info.get("cmdline") or []
                if cmd and cmd[0].startswith("ray::") and p.info.get("memory_info"):
                    self.worker = max(self.worker, p.info["memory_info"].rss)
            time.sleep(0.25)

    def __enter__(self) -> PeakRSS:
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()


def mb(x: int) -> float:
    return round(x / 2**20, 1)


def imdb_parquet(tmp: Path, limit: int) -> tuple[Path, list[str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from simlab.text.evaluation import read_imdb

    texts: list[str] = []
    for split in ("train", "test", "unsup"):
        texts += read_imdb(split)[0]
    texts = texts[:limit]
    path = tmp / "imdb.parquet"
    pq.write_table(pa.table({"text": texts}), path, row_group_size=5000)
    return path, texts


def sif_model(tmp: Path, texts: list[str], quick: bool) -> tuple[Path, float]:
    from simlab.text import SIF, Word2Vec

    t0 = time.perf_counter()
    train = texts[: 3000 if quick else 25000]
    w2v = Word2Vec(dim=100, epochs=1 if quick else 3, min_count=5, workers=2, seed=1).fit(train)
    sif = SIF(w2v).fit(texts[:2000])
    sif.save(tmp / "sif")
    return tmp / "sif", time.perf_counter() - t0


def clustered(n: int, d: int, seed: int, centres: int = 500) -> np.ndarray:
    r = np.random.default_rng(seed)
    scale = (1.0 / np.sqrt(np.arange(1, d + 1))).astype(np.float32)
    c = np.random.default_rng(99).normal(size=(centres, d)).astype(np.float32) * scale
    return (c[r.integers(0, centres, n)] + 0.5 * r.normal(size=(n, d)).astype(np.float32) * scale).astype(
        np.float32
    )


def timed(fn: Any) -> tuple[Any, float, PeakRSS]:
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = fn()
        sec = time.perf_counter() - t0
    return out, sec, mem


def compare(
    name: str, rows: int, run: Any, check: Any, extra: dict[str, Any] | None = None, rounds: int = 1
) -> dict[str, Any]:
    """Run ``run(engine)`` on local then ray (`rounds` times, interleaved: local, ray, local, ray...; the
    times are the medians, each run listed); check the first outputs identical; one result row. A join's
    stats (seconds per phase, the scan plan) are kept for each engine's first run."""
    (lo, t_lo, m_lo), (ra, t_ra, m_ra) = timed(lambda: run("local")), timed(lambda: run("ray"))
    runs = {"local": [t_lo], "ray": [t_ra]}
    print(f"{name}: local {t_lo:.1f}s ray {t_ra:.1f}s (load {os.getloadavg()[0]:.1f})", flush=True)
    for _ in range(rounds - 1):
        for engine in ("local", "ray"):
            _, t, _ = timed(lambda engine=engine: run(engine))
            runs[engine].append(t)
            print(f"  again {engine}: {t:.1f}s (load {os.getloadavg()[0]:.1f})", flush=True)
    if rounds > 1:
        t_lo, t_ra = float(np.median(runs["local"])), float(np.median(runs["ray"]))
        extra = {
            **(extra or {}),
            "rounds": rounds,
            "local_runs_s": [round(t, 1) for t in runs["local"]],
            "ray_runs_s": [round(t, 1) for t in runs["ray"]],
        }
    for engine, res in (("local", lo), ("ray", ra)):
        if getattr(res, "stats", None):
            extra = {**(extra or {}), f"{engine}_stats": res.stats}
    same = check(lo, ra)
    print(f"{name}: local {t_lo:.1f}s ray {t_ra:.1f}s identical={same}", flush=True)
    return {
        "job": name,
        "rows": rows,
        "local_s": round(t_lo, 2),
        "ray_s": round(t_ra, 2),
        "ray/local": round(t_ra / t_lo, 3),
        "local_rows_s": round(rows / t_lo, 1),
        "ray_rows_s": round(rows / t_ra, 1),
        "local_peak_mb": mb(m_lo.driver),
        "ray_driver_peak_mb": mb(m_ra.driver),
        "ray_worker_peak_mb": mb(m_ra.worker),
        "identical": same,
        **(extra or {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not for the record)")
    ap.add_argument(
        "--full-size",
        choices=("hnsw", "exact"),
        help="only the issue's join (A x 200k, d=100) of this method on both engines, added as a row to "
        "results/scale.json (the other rows are kept)",
    )
    ap.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=[1_000_000],
        help="rows of A with --full-size: 1M is the issue's size; fewer run the first rows of the same A "
        "(a slice, labelled so); several values add one row each (e.g. --full-size exact --rows 400000 "
        "1000000)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --full-size: run local, ray, local, ray... this many times each and record the medians",
    )
    args = ap.parse_args()
    q = args.quick
    if args.full_size:
        for na in args.rows:
            full_size(args.full_size, na, args.rounds)
        return
    import ray

    from simlab.scale import embed, join, read_join

    tmp = Path(tempfile.mkdtemp(prefix="simlab-bench-scale-"))
    load0 = os.getloadavg()[0]
    try:
        n_docs = 3000 if q else 100_000
        src, texts = imdb_parquet(tmp, n_docs)
        model, setup_s = sif_model(tmp, texts, q)
        t0 = time.perf_counter()
        ray.init(
            num_cpus=2,
            object_store_memory=1 << 30,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        )
        ray_init_s = time.perf_counter() - t0
        rows: list[dict[str, Any]] = []

        def emb(engine: str) -> Any:
            return embed(model, src, tmp / f"emb-{engine}", engine=engine, shard_rows=5000)

        def same_emb(a: Any, b: Any) -> bool:
            va, vb = a.to_vectors(), b.to_vectors()
            return va.keys == vb.keys and bool(np.array_equal(va.matrix, vb.matrix))

        small = 2000 if not q else 500

        def emb_small(engine: str) -> Any:  # the fixed cost of a job: start, model load, first shard
            return embed(model, tmp / "small.parquet", tmp / f"embs-{engine}", engine=engine, shard_rows=1000)

        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": texts[:small]}), tmp / "small.parquet", row_group_size=1000)
        rows.append(
            compare(
                f"embed {small:,} IMDB reviews (first job: Ray Data start-up)", small, emb_small, same_emb
            )
        )
        rows.append(compare("embed IMDB (SIF, real)", n_docs, emb, same_emb))
        vecs = tmp / "emb-local"
        ids, x = __import__("simlab.scale", fromlist=["read_vectors"]).read_vectors(vecs)
        nq = 1000 if q else 10_000
        np.save(tmp / "queries.npy", x[:nq])

        def same_join(a: Any, b: Any) -> bool:
            return all(np.array_equal(u, v) for u, v in zip(a.read(), b.read(), strict=True))

        exact_real = {}
        for method in ("exact", "hnsw"):

            def run(engine: str, method: str = method) -> Any:
                r = join(
                    tmp / "queries.npy",
                    vecs,
                    10,
                    out=tmp / f"jr-{method}-{engine}",
                    method=method,
                    engine=engine,
                    block_rows=2500,
                    shard_rows=50_000,
                )
                if method == "exact":
                    exact_real[engine] = r
                return r

            extra = {}
            row = compare(f"join {nq:,} x {len(ids):,} {method} (IMDB SIF, real)", nq, run, same_join, extra)
            if method == "hnsw":
                _, ex, _ = exact_real["local"].read()
                _, hn, _ = read_join(tmp / "jr-hnsw-local")
                row["recall@10"] = round(
                    float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ex, hn, strict=True)])), 4
                )
            rows.append(row)
        nb = 20_000 if q else 200_000
        np.save(tmp / "b.npy", clustered(nb, 100, 2))
        for method, na in (("exact", 2000 if q else 20_000), ("hnsw", 10_000 if q else 100_000)):
            np.save(tmp / "a.npy", clustered(na, 100, 1))

            def run(engine: str, method: str = method) -> Any:
                return join(
                    tmp / "a.npy",
                    tmp / "b.npy",
                    10,
                    out=tmp / f"js-{method}-{engine}",
                    method=method,
                    engine=engine,
                    block_rows=5000 if method == "exact" else 25_000,
                    shard_rows=nb // 2,
                )

            rows.append(compare(f"join {na:,} x {nb:,} {method} (synthetic)", na, run, same_join))
        ray.shutdown()
        build_s = hnsw_build_seconds(tmp / "b.npy", nb // 2)
        data = {
            "rows": rows,
            "ray_init_s": round(ray_init_s, 2),
            "setup_s": round(setup_s, 1),
            "load_avg_start": round(load0, 2),
            "load_avg_end": round(os.getloadavg()[0], 2),
            "quick": q,
            "hnsw_build_s_per_shard": round(build_s, 2),
            "cost_model": cost_model(rows, nb, build_s),
        }
        md = render(data)
        print(md)
        if not q:
            write_result("scale", "Scale-out: local vs Ray engine", md, data, THREADS, order=80)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def full_size(method: str, na: int, rounds: int = 1) -> None:
    """The issue's join (A = the first `na` of 1M clustered rows, B = 200k, d = 100, k = 10, cosine) of
    `method` on both engines, added as a row to results/scale.json with the load average of its run and the
    count of rows whose ids, neighbours or scores differ. Settings as the earlier rows, nothing tuned: HNSW
    blocks of 50,000 (the first full-size run), exact blocks of 5,000 (the main run's exact row), shards of
    100,000, efSearch 64 (the default)."""
    import json

    import ray

    from simlab.scale import join

    res_path = Path(__file__).parent / "results" / "scale.json"
    old = json.loads(res_path.read_text())
    tmp = Path(tempfile.mkdtemp(prefix="simlab-bench-scale-"))
    try:
        nb, block = 200_000, 50_000 if method == "hnsw" else 5_000
        np.save(tmp / "b.npy", clustered(nb, 100, 2))
        np.save(tmp / "a.npy", clustered(1_000_000, 100, 1)[:na])  # a slice is a prefix of the full-size A
        ray.init(
            num_cpus=2,
            object_store_memory=1 << 30,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        )

        count = iter(range(1 << 30))

        def run(engine: str) -> Any:
            i = next(count)
            if i >= 4:  # the first two outputs are compared at the end; later rounds' are only timed
                shutil.rmtree(tmp / f"j-{i - 2}", ignore_errors=True)
            return join(
                tmp / "a.npy",
                tmp / "b.npy",
                10,
                out=tmp / f"j-{i}",
                method=method,
                engine=engine,
                block_rows=block,
                shard_rows=nb // 2,
            )

        differing = {}

        def same(a: Any, b: Any) -> bool:
            (ia, na_, sa), (ib, nb_, sb) = a.read(), b.read()
            bad = (ia != ib) | (na_ != nb_).any(1) | (sa != sb).any(1)
            differing["rows"] = int(bad.sum())
            return differing["rows"] == 0

        load0 = os.getloadavg()[0]
        size = "full size" if na == 1_000_000 else f"first {na:,} rows of the full-size A: a slice"
        name = f"join {na:,} x {nb:,} {method} (synthetic, {size}; run {time.strftime('%H:%M')} UTC)"
        row = compare(name, na, run, same, rounds=rounds)
        ray.shutdown()
        row |= {
            "differing_rows": differing["rows"],
            "load_avg_start": round(load0, 2),
            "load_avg_end": round(os.getloadavg()[0], 2),
            "settings": f"block_rows={block:,}, shard_rows={nb // 2:,}, k=10, cosine, efSearch 64 (as the "
            "earlier rows; nothing tuned)",
        }
        data = old["data"]
        data["rows"] = [*data["rows"], row]
        write_result("scale", old["title"], render(data), data, THREADS, order=old.get("order", 80))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def hnsw_build_seconds(b: Path, rows: int) -> float:
    """Seconds to build one HNSW32 shard of `rows` vectors on one thread (as a join task does)."""
    import faiss

    from simlab.index import Index

    x = np.load(b, mmap_mode="r")[:rows]
    faiss.omp_set_num_threads(1)
    t0 = time.perf_counter()
    Index("faiss", metric="cosine", factory="HNSW32").add(range(len(x)), np.asarray(x))
    sec = time.perf_counter() - t0
    faiss.omp_set_num_threads(THREADS)
    return sec


def cost_model(rows: list[dict[str, Any]], nb_syn: int, build_s: float) -> dict[str, Any]:
    """CPU-seconds per unit of work fitted from the Ray runs (2 CPUs busy; the first, small embed job carries
    Ray Data's start-up), bytes between the stages from the plan, and the 100M x 100M projection."""
    emb = next(x for x in rows if x["job"].startswith("embed IMDB"))
    fixed = next(x for x in rows if "first job" in x["job"])
    ex = next(x for x in rows if "exact (synthetic)" in x["job"])
    hn = next(x for x in rows if "hnsw (synthetic)" in x["job"])
    cpus, k, d, shard = 2, 10, 100, nb_syn // 2
    overhead = fixed["ray_s"]
    embed_row = emb["ray_s"] * cpus / emb["rows"]
    exact_pair = ex["ray_s"] * cpus / (ex["rows"] * nb_syn)
    build_row = build_s / shard
    search = max(hn["ray_s"] * cpus - 2 * build_s, 1e-9) / (hn["rows"] * 2)
    n, big_shard = 100_000_000, 1_000_000
    shards = n // big_shard
    cpu = {
        "embed": n * embed_row,
        "exact": n * n * exact_pair,
        "hnsw": shards * big_shard * build_row + n * shards * search,
    }
    bytes_ = {
        "exact": n * shards * (k * 20) + shards * n * d * 4,
        "hnsw": n * shards * (k * 20) + shards * n * d * 4,
        "embed": 0,
    }
    proj = {}
    for machines in (1, 10, 100):
        cores = machines * 32
        proj[str(machines)] = {job: round(sec / cores / 3600, 2) for job, sec in cpu.items()}
    return {
        "fixed_overhead_s": overhead,
        "embed_cpu_s_per_row": embed_row,
        "embed_local_cpu_s_per_row": emb["local_s"] / emb["rows"],
        "exact_cpu_s_per_pair": exact_pair,
        "hnsw_build_cpu_s_per_row": build_row,
        "hnsw_search_cpu_s_per_query_per_shard": search,
        "hnsw_shard_rows_measured": shard,
        "partial_bytes_per_query_per_shard": k * 20,
        "projection_100M_x_100M": {
            "assumes": "32-core machines, 1M-row shards (100 shards), d=100, k=10, "
            "CPU-seconds as measured here (under load)",
            "cpu_hours": {j: round(v / 3600) for j, v in cpu.items()},
            "bytes_between_stages": bytes_,
            "wall_hours_by_machines": proj,
        },
    }


def render(data: dict[str, Any]) -> str:
    cols = [
        "job",
        "rows",
        "local_s",
        "ray_s",
        "ray/local",
        "local_rows_s",
        "ray_rows_s",
        "local_peak_mb",
        "ray_driver_peak_mb",
        "ray_worker_peak_mb",
        "identical",
    ]
    table = [
        {c: r.get(c, "") for c in cols}
        | ({"recall@10": r["recall@10"]} if "recall@10" in r else {"recall@10": ""})
        for r in data["rows"]
    ]
    cm = data["cost_model"]
    p = cm["projection_100M_x_100M"]
    proj = "; ".join(
        f"{m} machine(s): " + ", ".join(f"{j} {h} h" for j, h in v.items())
        for m, v in p["wall_hours_by_machines"].items()
    )
    return (
        "Local engine (one process, 2 BLAS/FAISS threads) vs Ray engine (local Ray instance, 2 one-thread "
        f"workers) on the same jobs; Ray output checked identical. Ray start: {data['ray_init_s']} s (not in "
        f"the job times). Load average {data['load_avg_start']} at start, {data['load_avg_end']} at end (a "
        "shared 2-core machine: absolute times are noisy, ratios in one run are the comparison). Embedding "
        f"model: SIF over simlab Word2Vec vectors (setup {data['setup_s']} s). Synthetic rows are labelled; "
        "sizes capped (see benchmarks/bench_scale.py). Default settings, nothing tuned.\n\n"
        + md_table(table)
        + "\n\nCost model (CPU-seconds, fitted on the Ray runs): first Ray Data job of a session "
        f"{cm['fixed_overhead_s']:.1f} s; embed {cm['embed_cpu_s_per_row'] * 1e3:.3f} ms/row (local, 1 "
        f"thread: {cm['embed_local_cpu_s_per_row'] * 1e3:.3f}); exact join "
        f"{cm['exact_cpu_s_per_pair'] * 1e9:.2f} ns per (query, row) pair at d=100; HNSW32 build "
        f"{cm['hnsw_build_cpu_s_per_row'] * 1e3:.3f} ms/row, search "
        f"{cm['hnsw_search_cpu_s_per_query_per_shard'] * 1e3:.3f} ms per (query, shard of "
        f"{cm['hnsw_shard_rows_measured']:,}); {cm['partial_bytes_per_query_per_shard']} bytes of partial "
        f"top-k per (query, shard). Projection to 100M x 100M ({p['assumes']}), wall hours: {proj}. See "
        "docs/scale.md.\n" + "".join(f"\n{note}\n" for note in data.get("notes", []))
    )


if __name__ == "__main__":
    main()
