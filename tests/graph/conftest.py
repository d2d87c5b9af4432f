"""Fixtures of the graph tests: small generated labelled graphs with exact GED (computed once per session)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def ged_data(tmp_path_factory):
    """30 graphs in 6 families (4-6 nodes), exact GED of every pair, written as graphs.jsonl + ged.tsv;
    every 4th graph is a test query, the other 22 are the training collection."""
    import torch

    torch.set_num_threads(1)
    from simlab.graph.datasets import make_graphs
    from simlab.graph.ged import compute_ged

    d = tmp_path_factory.mktemp("ged")
    gs, fams = make_graphs(6, 5, (4, 6), seed=1)
    gs.write_jsonl(d / "graphs.jsonl")
    table = compute_ged(gs, d / "ged.tsv", timeout=5.0, workers=1, progress=False)
    test_ids = gs.ids[::4]
    train_ids = [i for i in gs.ids if i not in test_ids]
    return {
        "dir": d,
        "graphs": gs,
        "families": fams,
        "table": table,
        "train_ids": train_ids,
        "test_ids": test_ids,
    }


@pytest.fixture(scope="session")
def trained(ged_data):
    """A bi-encoder and a pair model trained on the training graphs' pairs."""
    from simlab.graph.models import GraphBiEncoder, GraphPairModel

    gs, table = ged_data["graphs"], ged_data["table"]
    train_ids = set(ged_data["train_ids"])
    rows = [
        (a, b, g)
        for a, b, g in zip(table.a, table.b, table.ged, strict=True)
        if a in train_ids and b in train_ids
    ]
    cfg = {
        "epochs": 60,
        "batch_size": 64,
        "pairs_per_epoch": 0,
        "progress": False,
        "dev_share": 0.0,
        "hidden": 32,
        "dim": 32,
        "lr": 3e-3,
    }
    train = gs.subset(ged_data["train_ids"])
    bi = GraphBiEncoder(conv="gin", **cfg).fit(train, rows)
    pair = GraphPairModel(conv="gin", **cfg).fit(train, rows)
    return {"bi": bi, "pair": pair, "rows": rows}


def true_matrix(ged_data, q_ids, c_ids):
    from simlab.graph.ged import ged_similarity

    gs, t = ged_data["graphs"], ged_data["table"]
    lookup = {}
    for a, b, g in zip(t.a, t.b, t.ged, strict=True):
        lookup[(a, b)] = lookup[(b, a)] = g
    sizes = dict(zip(gs.ids, gs.sizes(), strict=True))
    out = np.zeros((len(q_ids), len(c_ids)))
    for i, q in enumerate(q_ids):
        for j, c in enumerate(c_ids):
            g = 0.0 if q == c else lookup[(q, c)]
            out[i, j] = ged_similarity(g, sizes[q], sizes[c])
    return out
