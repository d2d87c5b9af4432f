"""Recipe: fuse two views of the same items (node features + graph structure) and compare with each view
alone.

Data: a contextual stochastic block model generated in code (and Cora from ../shared/data when present).
Run: ``python examples/41_fusion_views.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import simlab
from simlab.evaluate import evaluate
from simlab.fusion import FusedModel, PropagatedNodes, contextual_sbm


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    g = contextual_sbm(n=400, seed=0)  # 1. data: weak features, noisy structure
    path = g.to_jsonl(out / "csbm.jsonl")  #    node-link JSON lines with x / label / split
    views = {
        "features": PropagatedNodes(view="features").fit(g).vectors,  # 2. one model per view
        "structure": PropagatedNodes(view="structure", dim=16).fit(g).vectors,
    }
    split = g.split_index()  # 3. validation labels only (never test nodes)
    labels = {g.keys[i]: g.labels[i] for i in np.concatenate([split["train"], split["val"]])}
    for name, v in views.items():
        print(f"{name:>10} only:", round(evaluate(v, f"nodeclass:{path}").value, 3))
    for method in ("early", "late", "learned"):  # 4. fuse, fit on the validation labels
        m = FusedModel(views, method=method, progress=False, epochs=50).fit(labels=labels)
        print(
            f"{method:>10} fused:",
            round(evaluate(m, f"nodeclass:{path}").value, 3),
            "weights",
            np.round(m.weights, 2) if method != "learned" else "per-item gate",
        )
    prop = PropagatedNodes(k=2).fit(g)  # features propagated over the graph (SGC)
    print("propagated:", round(evaluate(prop, f"nodeclass:{path}").value, 3))
    m.save(out / "fused")  # 5. save / load like any model
    assert simlab.load(out / "fused").most_similar(0, k=3).keys == m.most_similar(0, k=3).keys
    from simlab.paths import shared_data_dir

    if shared_data_dir() is not None:
        from simlab.graph.planetoid import load_planetoid

        x, edge_index, _ = load_planetoid("Cora")
        print(
            evaluate(PropagatedNodes().fit(edge_index, features=x, name="Cora"), "nodeclass:Cora").to_table()
        )


if __name__ == "__main__":
    base = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("SIMLAB_EXAMPLE_OUT") or tempfile.mkdtemp())
    )
    main(base)
