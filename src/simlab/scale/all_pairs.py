"""All-pairs graph edit distance, partitioned into chunks of pairs that run on any engine and resume.

The pairs (all unordered pairs ``i < j`` of a collection, in row order, or a given list) are cut into chunks
of `chunk` pairs. Task ``c`` computes chunk ``c`` with :func:`simlab.graph.editpath.edit_path_search` (upper
bounds; a pair's result depends on its two graphs only, never on the chunk) or
:func:`simlab.graph.ged.exact_ged` (branch and bound with a timeout) and writes ``OUT.parts/part-NNNNN.tsv``
atomically. When every chunk is there, the parts are concatenated in order into ``OUT`` (the GED TSV of
``simlab ged``: ``id_a id_b ged exact``). An interrupted job rerun with the same settings computes only the
missing chunks; a finished one returns at once.

Exact GED is identical on every engine when each search finishes within `timeout`; a search cut by the timeout
keeps the best path found so far, which depends on the machine's speed (such rows have ``exact = 0``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError, UnknownNameError
from simlab.scale import engine as E
from simlab.scale.store import JobDir, atomic_write, join_path

METHODS = ("editpath", "exact")
CHUNK = {"editpath": 4096, "exact": 128}


@dataclass
class PairsResult:
    """What :func:`pairs` wrote: `pairs` rows in the GED TSV `path`, `exact` of them proven exact."""

    path: str
    pairs: int
    exact: int
    chunks: int
    seconds: float = 0.0
    engine: str = "local"

    @property
    def pairs_per_second(self) -> float:
        return self.pairs / self.seconds if self.seconds > 0 else float("nan")

    def table(self) -> Any:
        """The result as a :class:`~simlab.graph.ged.GEDTable` (held in memory)."""
        from simlab.graph.ged import GEDTable

        return GEDTable.read(self.path)


def triu_pairs(n: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(i, j)`` of pairs ``start..stop-1`` of all ``i < j`` pairs of `n` items in row order."""
    idx = np.arange(start, stop, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    offsets = rows * (2 * n - rows - 1) // 2
    i = np.searchsorted(offsets, idx, side="right") - 1
    return i, idx - offsets[i] + i + 1


def pairs_task(
    c: int,
    graphs: Any,
    out: str,
    method: str,
    chunks: list[tuple[int, int]],
    listed: Any,
    options: dict[str, Any],
) -> tuple[int, int]:
    """Chunk ``c`` -> ``out/part-{c}.tsv``; returns ``(pairs, proven exact)``."""
    from simlab.graph.ged import _fmt
    from simlab.scale.store import filesystem

    fs, base = filesystem(out)
    path = join_path(base, f"part-{c:05d}.tsv")
    if fs.get_file_info(path).size is not None:
        with fs.open_input_stream(path) as f:
            rows = [r.split("\t") for r in f.read().decode().splitlines() if r]
        return len(rows), sum(r[3] == "1" for r in rows)
    lo, hi = chunks[c]
    if listed is None:
        ia, ib = triu_pairs(len(graphs), lo, hi)
    else:
        ia, ib = np.asarray(listed[0][lo:hi]), np.asarray(listed[1][lo:hi])
    if method == "editpath":
        from simlab.graph.editpath import edit_path_search

        res = edit_path_search(graphs, graphs, ia, ib, progress=False, **options)
        cost, exact = res.cost, res.proven_exact
    else:
        from simlab.graph.ged import exact_ged

        found = [
            exact_ged(graphs.graphs[i], graphs.graphs[j], **options) for i, j in zip(ia, ib, strict=True)
        ]
        cost = np.array([g for g, _ in found])
        exact = np.array([e for _, e in found], bool)
    ids = graphs.ids
    text = "".join(
        f"{ids[i]}\t{ids[j]}\t{_fmt(g)}\t{int(bool(e))}\n"
        for i, j, g, e in zip(ia, ib, cost, exact, strict=True)
    )
    atomic_write(fs, path, lambda f: f.write(text.encode()))
    return len(ia), int(np.sum(exact))


def pairs(
    graphs: Any,
    out: str | os.PathLike[str],
    *,
    method: str = "editpath",
    pairs: Sequence[tuple[Any, Any]] | None = None,
    engine: str | E.Engine = "local",
    address: str | None = None,
    cpus: int | None = None,
    chunk: int | None = None,
    restarts: int | None = None,
    timeout: float = 10.0,
    label_attr: str | None = "auto",
    progress: bool | None = None,
    overwrite: bool = False,
) -> PairsResult:
    """GED of all pairs (or listed pairs) of a graph collection, chunked across an engine's workers.

    Args:
        graphs: a GraphSet or a graphs file/directory (read on the driver: collections of small graphs).
        out: the GED TSV to write; chunks go to ``OUT.parts/`` until the job is complete.
        method: ``"editpath"`` (upper bounds from edit-path search; exact=1 where the lower bound meets them)
            or ``"exact"`` (branch and bound, `timeout` seconds per pair, then the best upper bound).
        pairs: ``(id_a, id_b)`` pairs (default: all unordered pairs).
        engine, address, cpus: where the tasks run (see :class:`simlab.scale.Engine`).
        chunk: pairs per task (default 4096 for editpath, 128 for exact). Part of the plan: results do not
            depend on it, but a job resumes only with the same value.
        restarts: random restarts of the edit-path search (None: the library's default,
            ``simlab.graph.editpath.DEFAULT_RESTARTS``). timeout: seconds per pair of the exact search.
        label_attr: node label attribute (``"auto"``, a name, or None for structure only).
        progress: tqdm bar in pairs (None: on a terminal only).
        overwrite: replace a different job's chunks instead of refusing.

    Returns:
        :class:`PairsResult`; ``table()`` reads the GEDTable.
    """
    from simlab.graph.io import GraphSet

    eng = E.resolve(engine, address, cpus)
    if method not in METHODS:
        raise UnknownNameError("GED method", method, METHODS)
    if method == "exact" and (timeout is None or timeout <= 0):
        raise ConfigError(f"timeout must be > 0, got {timeout}")
    gs = GraphSet.coerce(graphs)
    plan, total, listed = _pairs_plan(gs, method, pairs, chunk, restarts, timeout, label_attr)
    outp, n_chunks = Path(out).absolute(), len(plan["chunks"])
    job = JobDir(str(outp) + ".parts", plan, overwrite)
    done = job.done
    if done and outp.is_file():
        return PairsResult(str(outp), done["pairs"], done["exact"], n_chunks, 0.0, eng.name)
    t0 = time.perf_counter()
    shared = {"graphs": gs, "out": job.path, "method": method, "chunks": plan["chunks"], "listed": listed}
    res = _run_pairs(eng, {**shared, "options": plan["options"]}, total, progress)
    _concat(job, n_chunks, outp)
    n_exact = sum(e for _, e in res)
    for c in range(n_chunks):
        job.fs.delete_file(job.shard(c, ".tsv"))
    job.finish({"pairs": total, "exact": n_exact})
    return PairsResult(str(outp), total, n_exact, n_chunks, time.perf_counter() - t0, eng.name)


def _pairs_plan(
    gs: Any,
    method: str,
    pairs: Sequence[tuple[Any, Any]] | None,
    chunk: int | None,
    restarts: int | None,
    timeout: float,
    label_attr: str | None,
) -> tuple[dict[str, Any], int, Any]:
    """The job's plan (saved in its job file), the number of pairs and the listed pair positions (or None)."""
    if pairs is None:
        total, listed = len(gs) * (len(gs) - 1) // 2, None
    else:
        ia = [gs.position(x) for x, _ in pairs]
        ib = [gs.position(y) for _, y in pairs]
        total, listed = len(ia), (ia, ib)
    step = chunk or CHUNK[method]
    if step < 1:
        raise ConfigError(f"chunk must be >= 1, got {step}")
    if restarts is None and method == "editpath":
        from simlab.graph.editpath import DEFAULT_RESTARTS

        restarts = DEFAULT_RESTARTS
    options: dict[str, Any] = (
        {"restarts": restarts, "label_attr": label_attr}
        if method == "editpath"
        else {"timeout": timeout, "label_attr": label_attr}
    )
    plan = {
        "job": "pairs",
        "graphs": _fingerprint(gs),
        "method": method,
        "options": options,
        "chunks": [(s, min(total, s + step)) for s in range(0, total, step)],
        "pairs": None if listed is None else _digest(listed),
    }
    return plan, total, listed


def _run_pairs(eng: E.Engine, shared: dict[str, Any], total: int, progress: bool | None) -> list[Any]:
    """Run one :func:`pairs_task` per chunk on `eng`; returns their ``(pairs, exact)``."""
    from tqdm.auto import tqdm

    with (
        E.session(eng) as ray,
        tqdm(
            total=total,
            desc=f"GED ({shared['method']})",
            unit="pair",
            disable={True: False, False: True}.get(progress),  # type: ignore[arg-type]
        ) as bar,
    ):
        return E.run_tasks(
            pairs_task,
            list(range(len(shared["chunks"]))),
            eng,
            ray,
            on_result=lambda r: bar.update(r[0]),
            shared=shared,
        )


def _concat(job: JobDir, n: int, out: Path) -> None:
    """Parts in order -> `out` with the GED header (written to a temporary name, then moved into place)."""
    from simlab.graph.ged import HEADER

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(("\t".join(HEADER) + "\n").encode())
        for c in range(n):
            with job.fs.open_input_stream(job.shard(c, ".tsv")) as part:
                f.write(part.read())
    os.replace(tmp, out)


def _fingerprint(gs: Any) -> str:
    """A digest of the collection (ids, node counts, edges) so that a resumed job is the same job."""
    import hashlib

    h = hashlib.sha256()
    for gid, g in zip(gs.ids, gs.graphs, strict=True):
        h.update(f"{gid}|{sorted(map(str, g.nodes(data=True)))}|{sorted(map(str, g.edges()))}|".encode())
    return h.hexdigest()


def _digest(listed: Any) -> str:
    import hashlib

    return hashlib.sha256(np.asarray(listed, np.int64).tobytes()).hexdigest()
