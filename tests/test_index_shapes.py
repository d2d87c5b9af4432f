"""Every backend installed answers one query and a batch with the documented shapes (a usearch one-query call
once failed: usearch answers one query with another result type), and the exact index's fast paths give FAISS
flat's results."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from simlab.index import Index

N, DIM = 600, 12

BACKENDS = [
    ("exact", {}, None),
    ("exact", {"engine": "partition", "prune": False}, None),
    ("faiss", {"factory": "Flat"}, "faiss"),
    ("faiss", {"factory": "HNSW16"}, "faiss"),
    ("hnswlib", {}, "hnswlib"),
    ("usearch", {}, "usearch"),
    ("scann", {}, "scann"),
    ("auto", {"sample": 400}, "faiss"),
]


@pytest.fixture(scope="module")
def data():
    r = np.random.default_rng(11)
    centres = r.normal(size=(8, DIM)).astype(np.float32)
    x = centres[r.integers(0, 8, N)] + 0.3 * r.normal(size=(N, DIM)).astype(np.float32)
    q = centres[r.integers(0, 8, 5)] + 0.3 * r.normal(size=(5, DIM)).astype(np.float32)
    return [f"k{i}" for i in range(N)], x, q


@pytest.mark.parametrize(("backend", "opts", "needs"), BACKENDS, ids=lambda v: str(v))
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_one_query_and_batch_shapes(data, backend, opts, needs, metric):
    if needs is not None and importlib.util.find_spec(needs) is None:
        pytest.skip(f"{needs} not installed")
    keys, x, q = data
    idx = Index(backend, metric, **opts).add(keys, x)
    for k in (1, 7):
        one = idx.search(q[0], k)  # (dim,): k keys, (k,) scores
        assert isinstance(one.keys, list) and len(one.keys) == k and one.scores.shape == (k,)
        assert all(key in idx for key in one.keys)
        row = idx.search(q[:1], k)  # (1, dim): one list of k, (1, k)
        assert len(row.keys) == 1 and len(row.keys[0]) == k and row.scores.shape == (1, k)
        for nq in (2, 5):  # two queries: the exact index's one-at-a-time plan; five: its batch plan
            b = idx.search(q[:nq], k)
            assert len(b.keys) == nq and all(len(kk) == k for kk in b.keys) and b.scores.shape == (nq, k)
            assert b.scores.dtype == np.float32 and np.isfinite(b.scores).all()
            assert (np.diff(b.scores, axis=1) <= 1e-6).all()  # higher = more similar, best first
        if backend in ("exact", "auto") or opts.get("factory") == "Flat":
            assert one.keys == row.keys[0] == idx.search(q, k).keys[0]
        one_list = idx.search(q[0].tolist(), k)  # a plain list is one query too
        assert len(one_list.keys) == k and one_list.scores.shape == (k,)


def _faiss_flat(x, q, k):
    faiss = pytest.importorskip("faiss")
    xn, qn = x.copy(), q.copy()
    faiss.normalize_L2(xn)
    faiss.normalize_L2(qn)
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(xn)
    return flat.search(qn, k)


@pytest.mark.parametrize("n", [300, 3000])
def test_exact_default_matches_faiss_flat(n):
    """The default exact index (whatever plan its probe picks, batch and one at a time) returns FAISS flat's
    ids in FAISS's order, scores within float rounding (Gaussian data: no exact ties)."""
    r = np.random.default_rng(n)
    x = r.normal(size=(n, 24)).astype(np.float32)
    q = r.normal(size=(40, 24)).astype(np.float32)
    ref_s, ref = _faiss_flat(x, q, 10)
    idx = Index("exact", "cosine").add(range(n), x)
    got = idx.search(q, 10)
    same = np.array(got.keys) == ref
    np.testing.assert_allclose(got.scores, ref_s, atol=2e-6)
    # ids equal except where two neighbours' scores are equal to within float rounding
    assert same.mean() > 0.99 and (np.abs(np.diff(ref_s, axis=1)).min() < 1e-5 or same.all())
    for i in range(len(q)):
        one = idx.search(q[i], 10)
        np.testing.assert_allclose(one.scores, ref_s[i], atol=2e-6)
        assert set(one.keys) == set(ref[i].tolist()) or np.abs(np.diff(ref_s[i])).min() < 1e-5


def test_ungrouped_after_probe_keeps_results_and_ids():
    """When the probe keeps no pruning the rows go back to insertion order (the plain scans are faster there);
    results stay those of the never-grouped index, and removal and adding afterwards keep the ids right."""
    r = np.random.default_rng(3)
    centres = r.normal(size=(30, 16)).astype(np.float32)
    x = centres[r.integers(0, 30, 5000)] + 0.05 * r.normal(size=(5000, 16)).astype(np.float32)
    q = x[:50] + 0.01
    idx = Index("exact", "cosine").add(range(5000), x)
    ref = Index("exact", "cosine", prune=False, engine="numpy").add(range(5000), x)
    assert idx.search(q, 10).keys == ref.search(q, 10).keys
    b = idx._backend
    if not (b.plan["prune"]["batch"] or b.plan["prune"]["single"]):
        assert b._n_grouped == 0 and b._ident and (b._ids[: b._n] == np.arange(5000)).all()
    idx.remove(list(range(0, 5000, 7)))
    ref.remove(list(range(0, 5000, 7)))
    idx.add(range(5000, 5100), x[:100] * 2)
    ref.add(range(5000, 5100), x[:100] * 2)
    assert idx.search(q, 10).keys == ref.search(q, 10).keys
    assert [idx.search(v, 5).keys for v in q[:5]] == [ref.search(v, 5).keys for v in q[:5]]
