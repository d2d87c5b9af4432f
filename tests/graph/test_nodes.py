"""Node embeddings: training, search through the core index, persistence, link prediction."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, DataError
from simlab.graph.nodes import NodeEmbedder, auc_ap


def _two_communities():
    g = nx.planted_partition_graph(2, 30, 0.4, 0.01, seed=3)
    return g


def test_node_embeddings_separate_communities(tmp_path):
    g = _two_communities()
    m = NodeEmbedder(conv="sage", epochs=60, progress=False, patience=None).fit(g, name="pp")
    v = m.vectors
    assert len(v) == 60
    hits = m.most_similar(0, k=10)
    assert sum(h < 30 for h in hits.keys) >= 8  # neighbours from the same community
    idx = simlab.Index.from_vectors(v)
    assert idx.search(v[[0]], k=3).keys[0][0] == 0
    assert m.most_similar(0, k=10, index=idx).keys == hits.keys
    lp = m.link_prediction()
    assert lp["auc"] > 0.8, lp
    m.save(tmp_path / "m")
    m2 = simlab.load(tmp_path / "m")
    assert np.array_equal(m2.vectors.matrix, v.matrix)
    assert m2.link_prediction() == lp
    assert simlab.evaluate.evaluate(m2, "linkpred:pp").metrics["auc"] == lp["auc"]
    with pytest.raises(ConfigError, match="trained on 'pp'"):
        simlab.evaluate.evaluate(m2, "linkpred:Cora")
    # learnt per-node inputs (unlabelled graph): transductive only
    with pytest.raises(ConfigError, match="cannot embed the nodes of another graph"):
        m.encode(nx.path_graph(5))
    # inductive with structural features only: embed another graph featurised the same way
    m3 = NodeEmbedder(conv="gcn", epochs=5, progress=False, node_ids=False).fit(g)
    assert m3.encode(nx.path_graph(5)).shape == (5, m3.config.dim)


def test_node_errors():
    with pytest.raises(DataError, match="at least 5"):
        NodeEmbedder(progress=False).fit(nx.path_graph(4))
    with pytest.raises(ConfigError):
        NodeEmbedder(conv="lstm")


def test_auc_ap():
    auc, ap = auc_ap(np.array([3.0, 2.0]), np.array([1.0, 0.0]))
    assert auc == 1.0 and ap == 1.0
    assert auc_ap(np.array([1.0]), np.array([1.0]))[0] == 0.5
