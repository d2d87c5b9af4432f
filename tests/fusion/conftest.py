"""Fixtures of the fusion tests: a contextual SBM (generated in code) where neither features nor structure
alone classify well, its two views, and the validation labels (train + val nodes; test nodes never used to
fit)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def csbm(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    from simlab.fusion.data import contextual_sbm
    from simlab.fusion.nodes import PropagatedNodes

    g = contextual_sbm(n=600, seed=0)
    path = tmp_path_factory.mktemp("csbm") / "csbm.jsonl"
    g.to_jsonl(path)
    sp = g.split_index()
    labels = {g.keys[i]: str(g.labels[i]) for i in np.concatenate([sp["train"], sp["val"]])}
    views = {
        "features": PropagatedNodes(view="features").fit(g).vectors,
        "structure": PropagatedNodes(view="structure", dim=16).fit(g).vectors,
    }
    return {"graph": g, "path": path, "labels": labels, "views": views}
