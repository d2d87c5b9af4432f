"""GED evaluation with the standard protocol of the SimGNN benchmarks.

Every test graph queries every training graph (``ged:AIDS700nef``, ``ged:LINUX``), or every ``id_a`` of a GED
file queries its ``id_b`` rows (``ged:path/GED.tsv`` with ``graphs=``). Ground truth is ``exp(-nGED)``.

Metrics:

* ``mse_e3`` — mean squared error of the predicted vs true exp(-nGED) over all pairs, x 10^-3;
* ``rho`` / ``tau`` — Spearman's rho / Kendall's tau-b between predicted and true similarities **per query**,
  averaged over queries (ties get average ranks; a query where either side is constant counts as 0);
* ``p@10`` / ``p@20`` — per query, ``|predicted top-k ∩ true top-k| / k`` averaged over queries. The predicted
  top-k is exactly k graphs (ties broken by corpus order); the true top-k includes every graph tied with the
  k-th best (the convention of SimGNN's evaluation code), so ties in the ground truth are not penalised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.evaluate import Report


def query_metrics(pred: np.ndarray, true: np.ndarray, ks: tuple[int, ...] = (10, 20)) -> dict[str, float]:
    """rho, tau and p@k of one query's candidate scores (1-D arrays of the same length)."""
    from scipy.stats import kendalltau, spearmanr

    out: dict[str, float] = {}
    if len(pred) < 2 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        out["rho"] = out["tau"] = 0.0
    else:
        out["rho"] = float(spearmanr(pred, true).statistic)
        out["tau"] = float(kendalltau(pred, true).statistic)
    for k in ks:
        kk = min(k, len(pred))
        top_pred = np.lexsort((np.arange(len(pred)), -pred))[:kk]
        kth = np.sort(true)[::-1][kk - 1]
        top_true = np.flatnonzero(true >= kth)
        out[f"p@{k}"] = len(np.intersect1d(top_pred, top_true)) / kk
    return out


def grouped_metrics(
    query: np.ndarray, pred: np.ndarray, true: np.ndarray, ks: tuple[int, ...] = (10, 20)
) -> dict[str, float]:
    """Metrics of pairs grouped by query id: per-query rho/tau/p@k averaged, MSE over all pairs."""
    query, pred, true = np.asarray(query), np.asarray(pred, np.float64), np.asarray(true, np.float64)
    order = np.argsort(query, kind="stable")
    q, p, t = query[order], pred[order], true[order]
    cuts = np.flatnonzero(q[1:] != q[:-1]) + 1
    per = [query_metrics(pp, tt, ks) for pp, tt in zip(np.split(p, cuts), np.split(t, cuts), strict=True)]
    out = {"mse_e3": float(np.mean((pred - true) ** 2) * 1e3)}
    for key in per[0]:
        out[key] = float(np.mean([m[key] for m in per]))
    return out


def matrix_metrics(pred: np.ndarray, true: np.ndarray, ks: tuple[int, ...] = (10, 20)) -> dict[str, float]:
    """Metrics of a full ``(queries, corpus)`` score matrix against the true one."""
    per = [query_metrics(p, t, ks) for p, t in zip(pred, true, strict=True)]
    out = {"mse_e3": float(np.mean((pred - true) ** 2) * 1e3)}
    for key in per[0]:
        out[key] = float(np.mean([m[key] for m in per]))
    return out


def evaluate_ged(model: Any, target: str, graphs: Any = None, **options: Any) -> Report:
    """Evaluator ``ged``: ``ged:AIDS700nef``, ``ged:LINUX`` or ``ged:GED.tsv`` (with ``graphs=``).

    Args:
        model: a graph pair scorer (it declares ``scores_pairs`` and ``SCORES_GRAPHS``: the graph models,
            :class:`~simlab.graph.refine.EditPathScorer`); anything else raises ConfigError.
        target: benchmark name or GED TSV path.
        graphs: graphs file / GraphSet for a GED TSV (default: the model's collection).

    Returns:
        A :class:`Report` with primary metric ``rho``.
    """
    from simlab.graph.io import GraphSet
    from simlab.model import can

    if not (can(model, "scores_pairs") and getattr(type(model), "SCORES_GRAPHS", False)):
        raise ConfigError(
            f"a {type(model).__name__} cannot be evaluated on GED (it does not score graph pairs)"
        )
    if target.lower() in ("aids700nef", "linux"):
        from simlab.graph.datasets import load_ged_benchmark

        bench = load_ged_benchmark(target)
        test = bench.graphs.subset(bench.test_ids)
        train = bench.graphs.subset(bench.train_ids)
        pred = model.score_matrix(test, train)
        n = bench.n_train
        true = bench.similarity()[n:, :n]
        metrics = matrix_metrics(pred, true)
        return Report(
            f"ged:{bench.name}",
            "rho",
            metrics,
            {"queries": len(test), "corpus": len(train), "pairs": int(pred.size)},
        )
    path = Path(target)
    if graphs is None:
        graphs = model.collection
        if graphs is None:
            raise ConfigError("ged:FILE needs graphs= (the graphs file the GED ids refer to)")
    from simlab.graph.ged import GEDTable

    gs = GraphSet.coerce(graphs)
    table = GEDTable.read(path, gs)
    true = table.similarity(gs)
    pred = model.score_id_pairs(gs, table.a, table.b)
    q = np.array([gs.position(x) for x in table.a])
    metrics = grouped_metrics(q, pred, true)
    return Report(
        f"ged:{path.name}",
        "rho",
        metrics,
        {"queries": len(np.unique(q)), "pairs": len(table), "upper_bounds": int((~table.exact).sum())},
    )
