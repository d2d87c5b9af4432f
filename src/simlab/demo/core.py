"""Demo section "core": exact vs approximate nearest-neighbour search and PCA on clustered vectors."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from simlab.demo import DemoContext, Section

TITLE = "Vector search: exact, HNSW and IVF-PQ indexes"


def clustered_vectors(
    n: int, dim: int, n_clusters: int, seed: int, spread: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Clustered float32 vectors with a decaying spectrum and their cluster labels."""
    r = np.random.default_rng(seed)
    scales = (1.0 / np.sqrt(np.arange(1, dim + 1))).astype(np.float32)
    centers = r.normal(size=(n_clusters, dim)).astype(np.float32) * scales
    labels = r.integers(0, n_clusters, n)
    x = centers[labels] + spread * r.normal(size=(n, dim)).astype(np.float32) * scales
    return x.astype(np.float32), labels


def _qps(idx: Any, queries: np.ndarray, k: int) -> float:
    idx.search(queries[:10], k)  # warm-up
    t0 = time.perf_counter()
    idx.search(queries, k)
    return len(queries) / max(time.perf_counter() - t0, 1e-9)


def run(ctx: DemoContext) -> Section:
    """Build the indexes, measure recall@10 against exact search, QPS and bytes per vector; plot PCA."""
    from simlab.index import Index, recall_at_k

    n, dim, nq = (3000, 32, 100) if ctx.quick else (40000, 64, 500)
    x, labels = clustered_vectors(n, dim, 12, ctx.seed)
    q, _ = clustered_vectors(nq, dim, 12, ctx.seed)  # same centres (same seed), fresh points below
    q = q + 0.05 * np.random.default_rng(ctx.seed + 1).normal(size=q.shape).astype(np.float32)
    keys = [f"v{i}" for i in range(n)]
    rows, built = _index_rows(keys, x, q, dim, 16 if ctx.quick else 128)
    # save/load keeps the search settings and gives identical results
    hnsw = built["faiss HNSW32"]
    hnsw.save(ctx.out / "core_hnsw_index")
    same = Index.load(ctx.out / "core_hnsw_index").search(q, 10).keys == hnsw.search(q, 10).keys
    # a per-call override trades speed for recall
    low = recall_at_k(hnsw, built["exact"], q, 10, efSearch=16)
    high = recall_at_k(hnsw, built["exact"], q, 10, efSearch=256)
    rows.append(_pca_row(keys, x, dim, nq))
    text = (
        f"{n} clustered vectors of dimension {dim} (decaying spectrum), {nq} queries, cosine. recall@10 is "
        f"measured against the exact index; QPS is one batched search on {ctx.threads} thread(s) at most. "
        f"HNSW recall at efSearch=16: {low:.3f}, at efSearch=256: {high:.3f} (per-call override; the saved "
        f"setting is {hnsw.settings}). Save/load gives identical results: {same}. PQ stores each vector as "
        f"m one-byte codes (more bytes, higher recall). The last row keeps the first {dim // 2} PCA "
        f"components and reports how many of the exact Euclidean neighbours survive."
    )
    return Section(TITLE, rows, text=text, figures=_figures(ctx, x, labels, built, q))


def _index_rows(
    keys: list[str], x: np.ndarray, q: np.ndarray, dim: int, nlist: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per index (exact, HNSW, IVF-Flat, two IVF-PQ): recall@10 against exact, QPS, bytes, build s."""
    from simlab.index import Index, recall_at_k

    specs: list[tuple[str, str, dict[str, Any]]] = [
        ("exact", "exact", {}),
        ("faiss HNSW32", "faiss", {"factory": "HNSW32"}),
        (f"faiss IVF{nlist},Flat", "faiss", {"factory": f"IVF{nlist},Flat"}),
        (f"faiss IVF{nlist},PQ{dim // 4}", "faiss", {"factory": f"IVF{nlist},PQ{dim // 4}"}),
        (f"faiss IVF{nlist},PQ{dim // 2}", "faiss", {"factory": f"IVF{nlist},PQ{dim // 2}"}),
    ]
    rows: list[dict[str, Any]] = []
    built: dict[str, Any] = {}
    for name, backend, opts in specs:
        t0 = time.perf_counter()
        idx = Index(backend, "cosine", **opts).add(keys, x)
        build = time.perf_counter() - t0
        built[name] = idx
        exact = built["exact"]
        rows.append(
            {
                "index": name,
                "settings": ", ".join(f"{k}={v}" for k, v in idx.settings.items()) or "-",
                "recall@10": round(recall_at_k(idx, exact, q, 10), 4),
                "QPS": round(_qps(idx, q, 10)),
                "bytes/vector": round(idx.nbytes / len(idx), 1),
                "build s": round(build, 2),
            }
        )
    return rows, built


def _pca_row(keys: list[str], x: np.ndarray, dim: int, nq: int) -> dict[str, Any]:
    """Exact search on the first dim/2 PCA components: the share of Euclidean neighbours that survive."""
    from simlab.index.reduce import PCA, neighbour_recall
    from simlab.vectors import Vectors

    vecs = Vectors(keys, x)
    half = PCA(dim // 2).fit_transform(vecs)
    return {
        "index": f"exact on PCA-{dim // 2}",
        "settings": "-",
        "recall@10": round(neighbour_recall(half, vecs, 10, n_queries=nq, metric="euclidean"), 4),
        "QPS": "-",
        "bytes/vector": dim // 2 * 4.0,
        "build s": "-",
    }


def _figures(
    ctx: DemoContext, x: np.ndarray, labels: np.ndarray, built: dict[str, Any], q: np.ndarray
) -> list[tuple[str, Any]]:
    """The PCA scatter coloured by cluster and the recall/QPS curves."""
    from simlab.demo.report import line_plot, pca_2d, scatter_2d

    n, dim = x.shape
    sample = np.random.default_rng(ctx.seed).choice(n, min(n, 1500), replace=False)
    pts, xl, yl = pca_2d(x[sample])
    fig = scatter_2d(
        pts,
        [f"c{lab}" for lab in labels[sample]],
        f"PCA of {len(sample)} of {n} clustered vectors (dim {dim}), coloured by cluster",
        xlabel=xl,
        ylabel=yl,
    )
    curves = recall_qps_curves(built, q, ctx.quick)
    curve_png = line_plot(
        {name: (c["qps"], c["recall"]) for name, c in curves.items()},
        "recall@10 vs queries per second (batched, cosine)",
        "queries per second (log)",
        "recall@10 against exact search",
        logx=True,
        annotate={name: c["labels"] for name, c in curves.items()},
    )
    return [
        ("PCA projection coloured by cluster", fig),
        (
            "Recall/speed trade-off: HNSW over efSearch, IVF over nprobe (points labelled with the setting); "
            "the exact index is the point at recall 1",
            curve_png,
        ),
    ]


def recall_qps_curves(built: dict[str, Any], q: np.ndarray, quick: bool) -> dict[str, dict[str, list[Any]]]:
    """Recall@10 and QPS of the HNSW index over efSearch and of the IVF-Flat index over nprobe."""
    from simlab.index import recall_at_k

    exact = built["exact"]
    sweeps = {
        "faiss HNSW32": ("efSearch", (8, 16, 32, 64, 128) if not quick else (8, 32)),
        next(n for n in built if n.endswith(",Flat")): ("nprobe", (1, 2, 4, 8, 16) if not quick else (1, 4)),
    }
    curves: dict[str, dict[str, list[Any]]] = {
        "exact": {"qps": [_qps(exact, q, 10)], "recall": [1.0], "labels": [""]}
    }
    for name, (param, values) in sweeps.items():
        idx = built[name]
        c: dict[str, list[Any]] = {"qps": [], "recall": [], "labels": []}
        for v in values:
            c["recall"].append(recall_at_k(idx, exact, q, 10, **{param: v}))
            idx.search(q[:10], 10, **{param: v})
            t0 = time.perf_counter()
            idx.search(q, 10, **{param: v})
            c["qps"].append(len(q) / max(time.perf_counter() - t0, 1e-9))
            c["labels"].append(f"{param}={v}")
        curves[name] = c
    return curves
