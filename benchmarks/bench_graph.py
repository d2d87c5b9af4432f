"""Graph similarity on AIDS700nef (standard GED protocol) and speed vs networkx exact GED.

Every test graph (140) queries every training graph (560); ground truth exp(-nGED) from the benchmark's exact
GED (A*). Learned models: the GIN bi-encoder (vectors + Euclidean distance) and the SimGNN-style pair model,
each trained on the training pairs with 3 seeds (mean ± std), their 0.5 / 0.5 score blend, and re-ranking
(bi-encoder top-100 re-scored by the pair model alone or by the blend: p@10 / p@20 of the re-ranked lists).
Classical (no learning): the edit-path search of ``simlab.graph.editpath`` (real edit paths, so GED upper
bounds; Hungarian-assignment starts + swap descent + R random restarts) for R in 0/4/8/16/32, and the
bipartite GED (assignment only, no descent). Hybrids: learned scores refined by the edit-path bounds
(``simlab.graph.refine.refine_similarity``, blend 0.5), on all pairs and as a re-ranker of the bi-encoder
top-100. Speed: pairs/s on 1 CPU thread, batched, vs networkx's ``graph_edit_distance`` on a random sample of
the same test x training pairs.

Usage: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_graph.py [--seeds 0 1 2] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = pin_threads(1)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)

# Settings sized so each script stays under ~15 minutes on a shared, loaded 2-core machine (1 thread): these
# are short trainings (the dev rho is still rising at the last epoch); longer runs score higher (see
# docs/graph.md).
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "AIDS700nef": {
        "biencoder": {
            "conv": "gin",
            "layers": 5,
            "hidden": 64,
            "dim": 64,
            "jk": "cat",
            "pool": "sum",
            "epochs": 30,
            "pairs_per_epoch": 30000,
            "batch_size": 1024,
            "lr": 2e-3,
            "patience": 8,
        },
        "pair": {
            "conv": "gin",
            "layers": 3,
            "hidden": 64,
            "jk": "cat",
            "pool": "attention",
            "epochs": 20,
            "pairs_per_epoch": 20000,
            "batch_size": 512,
            "lr": 2e-3,
            "patience": 8,
        },
    },
    "LINUX": {
        "biencoder": {
            "conv": "gin",
            "layers": 5,
            "hidden": 64,
            "dim": 64,
            "jk": "cat",
            "pool": "sum",
            "epochs": 30,
            "pairs_per_epoch": 30000,
            "batch_size": 1024,
            "lr": 2e-3,
            "patience": 8,
        },
        "pair": {
            "conv": "gin",
            "layers": 3,
            "hidden": 64,
            "jk": "cat",
            "pool": "attention",
            "epochs": 20,
            "pairs_per_epoch": 20000,
            "batch_size": 512,
            "lr": 2e-3,
            "patience": 8,
        },
    },
}

TARGETS = {"AIDS700nef": {"mse_e3": 1.5, "rho": 0.90, "p@10": 0.70}, "LINUX": {"rho": 0.98, "p@10": 0.95}}
PUBLISHED = {
    "AIDS700nef": [
        {"method": "SimGNN (published)", "mse_e3": 1.189, "rho": 0.843, "p@10": 0.421},
        {"method": "SimGNN (independent re-runs)", "mse_e3": 2.4, "rho": 0.856, "p@10": 0.498},
        {"method": "GREED", "rho": 0.907},
        {"method": "GENN-A*", "rho": 0.940, "p@10": 0.721},
    ],
    "LINUX": [{"method": "ERIC", "rho": 0.994, "p@10": 0.987}],
}
EDITPATH_RESTARTS = (0, 4, 8, 16, 32)  # edit path alone, per seed (the random restarts use the seed)
SPEED_RESTARTS = (0, 4, 8, 32)  # edit path rows of the speed table
EDITPATH_TEXT = (
    "Edit path (`simlab.graph.editpath`, no learning): every node mapping between the two graphs is a real "
    "edit path, so its cost is an upper bound on the GED. The search starts from two Hungarian assignments "
    "of estimated node costs (label + degree, label + neighbour labels) plus R random mappings, improves "
    "each by steepest swap descent, and keeps the cheapest; `bipartite` is the assignments alone (no "
    "descent, no restarts: the bipartite GED of Riesen & Bunke 2009, best of the two cost matrices). "
    "exp(-cost / ((n1 + n2) / 2)) is the similarity; R = 0 has no random part, so its seeds agree. Hybrids "
    "combine it with the learned models: g = 0.5 * UB + 0.5 * clip(g_learned, LB, UB) "
    "(`simlab.graph.refine.refine_similarity`, UB/LB the edit-path upper and cheap lower bounds), on all "
    "pairs, or (`bi_top100_*`) on each query's bi-encoder top-100 only (rest ranked below; p@k only; the "
    "bounds of those pairs are taken from the full search, same pairs; `candidate_recall@10` in the JSON is "
    "the share of the true top-10 among the 100 candidates). `guided_*` is `EditPathScorer(model)`: the "
    "model's node embeddings also give one more starting assignment (label + degree + embedding distance), "
    "the learned part of the search. `search pairs/s`: wall time of the search within the run (guided: node "
    "embeddings included), all pairs, 1 thread."
)
LEARNED_KINDS = ("biencoder", "pair", "blend", "rerank", "rerank_blend")  # purely learned (no edit path)
CLASSICAL_KINDS = (
    "bipartite",
    *(f"editpath_r{r}" for r in EDITPATH_RESTARTS),
)  # edit path alone, no learning
LABELS = {
    "biencoder": "simlab GIN bi-encoder",
    "pair": "simlab SimGNN-style pair model",
    "blend": "simlab 0.5 bi-encoder + 0.5 pair (all pairs)",
    "rerank": "simlab bi-encoder top-100 → pair re-rank (blend 0)",
    "rerank_blend": "simlab bi-encoder top-100 → re-rank, blend 0.5 (default)",
    "bipartite": "bipartite GED (Hungarian assignment only, Riesen & Bunke 2009; classical, no learning)",
    **{
        f"editpath_r{r}": f"simlab edit path, {r} restarts (classical, no learning)"
        for r in EDITPATH_RESTARTS
    },
    "hybrid_bi_r4": "simlab bi-encoder refined by edit-path bounds (4 restarts, blend 0.5)",
    "hybrid_pair_r4": "simlab pair model refined by edit-path bounds (4 restarts, blend 0.5)",
    "hybrid_blend_r4": "simlab 0.5 bi + 0.5 pair refined by edit-path bounds (4 restarts, blend 0.5)",
    "hybrid_blend_r8": "simlab 0.5 bi + 0.5 pair refined by edit-path bounds (8 restarts, blend 0.5)",
    "bi_top100_editpath_r8": "simlab bi-encoder top-100 → re-rank by bi-encoder refined by edit-path bounds "
    "(8 restarts, blend 0.5)",
    "guided_pair_r0": "simlab pair model: learned start + edit path (0 restarts), blend 0.5",
    "guided_pair_r4_alone": "simlab pair model: learned start + edit path (4 restarts), blend 0 (bound only)",
    "guided_pair_r4": "simlab pair model: learned start + edit path (4 restarts), blend 0.5 "
    "(EditPathScorer default)",
    "guided_bi_r4": "simlab bi-encoder: learned start + edit path (4 restarts), blend 0.5",
    "guided_pair_r8": "simlab pair model: learned start + edit path (8 restarts), blend 0.5",
    "bi_top100_guided_r8": "simlab bi-encoder top-100 → EditPathScorer(bi-encoder, 8 restarts) re-rank",
}


def _mean_std(vals: list[float]) -> str:
    if len(vals) == 1:
        return f"{vals[0]:.4f}"
    return f"{statistics.mean(vals):.4f} ± {statistics.stdev(vals):.4f}"


def pipeline_precision(
    first: np.ndarray, second: np.ndarray, true: np.ndarray, candidates: int = 100
) -> dict[str, float]:
    """p@10 / p@20 when each query's top `candidates` by `first` are re-scored by `second` (rest: -inf)."""
    from simlab.graph.evaluate import query_metrics

    out: dict[str, list[float]] = {"p@10": [], "p@20": [], "candidate_recall@10": []}
    for q in range(len(first)):
        cand = np.argsort(-first[q], kind="stable")[:candidates]
        pred = np.full(first.shape[1], -np.inf)
        pred[cand] = second[q, cand]
        m = query_metrics(pred, true[q], ks=(10, 20))
        out["p@10"].append(m["p@10"])
        out["p@20"].append(m["p@20"])
        # share of the true top-10 (ties at the 10th included) that the first stage passes on: a ceiling
        top_true = np.flatnonzero(true[q] >= np.sort(true[q])[::-1][9])
        out["candidate_recall@10"].append(len(np.intersect1d(cand, top_true)) / len(top_true))
    return {k: float(np.mean(v)) for k, v in out.items()}


def rerank_precision(
    sb: np.ndarray, sp: np.ndarray, true: np.ndarray, blend: float, candidates: int = 100
) -> dict[str, float]:
    """p@10 / p@20 after re-scoring each query's bi-encoder top `candidates` with
    ``blend * bi + (1 - blend) * pair`` (what ``GraphBiEncoder.most_similar(rerank=...)`` returns)."""
    return pipeline_precision(sb, blend * sb + (1 - blend) * sp, true, candidates)


def timed_search(
    test: Any, train: Any, ia: np.ndarray, ib: np.ndarray, **kwargs: Any
) -> tuple[Any, dict[str, float]]:
    """One ``edit_path_search`` over the pairs and its wall time (``search_s``, ``pairs_per_s``)."""
    from simlab.graph.editpath import edit_path_search

    t0 = time.perf_counter()
    paths = edit_path_search(test, train, ia, ib, **kwargs)
    secs = time.perf_counter() - t0
    return paths, {"search_s": secs, "pairs_per_s": len(ia) / secs}


def run_ged_benchmark(name: str, seeds: list[int], quick: bool = False) -> dict[str, Any]:
    from simlab.graph.datasets import load_ged_benchmark
    from simlab.graph.evaluate import matrix_metrics
    from simlab.graph.models import GraphBiEncoder, GraphPairModel
    from simlab.graph.refine import refine_similarity

    source = source_digest()  # taken at import: the files may change on disk while the benchmark runs
    bench = load_ged_benchmark(name)
    test, train = bench.graphs.subset(bench.test_ids), bench.graphs.subset(bench.train_ids)
    n = bench.n_train
    true = bench.similarity()[n:, :n]
    table = bench.train_table()
    true_ged = bench.ged[n:, :n].astype(np.float64).ravel()
    shape = (len(test), len(train))
    qi, ci = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    ia, ib = qi.ravel(), ci.ravel()
    sq, sc = np.array(test.sizes(), np.float64), np.array(train.sizes(), np.float64)
    avg = (sq[ia] + sc[ib]) / 2  # the nGED normaliser of the ground truth

    def path_metrics(paths: Any, timing: dict[str, float]) -> dict[str, float]:
        met = matrix_metrics(np.exp(-paths.cost / avg).reshape(shape), true)
        # sanity: an edit path's cost is never below the exact GED; share of pairs where it reaches it
        met.update(
            timing,
            exact_share=float(np.mean(paths.cost == true_ged)),
            below_exact=int(np.sum(paths.cost < true_ged - 1e-9)),
            proven_share=float(np.mean(paths.proven_exact)),
        )
        return met

    runs: dict[str, list[dict[str, float]]] = {k: [] for k in LABELS}
    for seed in seeds:
        fitted = {}
        for kind, cls in (("biencoder", GraphBiEncoder), ("pair", GraphPairModel)):
            cfg = dict(CONFIGS[name][kind])
            if quick:
                cfg.update(epochs=2, pairs_per_epoch=5000)
            t0 = time.perf_counter()
            m = cls(progress=False, seed=seed, threads=THREADS, **cfg).fit(bench.graphs, table)
            fit_s = time.perf_counter() - t0
            scores = m.score_matrix(test, train)
            met = matrix_metrics(scores, true)
            met.update(fit_s=fit_s, epochs=len(m.history["epochs"]))
            runs[kind].append(met)
            fitted[kind] = m
            fitted[kind + "_scores"] = scores
            print(name, kind, seed, {k: round(v, 4) for k, v in met.items()}, flush=True)
        sb, sp = fitted["biencoder_scores"], fitted["pair_scores"]
        runs["blend"].append(matrix_metrics(0.5 * sb + 0.5 * sp, true))
        runs["rerank"].append(rerank_precision(sb, sp, true, blend=0.0))
        runs["rerank_blend"].append(rerank_precision(sb, sp, true, blend=0.5))
        # classical edit path (no learning): each search runs once per R and seed; the hybrids reuse its
        # bounds
        paths, timing = timed_search(test, train, ia, ib, restarts=0, descent=False, seed=seed)
        runs["bipartite"].append(path_metrics(paths, timing))
        found = {}
        for r in EDITPATH_RESTARTS:
            paths, timing = timed_search(test, train, ia, ib, restarts=r, descent=True, seed=seed)
            found[r] = paths
            runs[f"editpath_r{r}"].append(path_metrics(paths, timing))
        sbl = 0.5 * sb + 0.5 * sp

        def refined(r: int, learned: np.ndarray, found: dict[int, Any] = found) -> np.ndarray:
            return refine_similarity(found[r], avg, learned.ravel(), blend=0.5).reshape(shape)

        runs["hybrid_bi_r4"].append(matrix_metrics(refined(4, sb), true))
        runs["hybrid_pair_r4"].append(matrix_metrics(refined(4, sp), true))
        runs["hybrid_blend_r4"].append(matrix_metrics(refined(4, sbl), true))
        runs["hybrid_blend_r8"].append(matrix_metrics(refined(8, sbl), true))
        # the R=8 bounds of the top-100 pairs are taken from the full search above (same pairs, same result)
        runs["bi_top100_editpath_r8"].append(pipeline_precision(sb, refined(8, sb), true))
        # learned start (EditPathScorer(model), guided=True): the model's node embeddings add one assignment
        # start; timings include computing the embeddings
        for kind, model_kind, r, blend in (
            ("guided_pair_r0", "pair", 0, 0.5),
            ("guided_pair_r4_alone", "pair", 4, 0.0),
            ("guided_pair_r4", "pair", 4, 0.5),
            ("guided_bi_r4", "biencoder", 4, 0.5),
            ("guided_pair_r8", "pair", 8, 0.5),
            ("bi_top100_guided_r8", "biencoder", 8, 0.5),
        ):
            model = fitted[model_kind]
            t0 = time.perf_counter()
            vectors = (model.node_embeddings(test), model.node_embeddings(train))
            paths, timing = timed_search(test, train, ia, ib, restarts=r, seed=seed, node_vectors=vectors)
            timing = {
                "search_s": time.perf_counter() - t0,
                "pairs_per_s": len(ia) / (time.perf_counter() - t0),
            }
            learned = fitted[model_kind + "_scores"].ravel()
            scores = refine_similarity(paths, avg, learned, blend=blend).reshape(shape)
            if kind.startswith("bi_top100"):
                runs[kind].append(pipeline_precision(sb, scores, true))
            else:
                met = path_metrics(paths, timing) if blend == 0 else matrix_metrics(scores, true)
                met.update(timing, exact_share=float(np.mean(paths.cost == true_ged)))
                runs[kind].append(met)
        for kind in runs:
            if kind not in ("biencoder", "pair"):
                print(name, kind, seed, {k: round(v, 4) for k, v in runs[kind][-1].items()}, flush=True)
    return {"runs": runs, "models": fitted, "bench": bench, "config": CONFIGS[name], "source": source}


def source_digest() -> dict[str, str]:
    """sha1 (12 hex digits) of the edit-path sources as imported (``git hash-object`` differs: plain sha1)."""
    import hashlib

    import simlab.graph.editpath as ep
    import simlab.graph.refine as rf

    return {m.__name__: hashlib.sha1(Path(m.__file__).read_bytes()).hexdigest()[:12] for m in (ep, rf)}


def table_rows(name: str, res: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for kind, runs in res["runs"].items():
        row: dict[str, Any] = {"method": LABELS[kind] + f" ({len(runs)} seeds)", "kind": f"`{kind}`"}
        for key in ("mse_e3", "rho", "tau", "p@10", "p@20"):
            row[key] = _mean_std([r[key] for r in runs]) if key in runs[0] else "–"
        row["search pairs/s"] = (
            f"{statistics.mean(r['pairs_per_s'] for r in runs):,.0f}" if "pairs_per_s" in runs[0] else "–"
        )
        rows.append(row)
    for p in PUBLISHED[name]:
        rows.append(
            {
                "method": p["method"],
                "kind": "published",
                **{k: (f"{p[k]}" if k in p else "–") for k in ("mse_e3", "rho", "tau", "p@10", "p@20")},
                "search pairs/s": "–",
            }
        )
    return rows


def _best(
    runs: dict[str, list[dict[str, float]]], key: str, kinds: Any = None
) -> tuple[str | None, float | None]:
    """The kind with the best mean of `key` (lowest for MSE) among `kinds` (default: all)."""
    best_kind, best = None, None
    for kind, rs in runs.items():
        if (kinds is not None and kind not in kinds) or not rs or key not in rs[0]:
            continue
        v = statistics.mean(r[key] for r in rs)
        if best is None or (v < best if key == "mse_e3" else v > best):
            best_kind, best = kind, v
    return best_kind, best


def _met(key: str, v: float | None, goal: float) -> bool:
    return v is not None and (v <= goal if key == "mse_e3" else v >= goal)


def target_rows(name: str, res: dict[str, Any]) -> list[dict[str, Any]]:
    """Per target: the best purely learned model, the best learned + edit-path method and the best edit path
    alone (no learning); `met` is judged on the best of all, `met by a learned model alone` on the first."""
    rows = []
    hybrid = [k for k in res["runs"] if k not in LEARNED_KINDS and k not in CLASSICAL_KINDS]
    for key, goal in TARGETS[name].items():
        lk, lv = _best(res["runs"], key, LEARNED_KINDS)
        hk, hv = _best(res["runs"], key, hybrid)
        ck, cv = _best(res["runs"], key, CLASSICAL_KINDS)
        _, ov = _best(res["runs"], key)
        rows.append(
            {
                "metric": key,
                "target": ("<= " if key == "mse_e3" else ">= ") + str(goal),
                "learned model alone": f"{lv:.4f} ({lk})" if lv is not None else "–",
                "learned + edit path": f"{hv:.4f} ({hk})" if hv is not None else "–",
                "edit path alone (no learning)": f"{cv:.4f} ({ck})" if cv is not None else "–",
                "met": "yes" if _met(key, ov, goal) else "no",
                "met by a learned model alone": "yes" if _met(key, lv, goal) else "no",
            }
        )
    return rows


TARGETS_TEXT = (
    "Targets (best mean per group; `met`: by the best method of any group; last column: by a purely learned "
    "model, i.e. `biencoder`, `pair`, `blend`, `rerank`, `rerank_blend`):"
)


def speed(res: dict[str, Any], n_exact: int, timeout: float) -> list[dict[str, Any]]:
    import networkx as nx

    bench = res["bench"]
    bi, pair = res["models"]["biencoder"], res["models"]["pair"]
    test, train = bench.graphs.subset(bench.test_ids), bench.graphs.subset(bench.train_ids)
    n_pairs = len(test) * len(train)
    rows = []

    def timed(fn: Any) -> float:
        fn()  # warm-up
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    t_bi = timed(lambda: bi.score_matrix(test, train))
    t_pair = timed(lambda: pair.score_matrix(test, train))
    vecs = bi.encode(train)
    qv = bi.encode(test)
    t_vec = timed(
        lambda: np.exp(
            -np.sqrt(
                np.maximum((qv * qv).sum(1)[:, None] - 2 * qv @ vecs.T + (vecs * vecs).sum(1)[None, :], 0)
            )
        )
    )
    qi, ci = np.meshgrid(np.arange(len(test)), np.arange(len(train)), indexing="ij")
    ia, ib = qi.ravel(), ci.ravel()
    t_path = {}
    for r in SPEED_RESTARTS:
        timed_search(test, train, ia[:2000], ib[:2000], restarts=r, seed=0)  # warm-up on a small slice
        t_path[r] = timed_search(test, train, ia, ib, restarts=r, seed=0)[1]["search_s"]
    rng = np.random.default_rng(0)
    sample = [(int(rng.integers(len(test))), int(rng.integers(len(train)))) for _ in range(n_exact)]
    t0 = time.perf_counter()
    timed_out = 0
    for qi, ci in sample:
        t1 = time.perf_counter()
        nx.graph_edit_distance(
            test.graphs[qi],
            train.graphs[ci],
            node_match=lambda a, b: a.get("type") == b.get("type"),
            timeout=timeout,
        )
        timed_out += time.perf_counter() - t1 >= 0.98 * timeout
    t_exact = (time.perf_counter() - t0) / n_exact
    exact_rate = 1 / t_exact
    for label, secs, n in (
        ("bi-encoder: encode both sides + score (batched)", t_bi, n_pairs),
        ("bi-encoder: score cached vectors (index-style)", t_vec, n_pairs),
        ("pair model: node embeddings + interaction (batched)", t_pair, n_pairs),
    ):
        rate = n / secs
        rows.append(
            {"method": label, "pairs": n, "pairs_per_s": rate, "speedup_vs_networkx": rate / exact_rate}
        )
    for r in SPEED_RESTARTS:
        rate = n_pairs / t_path[r]
        rows.append(
            {
                "method": f"edit path, {r} restarts (assignment starts + swap descent; no learning)",
                "pairs": n_pairs,
                "pairs_per_s": rate,
                "speedup_vs_networkx": rate / exact_rate,
            }
        )
    rows.append(
        {
            "method": f"networkx graph_edit_distance (exact, {n_exact} random pairs, timeout {timeout:.0f} "
            f"s, {timed_out} timed out)",
            "pairs": n_exact,
            "pairs_per_s": exact_rate,
            "speedup_vs_networkx": 1.0,
        }
    )
    return rows


def build_markdown(res: dict[str, Any], sp: list[dict[str, Any]], seeds: list[int], total_s: float) -> str:
    """The AIDS700nef section of BENCHMARKS.md from the runs and the speed rows."""
    pair_rate = sp[2]["pairs_per_s"]
    bi_speedup, pair_speedup = sp[0]["speedup_vs_networkx"], sp[2]["speedup_vs_networkx"]
    path_rows = [r for r in sp if r["method"].startswith("edit path")]
    path_speedups = [r["speedup_vs_networkx"] for r in path_rows]
    path_text = ", ".join(
        f"{r['speedup_vs_networkx']:,.0f}x ({r['method'].split(',')[1].split('(')[0].strip()})"
        for r in path_rows
    )
    speed_targets = [
        {
            "metric": "pair model pairs/s (1 thread)",
            "target": ">= 10,000",
            "learned model alone": f"{pair_rate:,.0f} (pair)",
            "learned + edit path": "–",
            "edit path alone (no learning)": "–",
            "met": "yes" if pair_rate >= 10000 else "no",
            "met by a learned model alone": "yes" if pair_rate >= 10000 else "no",
        },
        {
            "metric": "speed-up vs networkx exact GED",
            "target": ">= 1,000x",
            "learned model alone": f"{bi_speedup:,.0f}x (bi-encoder), {pair_speedup:,.0f}x (pair)",
            "learned + edit path": "see `search pairs/s` above",
            "edit path alone (no learning)": path_text,
            "met": "yes" if min(bi_speedup, pair_speedup, *path_speedups) >= 1000 else "no",
            "met by a learned model alone": "yes" if min(bi_speedup, pair_speedup) >= 1000 else "no",
        },
    ]
    return "\n\n".join(
        [
            "Standard protocol: each of the 140 test graphs queries all 560 training graphs; ground truth "
            "exp(-nGED) from the benchmark's exact GED; MSE x 10^-3 over all pairs; Spearman rho, Kendall "
            "tau, p@10, p@20 per query, averaged (true top-k includes ties at the k-th value). Mean ± std "
            f"over seeds {', '.join(map(str, seeds))}. Configurations: `{json.dumps(res['config'])}`.",
            EDITPATH_TEXT,
            md_table(table_rows("AIDS700nef", res)),
            TARGETS_TEXT,
            md_table(target_rows("AIDS700nef", res) + speed_targets),
            f"Speed on AIDS700nef test x train pairs, {THREADS} CPU thread (models of the last seed; each "
            "edit path timed once on all pairs after a warm-up on 2,000 pairs, seed 0):",
            md_table(sp),
            f"Total benchmark time {total_s:.0f} s.",
        ]
    )


def rerender(name: str, build: Any) -> None:
    """Rebuild a result's markdown from its stored numbers (after a change to the tables' layout only)."""
    from common import RESULTS

    path = RESULTS / f"{name}.json"
    payload = json.loads(path.read_text())
    data = payload["data"]
    total = data.get("total_s")
    if total is None:  # results written before total_s was stored: take it from the old text
        import re

        total = float(re.search(r"Total benchmark time (\d+) s", payload["markdown"]).group(1))
    payload["markdown"] = build(
        {"runs": data["runs"], "config": data["config"]}, data, data.get("seeds", [0, 1, 2]), total
    )
    path.write_text(json.dumps(payload, indent=2, default=str))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--quick", action="store_true", help="tiny settings (smoke test of the script)")
    ap.add_argument(
        "--rerender", action="store_true", help="rebuild the markdown from results/graph.json only"
    )
    ap.add_argument("--exact-pairs", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=15.0)
    args = ap.parse_args()
    if args.rerender:
        rerender("graph", lambda res, data, seeds, total: build_markdown(res, data["speed"], seeds, total))
        return
    t0 = time.perf_counter()
    res = run_ged_benchmark("AIDS700nef", args.seeds, args.quick)
    sp = speed(res, 2 if args.quick else args.exact_pairs, 2.0 if args.quick else args.timeout)
    md = build_markdown(res, sp, args.seeds, time.perf_counter() - t0)
    data = {
        "runs": res["runs"],
        "config": res["config"],
        "source": res["source"],
        "speed": sp,
        "targets": target_rows("AIDS700nef", res),
        "seeds": args.seeds,
        "total_s": time.perf_counter() - t0,
    }
    name = "graph" if not args.quick else "graph_quick"
    path = write_result(
        name, "Graphs: GED similarity on AIDS700nef and speed vs exact GED", md, data, THREADS, order=60
    )
    if args.quick:
        path.unlink()
    print(md)


if __name__ == "__main__":
    main()
