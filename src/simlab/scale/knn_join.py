"""k-NN join: for every vector of A, its k most similar vectors of B, exact or approximate, on any engine.

Plan (fixed by the inputs and settings, never by the engine or the number of CPUs): B is cut into shards of
`shard_rows` rows and A into blocks of `block_rows` rows. A search task takes B's shard ``j`` and searches A's
blocks in it with a simlab :class:`~simlab.index.Index` (``exact``, or FAISS ``HNSW32`` for
``method="hnsw"``), writing each block's per-shard top k to ``OUT/_partials/``. A task is one shard with a
group of blocks, so an index is built once per task; shards get several groups only when there are fewer
shards than CPUs. Merge task ``i`` keeps the k best of block ``i`` over all shards (ties: the lower position
in B first, as :func:`simlab.metrics.topk`) and writes ``OUT/part-NNNNN.parquet`` with columns ``id`` (A's
id), ``neighbors`` (B's ids) and ``scores`` (similarities, higher = more similar; Euclidean scores are negated
distances). A and B are each read by the tasks themselves (a shared filesystem or object store: "broadcast"
through storage), never gathered on the driver.

Exact joins are exact: the merge of exact per-shard top-k lists is the exact top k. An exact join probes the
index's scan plan once (:func:`plan_task`, on the engine, on B's first shard) and pins it in every search task
(:func:`pinned_options`), instead of a probe in every task. HNSW indexes are built on
one thread so that the same plan gives the same graph, and so the same results, on every engine.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.scale import engine as E
from simlab.scale.sources import VectorSource
from simlab.scale.store import JobDir, filesystem, join_path, list_files, read_json, write_json, write_table

log = logging.getLogger(__name__)

METHODS = ("exact", "hnsw")
#: the exact scan plan of a join (probed once, reused on resume), in the output directory
SCAN_PLAN = "_scan_plan.json"
BLOCK_ROWS = 65_536
SHARD_ROWS = 250_000


@dataclass
class JoinResult:
    """What :func:`join` wrote: ``rows`` parts rows (one per vector of A) with ``k`` neighbours each."""

    path: str
    rows: int
    k: int
    shards: int
    blocks: int
    seconds: float = 0.0
    engine: str = "local"
    #: where the time went (seconds summed over tasks: ``plan``, ``index``, ``read``, ``search``, ``write``,
    #: ``merge``)
    #: and the exact scan plan the search tasks used (``scan_plan``); empty for a job already complete
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ids (n,), neighbors (n, k), scores (n, k))`` of the whole result (small joins: held in
        memory)."""
        return read_join(self.path)


def read_join(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a join output directory: ``(ids, neighbors, scores)``."""
    import pyarrow.parquet as pq

    fs, p = filesystem(path)
    ids, nb, sc = [], [], []
    for f in list_files(fs, p):
        with fs.open_input_file(f) as fh:
            t = pq.read_table(fh)
        ids.append(t.column("id").to_numpy(zero_copy_only=False))
        nb.append(_fixed_to_numpy(t.column("neighbors")))
        sc.append(_fixed_to_numpy(t.column("scores")).astype(np.float32))
    return np.concatenate(ids), np.concatenate(nb), np.concatenate(sc)


def _fixed_to_numpy(col: Any) -> np.ndarray:
    """``(n, k)`` numpy of a fixed-size-list column (object dtype for strings)."""
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    out = []
    for c in chunks:
        k = c.type.list_size
        out.append(np.asarray(c.flatten().to_numpy(zero_copy_only=False)).reshape(len(c), k))
    return np.concatenate(out) if out else np.zeros((0, 0))


def _fixed(values: np.ndarray, k: int) -> Any:
    import pyarrow as pa

    flat = values.reshape(-1)
    arr = pa.array(flat.tolist() if flat.dtype == object else flat)
    return pa.FixedSizeListArray.from_arrays(arr, k)


# -- tasks ---------------------------------------------------------------------------------------------------


def _shard_index(
    b: str, lo: int, hi: int, metric: str, method: str, options: dict[str, Any]
) -> tuple[Any, Any]:
    """``(Index over B's rows [lo, hi) keyed by local position, B's ids of those rows)``."""
    from simlab.index import Index

    ids, x = VectorSource(b).read(lo, hi)
    if method == "exact":
        idx = Index("exact", metric=metric, **options)
    else:
        idx = Index("faiss", metric=metric, **{"factory": "HNSW32", **options})
    with _one_thread(method):
        idx.add(range(len(x)), x)
    return idx, ids


class _one_thread:
    """FAISS on one thread while an HNSW graph is built (parallel insertion is not deterministic)."""

    def __init__(self, method: str) -> None:
        self.faiss = None
        if method == "hnsw":
            from simlab._deps import require

            self.faiss = require("faiss")

    def __enter__(self) -> None:
        if self.faiss is not None:
            self.old = self.faiss.omp_get_max_threads()
            self.faiss.omp_set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        if self.faiss is not None:
            self.faiss.omp_set_num_threads(self.old)


def search_task(
    task: tuple[int, list[int]],
    a: str,
    b: str,
    out: str,
    k: int,
    metric: str,
    method: str,
    options: dict[str, Any],
    search: dict[str, Any],
    shards: list[tuple[int, int]],
    blocks: list[tuple[int, int]],
) -> tuple[int, int]:
    """Top k of A's blocks ``task[1]`` in B's shard ``task[0]`` -> ``out/_partials/s{j}-b{i}.parquet``.

    A partial file that exists already (an earlier attempt or run) is kept. Returns ``(rows searched,
    blocks)``.
    """
    j, todo = task
    fs, base = filesystem(out)
    paths = {i: join_path(base, f"_partials/s{j:05d}-b{i:05d}.parquet") for i in todo}
    missing = [i for i in todo if fs.get_file_info(paths[i]).size is None]
    secs = dict.fromkeys(("index", "read", "search", "write"), 0.0)
    if missing:
        t0 = time.perf_counter()
        index = _shard_index(b, *shards[j], metric, method, options)  # built once for the task's blocks
        secs["index"] += time.perf_counter() - t0
        for i in missing:
            t0 = time.perf_counter()
            q = VectorSource(a).read(*blocks[i])[1]
            secs["read"] += time.perf_counter() - t0
            _search_block(fs, paths[i], index, shards[j][0], q, k, search, secs)
    return sum(blocks[i][1] - blocks[i][0] for i in missing), len(todo), secs


def _search_block(
    fs: Any,
    path: str,
    index: tuple[Any, Any],
    lo: int,
    q: np.ndarray,
    k: int,
    search: dict[str, Any],
    secs: dict[str, float],
) -> None:
    """One (shard, block) search -> a partial file: global positions, scores and ids of the top k (the
    seconds of the search and of the write are added to `secs`)."""
    import pyarrow as pa

    idx, bids = index
    kk = min(k, len(bids))
    t0 = time.perf_counter()
    hits = idx.search(q, kk, **search)
    t1 = time.perf_counter()
    secs["search"] += t1 - t0
    pos = _positions(hits.keys, len(q), kk)
    scores = np.where(pos < 0, -np.inf, np.asarray(hits.scores, np.float32)).astype(np.float32)
    nid = np.empty(pos.shape, dtype=object if bids.dtype == object else bids.dtype)
    ok = pos >= 0
    nid[ok] = bids[pos[ok]]
    if not ok.all():
        nid = nid.astype(object)
        nid[~ok] = None
    gpos = np.where(ok, pos + lo, -1)
    table = pa.table({"pos": _fixed(gpos, kk), "score": _fixed(scores, kk), "nid": _fixed(nid, kk)})
    write_table(fs, path, table)
    secs["write"] += time.perf_counter() - t1


def _positions(keys: Any, n: int, k: int) -> np.ndarray:
    try:
        return np.asarray(keys, dtype=np.int64).reshape(n, k)
    except (TypeError, ValueError):  # an approximate index padded with None
        return np.array([[-1 if x is None else x for x in row] for row in keys], np.int64).reshape(n, k)


def plan_task(j: int, b: str, metric: str, options: dict[str, Any], shards: list[tuple[int, int]]) -> dict:
    """The exact index's plan (scan engine, pruning), probed once on B's shard ``j`` for the whole join.

    Returns ``{"plan": the probe's plan (:func:`simlab.index.scan.probe_plan`), "shard": j, "seconds"}``.
    """
    t0 = time.perf_counter()
    idx, _ = _shard_index(b, *shards[j], metric, "exact", options)
    lo, hi = shards[j]
    idx.search(VectorSource(b).read(lo, min(hi, lo + 1))[1], 1)  # the first search probes
    return {"plan": idx.get_params()["plan"], "shard": j, "seconds": round(time.perf_counter() - t0, 3)}


#: scan engines whose scores come from numpy's BLAS: whichever of them a plan picks, the floats are the same
#: (``knn`` computes with the BLAS bundled with FAISS, another build whose last bits may differ on some CPUs)
SAME_FLOATS = ("numpy", "faiss")


def pinned_options(options: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Index options that fix the scan engine and pruning a plan chose for blocks of queries (its batch
    mode): an index built with them is not probed again (:func:`simlab.index.scan.pinned_plan`).

    Unless `options` name the engine, it is the faster on the probe of :data:`SAME_FLOATS`, so that plans
    probed on different engines or machines still give the same scores (rows tied at the k-th place are the
    lower ids on every plan)."""
    engine, secs = plan["engine"]["batch"], plan.get("seconds", {}).get("batch", {})
    if options.get("engine", "auto") == "auto" and engine not in SAME_FLOATS:
        timed = [e for e in SAME_FLOATS if e in secs]
        engine = min(timed, key=secs.get) if timed else "numpy"
    return {**options, "engine": engine, "prune": bool(plan["prune"]["batch"])}


def merge_task(
    i: int, a: str, out: str, k: int, n_shards: int, blocks: list[tuple[int, int]]
) -> tuple[int, float]:
    """The k best of A's block ``i`` over all shards -> ``out/part-{i}.parquet``; returns ``(rows,
    seconds)``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    fs, base = filesystem(out)
    path = join_path(base, f"part-{i:05d}.parquet")
    if fs.get_file_info(path).size is not None:
        return blocks[i][1] - blocks[i][0], 0.0
    pos, sc, nid = [], [], []
    for j in range(n_shards):
        with fs.open_input_file(join_path(base, f"_partials/s{j:05d}-b{i:05d}.parquet")) as fh:
            t = pq.read_table(fh)
        pos.append(_fixed_to_numpy(t.column("pos")))
        sc.append(_fixed_to_numpy(t.column("score")).astype(np.float32))
        nid.append(_fixed_to_numpy(t.column("nid")))
    P, S = np.concatenate(pos, 1), np.concatenate(sc, 1)
    N = (
        np.concatenate([x.astype(object) for x in nid], 1)
        if any(x.dtype == object for x in nid)
        else np.concatenate(nid, 1)
    )
    kk = min(k, P.shape[1])
    big = np.where(P < 0, np.iinfo(np.int64).max, P)
    order = np.lexsort((big, -S), axis=1)[:, :kk]
    ids, _ = VectorSource(a).read(*blocks[i])
    table = pa.table(
        {
            "id": pa.array(ids.tolist() if ids.dtype == object else ids),
            "neighbors": _fixed(np.take_along_axis(N, order, 1), kk),
            "scores": _fixed(np.take_along_axis(S, order, 1), kk),
        }
    )
    write_table(fs, path, table)
    return len(ids), time.perf_counter() - t0


# -- the job -------------------------------------------------------------------------------------------------


def search_tasks(n_shards: int, n_blocks: int, cpus: int) -> list[tuple[int, list[int]]]:
    """Search tasks ``(shard, blocks)``: each shard's blocks in as few groups as keep `cpus` workers busy.

    A task loads (or builds) its shard's index once for all its blocks. The grouping changes neither the
    partial files nor the result (each partial is one deterministic (shard, block) search); it only trades
    index builds for parallelism: with fewer shards than CPUs, a shard's blocks are spread over several
    workers.
    """
    groups = max(1, min(n_blocks, -(-cpus // n_shards)))
    return [(j, list(range(g, n_blocks, groups))) for j in range(n_shards) for g in range(groups)]


def _ranges(n: int, step: int) -> list[tuple[int, int]]:
    return [(s, min(n, s + step)) for s in range(0, n, step)] or [(0, 0)]


def join(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    k: int = 10,
    *,
    out: str | os.PathLike[str],
    metric: str = "cosine",
    method: str = "exact",
    engine: str | E.Engine = "local",
    address: str | None = None,
    cpus: int | None = None,
    block_rows: int | None = None,
    shard_rows: int = SHARD_ROWS,
    index_options: dict[str, Any] | None = None,
    search_options: dict[str, Any] | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> JoinResult:
    """k-NN join of two vector sets, written as Parquet parts.

    Args:
        a: the queries: Parquet (``id`` + ``vector``, e.g. from :func:`simlab.scale.embed`), ``.npy`` or a
            simlab Vectors artifact.
        b: the collection searched, same forms.
        k: neighbours per vector of A (at most ``len(B)``).
        out: output directory (local path or URI).
        metric: cosine, dot, euclidean or sqeuclidean.
        method: ``"exact"`` or ``"hnsw"`` (FAISS HNSW32 per shard; recall measured against exact).
        engine, address, cpus: where the tasks run (see :class:`simlab.scale.Engine`).
        block_rows: rows of A per search (default: 1/16 of A, within 1,024..65,536); shard_rows: rows of B per
            index. A shard's index must fit one worker's
            memory (``shard_rows * dim * 4`` bytes, plus the HNSW graph).
        index_options: :class:`~simlab.index.Index` options (e.g. ``{"efConstruction": 80}``).
        search_options: per-search settings (e.g. ``{"efSearch": 128}``).
        progress: tqdm bar over tasks (None: on a terminal only).
        overwrite: replace the output of a different job in `out` instead of refusing.

    Returns:
        :class:`JoinResult`; ``read()`` gives ``(ids, neighbors, scores)``.
    """
    eng = E.resolve(engine, address, cpus)
    plan = _join_plan(a, b, k, metric, method, block_rows, shard_rows, index_options, search_options)
    outp, shards, blocks = _abs(out), plan["shards"], plan["blocks"]
    job = JobDir(outp, plan, overwrite)
    k_out = min(k, plan["nb"])
    if job.done:
        return JoinResult(outp, plan["na"], k_out, len(shards), len(blocks), 0.0, eng.name)
    job.fs.create_dir(join_path(job.path, "_partials"), recursive=True)
    t0 = time.perf_counter()
    stats = _run_join(eng, plan, job, outp, progress)
    job.fs.delete_dir(join_path(job.path, "_partials"))
    secs = time.perf_counter() - t0
    res = JoinResult(outp, plan["na"], k_out, len(shards), len(blocks), secs, eng.name, stats)
    log.info("join on %s: %.1f s; %s", eng.name, secs, stats)
    job.finish({"rows": res.rows, "k": res.k, "seconds": res.seconds, "engine": eng.name})
    return res


def _join_plan(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    k: int,
    metric: str,
    method: str,
    block_rows: int | None,
    shard_rows: int,
    index_options: dict[str, Any] | None,
    search_options: dict[str, Any] | None,
) -> dict[str, Any]:
    """The join's plan (checked arguments, the shards of B and the blocks of A), as saved in its job file."""
    from simlab.index.common import resolve_metric

    if method not in METHODS:
        raise ConfigError(f"unknown join method {method!r}; valid: {', '.join(METHODS)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    if (block_rows is not None and block_rows < 1) or shard_rows < 1:
        raise ConfigError("block_rows and shard_rows must be >= 1")
    metric = resolve_metric(metric)
    pa_, pb_ = (_abs(x) for x in (a, b))
    sa, sb = VectorSource(pa_), VectorSource(pb_)
    if sa.dim != sb.dim:
        from simlab.errors import DimensionError

        raise DimensionError(f"A has dimension {sa.dim}, B has dimension {sb.dim}")
    block_rows = block_rows or min(BLOCK_ROWS, max(1024, -(-sa.n // 16)))
    return {
        "job": "join",
        "a": pa_,
        "b": pb_,
        "na": sa.n,
        "nb": sb.n,
        "k": k,
        "metric": metric,
        "method": method,
        "index_options": dict(index_options or {}),
        "search_options": dict(search_options or {}),
        "shards": _ranges(sb.n, shard_rows),
        "blocks": _ranges(sa.n, block_rows),
    }


def _run_join(
    eng: E.Engine, plan: dict[str, Any], job: JobDir, outp: str, progress: bool | None
) -> dict[str, Any]:
    """Run the search tasks, then the merge tasks, of a join plan on `eng` (an exact join first decides its
    scan plan, :func:`_scan_plan`); returns where the time went (seconds summed over tasks)."""
    from tqdm.auto import tqdm

    shards, blocks = plan["shards"], plan["blocks"]
    stats: dict[str, Any] = dict.fromkeys(("plan", "index", "read", "search", "write", "merge"), 0.0)
    with (
        E.session(eng) as ray,
        tqdm(
            total=len(shards) * len(blocks) + len(blocks),
            desc="join",
            unit="block",
            disable={True: False, False: True}.get(progress),  # type: ignore[arg-type]
        ) as bar,
    ):
        options = plan["index_options"]
        if plan["method"] == "exact":
            options = _scan_plan(eng, ray, plan, job, stats)
        tasks = search_tasks(len(shards), len(blocks), E.cluster_cpus(ray, eng) if eng.is_ray else 1)
        common = {"a": plan["a"], "out": outp, "k": plan["k"], "blocks": blocks}
        search = {
            "b": plan["b"],
            "metric": plan["metric"],
            "method": plan["method"],
            "options": options,
            "search": plan["search_options"],
            "shards": shards,
        }

        def searched(r: tuple[int, int, dict[str, float]]) -> None:
            bar.update(r[1])
            for name, sec in r[2].items():
                stats[name] += sec

        def merged(r: tuple[int, float]) -> None:
            bar.update(1)
            stats["merge"] += r[1]

        E.run_tasks(search_task, tasks, eng, ray, on_result=searched, shared={**common, **search})
        E.run_tasks(
            merge_task,
            list(range(len(blocks))),
            eng,
            ray,
            on_result=merged,
            shared={**common, "n_shards": len(shards)},
        )
    return {name: round(v, 3) if isinstance(v, float) else v for name, v in stats.items()}


def _scan_plan(
    eng: E.Engine, ray: Any, plan: dict[str, Any], job: JobDir, stats: dict[str, Any]
) -> dict[str, Any]:
    """Index options that pin the exact scan plan of every search task of the join.

    Without them each task would probe its own plan (:func:`simlab.index.scan.probe_plan`), paying the
    probe once per task and possibly choosing differently from task to task and from run to run (a plan
    chosen by timing). The plan is probed once, by one task on the engine (so under the threads a search
    task gets there: one per Ray task, this process's locally), on B's first shard, and kept in
    ``OUT/_scan_plan.json``: a resumed job (on either engine) reuses it. Options that fix both ``engine``
    and ``prune`` leave nothing to probe.
    """
    options = plan["index_options"]
    if options.get("engine", "auto") != "auto" and options.get("prune", "auto") != "auto":
        stats["scan_plan"] = {"engine": options["engine"], "prune": options["prune"], "from": "options"}
        return options
    path = join_path(job.path, SCAN_PLAN)
    if job.has(path):
        probed = read_json(job.fs, path)
        source = "resumed"
    else:
        probed = E.run_tasks(
            plan_task,
            [0],
            eng,
            ray,
            shared={"b": plan["b"], "metric": plan["metric"], "options": options, "shards": plan["shards"]},
        )[0]
        write_json(job.fs, path, probed)
        stats["plan"] += probed["seconds"]
        source = "probed"
    pinned = pinned_options(options, probed["plan"])
    stats["scan_plan"] = {"engine": pinned["engine"], "prune": pinned["prune"], "from": source}
    return pinned


def _abs(p: str | os.PathLike[str] | Sequence[str]) -> str:
    s = os.fspath(p)  # type: ignore[arg-type]
    return s if "://" in s else os.path.abspath(s)
