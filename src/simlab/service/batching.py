"""Micro-batching of concurrent searches, pipelined with the event loop.

Queries that arrive while no search runs are searched as one batch at the end of the event loop's turn;
while a batch of several queries is searched (on one search thread: FAISS and numpy release the GIL there),
the loop keeps reading, parsing and answering requests, and the queries that arrive meanwhile form the next
batch. A lone query is searched on the loop (a thread hop would only add latency). So the index sees
one call per batch (one GEMM instead of one GEMV per query for the exact index; one FAISS call for HNSW), the
batch grows with the load, and HTTP work overlaps the search on a second core.

Results are the same as searching each query alone: queries are grouped by ``(collection, k, filter)`` and
every query keeps its own excluded id.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np


def limits_here() -> dict[str, int]:
    """The calling thread's thread counts per threadpool API (``{"openmp": 1, "blas": 1}``)."""
    from threadpoolctl import threadpool_info

    out: dict[str, int] = {}
    for lib in threadpool_info():
        out[lib["user_api"]] = min(out.get(lib["user_api"], lib["num_threads"]), lib["num_threads"])
    return out


def apply_limits(limits: dict[str, int]) -> None:
    """Give the search thread the server's thread counts. OpenMP's count is per thread, and FAISS may not be
    loaded yet when the thread starts: it gets the OpenMP count, else the BLAS one (``--threads``)."""
    from threadpoolctl import threadpool_limits

    if limits:
        threadpool_limits(limits=limits)
    n = limits.get("openmp", limits.get("blas"))
    if n:
        try:
            import faiss
        except ImportError:  # no FAISS: no OpenMP threads of its own to bound
            return
        faiss.omp_set_num_threads(int(n))


class SearchBatcher:
    """Collects ``(collection, vectors, k, filter, exclude)`` requests and runs them together, one batch at a
    time on one search thread."""

    def __init__(self) -> None:
        self._pending: list[tuple[Any, np.ndarray, int, Any, list[Any], asyncio.Future]] = []
        self._running = False
        self._task: asyncio.Task | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def search(
        self, coll: Any, q: np.ndarray, k: int, flt: dict[str, Any] | None, exclude: list[Any]
    ) -> list[list[dict[str, Any]]]:
        """The hits of the rows of `q` (as :meth:`Collection.search`), searched with the requests that
        arrive with it."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._pending.append((coll, q, k, flt, exclude, fut))
        if not self._running:
            self._running = True
            self._task = loop.create_task(self._drain())  # runs after this turn's other requests have queued
        return await fut

    def close(self) -> None:
        """Stop the search thread (pending searches finish first)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                1, thread_name_prefix="simlab-search", initializer=apply_limits, initargs=(limits_here(),)
            )
        try:
            while self._pending:
                pending, self._pending = self._pending, []
                groups: dict[tuple[int, int, str], list[tuple[Any, ...]]] = {}
                for req in pending:
                    coll, _q, k, flt, _ex, _fut = req
                    key = "" if flt is None else json.dumps(flt, sort_keys=True)
                    groups.setdefault((id(coll), k, key), []).append(req)
                for reqs in groups.values():
                    await self._run(loop, reqs)
        finally:
            self._running = False

    async def _run(self, loop: asyncio.AbstractEventLoop, reqs: list[tuple[Any, ...]]) -> None:
        coll, _, k, flt = reqs[0][:4]
        q = reqs[0][1] if len(reqs) == 1 else np.concatenate([r[1] for r in reqs])
        exclude = [e for r in reqs for e in r[4]]
        try:
            if len(q) == 1:  # nothing to overlap with: the thread hop would only add latency
                hits = coll.search(q, k, flt, exclude)
            else:
                hits = await loop.run_in_executor(self._pool, coll.search, q, k, flt, exclude)
        except Exception as exc:  # each request gets the error (they share one cause)
            for r in reqs:
                if not r[5].done():
                    r[5].set_exception(exc)
            return
        start = 0
        for r in reqs:
            n = len(r[1])
            if not r[5].done():
                r[5].set_result(hits[start : start + n])
            start += n
