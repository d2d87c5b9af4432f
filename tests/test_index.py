"""Conformance tests of the Index backends: recall against exact search, persistence, errors, removal."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import simlab
from simlab import metrics as M
from simlab.errors import (
    ConfigError,
    DataError,
    DimensionError,
    SimlabError,
    UnknownKeyError,
    UnknownNameError,
)
from simlab.index import INDEX_METRICS, Index, recall_at_k
from simlab.registry import INDEXES, KINDS

N, DIM, NQ = 4000, 32, 100

# every faiss configuration checked, with its recall@10 floor at its saved settings
FAISS_CASES = [("HNSW32", {}, 0.95), ("IVF64,Flat", {}, 0.95), ("Flat", {}, 0.999), ("IVF32,PQ16", {}, 0.5)]


@pytest.fixture
def data(clustered_data):
    x = clustered_data(N, DIM, n_clusters=20, seed=1)
    q = clustered_data(NQ, DIM, n_clusters=20, seed=2)
    return [f"w{i}" for i in range(N)], x, q


@pytest.fixture
def exact_cos(data):
    keys, x, _ = data
    return Index("exact", "cosine").add(keys, x)


def brute(x, q, k, metric):
    """Reference top-k by plain numpy (float64)."""
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    if metric == "cosine":
        s = (q64 / np.linalg.norm(q64, axis=1, keepdims=True)) @ (
            x64 / np.linalg.norm(x64, axis=1, keepdims=True)
        ).T
    elif metric == "dot":
        s = q64 @ x64.T
    else:
        s = -np.sqrt(((q64[:, None, :] - x64[None, :, :]) ** 2).sum(-1))
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(s, order, 1)


def test_import_is_light():
    code = (
        "import simlab, sys; simlab.Index; import simlab.index; "
        "assert 'faiss' not in sys.modules, 'faiss loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registered():
    assert {"exact", "faiss"} <= set(INDEXES.names())
    assert "index" in KINDS.names()
    assert simlab.Index is Index


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_exact_matches_brute_force(data, metric):
    keys, x, q = data
    idx = Index("exact", metric).add(keys, x)
    hits = idx.search(q, k=10)
    order, scores = brute(x, q, 10, metric)
    assert hits.scores.shape == (NQ, 10)
    got_rows = np.array([[int(kk[1:]) for kk in row] for row in hits.keys])
    agree = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got_rows, order, strict=True)])
    assert agree > 0.995  # float32 vs float64 may swap near-ties at the boundary
    np.testing.assert_allclose(hits.scores, scores, rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(hits.scores, axis=1) <= 0)


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_exact_pruning_is_exact(data, metric, tmp_path):
    keys, x, q = data
    plain = Index("exact", metric, prune=False).add(keys, x)
    pruned = Index("exact", metric, prune=True).add(keys, x)  # groups of the 4000 rows: pruning forced on
    _, scores = brute(x, q, 10, metric)

    def check(a, b):
        assert np.mean([len(set(u) & set(v)) / 10 for u, v in zip(a.keys, b.keys, strict=True)]) > 0.995
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-5)

    hp = pruned.search(q, 10)
    assert len(pruned._backend._cent) >= 8  # the pruning structure was built
    check(hp, plain.search(q, 10))
    np.testing.assert_allclose(hp.scores, scores, rtol=1e-4, atol=1e-4)
    # rows added after grouping (scanned tail), then removals
    extra = x[:300] * 0.5 + 0.1
    for idx in (plain, pruned):
        idx.add([f"x{i}" for i in range(300)], extra)
    check(pruned.search(q, 10), plain.search(q, 10))
    gone = keys[::3]
    for idx in (plain, pruned):
        idx.remove(gone)
    check(pruned.search(q, 10), plain.search(q, 10))
    pruned.save(tmp_path / "p")
    back = Index.load(tmp_path / "p")
    before, after = pruned.search(q, 10), back.search(q, 10)
    assert after.keys == before.keys
    np.testing.assert_array_equal(after.scores, before.scores)


def test_exact_pruning_on_structureless_data():
    r = np.random.default_rng(5)
    x = r.normal(size=(3000, 24)).astype(np.float32)
    q = r.normal(size=(40, 24)).astype(np.float32)
    a = Index("exact", "cosine", prune=True).add(range(3000), x).search(q, 7)
    b = Index("exact", "cosine", prune=False).add(range(3000), x).search(q, 7)
    assert a.keys == b.keys


def test_exact_matches_sklearn(data):
    from sklearn.neighbors import NearestNeighbors

    keys, x, q = data
    nn = NearestNeighbors(n_neighbors=10, algorithm="brute", metric="euclidean").fit(x)
    dist, rows = nn.kneighbors(q)
    hits = Index("exact", "euclidean").add(keys, x).search(q, 10)
    np.testing.assert_allclose(-hits.scores, dist, rtol=1e-4, atol=1e-4)
    got = np.array([[int(kk[1:]) for kk in row] for row in hits.keys])
    assert np.mean(got == rows) > 0.99


def test_exact_budget_and_ties():
    # duplicated rows: ties are broken by the lower index, whatever the block size
    x = np.repeat(np.eye(4, dtype=np.float32), 5, axis=0)
    idx = Index("exact", "dot", budget_bytes=64).add(range(20), x)
    hits = idx.search(np.eye(4, dtype=np.float32)[:1], k=5)
    assert hits.keys == [[0, 1, 2, 3, 4]]
    i, _s = M.topk(np.eye(4)[:2], x, 7, "dot", budget_bytes=16)
    assert i[0].tolist() == [0, 1, 2, 3, 4, 5, 6] and i[1].tolist()[:5] == [5, 6, 7, 8, 9]


def test_topk_matches_full_sort():
    r = np.random.default_rng(3)
    x = r.normal(size=(3000, 16)).astype(np.float32)
    q = r.normal(size=(37, 16)).astype(np.float32)
    for metric in ("cosine", "dot", "euclidean", "manhattan"):
        full = M.pairwise(q, x, metric)
        ref = np.argsort(-full, axis=1, kind="stable")[:, :12]
        for budget in (4096, 1 << 20, M.DEFAULT_BUDGET):
            i, s = M.topk(q, x, 12, metric, budget_bytes=budget)
            assert (i == ref).mean() > 0.99, (metric, budget)
            np.testing.assert_allclose(s, np.take_along_axis(full, i, 1), rtol=1e-5, atol=1e-5)
            assert np.all(np.diff(s, axis=1) <= 0)


@pytest.mark.parametrize(("factory", "opts", "floor"), FAISS_CASES)
def test_faiss_recall_against_exact(data, exact_cos, factory, opts, floor):
    keys, x, q = data
    idx = Index("faiss", "cosine", factory=factory, **opts).add(keys, x)
    r = recall_at_k(idx, exact_cos, q, k=10)
    assert r >= floor, (factory, r)


@pytest.mark.parametrize("metric", ["euclidean", "dot"])
def test_faiss_metrics_scores_follow_convention(data, metric):
    keys, x, q = data
    ex = Index("exact", metric).add(keys, x)
    fl = Index("faiss", metric, factory="Flat").add(keys, x)
    a, b = ex.search(q, 5), fl.search(q, 5)
    assert recall_at_k(fl, ex, q, 5) > 0.99
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-3, atol=1e-3)
    if metric == "euclidean":
        assert np.all(b.scores <= 0)


@pytest.mark.parametrize(
    "backend,opts", [("exact", {}), ("faiss", {"factory": "HNSW32"}), ("faiss", {"factory": "IVF32,PQ8"})]
)
def test_save_load_identical(tmp_path, data, backend, opts):
    keys, x, q = data
    idx = Index(backend, "cosine", **opts).add(keys, x)
    idx.remove(keys[:10])
    if backend == "faiss" and "HNSW" in opts["factory"]:
        idx.set(efSearch=40)
    before = idx.search(q, 10)
    idx.save(tmp_path / "idx")
    loaded = simlab.load(tmp_path / "idx")
    assert isinstance(loaded, Index) and len(loaded) == len(idx) == N - 10
    assert loaded.settings == idx.settings
    after = loaded.search(q, 10)
    assert after.keys == before.keys
    np.testing.assert_array_equal(after.scores, before.scores)
    # still usable after load
    loaded.add(["new"], x[:1] + 1)
    assert "new" in loaded


@pytest.mark.parametrize(
    "backend,opts", [("exact", {}), ("faiss", {"factory": "HNSW32"}), ("faiss", {"factory": "IVF32,Flat"})]
)
def test_batch_equals_one_by_one(data, backend, opts):
    keys, x, q = data
    idx = Index(backend, "cosine", **opts).add(keys, x)
    batch = idx.search(q[:20], 10)
    for i in range(20):
        one = idx.search(q[i], 10)  # a (dim,) query gives single-query Hits
        assert one.keys == batch.keys[i]
        np.testing.assert_allclose(one.scores, batch.scores[i], rtol=1e-5, atol=1e-6)


def test_dimension_mismatch(data):
    keys, x, _q = data
    idx = Index("exact", dim=DIM)
    with pytest.raises(DimensionError, match="dimension 5"):
        idx.add(["a"], np.ones((1, 5)))
    idx.add(keys[:10], x[:10])
    with pytest.raises(DimensionError, match="dimension"):
        idx.search(np.ones((2, DIM + 1)), 3)
    with pytest.raises(DimensionError):
        idx.add(["a", "b"], np.ones((3, DIM)))


def test_unknown_names_list_valid():
    with pytest.raises(UnknownNameError) as e:
        Index("exact", metric="cosinus")
    for name in INDEX_METRICS:
        assert name in str(e.value)
    with pytest.raises(UnknownNameError) as e:
        Index("annoy")
    assert "exact" in str(e.value) and "faiss" in str(e.value)
    with pytest.raises(UnknownNameError, match="euclidean"):
        Index("exact", metric="manhattan")  # a metric, but not one an index can rank by
    with pytest.raises(ConfigError, match="factory"):
        Index("faiss", "cosine", factroy="HNSW32")
    with pytest.raises(ConfigError, match="factory string"):
        Index("faiss", "cosine", dim=8, factory="NotAnIndex99")
    assert Index("exact", metric="l2").metric == "euclidean"


def test_errors(data):
    keys, x, _ = data
    with pytest.raises(DataError, match="empty"):
        Index("exact", dim=4).search(np.ones((1, 4)), 3)
    idx = Index("exact").add(keys[:5], x[:5])
    with pytest.raises(UnknownKeyError, match="nope"):
        idx.remove(["nope"])
    assert len(idx) == 5
    with pytest.raises(DataError, match="already"):
        idx.add(keys[:1], x[:1])
    with pytest.raises(ConfigError, match="k must"):
        idx.search(x[:1], 0)
    with pytest.raises(DataError, match="NaN"):
        idx.search(np.full((1, DIM), np.nan), 3)
    with pytest.raises(ConfigError, match="efSearch"):
        idx.search(x[:1], 3, efSearch=10)
    f = Index("faiss", factory="IVF64,Flat", dim=DIM)
    with pytest.raises(DataError, match="at least 64"):
        f.add(keys[:10], x[:10])
    assert isinstance(DataError("x"), SimlabError)
    for bad in ({"efSearch": "abc"}, {"nprobe": 0}, {"factory": ""}):
        with pytest.raises(ConfigError, match="must be"):
            Index("faiss", **bad)
    h = Index("faiss", factory="HNSW8").add(keys[:50], x[:50])
    with pytest.raises(ConfigError, match="integer"):
        h.search(x[:1], 3, efSearch="many")
    with pytest.raises(ConfigError, match="positive"):
        h.set(efSearch=0)


@pytest.mark.parametrize(
    "backend,opts",
    [
        ("exact", {}),
        ("faiss", {"factory": "HNSW32"}),
        ("faiss", {"factory": "IVF32,Flat"}),
        ("faiss", {"factory": "Flat"}),
    ],
)
def test_remove(data, backend, opts):
    keys, x, q = data
    idx = Index(backend, "cosine", **opts).add(keys, x)
    top = idx.search(q[:5], 3).keys
    gone = sorted({kk for row in top for kk in row})
    idx.remove(gone)
    assert len(idx) == N - len(gone)
    assert not any(g in idx for g in gone)
    after = idx.search(q[:5], 10).keys
    assert not set(gone) & {kk for row in after for kk in row}
    with pytest.raises(UnknownKeyError):
        idx.remove([gone[0]])
    # a removed key can be added again
    idx.add([gone[0]], x[int(gone[0][1:])][None, :])
    assert idx.search(x[int(gone[0][1:])], 1).keys == [gone[0]]


@pytest.mark.parametrize("factory", ["HNSW16", "HNSW16,SQ8"])
def test_compact_drops_tombstones(data, tmp_path, factory):
    keys, x, q = data
    idx = Index("faiss", "cosine", factory=factory).add(keys, x)
    idx.set(efSearch=128)
    gone = keys[::3]
    idx.remove(gone)
    assert idx.dead == len(gone) and idx._backend.ntotal == N  # HNSW cannot delete: the graph holds them
    before = idx.search(q, 10)
    assert idx.compact() is idx
    assert idx.dead == 0 and idx._backend.ntotal == N - len(gone) and len(idx) == N - len(gone)
    assert idx.keys == [k for k in keys if k not in set(gone)] and idx.settings == {"efSearch": 128}
    after = idx.search(q, 10)
    # a rebuilt graph finds (almost) the same neighbours, and never a removed key
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(before.keys, after.keys, strict=True)])
    assert overlap >= 0.9 and not set(gone) & {k for row in after.keys for k in row}
    np.testing.assert_allclose(idx.vector(keys[1]), x[1] / np.linalg.norm(x[1]), atol=0.02)
    idx.save(tmp_path / "idx")
    assert Index.load(tmp_path / "idx").search(q[:3], 5).keys == idx.search(q[:3], 5).keys
    assert Index("exact").add(keys[:5], x[:5]).remove(keys[:2]).compact().dead == 0  # no-op elsewhere


def test_override_changes_recall(data, exact_cos):
    keys, x, q = data
    h = Index("faiss", "cosine", factory="HNSW16", efConstruction=40).add(keys, x)
    low, high = recall_at_k(h, exact_cos, q, 10, efSearch=10), recall_at_k(h, exact_cos, q, 10, efSearch=256)
    assert high > low and high >= 0.97
    assert h.settings == {"efSearch": 64}  # the override did not change the saved setting
    ivf = Index("faiss", "cosine", factory="IVF64,Flat").add(keys, x)
    low, high = recall_at_k(ivf, exact_cos, q, 10, nprobe=1), recall_at_k(ivf, exact_cos, q, 10, nprobe=64)
    assert high > low and high > 0.999
    with pytest.raises(ConfigError, match="nprobe"):
        ivf.search(q, 3, efSearch=3)
    ivf.set(nprobe=2)
    assert ivf.settings == {"nprobe": 2}


def test_vectors_integration(data):
    keys, x, _ = data
    from simlab.vectors import Vectors

    v = Vectors(keys, x)
    idx = Index.from_vectors(v, "faiss", "cosine", factory="HNSW32")
    a = v.most_similar("w7", k=5)
    b = v.most_similar("w7", k=5, index=idx)
    assert len(set(a.keys) & set(b.keys)) >= 4
    assert "w7" not in b.keys
    assert idx.most_similar("w7", 5).keys == b.keys


def test_vector_roundtrip(data):
    keys, x, _ = data
    for idx in (
        Index("exact", "dot").add(keys[:300], x[:300]),
        Index("faiss", "dot", factory="HNSW8").add(keys[:300], x[:300]),
        Index("faiss", "dot", factory="IVF4,Flat").add(keys[:300], x[:300]),
    ):
        np.testing.assert_allclose(idx.vector("w42"), x[42], rtol=1e-6)


def test_demo_section(tmp_path):
    from simlab.demo import run_demo

    res = run_demo(tmp_path, quick=True, sections=["core"])
    sec = res.sections[0]
    names = {r["index"] for r in sec.rows}
    assert any("exact" in n for n in names) and any("HNSW" in n for n in names)
    assert sec.figures and sec.figures[0][1][:4] == b"\x89PNG"
    exact = next(r for r in sec.rows if r["index"].startswith("exact"))
    assert exact["recall@10"] == 1.0
    assert (tmp_path / "report.html").exists()


def test_backends_declare_what_the_index_reads():
    from simlab.index.common import Backend

    for name in ("exact", "auto", "hnswlib", "usearch", "faiss", "scann"):
        cls = INDEXES.get(name)
        assert issubclass(cls, Backend), name
        assert cls.metrics and all(m in M.METRICS for m in cls.metrics), name
        assert all(M.get_metric(m).kernel in (M.KERNEL_IP, M.KERNEL_L2) for m in cls.metrics), name
        assert isinstance(cls.shown_options, tuple) and isinstance(dict(cls.candidate_options), dict)
    assert INDEXES.get("exact").normalizes_rows and INDEXES.get("exact").overridable == ()
    assert INDEXES.get("hnswlib").overridable == ("efSearch",)
    assert INDEXES.get("faiss").shown_options == ("factory",)
    with pytest.raises(UnknownNameError, match="sqeuclidean"):
        Index("exact", metric="manhattan")


def test_index_from_vectors_equals_an_index_built_by_hand():
    from simlab.vectors import Vectors

    rng = np.random.default_rng(5)
    v = Vectors([f"k{i}" for i in range(40)], rng.normal(size=(40, 6)).astype(np.float32))
    a = Index.from_vectors(v, metric="euclidean")
    b = Index("exact", "euclidean", dim=6).add(v.keys, v.matrix)
    q = rng.normal(size=(3, 6)).astype(np.float32)
    assert a.search(q, 5).keys == b.search(q, 5).keys and a.metric == "euclidean" and len(a) == 40
    assert v.most_similar("k1", k=4, index=a).keys == v.most_similar("k1", k=4, metric="euclidean").keys
