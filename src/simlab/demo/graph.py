"""Demo section: graph similarity learned from exact graph edit distance.

Small random labelled graphs are generated in code (a few "families", each a prototype plus random
edits, :func:`simlab.graph.datasets.make_graphs`), exact GED is computed for every pair, a GIN bi-encoder
(and, in the full run, a SimGNN-style pair model) is trained on the training graphs' pairs and evaluated on
test-graph queries; the table shows Spearman's rho, p@10 and the speed-up of the learned models over exact
GED.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simlab.demo import DemoContext, Section
from simlab.graph.datasets import make_graphs
from simlab.model import thread_limit

if TYPE_CHECKING:
    from simlab.graph.ged import GEDTable
    from simlab.graph.io import GraphSet
    from simlab.graph.models import GraphNetModel
    from simlab.graph.refine import EditPathScorer

__all__ = ["TITLE", "make_graphs", "run"]  # make_graphs lives in simlab.graph.datasets; kept importable here

TITLE = "Graphs: learning graph edit distance"
BIENCODER = "GIN bi-encoder"
Row = dict[str, object]


@dataclass
class _Split:
    """Test graphs query training graphs; models train on the training graphs' pairs."""

    train: GraphSet
    test: GraphSet
    rows: list[tuple[Hashable, Hashable, float]]  # training pairs (id_a, id_b, GED)
    true: np.ndarray  # (test, train) exp(-nGED)


def run(ctx: DemoContext) -> Section:
    """The section, with torch and BLAS limited to ``ctx.threads`` threads for its duration."""
    with thread_limit(max(1, ctx.threads)):
        return _run(ctx)


def _run(ctx: DemoContext) -> Section:
    quick = ctx.quick
    gs, fams = make_graphs(3 if quick else 6, 4 if quick else 6, (4, 5) if quick else (4, 6), ctx.seed)
    out = ctx.out / "graph"
    out.mkdir(parents=True, exist_ok=True)
    workers = 1 if quick else ctx.threads
    table, ged_secs = _exact_ged(gs, out / "ged.tsv", workers)
    ged_rate = len(table) / ged_secs / workers  # pairs/s per process
    split = _split(gs, table, ctx.seed)
    many = _copies(gs, 8)  # (8n)^2 pairs: enough to time batching
    fitted, fit_s = _fit_models(split, ctx)
    rows = [_learned_row(n, m, split, gs, many, ged_rate, fit_s[n]) for n, m in fitted.items()]
    rows += _editpath_rows(split, gs, many, fitted[BIENCODER], ged_rate)
    rows.append(_row("exact GED (networkx)", {"rho": 1.0, "p@10": 1.0, "mse_e3": 0.0}, ged_rate, 1.0))
    bi = fitted[BIENCODER]
    bi.save(out / "biencoder")
    text = (
        f"{len(gs)} random labelled graphs ({len(set(fams))} families of edited prototypes, "
        f"{min(gs.sizes())}-{max(gs.sizes())} nodes); exact GED for {len(table)} pairs took {ged_secs:.1f} s "
        f"on {workers} process(es). Models trained on {len(split.rows)} training pairs; every test graph "
        f"({len(split.test)}) queries every training graph ({len(split.train)}). Ground truth exp(-nGED). "
        "pairs_per_s: all pairs of 8 copies of the collection scored in batches "
        f"({ctx.threads} torch threads), encoding included (edit-path rows: 2 x 8 copies); exact GED pairs/s "
        "is per process. The edit-path search (no learning) returns real edit paths, so its GED is an upper "
        "bound; the refined row blends the bi-encoder's estimate into the bounds (see docs/graph.md)."
    )
    return Section(TITLE, rows, text, _figures(bi, gs, fams, fitted))


def _exact_ged(gs: GraphSet, path: Path, workers: int) -> tuple[GEDTable, float]:
    """Exact GED of every pair (written to `path`, replacing an old file) and the seconds it took."""
    from simlab.graph.ged import compute_ged

    if path.exists():
        path.unlink()
    t0 = time.perf_counter()
    table = compute_ged(gs, path, timeout=2.0, workers=workers, progress=False)
    return table, time.perf_counter() - t0


def _split(gs: GraphSet, table: GEDTable, seed: int) -> _Split:
    """A quarter of the graphs (at least 3) as test queries; the GED of every training pair."""
    from simlab.graph.ged import ged_similarity

    n = len(gs)
    gmat = np.zeros((n, n))
    for a, b, g in zip(table.a, table.b, table.ged, strict=True):
        i, j = gs.position(a), gs.position(b)
        gmat[i, j] = gmat[j, i] = g
    rng = np.random.default_rng(seed)
    test_idx = np.sort(rng.choice(n, max(3, n // 4), replace=False))
    train_idx = np.setdiff1d(np.arange(n), test_idx)
    rows = [(gs.ids[i], gs.ids[j], gmat[i, j]) for a, i in enumerate(train_idx) for j in train_idx[a + 1 :]]
    sizes = np.array(gs.sizes(), float)
    true = ged_similarity(
        gmat[np.ix_(test_idx, train_idx)], sizes[test_idx][:, None], sizes[train_idx][None, :]
    )
    train = gs.subset([gs.ids[i] for i in train_idx])
    return _Split(train, gs.subset([gs.ids[i] for i in test_idx]), rows, true)


def _copies(gs: GraphSet, times: int) -> GraphSet:
    from simlab.graph.io import GraphSet

    return GraphSet(gs.graphs * times, list(range(times * len(gs))))


def _fit_models(split: _Split, ctx: DemoContext) -> tuple[dict[str, GraphNetModel], dict[str, float]]:
    """The bi-encoder (and, in the full run, the pair model) trained on the training pairs, and the seconds
    each fit took."""
    from simlab.graph.models import GraphBiEncoder, GraphPairModel

    common: dict[str, object] = {
        "epochs": 3 if ctx.quick else 40,
        "batch_size": 64,
        "pairs_per_epoch": 0,
        "progress": False,
        "lr": 3e-3,
        "seed": ctx.seed,
        "dev_share": 0.0,
        "hidden": 32,
        "threads": max(1, ctx.threads),
    }
    models: dict[str, GraphNetModel] = {BIENCODER: GraphBiEncoder(conv="gin", **common)}
    if not ctx.quick:
        models["SimGNN-style pair model"] = GraphPairModel(conv="gin", **common)
    seconds = {}
    for name, model in models.items():
        t1 = time.perf_counter()
        model.fit(split.train, split.rows)
        seconds[name] = time.perf_counter() - t1
    return models, seconds


def _learned_row(
    name: str,
    model: GraphNetModel,
    split: _Split,
    gs: GraphSet,
    many: GraphSet,
    ged_rate: float,
    fit_s: float,
) -> Row:
    from simlab.graph.evaluate import matrix_metrics

    pred = model.score_matrix(split.test, split.train)
    model.score_matrix(gs, gs)  # warm-up
    t1 = time.perf_counter()
    n_scored = model.score_matrix(many, many).size
    rate = n_scored / max(time.perf_counter() - t1, 1e-9)
    return _row(name, matrix_metrics(pred, split.true, ks=(10,)), rate, rate / ged_rate, fit_s)


def _editpath_rows(
    split: _Split, gs: GraphSet, many: GraphSet, bi: GraphNetModel, ged_rate: float
) -> list[Row]:
    """The edit-path search alone and refining the bi-encoder, timed on (2n) x (8n) pairs."""
    from simlab.graph.evaluate import matrix_metrics
    from simlab.graph.refine import EditPathScorer

    two = _copies(gs, 2)
    scorers: dict[str, EditPathScorer] = {
        "edit-path search (4 restarts, no learning)": EditPathScorer(restarts=4, blend=0.0),
        "bi-encoder refined by edit-path bounds": EditPathScorer(bi, restarts=4, blend=0.5),
    }
    rows = []
    for name, scorer in scorers.items():
        pred = scorer.score_matrix(split.test, split.train)
        t1 = time.perf_counter()
        n_scored = scorer.score_matrix(two, many).size
        rate = n_scored / max(time.perf_counter() - t1, 1e-9)
        rows.append(_row(name, matrix_metrics(pred, split.true, ks=(10,)), rate, rate / ged_rate))
    return rows


def _row(name: str, metrics: dict[str, float], rate: float, speedup: float, fit_s: object = None) -> Row:
    return {
        "model": name,
        "rho": metrics["rho"],
        "p@10": metrics["p@10"],
        "mse_e3": metrics["mse_e3"],
        "pairs_per_s": rate,
        "speedup_vs_exact_ged": speedup,
        "fit_s": fit_s,
    }


def _figures(
    bi: GraphNetModel, gs: GraphSet, fams: list[int], fitted: dict[str, GraphNetModel]
) -> list[tuple[str, bytes]]:
    """Graph vectors (PCA) by family and the training curves (none without matplotlib)."""
    figures: list[tuple[str, bytes]] = []
    try:
        from simlab.demo.report import pca_2d, scatter_2d, training_curve

        pts, xl, yl = pca_2d(bi.encode(gs))
        figures.append(
            (
                "Graph vectors of the bi-encoder (PCA), coloured by family",
                scatter_2d(pts, [f"family {f}" for f in fams], "graph vectors (PCA)", xlabel=xl, ylabel=yl),
            )
        )
        for name, model in fitted.items():
            curve = training_curve(model.history, f"{name}: training")
            if curve is not None:
                figures.append((f"Training curve of the {name} (loss per epoch)", curve))
    except Exception:  # pragma: no cover - matplotlib missing
        pass
    return figures
