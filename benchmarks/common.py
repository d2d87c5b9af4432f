"""Shared helpers for benchmarks: thread pinning, machine description, medians, result files.

Each ``bench_<name>.py`` calls :func:`pin_threads` first, measures simlab and its peer in the same run, and
ends with :func:`write_result`, which stores ``results/<name>.json`` (numbers + a markdown section).
``run_all.py`` renders every result into ``BENCHMARKS.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pin_threads(n: int = 1) -> int:
    """Pin BLAS/OpenMP (env, before numpy loads them) and torch/faiss threads to `n`."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return n


def machine(threads: int) -> str:
    """One line naming the machine and thread settings."""
    from simlab.demo.report import cpu_model

    cpu = cpu_model()
    return (
        f"{cpu}, {os.cpu_count()} cores visible, {threads} thread(s) pinned, "
        f"Python {platform.python_version()}"
    )


def median_time(fn: Callable[[], Any], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn` in seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def md_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of rows (dicts with the same keys)."""
    if not rows:
        return ""
    cols = list(rows[0])

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def write_result(
    name: str, title: str, markdown: str, data: dict[str, Any], threads: int, order: int = 50
) -> Path:
    """Store one benchmark's result for ``BENCHMARKS.md``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "name": name,
        "title": title,
        "order": order,
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine(threads),
        "markdown": markdown,
        "data": data,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path
