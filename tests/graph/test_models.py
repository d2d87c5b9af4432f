"""Bi-encoder and pair model: invariance, batching, learning, persistence, search and re-ranking."""

from __future__ import annotations

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, NotFittedError, UnknownKeyError
from simlab.graph.evaluate import matrix_metrics, query_metrics
from simlab.graph.models import GraphBiEncoder, GraphPairModel

from .conftest import true_matrix


def _permuted(g, seed):
    nodes = list(g.nodes)
    perm = np.random.default_rng(seed).permutation(len(nodes))
    mapping = {nodes[i]: f"p{perm[i]}" for i in range(len(nodes))}
    h = nx.relabel_nodes(g, mapping)
    out = nx.Graph()
    out.add_nodes_from(sorted(h.nodes(data=True), key=lambda t: t[0]))  # a different node order
    out.add_edges_from(reversed(list(h.edges())))
    return out


def test_import_is_light():
    code = (
        "import sys, simlab, simlab.graph; from simlab.registry import ENCODERS; ENCODERS.names();"
        "print([m for m in ('torch', 'torch_geometric', 'networkx') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    import simlab.graph as G
    from simlab.graph.refine import EditPathScorer

    assert G.EditPathScorer is EditPathScorer and set(G.__all__) >= {
        "GraphBiEncoder",
        "edit_path",
        "GraphSet",
    }
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        G.nope  # noqa: B018


@pytest.mark.parametrize("conv", ["gcn", "gin", "sage", "gat"])
@pytest.mark.parametrize("pool", ["sum", "mean", "attention"])
def test_node_order_invariance(ged_data, conv, pool):
    gs = ged_data["graphs"]
    m = GraphBiEncoder(conv=conv, pool=pool, epochs=1, progress=False, dev_share=0.0, hidden=16, dim=8)
    t = ged_data["table"]
    few = set(gs.ids[:6])
    rows = [(a, b, g) for a, b, g in zip(t.a, t.b, t.ged, strict=True) if a in few and b in few]
    m.fit(gs.subset(gs.ids[:6]), rows)
    g = gs.graphs[3]
    v = m.encode([g, _permuted(g, 1), _permuted(g, 2)])
    assert np.allclose(v[0], v[1], atol=1e-5) and np.allclose(v[0], v[2], atol=1e-5)


def test_pair_model_order_invariance_and_symmetry(trained, ged_data):
    p = trained["pair"]
    gs = ged_data["graphs"]
    a, b = gs.graphs[1], gs.graphs[7]
    s = p.score_pairs([a, b, _permuted(a, 3)], [b, a, _permuted(b, 4)])
    assert s[0] == pytest.approx(s[1], abs=1e-6) and s[0] == pytest.approx(s[2], abs=1e-5)


@pytest.mark.parametrize("which", ["bi", "pair"])
def test_batch_equals_single_pair(trained, ged_data, which):
    m = trained[which]
    gs = ged_data["graphs"]
    tr = ged_data["train_ids"]
    qa, qb = gs.subset(tr[:8]), gs.subset(tr[8:16])
    batch = m.score_pairs(qa, qb)
    single = [m.score_pairs([qa.graphs[i]], [qb.graphs[i]])[0] for i in range(8)]
    assert np.allclose(batch, single, atol=1e-5)
    mat = m.score_matrix(qa, qb)
    assert np.allclose(np.diag(mat), batch, atol=1e-5)
    assert m.similarity(tr[0], tr[8]) == pytest.approx(batch[0], abs=1e-5)


@pytest.mark.parametrize("which", ["bi", "pair"])
def test_learns_ged_well_above_random(trained, ged_data, which):
    gs = ged_data["graphs"]
    q, c = ged_data["test_ids"], ged_data["train_ids"]
    true = true_matrix(ged_data, q, c)
    pred = trained[which].score_matrix(gs.subset(q), gs.subset(c))
    learned = matrix_metrics(pred, true)
    model_cls = GraphBiEncoder if which == "bi" else GraphPairModel
    rnd = model_cls(conv="gin", epochs=1, lr=1e-9, progress=False, dev_share=0.0, hidden=32, dim=32)
    rnd.fit(gs.subset(c), trained["rows"])
    base = matrix_metrics(rnd.score_matrix(gs.subset(q), gs.subset(c)), true)
    assert learned["rho"] > 0.7, learned
    assert learned["rho"] > base["rho"] + 0.15, (learned, base)
    assert learned["mse_e3"] < base["mse_e3"] / 3, (learned, base)


def test_most_similar_rerank_and_index(trained, ged_data):
    bi, pair = trained["bi"], trained["pair"]
    gs = ged_data["graphs"]
    q = ged_data["train_ids"][0]
    hits = bi.most_similar(q, k=5)
    assert len(hits) == 5 and q not in hits.keys
    assert list(hits.scores) == sorted(hits.scores, reverse=True)
    # a graph outside the collection as query
    hits_g = bi.most_similar(gs[ged_data["test_ids"][1]], k=3)
    assert len(hits_g) == 3
    # the same ranking through the core Index (euclidean metric) as through the exact scan
    index = simlab.Index.from_vectors(bi.vectors, metric="euclidean")
    assert bi.most_similar(q, k=5, index=index).keys == hits.keys
    rr = bi.most_similar(q, k=3, rerank=pair, candidates=10, blend=0.0)
    assert len(rr) == 3 and q not in rr.keys
    top10 = bi.most_similar(q, k=10)
    direct = pair.rerank(q, top10.keys, 3, collection=bi.collection)
    assert direct.keys == rr.keys
    # blended re-ranking: 0.5 * bi-encoder + 0.5 * pair model over the same candidates
    mixed = bi.most_similar(q, k=10, rerank=pair, candidates=10, blend=0.5)
    pair_s = dict(pair.rerank(q, top10.keys, 10, collection=bi.collection).to_list())
    expect = sorted(top10.keys, key=lambda key: -(0.5 * dict(top10.to_list())[key] + 0.5 * pair_s[key]))
    assert mixed.keys == expect
    with pytest.raises(ConfigError, match="base_scores"):
        pair.rerank(q, top10.keys, 3, collection=bi.collection, blend=0.5)
    v = bi.embed_file(ged_data["dir"] / "graphs.jsonl")
    assert v.keys == gs.ids and v.dim == 32


@pytest.mark.parametrize("which", ["bi", "pair"])
def test_save_load_identity(trained, ged_data, tmp_path, which):
    m = trained[which]
    gs = ged_data["graphs"]
    m.save(tmp_path / "m")
    m2 = simlab.load(tmp_path / "m")
    assert type(m2) is type(m)
    assert np.array_equal(m2.encode(gs), m.encode(gs))
    assert np.array_equal(m2.score_matrix(gs, gs), m.score_matrix(gs, gs))
    q = ged_data["train_ids"][2]
    assert m2.most_similar(q, k=4).keys == m.most_similar(q, k=4).keys
    assert m2.featurizer.vocab == m.featurizer.vocab


def test_errors(trained, ged_data):
    with pytest.raises(NotFittedError):
        GraphBiEncoder().encode([nx.path_graph(3)])
    with pytest.raises(ConfigError, match="unknown conv"):
        GraphBiEncoder(conv="gru")
    with pytest.raises(ConfigError, match="unknown GraphModelConfig key"):
        GraphBiEncoder(hiden=3)
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {0: "C", 1: "Zz", 2: "C"}, "label")
    with pytest.raises(UnknownKeyError, match="'Zz' was not seen at training time"):
        trained["bi"].encode([g])
    with pytest.raises(UnknownKeyError, match="unknown graph id"):
        trained["bi"].most_similar("nope")
    gs = ged_data["graphs"]
    with pytest.raises(ConfigError, match="near_share"):
        GraphBiEncoder(near_share=1.5)
    with pytest.raises(UnknownKeyError, match="unknown graph id 'zzz'"):
        GraphBiEncoder(epochs=1, progress=False).fit(gs, [(gs.ids[0], "zzz", 1.0)])


def test_near_pair_sampling_trains(ged_data):
    gs = ged_data["graphs"]
    m = GraphBiEncoder(epochs=2, progress=False, dev_share=0.0, near_share=0.5, near_k=3, hidden=16)
    m.fit(gs, ged_data["table"])
    assert len(m.history["epochs"]) == 2 and m.encode(gs).shape == (len(gs), 64)


def test_query_metrics_ties():
    true = np.array([1.0, 0.9, 0.9, 0.9, 0.1])
    pred = np.array([0.9, 0.1, 0.2, 0.8, 0.95])
    m = query_metrics(pred, true, ks=(2,))
    # predicted top-2: items 4, 0; true top-2 with ties: 0, 1, 2, 3 -> 1 hit of 2
    assert m["p@2"] == 0.5
    assert query_metrics(true, true, ks=(3,))["rho"] == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["gcn", "gin", "sage", "gat"])
def test_registered_encoders(name):
    import torch

    from simlab.registry import ENCODERS

    enc = ENCODERS.get(name)(5, hidden=8, layers=2)
    x = torch.randn(4, 5)
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    assert enc(x, ei).shape == (4, 8)
