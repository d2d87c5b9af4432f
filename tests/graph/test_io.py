"""Graph input formats and bad input."""

from __future__ import annotations

import json
import logging

import networkx as nx
import numpy as np
import pytest

from simlab.errors import DataError, UnknownKeyError
from simlab.graph.features import Featurizer, GraphStore
from simlab.graph.io import GraphSet, read_graph_file


def _write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_formats_round_trip(tmp_path):
    g = nx.Graph()
    g.add_node(0, type="C")
    g.add_node(1, type="O")
    g.add_edge(0, 1)
    d = tmp_path / "dir"
    d.mkdir()
    nx.write_gexf(g, d / "a.gexf")
    nx.write_graphml(g, d / "b.graphml")
    (d / "c.edgelist").write_text("# comment\n0 1\n1 2\n")
    (d / "d.json").write_text(json.dumps({"nodes": [{"id": "x", "label": "N"}], "edges": []}))
    gs = GraphSet.read(d)
    assert gs.ids == ["a", "b", "c", "d"]
    assert gs["a"].number_of_edges() == 1 and gs["c"].number_of_nodes() == 3
    f = Featurizer().fit(gs.subset(["a", "b"]))
    assert f.vocab == ["C", "O"]
    _write_jsonl(
        tmp_path / "g.jsonl",
        [
            {
                "id": "g1",
                "nodes": [{"id": 0, "label": "C"}, {"id": 1, "label": "O"}],
                "edges": [{"source": 0, "target": 1}],
            }
        ],
    )
    gs2 = GraphSet.read(tmp_path / "g.jsonl")
    assert gs2.ids == ["g1"] and gs2["g1"].nodes[1]["label"] == "O"


def test_self_loops_and_multi_edges_are_dropped(tmp_path, caplog):
    mg = nx.MultiGraph()
    mg.add_edges_from([(0, 1), (0, 1), (1, 1), (1, 2)])
    with caplog.at_level(logging.WARNING):
        gs = GraphSet([mg], ["m"])
    assert gs["m"].number_of_edges() == 2 and nx.number_of_selfloops(gs["m"]) == 0
    assert "self-loop" in caplog.text
    _write_jsonl(
        tmp_path / "g.jsonl",
        [
            {
                "id": 1,
                "nodes": [{"id": 0}, {"id": 1}],
                "edges": [{"source": 0, "target": 0}, {"source": 0, "target": 1}, {"source": 1, "target": 0}],
            }
        ],
    )
    assert GraphSet.read(tmp_path / "g.jsonl")[1].number_of_edges() == 1


def test_malformed_files_name_path_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": 1, "nodes": [{"id": 0}], "edges": []}\n{"id": 2, "nodes": [\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: invalid JSON"):
        GraphSet.read(p)
    p.write_text('{"id": 1, "nodes": [{"id": 0}], "edges": [{"source": 0, "target": 5}]}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:1: edge #0 refers to unknown node 5"):
        GraphSet.read(p)
    q = tmp_path / "bad.gexf"
    q.write_text("<gexf><graph><nodes><node id='0'></nodes></graph></gexf>")
    with pytest.raises(DataError, match=r"bad.gexf:1: malformed XML"):
        read_graph_file(q)
    e = tmp_path / "bad.edgelist"
    e.write_text("0 1\n0 1 2 3\n")
    with pytest.raises(DataError, match=r"bad.edgelist:2: expected 'u v'"):
        read_graph_file(e)


def test_empty_graph_and_duplicates(tmp_path):
    with pytest.raises(DataError, match="empty"):
        GraphSet([nx.Graph()], ["e"])
    p = tmp_path / "e.jsonl"
    p.write_text('{"id": "x", "nodes": [], "edges": []}\n')
    with pytest.raises(DataError, match=r"e.jsonl:1: graph 'x' is empty"):
        GraphSet.read(p)
    with pytest.raises(DataError, match="duplicate graph id"):
        GraphSet([nx.path_graph(2), nx.path_graph(2)], ["a", "a"])
    with pytest.raises(UnknownKeyError, match="unknown graph id 'zz'"):
        GraphSet([nx.path_graph(2)], ["a"]).position("zz")


def test_unseen_labels():
    g1 = nx.path_graph(2)
    nx.set_node_attributes(g1, {0: "C", 1: "O"}, "label")
    g2 = nx.path_graph(2)
    nx.set_node_attributes(g2, {0: "C", 1: "Xe"}, "label")
    f = Featurizer().fit(GraphSet([g1]))
    with pytest.raises(UnknownKeyError, match="node label 'Xe' was not seen at training time"):
        f.transform_graph(g2, "g2")
    f2 = Featurizer(unknown="unk").fit(GraphSet([g1]))
    x, _ = f2.transform_graph(g2, "g2")
    assert f2.vocab == ["C", "O", "<unk>"] and x[1].tolist() == [0, 0, 1]


def test_degree_fallback_and_numeric_features():
    gs = GraphSet([nx.star_graph(3)])
    f = Featurizer(max_degree=4).fit(gs)
    x, ei = f.transform_graph(gs.graphs[0])
    assert f.use_degree and x.shape == (4, 5) and x[0, 3] == 1 and ei.shape == (2, 6)
    g = nx.path_graph(3)
    nx.set_node_attributes(g, {0: [1.0, 2.0], 1: [0.0, 1.0], 2: [3.0, 3.0]}, "x")
    f = Featurizer(feature_attrs=["x"]).fit(GraphSet([g]))
    x, _ = f.transform_graph(g)
    assert not f.use_degree and x.tolist()[0] == [1.0, 2.0]


def test_store_batches_match_single_graphs():
    gs = GraphSet([nx.path_graph(3), nx.cycle_graph(4), nx.star_graph(2)])
    f = Featurizer().fit(gs)
    store = GraphStore(gs, f)
    b = store.batch([2, 0, 2])
    assert b.num_graphs == 3 and b.x.shape[0] == 3 + 3 + 3
    x0, e0 = f.transform_graph(gs.graphs[0])
    assert np.array_equal(b.x[3:6].numpy(), x0)
    assert np.array_equal((b.edge_index[:, b.batch[b.edge_index[0]] == 1] - 3).numpy(), e0)
