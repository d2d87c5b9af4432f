"""Recipe: unsupervised node embeddings (GraphSAGE encoder, link prediction), search and held-out link AUC.

Uses networkx's karate club graph (and Cora from ../shared/data when present, with a short run).
Run: ``python examples/32_node_embeddings.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import networkx as nx

import simlab
from simlab.evaluate import evaluate
from simlab.graph.nodes import NodeEmbedder


def main(out: Path) -> None:
    g = nx.karate_club_graph()
    model = NodeEmbedder(conv="sage", epochs=50, test_share=0.1, progress=False).fit(g, name="karate")
    print("most similar to node 0:", model.most_similar(0, k=5).to_list())
    print(evaluate(model, "linkpred:karate").to_table())
    model.save(out / "karate-nodes")
    again = simlab.load(out / "karate-nodes")
    assert again.most_similar(0, k=5).keys == model.most_similar(0, k=5).keys
    from simlab.paths import shared_data_dir

    if shared_data_dir() is not None:
        from simlab.graph.planetoid import load_planetoid

        x, edge_index, _ = load_planetoid("Cora")
        cora = NodeEmbedder(conv="gcn", epochs=20, progress=False).fit(edge_index, features=x, name="Cora")
        print(evaluate(cora, "linkpred:Cora").to_table())


if __name__ == "__main__":
    base = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("SIMLAB_EXAMPLE_OUT") or tempfile.mkdtemp())
    )
    main(base)
