"""Sequence speed: torch threads (1 vs 2, idle and under a concurrent CPU load), training time of the default
recipe vs series length (100, 500, 2,000, 8,000) and vs number of series, beside DTW's query cost at the same
sizes, and long series with vs without the length-shortening front end (``downsample="auto"``).

Run: ``python benchmarks/bench_sequence_speed.py`` (about 15 minutes on a busy 2-core machine, 1 thread
unless measuring threads). Data: generated shifted-motif series (:mod:`simlab.sequence.synthetic`).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = pin_threads(1)

import numpy as np  # noqa: E402

from simlab.sequence import classical as K  # noqa: E402
from simlab.sequence.model import SiameseModel  # noqa: E402
from simlab.sequence.synthetic import make_motifs  # noqa: E402

SMOKE = bool(os.environ.get("SIMLAB_BENCH_SMOKE"))
LENGTHS = (100, 500, 2000, 8000)
COUNTS = (50, 200, 800)


def _burn(stop: Any) -> None:  # a concurrent CPU load: two busy threads of BLAS work
    os.environ["OMP_NUM_THREADS"] = "2"
    a = np.random.default_rng(0).normal(size=(400, 400))
    while not stop.is_set():
        a = np.tanh(a @ a.T / 400)


def fit_seconds(train: Any, **cfg: Any) -> tuple[float, SiameseModel]:
    t0 = time.perf_counter()
    m = SiameseModel({"progress": False, "device": "cpu", **cfg}).fit(train)
    return time.perf_counter() - t0, m


def threads_rows() -> list[dict[str, Any]]:
    train, _ = make_motifs("shifted", n_train=60, n_test=10, length=150, seed=1)
    cfg = dict(epochs=1 if SMOKE else 2, pairs_per_epoch=512, fallback="off", keep_collection=False)
    rows = []
    for load in (False, True):
        stop, procs = mp.Event(), []
        if load:
            procs = [mp.Process(target=_burn, args=(stop,)) for _ in range(2)]
            for p in procs:
                p.start()
            time.sleep(1)
        try:
            secs = {n: fit_seconds(train, threads=n, **cfg)[0] for n in (1, 2)}
        finally:
            stop.set()
            for p in procs:
                p.join()
        rows.append(
            {
                "concurrent load": "2 busy processes" if load else "none (machine as is)",
                "1 thread s": round(secs[1], 2),
                "2 threads s": round(secs[2], 2),
                "2 / 1": round(secs[2] / secs[1], 2),
            }
        )
    return rows


def dtw_query_seconds(train: Any, test: Any, kind: str, q: int, corpus: int = 20) -> float:
    """Seconds per query against the whole training set, measured against `corpus` series and scaled (DTW's
    cost is linear in the corpus size)."""
    c = train.series[:corpus]
    t0 = time.perf_counter()
    K.distances(test.series[:q], c, kind)
    return (time.perf_counter() - t0) / q * len(train) / len(c)


def model_query_seconds(m: SiameseModel, train: Any, test: Any, q: int) -> float:
    sel, m.selection = m.selection, None  # the learned similarity alone: embed + exact 1-NN
    try:
        t0 = time.perf_counter()
        m.knn_predict(train, test.series[:q])
        return (time.perf_counter() - t0) / q
    finally:
        m.selection = sel


def length_rows() -> list[dict[str, Any]]:
    rows = []
    for length in LENGTHS[:2] if SMOKE else LENGTHS:
        train, test = make_motifs("shifted", n_train=100, n_test=60, length=length, seed=2)
        extra = dict(epochs=1, pairs_per_epoch=64) if SMOKE else {}
        secs, m = fit_seconds(train, **extra)
        q = 1 if length >= 2000 else 5
        acc = float(np.mean(m.knn_predict(train, test) == test.labels))
        rows.append(
            {
                "length": length,
                "train series": 100,
                "downsample (auto)": m.downsample,
                "default fit s": round(secs, 1),
                "similarity": m.selection.name if m.selection else "learned",
                "accuracy": round(acc, 3),
                "query s (model, embed + 1-NN)": f"{model_query_seconds(m, train, test, 20):.2e}",
                "query s (DTW 10%)": f"{dtw_query_seconds(train, test, 'dtw10', q):.2e}",
                "query s (DTW full)": f"{dtw_query_seconds(train, test, 'dtw', q):.2e}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def count_rows() -> list[dict[str, Any]]:
    rows = []
    for n in COUNTS[:1] if SMOKE else COUNTS:
        train, test = make_motifs("shifted", n_train=n, n_test=40, length=150, seed=3)
        extra = dict(epochs=1, pairs_per_epoch=64) if SMOKE else {}
        secs, m = fit_seconds(train, **extra)
        rows.append(
            {
                "train series": n,
                "length": 150,
                "default fit s": round(secs, 1),
                "epochs": len(m.history["epochs"]),
                "query s (model)": f"{model_query_seconds(m, train, test, 40):.2e}",
                "query s (DTW full)": f"{dtw_query_seconds(train, test, 'dtw', 5):.2e}",
            }
        )
        print(rows[-1], flush=True)
    return rows


def shortening_rows() -> list[dict[str, Any]]:
    """2,000-step series, 100 training series: the auto front end vs none, same (short) training budget."""
    train, test = make_motifs("shifted", n_train=100, n_test=100, length=2000, seed=4)
    rows = []
    budget = dict(epochs=1 if SMOKE else 4, pairs_per_epoch=64 if SMOKE else 256, fallback="off")
    for ds in ("auto", 1):
        secs, m = fit_seconds(train, downsample=ds, **budget)
        acc = float(np.mean(m.knn_predict(train, test) == test.labels))
        rows.append(
            {
                "front end": f"downsample={ds} ({m.downsample} steps per window)",
                "fit s": round(secs, 1),
                "learned 1-NN accuracy": round(acc, 3),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    load0 = os.getloadavg()[0]
    th = threads_rows()
    print(th, flush=True)
    short = shortening_rows()
    lens = length_rows()
    counts = count_rows()
    load1 = os.getloadavg()[0]
    md = [
        f"Shared 2-core machine, load average {load0:.1f} at the start and {load1:.1f} at the end (other "
        "jobs running), so absolute seconds are noisy; compare within a table. Generated shifted-motif "
        "series.",
        "",
        "**Threads** (2 epochs x 512 training items of the default recipe, bidirectional GRU 64, 60 series "
        "of 150 steps; the same run with torch at 1 and 2 intra-op threads, then again beside two busy "
        "processes):",
        "",
        md_table(th),
        "",
        "Rule: sequence models train and encode on 1 torch thread on CPU unless `threads=` says otherwise "
        "(`simlab.train.torch_threads`, restored after each call).",
        "",
        "**Length shortening** (2,000 steps, 100 training series, same short budget of 4 epochs x 256 "
        "training items, learned similarity only):",
        "",
        md_table(short),
        "",
        "**Training time of the default vs series length** (100 training series; fit includes the fallback's "
        "validation, DTW included) and query cost per test series (DTW: measured against 20 training "
        "series and scaled to 100, its cost being linear in the corpus):",
        "",
        md_table(lens),
        "",
        "**vs number of training series** (150 steps):",
        "",
        md_table(counts),
    ]
    write_result(
        "sequence_speed",
        "Sequences: threads, long series and training time",
        "\n".join(md),
        {
            "threads": th,
            "shortening": short,
            "lengths": lens,
            "counts": counts,
            "load_average": [load0, load1],
        },
        THREADS,
        order=42,
    )
    print("\n".join(md))


if __name__ == "__main__":
    main()
