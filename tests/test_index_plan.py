"""The exact index's plan (scan engine, pruning) is decided from the data, saved, shown; results stay
exact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simlab._topk import dot_topk
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


@pytest.mark.parametrize("engine", ["numpy", "faiss", "partition"])
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
