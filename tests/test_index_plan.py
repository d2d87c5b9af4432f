"""The exact index's plan (scan engine, pruning) is decided from the data, saved, shown; results stay
exact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simlab._topk import dot_topk
from simlab.errors import DataError
from simlab.index import Index


def _brute(x, q, k):
    s = q @ x.T
    order = np.lexsort((np.broadcast_to(np.arange(len(x)), s.shape), -s), axis=1)[:, :k]
    return order, np.take_along_axis(s, order, 1)


@pytest.mark.parametrize("nq", [1, 3, 700])
@pytest.mark.parametrize("scan", ["numpy", "partition"])
def test_dot_topk_matches_brute_with_ties(nq, scan):
    from simlab.index.scan import SCANS

    r = np.random.default_rng(0)
    x = r.integers(-3, 4, size=(5000, 12)).astype(np.float32)  # small integers: exact sums, many exact ties
    x[4000:] = x[:1000]  # duplicates: ties must keep the lower row
    q = r.integers(-3, 4, size=(nq, 12)).astype(np.float32)
    rows, sc = dot_topk(q, x, 15) if scan == "numpy" else SCANS[scan](q, x, 15, 1 << 27)
    ref_rows, ref_sc = _brute(x.astype(np.float64), q.astype(np.float64), 15)
    np.testing.assert_array_equal(sc, ref_sc)
    np.testing.assert_array_equal(rows, ref_rows)


@pytest.mark.parametrize(("n", "nq"), [(3000, 1), (70_000, 1), (3000, 1500), (700, 40)])
def test_faiss_scan_matches_numpy_scan(n, nq):
    """The FAISS engines' paths (one GEMV + heap for a query, 1,024-query blocks for a batch, several row
    blocks; FAISS's own kNN on row-major rows) give the numpy scan's rows and scores (no exact ties in
    Gaussian data)."""
    pytest.importorskip("faiss")
    from simlab.index.scan import SINGLE_BLOCK, faiss_scan, knn_scan, numpy_scan

    r = np.random.default_rng(3)
    x = np.asfortranarray(r.normal(size=(n, 8)).astype(np.float32))  # column-major: any layout works
    q = r.normal(size=(nq, 8)).astype(np.float32)
    assert (n > SINGLE_BLOCK) == (n == 70_000)
    ref_rows, ref_sc = numpy_scan(q, x, 10, 1 << 27)
    for rows, sc in (faiss_scan(q, x, 10, 1 << 27), knn_scan(q, np.ascontiguousarray(x), 10, 1 << 27)):
        np.testing.assert_array_equal(rows, ref_rows)
        np.testing.assert_allclose(sc, ref_sc, rtol=1e-6, atol=1e-6)


def test_search_fast_paths_keep_results():
    """A search whose top k has exact ties sorts them by insertion order; one without skips the sort: both
    give what the full sort gives, batch and one query."""
    r = np.random.default_rng(4)
    x = r.integers(-2, 3, size=(2000, 6)).astype(np.float32)  # many exact ties
    x[1500:] = x[:500]
    q = r.integers(-2, 3, size=(30, 6)).astype(np.float32)
    want, want_sc = _brute(x.astype(np.float64), q.astype(np.float64), 10)
    # every engine and plan keeps the lower id of rows tied at the k-th place (FAISS's heaps keep any of them,
    # grouping reorders the rows): a distributed join gets the same rows whichever plan a worker uses
    for engine, prune in (("numpy", False), ("faiss", False), ("knn", False), ("numpy", True), ("knn", True)):
        idx = Index("exact", "dot", engine=engine, prune=prune, prune_min=64).add(range(2000), x)
        got = idx.search(q, 10)
        np.testing.assert_array_equal(got.scores, want_sc.astype(np.float32))
        keys = np.array(got.keys)
        tied = got.scores[:, 1:] == got.scores[:, :-1]
        assert (keys[:, 1:][tied] > keys[:, :-1][tied]).all()  # equal scores: insertion order
        np.testing.assert_array_equal(keys, want)
        for i in range(5):
            assert idx.search(q[i], 10).keys == got.keys[i]
    g = r.normal(size=(2000, 6)).astype(np.float32)
    plain = Index("exact", "cosine", engine="faiss", prune=False).add(range(2000), g)
    ref = Index("exact", "cosine", engine="numpy", prune=False).add(range(2000), g)
    qg = r.normal(size=(30, 6)).astype(np.float32)
    assert plain.search(qg, 10).keys == ref.search(qg, 10).keys
    assert plain.search(qg[0], 1).keys == ref.search(qg[0], 1).keys
    with pytest.raises(DataError, match="NaN"):
        plain.search(np.full(6, np.nan, np.float32), 3)
    big = np.full((1, 6), 1e30, np.float32)  # finite values whose squared norm overflows: still searched
    assert len(plain.search(big, 3).keys[0]) == 3


@pytest.mark.parametrize("engine", ["numpy", "faiss", "knn", "partition"])
@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_scan_engines_are_exact(engine, metric):
    r = np.random.default_rng(1)
    x = r.normal(size=(3000, 16)).astype(np.float32)
    q = r.normal(size=(50, 16)).astype(np.float32)
    idx = Index("exact", metric, engine=engine, prune=False).add(range(3000), x)
    ref = Index("exact", metric, engine="numpy", prune=False)
    if metric == "cosine":
        xn, qn = x / np.linalg.norm(x, axis=1, keepdims=True), q / np.linalg.norm(q, axis=1, keepdims=True)
        want, _ = _brute(xn.astype(np.float64), qn.astype(np.float64), 10)
    else:
        d = ((q[:, None, :].astype(np.float64) - x[None]) ** 2).sum(-1)
        want = np.argsort(d, axis=1, kind="stable")[:, :10]
    got = np.array(idx.search(q, 10).keys)
    assert (got == want).mean() > 0.99
    one = idx.search(q[0], 10)
    assert one.keys == list(got[0])
    assert idx._backend.plan["engine"] == {"batch": engine, "single": engine}
    assert ref is not None


def test_plan_saved_and_shown(tmp_path):
    from typer.testing import CliRunner

    from simlab.cli.main import app

    r = np.random.default_rng(2)
    centres = r.normal(size=(30, 16)).astype(np.float32)
    x = centres[r.integers(0, 30, 6000)] + 0.05 * r.normal(size=(6000, 16)).astype(np.float32)
    idx = Index("exact", "cosine").add(range(6000), x)
    plain = Index("exact", "cosine", prune=False).add(range(6000), x)
    q = x[:40] + 0.01
    assert idx.search(q, 10).keys == plain.search(q, 10).keys
    plan = idx._backend.plan
    assert plan["rows"] == 6000 and plan["probe_queries"] > 0
    assert 0.0 <= plan["skip_rate"] <= 1.0 and set(plan["prune"]) == {"batch", "single"}
    idx.save(tmp_path / "i")
    back = Index.load(tmp_path / "i")
    assert back._backend.plan == json.loads(json.dumps(plan))
    assert back.search(q, 10).keys == plain.search(q, 10).keys
    out = CliRunner().invoke(app, ["info", str(tmp_path / "i")])
    assert out.exit_code == 0 and "config.plan" in out.output and "skip_rate" in out.output


@pytest.mark.parametrize("prune", [True, False])
def test_options_that_fix_engine_and_pruning_are_not_probed(prune):
    """A plan decided elsewhere (a distributed join pins one for all its shards) is used as given: no probe,
    the rows grouped when pruning is on, the same results as the probed index."""
    r = np.random.default_rng(3)
    centres = r.normal(size=(20, 16)).astype(np.float32)
    x = centres[r.integers(0, 20, 4000)] + 0.1 * r.normal(size=(4000, 16)).astype(np.float32)
    q = x[:50] + 0.01
    pinned = Index("exact", "cosine", engine="numpy", prune=prune).add(range(4000), x)
    probed = Index("exact", "cosine").add(range(4000), x)
    got, want = pinned.search(q, 10), probed.search(q, 10)
    assert got.keys == want.keys
    np.testing.assert_array_equal(got.scores, want.scores)
    plan = pinned._backend.plan
    assert plan["probe_queries"] == 0 and plan["seconds"] == {}
    assert plan["engine"] == {"batch": "numpy", "single": "numpy"}
    assert plan["prune"] == {"batch": prune, "single": prune}
    assert (pinned._backend._n_grouped == 4000) is prune
    assert probed._backend.plan["probe_queries"] > 0
