"""The service's hot path (:mod:`simlab.service.fastpath`) answers exactly what the FastAPI app answers.

Two apps hold the same collection, one with the fast path and one without; every request below (the hot shape,
and every shape the fast path must hand to the app: ids, bad types, limits, unknown names, bad filters, broken
JSON, a protected server) gets the same status and the same body from both.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from simlab.service import Limits, create_app

DIM = 6


def make(tmp_path, name, fast, **kw):
    app = create_app([], data_dir=tmp_path / name, background=False, fast_path=fast, **kw)
    cols = app.state.simlab.collections
    rng = np.random.default_rng(0)
    for index in ("exact", "hnsw"):
        c = cols.create(index, dim=DIM, index=index)
        c.upsert(
            [f"i{j}" for j in range(200)], rng.normal(size=(200, DIM)), [{"g": j % 3} for j in range(200)]
        )
        c.compact(force=True)
        c.upsert(["new"], rng.normal(size=(1, DIM)), [{"g": 1}])  # one row in the delta buffer
    return app, TestClient(app)


def vecs(n, seed=1):
    return np.random.default_rng(seed).normal(size=(n, DIM)).round(4).tolist()


HOT = [
    {"queries": [{"vector": vecs(1)[0]}]},
    {"queries": [{"vector": v} for v in vecs(5)], "k": 3},
    {"queries": [{"vector": v} for v in vecs(4, 2)], "k": 7, "filter": {"g": 1}},
    {"queries": [{"vector": [1, 0, 0, 0, 0, 0]}], "k": 2, "filter": {"g": {"in": [0, 2]}}},
    {"queries": [{"vector": vecs(1, 3)[0]}], "k": 5, "filter": None},
    {"queries": [{"vector": [True, False, 1, 0, 0, 0]}]},  # numbers to numpy and to pydantic alike
]
OTHER = [
    {"queries": []},
    {"queries": [{"vector": vecs(1)[0][:4]}]},  # wrong dimension
    {"queries": [{"vector": vecs(1)[0]}], "k": 0},
    {"queries": [{"vector": vecs(1)[0]}], "k": "3"},  # pydantic's lax mode takes it
    {"queries": [{"vector": vecs(1)[0]}], "k": 2000},  # over max_k
    {"queries": [{"vector": [True, False, True, False, True, False]}]},
    {"queries": [{"vector": ["1", 0, 0, 0, 0, 0]}]},
    {"queries": [{"vector": [None, 0, 0, 0, 0, 0]}]},
    {"queries": [{"vector": [1e39, 0, 0, 0, 0, 0]}]},  # inf as float32
    {"queries": [{"vector": vecs(1)[0], "id": None}]},
    {"queries": [{"id": "i7"}], "k": 4},
    {"queries": [{"id": "nope"}]},
    {"queries": [{"item": "a text"}]},
    {"queries": [{"vector": vecs(1)[0]}], "extra": 1},
    {"queries": [{"vector": vecs(1)[0]}], "filter": {"g": {"x": 1}}},
    {"queries": [{"vector": vecs(1)[0]}], "filter": [1]},
    {"queries": [[1, 2, 3, 4, 5, 6]]},
    {"queries": [{"vector": vecs(1)[0]}] * 9},  # over max_items (9 > 8)
    {"k": 3},
    [1, 2],
]


def post(client, path, body, **kw):
    data = body if isinstance(body, bytes) else json.dumps(body)
    r = client.post(path, content=data, headers={"content-type": "application/json", **kw.get("headers", {})})
    return r.status_code, r.json()


@pytest.mark.parametrize("index", ["exact", "hnsw"])
def test_fast_path_answers_like_the_app(tmp_path, index):
    lim = Limits(max_items=8)
    fast, cf = make(tmp_path, "fast", True, limits=lim)
    slow, cs = make(tmp_path, "slow", False, limits=lim)
    path = f"/v1/collections/{index}/search"
    for body in HOT + OTHER + [b"{not json", b""]:
        a, b = post(cf, path, body), post(cs, path, body)
        assert a == b, body
    for missing in ("/v1/collections/nope/search", "/v1/collections//search", "/v1/collections/a/b/search"):
        assert post(cf, missing, HOT[0]) == post(cs, missing, HOT[0])
    counter = fast.state.simlab.extras["fast_path"]
    assert counter.answered == len(HOT)  # the hot shapes were answered by the fast path, the rest by the app
    assert "fast_path" not in slow.state.simlab.extras
    hits = post(cf, path, HOT[1])[1]["results"]
    assert len(hits) == 5 and all(len(h) == 3 for h in hits)
    assert all(h["metadata"]["g"] == 1 for row in post(cf, path, HOT[2])[1]["results"] for h in row)


def test_fast_path_keeps_the_key_rule(tmp_path):
    fast, cf = make(tmp_path, "fast", True, api_key="s3", protect_reads=True)
    _, cs = make(tmp_path, "slow", False, api_key="s3", protect_reads=True)
    path, body = "/v1/collections/exact/search", HOT[1]
    for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": "s3"}, {"authorization": "Bearer s3"}):
        a, b = post(cf, path, body, headers=headers), post(cs, path, body, headers=headers)
        assert a == b and a[0] == (200 if "s3" in str(headers) else 401), headers
    assert fast.state.simlab.extras["fast_path"].answered == 2


def test_encode_hits_writes_what_json_writes():
    from simlab.service.fastpath import encode_hits

    hits = [[{"id": "a", "score": 0.5, "metadata": {"g": 1, "score": None}}], []]
    assert json.loads(encode_hits(hits)) == {"results": hits}  # a null "score" in metadata stays valid
    big = [[{"id": "b", "score": 1.0, "metadata": {"n": 2**70}}]]  # over 64 bits: orjson refuses, json writes
    assert json.loads(encode_hits(big)) == {"results": big}
    for bad in (
        float("nan"),
        float("inf"),
    ):  # not written as null: an error, like json.dumps(allow_nan=False)
        with pytest.raises(ValueError):
            encode_hits([[{"id": "c", "score": bad, "metadata": {}}]])
