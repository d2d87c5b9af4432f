"""Graph similarity on LINUX (standard GED protocol): 200 test graphs query 800 training graphs.

Unlabelled program-dependence graphs (degree one-hot node features); the same learned models, edit-path search
(classical, no learning), hybrids and metrics as ``bench_graph.py``.

Usage: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_graph_linux.py``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_graph import (
    EDITPATH_TEXT,
    TARGETS_TEXT,
    THREADS,
    md_table,
    rerender,
    run_ged_benchmark,
    table_rows,
    target_rows,
)
from common import write_result


def build_markdown(res: dict[str, Any], seeds: list[int], total_s: float) -> str:
    """The LINUX section of BENCHMARKS.md from the runs."""
    return "\n\n".join(
        [
            "Standard protocol: each of the 200 test graphs queries all 800 training graphs; ground truth "
            "exp(-nGED) (exact GED); metrics as for AIDS700nef. Mean ± std over seeds "
            f"{', '.join(map(str, seeds))}; {THREADS} CPU thread. Configurations: "
            f"`{json.dumps(res['config'])}`.",
            EDITPATH_TEXT + " LINUX graphs are unlabelled: the edit path uses structure only.",
            md_table(table_rows("LINUX", res)),
            TARGETS_TEXT,
            md_table(target_rows("LINUX", res)),
            f"Total benchmark time {total_s:.0f} s.",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--rerender", action="store_true", help="rebuild the markdown from results/graph_linux.json"
    )
    args = ap.parse_args()
    if args.rerender:
        rerender("graph_linux", lambda res, data, seeds, total: build_markdown(res, seeds, total))
        return
    t0 = time.perf_counter()
    res = run_ged_benchmark("LINUX", args.seeds, args.quick)
    md = build_markdown(res, args.seeds, time.perf_counter() - t0)
    data = {
        "runs": res["runs"],
        "config": res["config"],
        "source": res["source"],
        "targets": target_rows("LINUX", res),
        "seeds": args.seeds,
        "total_s": time.perf_counter() - t0,
    }
    path = write_result(
        "graph_linux" if not args.quick else "graph_linux_quick",
        "Graphs: GED similarity on LINUX",
        md,
        data,
        THREADS,
        order=61,
    )
    if args.quick:
        path.unlink()
    print(md)


if __name__ == "__main__":
    main()
