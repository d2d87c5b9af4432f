"""Collections: create/list/drop, batch upsert/delete with metadata, filtered search equal to a brute-force
reference across compactions and restarts, model-bound collections, API keys."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from simlab.client import Client, ServiceError
from simlab.errors import DataError, DimensionError, UnknownKeyError
from simlab.metrics import topk
from simlab.service import create_app
from simlab.service.collections import Conflict


def serve(data, paths=(), key="k", **kw):
    app = create_app(list(paths), data_dir=data, api_key=key, background=False, **kw)
    return app, Client("http://testserver", api_key=key, http=TestClient(app))


def reference(store: dict, q: np.ndarray, k: int, metric: str, keep=lambda i: True):
    ids = [i for i in store if keep(i)]
    idx, sc = topk(q[None, :], np.stack([store[i] for i in ids]), k, metric)
    return [ids[j] for j in idx[0]], sc[0]


@pytest.mark.parametrize("index,metric", [("exact", "cosine"), ("exact", "euclidean"), ("hnsw", "cosine")])
def test_search_matches_brute_force_through_compaction_and_restart(tmp_path, index, metric):
    rng = np.random.default_rng(0)
    app, c = serve(tmp_path / "d")
    c.create_collection(
        "c", dim=12, metric=metric, index=index, options={"efSearch": 200} if index == "hnsw" else {}
    )
    truth: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}
    coll = app.state.simlab.collections.get("c")
    for step in range(6):
        ids = [f"id{j}" for j in rng.choice(400, 80, replace=False)]
        x = rng.normal(size=(80, 12)).astype(np.float32)
        md = [{"g": int(rng.integers(3)), "tag": str(rng.choice(["a", "b"]))} for _ in ids]
        c.upsert("c", ids, vectors=x, metadata=md)
        truth.update(zip(ids, x, strict=True))
        meta.update(zip(ids, md, strict=True))
        gone = [f"id{j}" for j in rng.choice(400, 20, replace=False)]
        n = c.delete("c", gone)
        assert n == sum(g in truth for g in gone)
        for g in gone:
            truth.pop(g, None)
            meta.pop(g, None)
        if step in (1, 3):
            assert coll.compact(force=True)
        q = rng.normal(size=12).astype(np.float32)
        got = c.search("c", vectors=q, k=10)[0]
        ref_ids, ref_sc = reference(truth, q, 10, metric)
        assert [h["id"] for h in got] == ref_ids
        assert np.allclose([h["score"] for h in got], ref_sc, atol=1e-4)
        flt = {"g": {"in": [0, 2]}, "tag": "a"}
        got = c.search("c", vectors=q, k=5, filter=flt)[0]
        ref_ids, _ = reference(
            truth, q, 5, metric, lambda i: meta[i]["g"] in (0, 2) and meta[i]["tag"] == "a"
        )
        assert [h["id"] for h in got] == ref_ids
        assert all(h["metadata"] == meta[h["id"]] for h in got)
    assert c.collections()[0]["count"] == len(truth)
    app.state.simlab.collections.close()
    # restart: snapshot + replay of the rows written after it
    app2, c2 = serve(tmp_path / "d")
    assert c2.collections()[0]["count"] == len(truth)
    q = rng.normal(size=12).astype(np.float32)
    assert [h["id"] for h in c2.search("c", vectors=q, k=10)[0]] == reference(truth, q, 10, metric)[0]
    by_id = c2.search("c", ids=[next(iter(truth))], k=3)[0]
    assert next(iter(truth)) not in [h["id"] for h in by_id] and len(by_id) == 3
    app2.state.simlab.collections.close()


def test_collection_lifecycle_and_errors(tmp_path):
    app, c = serve(tmp_path / "d")
    c.create_collection("a", dim=4)
    with pytest.raises(ServiceError) as e:
        c.create_collection("a", dim=4)
    assert e.value.status == 409
    with pytest.raises(DataError):
        c.create_collection("bad name!", dim=4)
    with pytest.raises(DataError):
        c.create_collection("b")  # neither dim nor model
    with pytest.raises(DimensionError):
        c.upsert("a", ["x"], vectors=[[1.0, 2.0]])
    with pytest.raises(DataError, match="duplicate"):
        c.upsert("a", ["x", "x"], vectors=np.ones((2, 4)))
    with pytest.raises(DataError, match="zero vector"):
        c.upsert("a", ["x"], vectors=np.zeros((1, 4)))
    with pytest.raises(UnknownKeyError):
        c.search("nope", vectors=np.ones(4))
    with pytest.raises(UnknownKeyError):
        c.search("a", ids=["missing"])
    with pytest.raises(DataError):
        c.search("a", vectors=np.ones(4), filter={"g": {"gt": 1}})
    assert c.search("a", vectors=np.ones(4)) == [[]]  # empty collection
    c.upsert("a", ["x"], vectors=np.ones((1, 4)), metadata=[{"m": 1}])
    got = c.fetch("a", ["x", "nope"])
    assert got[0]["metadata"] == {"m": 1} and np.allclose(got[0]["vector"], 0.5) and got[1] is None
    reader = Client("http://testserver", http=TestClient(app))
    assert reader.search("a", vectors=np.ones(4))[0][0]["id"] == "x"  # reads are open on loopback
    with pytest.raises(ServiceError) as e:
        reader.upsert("a", ["y"], vectors=np.ones((1, 4)))
    assert e.value.status == 401
    c.drop_collection("a")
    assert c.collections() == [] and not (tmp_path / "d" / "collections" / "a").exists()
    c.create_collection("a", dim=4)  # the name is free again
    assert c.collections()[0]["count"] == 0
    with pytest.raises(Conflict):
        app.state.simlab.collections.create("a", dim=4)


def test_protect_reads(tmp_path):
    app = create_app([], data_dir=tmp_path / "d", api_key="k", protect_reads=True, background=False)
    tc = TestClient(app)
    assert tc.get("/v1/collections").status_code == 401
    assert tc.get("/v1/collections", headers={"Authorization": "Bearer k"}).status_code == 200


def test_model_bound_collection(artifact, tmp_path):
    import simlab

    p = artifact("w2v")
    local = simlab.load(p)
    app, c = serve(tmp_path / "d", [p])
    info = c.create_collection("words", model="w2v")
    assert info["dim"] == 16 and info["model"] == "w2v"
    words = ["guitar", "piano", "song", "onion", "bread", "soup", "ball", "goal"]
    c.upsert("words", words, items=words, metadata=[{"n": i} for i in range(8)])
    hits = c.search("words", items=["band"], k=3)[0]
    ref = local.vectors.subset(words).most_similar(local.vectors["band"], k=3)
    assert [h["id"] for h in hits] == ref.keys
    with pytest.raises(DataError, match="give 'item'"):
        c.upsert("words", ["x"], vectors=np.ones((1, 16)))
    app.state.simlab.collections.close()
    # the model must be served for its collections to load
    app2 = create_app([], data_dir=tmp_path / "d", background=False)
    assert app2.state.simlab.collections.list() == []


def test_demo_mentions_the_explorer(artifact, tmp_path):
    import shutil

    from simlab.demo import serve_hint

    assert serve_hint(tmp_path) is None
    shutil.copytree(artifact("vecs"), tmp_path / "sec" / "vecs")
    (tmp_path / "other").mkdir()
    hint = serve_hint(tmp_path)
    assert hint.startswith("explore the models: simlab serve ") and str(tmp_path / "sec" / "vecs") in hint


def test_concurrent_searches_are_batched_with_identical_results(tmp_path):
    import asyncio

    from simlab.service.batching import SearchBatcher
    from simlab.service.collections import Collections

    cols = Collections(tmp_path / "d", {}, background=False)
    c = cols.create("c", dim=8)
    rng = np.random.default_rng(3)
    c.upsert([f"i{j}" for j in range(300)], rng.normal(size=(300, 8)), [{"g": j % 2} for j in range(300)])
    qs = rng.normal(size=(12, 8)).astype(np.float32)
    reqs = [(qs[i : i + 1], 5 if i % 3 else 7, {"g": 1} if i % 2 else None, [None]) for i in range(12)]
    reqs.append((np.stack([c.live.vector("i4"), c.live.vector("i9")]), 5, None, ["i4", "i9"]))
    calls = []
    search = c.search
    c.search = lambda *a, **kw: calls.append(len(a[0])) or search(*a, **kw)  # count the batched calls

    async def run():
        b = SearchBatcher()
        return await asyncio.gather(*(b.search(c, q, k, f, e) for q, k, f, e in reqs))

    got = asyncio.run(run())
    for (q, k, f, e), g in zip(reqs, got, strict=True):
        ref = search(q, k, f, e)
        assert [[h["id"] for h in r] for r in g] == [[h["id"] for h in r] for r in ref]
        assert np.allclose(
            [h["score"] for r in g for h in r], [h["score"] for r in ref for h in r], atol=1e-5
        )
    assert len(calls) == 4 and sum(calls) == 14  # 4 groups of (k, filter) instead of 13 searches
    cols.close()


def test_a_batch_waits_a_turn_of_the_loop_while_it_grows(tmp_path):
    """Queries arriving one turn of the event loop apart (their bytes read in the next turn) join one batch; a
    lone query is answered after at most two turns, alone."""
    import asyncio

    from simlab.service.batching import MAX_WAIT_TURNS, SearchBatcher
    from simlab.service.collections import Collections

    cols = Collections(tmp_path / "d", {}, background=False)
    c = cols.create("c", dim=4)
    c.upsert([f"i{j}" for j in range(20)], np.random.default_rng(0).normal(size=(20, 4)), [{}] * 20)
    calls = []
    search = c.search
    c.search = lambda *a, **kw: calls.append(len(a[0])) or search(*a, **kw)
    q = np.ones((1, 4), np.float32)

    async def later(b, turns):
        for _ in range(turns):
            await asyncio.sleep(0)
        return await b.search(c, q, 3, None, [None])

    async def run():
        b = SearchBatcher()
        await asyncio.gather(later(b, 0), later(b, 1))  # the second arrives a turn later: same batch
        await later(b, 0)  # alone
        return b

    asyncio.run(run())
    assert calls == [2, 1] and MAX_WAIT_TURNS >= 1
    cols.close()


def test_readers_do_not_wait_for_a_commit(tmp_path):
    """A search runs to completion while a writer is inside its (blocked) commit."""
    import threading

    from simlab.service.collections import Collections

    cols = Collections(tmp_path / "d", {}, background=False)
    c = cols.create("c", dim=4)
    c.upsert(["a", "b"], np.eye(4)[:2], [{}, {}])
    inside, release = threading.Event(), threading.Event()
    real = c.store.upsert

    def slow_upsert(*a):
        inside.set()
        release.wait(30)  # the commit "takes" until the reader is done
        return real(*a)

    c.store.upsert = slow_upsert
    w = threading.Thread(target=c.upsert, args=(["c"], np.eye(4)[2:3], [{}]))
    w.start()
    assert inside.wait(30)
    hits = c.search(np.eye(4, dtype=np.float32)[:1], 2)  # would deadlock if readers waited for the commit
    assert [h["id"] for h in hits[0]] == ["a", "b"]
    release.set()
    w.join(30)
    assert [h["id"] for h in c.search(np.eye(4, dtype=np.float32)[2:3], 1)[0]] == ["c"]
    cols.close()


def test_cli_refuses_a_public_address_without_key(monkeypatch, capsys):
    from simlab.cli import main
    from simlab.cli.serve import is_loopback, parse_artifacts

    monkeypatch.delenv("SIMLAB_API_KEY", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["serve", "--host", "0.0.0.0"])
    assert e.value.code == 1 and "needs --api-key" in capsys.readouterr().err
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    assert list(parse_artifacts(["a=x/y", "x/z"])) == ["a", "z"]


def test_damaged_snapshot_is_rebuilt_from_the_store(tmp_path):
    from simlab.service.collections import Collections

    rng = np.random.default_rng(5)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    cols = Collections(tmp_path / "d", {}, background=False)
    c = cols.create("c", dim=6, index="hnsw")
    c.upsert([f"i{j}" for j in range(50)], x, [{} for _ in range(50)])
    assert c.compact(force=True)
    c.delete(["i0"])
    cols.close()
    snaps = tmp_path / "d" / "collections" / "c" / "snapshots"
    (snaps / ".snap-9.tmp-crash").mkdir()  # a save cut short by a crash
    vec = next(p for p in (snaps / "snap-1").iterdir() if p.name != "simlab.json")
    vec.write_bytes(b"garbage")
    cols = Collections(tmp_path / "d", {}, background=False)
    c = cols.get("c")
    assert len(c.live) == 49 and not (snaps / ".snap-9.tmp-crash").exists()
    hits = c.search(x[1:2], 3)[0]
    assert hits[0]["id"] == "i1" and "i0" not in [h["id"] for h in hits]
    cols.close()


def test_a_failed_snapshot_save_is_retried(tmp_path, monkeypatch):
    import simlab.service.collections as C

    cols = C.Collections(tmp_path / "d", {}, background=False)
    c = cols.create("c", dim=4)
    c.upsert(["a"], np.ones((1, 4)), [{}])
    real = C.save_snapshot
    monkeypatch.setattr(C, "save_snapshot", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        c.compact(force=True)
    assert c.live.pending == 0 and not (tmp_path / "d/collections/c/snapshots/snapshot.json").exists()
    monkeypatch.setattr(C, "save_snapshot", real)
    c._last_write = 0.0  # idle
    assert c.compact()  # nothing pending, but the snapshot is still owed
    assert (tmp_path / "d/collections/c/snapshots/snapshot.json").exists() and not c.compact()
    cols.close()
