"""The model endpoints through simlab.client.Client, for every model family (small artifacts made here):
answers equal the local model's, errors are 4xx JSON, limits answer 413/422."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

import simlab
from simlab.client import Client
from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.service import LimitExceeded, Limits, create_app


def serve(tmp_path, paths, **kw):
    app = create_app(paths, data_dir=tmp_path / "data", api_key="k", background=False, **kw)
    tc = TestClient(app)
    return app, Client("http://testserver", api_key="k", http=tc)


def test_vectors_model(artifact, tmp_path):
    p = artifact("vecs")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p])
    info = {m["name"]: m for m in c.models()}["vecs"]
    assert info["kind"] == "vectors" and info["dim"] == 16 and info["size"] == 200
    assert "searches" in info["capabilities"]
    hits = c.most_similar("vecs", "v3", k=5)
    ref = local.most_similar("v3", k=5)
    assert hits.keys == ref.keys and np.allclose(hits.scores, ref.scores, atol=1e-6)
    r = c._http.get("/v1/models/vecs/similar/v3?k=5").json()["results"][0]
    assert [h["key"] for h in r] == ref.keys
    assert np.allclose(c.embed("vecs", ["v1", "v2"]), local[["v1", "v2"]])
    assert c.similarity("vecs", "v1", "v5") == pytest.approx(local.similarity("v1", "v5"), abs=1e-6)
    with pytest.raises(UnknownKeyError) as e:
        c.most_similar("vecs", "nope")
    assert e.value.status == 404
    with pytest.raises(UnknownKeyError):
        c.models_missing = c.embed("nomodel", ["v1"])


def test_word2vec_and_limits(artifact, tmp_path):
    p = artifact("w2v")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p], limits=Limits(max_items=4, max_text_chars=20, max_k=50))
    hits = c.most_similar("w2v", "guitar", k=5)
    assert hits.keys == local.most_similar("guitar", k=5).keys
    v = c.embed("w2v", ["guitar", "soup"])
    assert np.allclose(v, local.vectors[["guitar", "soup"]], atol=1e-6)
    assert c.similarity("w2v", "guitar", "piano") == pytest.approx(
        local.similarity("guitar", "piano"), abs=1e-6
    )
    with pytest.raises(LimitExceeded) as e:
        c.embed("w2v", ["guitar"] * 5)
    assert e.value.status == 413
    with pytest.raises(LimitExceeded):
        c.embed("w2v", ["x" * 21])
    r = c._http.get("/v1/models/w2v/similar/guitar?k=51")
    assert r.status_code == 422 and set(r.json()) == {"error", "detail"}
    r = c._http.post("/v1/models/w2v/embed", json={"items": "not a list"})
    assert r.status_code == 422 and r.json()["error"] == "ValidationError"
    r = c._http.post("/v1/models/w2v/embed", json={"items": [{"a": 1}]})
    assert r.status_code == 422 and r.json()["error"] == "DataError"
    with pytest.raises(UnknownKeyError):
        c.embed("w2v", ["qqqqzz"])


def test_doc2vec_text_queries(artifact, tmp_path):
    p = artifact("d2v")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p])
    text = "guitar piano song band"
    hits = c.most_similar("d2v", text, k=3, by="item")
    ref = local.most_similar_text(text, k=3)
    assert hits.keys == ref.keys
    assert np.allclose(c.embed("d2v", [text])[0], local.infer(text), atol=1e-6)
    key = local.vectors.keys[0]
    assert c.most_similar("d2v", key, k=3).keys == local.most_similar(key, k=3).keys
    s = c.similarity("d2v", "guitar song", "onion soup")
    assert s == pytest.approx(local.similarity_text("guitar song", "onion soup"), abs=1e-5)
    with pytest.raises(DataError, match="no known word"):
        c.embed("d2v", ["zzzz qqqq"])


def test_siamese_series(artifact, tmp_path):
    p = artifact("seq")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p])
    info = c.models()[0]
    assert info["item_type"] == "series" and info["dim"] == local.dim
    s1 = np.sin(np.linspace(0, 6, 24))
    s2 = np.sin(2 * np.linspace(0, 6, 24))
    v = c.embed("seq", [s1.tolist(), [[x] for x in s2]])
    assert np.allclose(
        v, local.encode([s1[:, None].astype(np.float32), s2[:, None].astype(np.float32)]), atol=1e-5
    )
    assert c.similarity("seq", s1.tolist(), s2.tolist()) == pytest.approx(
        local.similarity(s1[:, None].astype(np.float32), s2[:, None].astype(np.float32)), abs=1e-5
    )
    hits = c.most_similar("seq", s1.tolist(), k=4, by="item")
    assert hits.keys == local.most_similar(s1.astype(np.float32), k=4).keys
    assert c.most_similar("seq", 3, k=4).keys == local.most_similar(3, k=4).keys
    r = c._http.get("/v1/models/seq/similar/3?k=4").json()["results"][0]
    assert [h["key"] for h in r] == local.most_similar(3, k=4).keys
    with pytest.raises(DataError):
        c.embed("seq", [[1.0, "x"]])
    with pytest.raises(DataError):
        c.embed("seq", [[]])


def test_siamese_text(artifact, tmp_path):
    p = artifact("seqtext")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p])
    assert c.models()[0]["item_type"] == "text"
    key = local.collection.keys[0]
    assert c.most_similar("seqtext", key, k=3).keys == local.most_similar(key, k=3).keys
    assert (
        c.most_similar("seqtext", "a guitar song", k=3, by="item").keys
        == local.most_similar("a guitar song", 3).keys
    )
    assert np.allclose(c.embed("seqtext", ["a guitar song"]), local.encode(["a guitar song"]), atol=1e-5)
    with pytest.raises(DataError, match="empty"):
        c.embed("seqtext", [""])


def test_graph_biencoder_with_editpath_rerank(artifact, tmp_path):
    from simlab.graph.io import graph_to_node_link
    from simlab.graph.refine import EditPathScorer

    p = artifact("graph")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p], limits=Limits(max_graph_nodes=8))
    info = c.models()[0]
    assert info["reranks"] == ["editpath"] and info["item_type"] == "graph"
    gid = local.collection.ids[0]
    assert c.most_similar("graph", gid, k=4).keys == local.most_similar(gid, k=4).keys
    rr = c.most_similar("graph", gid, k=4, rerank="editpath")
    ref = local.most_similar(gid, k=4, rerank=EditPathScorer(local), candidates=20)
    assert rr.keys == ref.keys and gid not in rr.keys
    g = local.collection[gid]
    nl = graph_to_node_link(g, "q")
    v = c.embed("graph", [nl])
    assert np.allclose(v, local.encode([g]), atol=1e-5)
    hits = c.most_similar("graph", nl, k=3, by="item")
    assert hits.keys == local.most_similar(g, k=3).keys
    s = c.similarity("graph", nl, nl)
    assert s == pytest.approx(1.0, abs=1e-3)
    big = {"nodes": [{"id": i} for i in range(9)], "edges": []}
    with pytest.raises(LimitExceeded):
        c.embed("graph", [big])
    with pytest.raises(DataError):
        c.embed("graph", [{"nodes": [{"id": 0}], "edges": [{"source": 0, "target": 5}]}])
    drawn = c._http.get(f"/v1/models/graph/graphs/{gid}").json()
    assert len(drawn["nodes"]) == g.number_of_nodes()


def test_node_embeddings(artifact, tmp_path):
    p = artifact("nodes")
    local = simlab.load(p)
    _, c = serve(tmp_path, [p])
    assert c.most_similar("nodes", 0, k=5).keys == local.most_similar(0, k=5).keys
    r = c._http.get("/v1/models/nodes/similar/0?k=5").json()["results"][0]
    assert [h["key"] for h in r] == local.most_similar(0, k=5).keys
    assert c.similarity("nodes", 0, 1) == pytest.approx(local.similarity(0, 1), abs=1e-6)
    m = c._http.get("/v1/models/nodes/map?n=10&highlight=0").json()
    assert m["method"] == "pca" and any(pt["highlight"] and pt["key"] == 0 for pt in m["points"])


def test_model_without_capability_is_4xx(artifact, tmp_path):
    _, c = serve(tmp_path, [artifact("vecs")])
    with pytest.raises(ConfigError):
        c.most_similar("vecs", "v1", rerank="editpath")
    r = c._http.get("/v1/models/vecs/graphs/v1")
    assert r.status_code == 422 and r.json()["error"] == "ConfigError"
