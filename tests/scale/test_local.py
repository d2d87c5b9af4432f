"""The scale jobs on the local engine: same results as the one-process functions they partition."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from simlab.errors import ConfigError, DataError

# -- embed ---------------------------------------------------------------------------------------------------


def test_embed_text_shards_equal_embed_file(d2v, lee, tmp_path):
    from simlab.scale import embed

    model, path = d2v
    res = embed(path, lee, tmp_path / "out", shard_bytes=20_000)  # ~19 byte-range shards
    assert res.shards > 10 and res.rows == 300 and res.dim == 16
    got, ref = res.to_vectors(), model.embed_file(lee)
    assert got.keys == ref.keys  # "<file>:<line>" as TextCorpus numbers them, across shard boundaries
    np.testing.assert_array_equal(got.matrix, ref.matrix)


@pytest.mark.parametrize("name", ["docs.jsonl", "docs.tsv", "docs.parquet", "docs.tsv.gz"])
def test_embed_formats_with_id_field(d2v, corpus_files, tmp_path, name):
    from simlab.scale import embed

    model, _ = d2v
    src = corpus_files["dir"] / name
    if name.endswith(".gz"):
        with (corpus_files["dir"] / "docs.tsv").open("rb") as f, gzip.open(src, "wb") as g:
            g.write(f.read())
    res = embed(model, src, tmp_path / "out", id_field="id", shard_bytes=30_000, shard_rows=50)
    texts = corpus_files["texts"]
    assert res.rows == len(texts) - 1 and res.skipped == 1  # the row without a known word is left out
    v = res.to_vectors()
    assert v.keys == [f"d{i}" for i in range(len(texts) - 1)]
    np.testing.assert_allclose(v["d7"], model.infer(texts[7]), rtol=0, atol=0)


def test_embed_resumes_and_refuses_another_job(d2v, lee, tmp_path):
    from simlab.scale import embed

    _, path = d2v
    out = tmp_path / "out"
    first = embed(path, lee, out, shard_bytes=40_000)
    parts = sorted(p for p in out.iterdir() if p.name.startswith("part-"))
    (out / "_done.json").unlink()  # an interrupted job: one part missing, the others kept
    parts[3].unlink()
    before = {p.name: p.stat().st_mtime_ns for p in parts if p.exists()}
    again = embed(path, lee, out, shard_bytes=40_000)
    assert (again.rows, again.dim) == (first.rows, first.dim)
    assert {p.name: p.stat().st_mtime_ns for p in parts if p.name in before} == before  # not rewritten
    np.testing.assert_array_equal(again.to_vectors().matrix, first.to_vectors().matrix)
    with pytest.raises(ConfigError, match="another job"):
        embed(path, lee, out, shard_bytes=10_000)


def test_embed_bad_inputs(d2v, tmp_path):
    from simlab.scale import embed

    _, path = d2v
    with pytest.raises(DataError):
        embed(path, tmp_path / "missing.txt", tmp_path / "o")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "the"}\n{"txt": 1}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        embed(path, bad, tmp_path / "o2")
    with pytest.raises(ConfigError, match="unknown engine"):
        embed(path, bad, tmp_path / "o3", engine="spark")


# -- join ----------------------------------------------------------------------------------------------------


def _brute(a, b, k, metric):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if metric == "cosine":
        a64 = a64 / np.linalg.norm(a64, axis=1, keepdims=True)
        b64 = b64 / np.linalg.norm(b64, axis=1, keepdims=True)
        s = a64 @ b64.T
    elif metric == "dot":
        s = a64 @ b64.T
    else:
        s = -np.sqrt(((a64[:, None, :] - b64[None]) ** 2).sum(-1))
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(s, order, 1)


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_exact_join_is_exact_across_shards(vector_sets, tmp_path, metric):
    from simlab.scale import join

    a, b, d = vector_sets["a"], vector_sets["b"], vector_sets["dir"]
    res = join(
        d / "a.parquet", d / "b.parquet", 7, out=tmp_path / "j", metric=metric, block_rows=300, shard_rows=400
    )
    assert (res.shards, res.blocks, res.rows, res.k) == (3, 3, 700, 7)
    ids, nb, sc = res.read()
    assert list(ids) == [f"a{i}" for i in range(700)]
    ref_i, ref_s = _brute(a, b, 7, metric)
    assert (
        nb == np.array([[f"b{j}" for j in row] for row in ref_i])
    ).mean() > 0.999  # float32 near-ties only
    np.testing.assert_allclose(sc, ref_s, rtol=1e-5, atol=1e-4)
    assert not (tmp_path / "j" / "_partials").exists()


def test_join_npy_k_larger_than_a_shard_and_hnsw_recall(vector_sets, tmp_path):
    from simlab.scale import join

    a, b, d = vector_sets["a"], vector_sets["b"], vector_sets["dir"]
    ex = join(
        d / "a.npy", d / "b.npy", 30, out=tmp_path / "e", metric="cosine", shard_rows=20, block_rows=500
    )
    _, nb, _ = ex.read()
    ref_i, _ = _brute(a, b, 30, "cosine")
    assert nb.shape == (700, 30) and (nb == ref_i).mean() > 0.999
    hn = join(d / "a.npy", d / "b.npy", 10, out=tmp_path / "h", method="hnsw", shard_rows=600)
    _, hnb, hsc = hn.read()
    recall = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(hnb, ref_i[:, :10], strict=True)])
    assert recall > 0.95
    assert np.all(np.diff(hsc, axis=1) <= 1e-6)  # sorted, higher = more similar


def test_exact_join_probes_one_plan_and_resumes_with_it(vector_sets, tmp_path):
    """The exact scan plan is probed once per join (not once per search task) and pinned in every task; it
    is kept in the output directory, so a resumed job uses the same plan; options that fix it are not
    probed."""
    import json

    from simlab.scale import join
    from simlab.scale.knn_join import SAME_FLOATS, pinned_options

    d = vector_sets["dir"]
    kw = {"block_rows": 300, "shard_rows": 400}
    res = join(d / "a.npy", d / "b.npy", 5, out=tmp_path / "j", **kw)
    saved = json.loads((tmp_path / "j" / "_scan_plan.json").read_text())
    assert saved["shard"] == 0 and saved["plan"]["rows"] == 400 and saved["plan"]["probe_queries"] > 0
    chosen = res.stats["scan_plan"]
    want = pinned_options({}, saved["plan"])  # the probe's batch choice, among engines of numpy's BLAS
    assert chosen == {"engine": want["engine"], "prune": want["prune"], "from": "probed"}
    assert chosen["engine"] in SAME_FLOATS and chosen["prune"] == saved["plan"]["prune"]["batch"]
    assert res.stats["plan"] > 0 and res.stats["search"] > 0
    first = res.read()
    # a job that stopped before its end: resumed with the plan it started with, same output
    (tmp_path / "j" / "_done.json").unlink()
    (tmp_path / "j" / "part-00001.parquet").unlink()
    again = join(d / "a.npy", d / "b.npy", 5, out=tmp_path / "j", **kw)
    assert again.stats["scan_plan"] == {**chosen, "from": "resumed"}
    for x, y in zip(first, again.read(), strict=True):
        np.testing.assert_array_equal(x, y)
    other = "numpy" if chosen["engine"] != "numpy" else "faiss"
    pinned = join(
        d / "a.npy", d / "b.npy", 5, out=tmp_path / "p", index_options={"engine": other, "prune": False}, **kw
    )
    assert pinned.stats["scan_plan"] == {"engine": other, "prune": False, "from": "options"}
    assert not (tmp_path / "p" / "_scan_plan.json").exists()
    _, nb, sc = pinned.read()
    np.testing.assert_array_equal(nb, first[1])
    np.testing.assert_allclose(sc, first[2], rtol=1e-6)


def test_pinned_options_keep_numpys_blas_unless_asked():
    from simlab.scale.knn_join import pinned_options

    plan = {
        "engine": {"batch": "knn", "single": "knn"},
        "prune": {"batch": False, "single": False},
        "seconds": {"batch": {"numpy": 3.0, "faiss": 2.0, "knn": 1.0}},
    }
    assert pinned_options({}, plan) == {"engine": "faiss", "prune": False}
    plan["seconds"]["batch"]["numpy"] = 1.5
    assert pinned_options({"budget_bytes": 1 << 20}, plan) == {
        "budget_bytes": 1 << 20,
        "engine": "numpy",
        "prune": False,
    }
    assert pinned_options({"engine": "knn"}, plan)["engine"] == "knn"  # asked for


def test_join_errors(vector_sets, tmp_path):
    from simlab.errors import DimensionError
    from simlab.scale import join

    d = vector_sets["dir"]
    np.save(tmp_path / "c.npy", np.zeros((3, 5), np.float32))
    with pytest.raises(DimensionError):
        join(d / "a.npy", tmp_path / "c.npy", 3, out=tmp_path / "x")
    with pytest.raises(ConfigError, match="unknown join method"):
        join(d / "a.npy", d / "b.npy", 3, out=tmp_path / "y", method="lsh")
    with pytest.raises(ConfigError, match="k must be"):
        join(d / "a.npy", d / "b.npy", 0, out=tmp_path / "z")


# -- pairs ---------------------------------------------------------------------------------------------------


def test_triu_pairs_order():
    from simlab.scale.all_pairs import triu_pairs

    ia, ib = np.triu_indices(9, 1)
    for lo, hi in ((0, 36), (5, 17), (35, 36)):
        i, j = triu_pairs(9, lo, hi)
        np.testing.assert_array_equal(i, ia[lo:hi])
        np.testing.assert_array_equal(j, ib[lo:hi])


def test_pairs_editpath_equals_one_process_and_resumes(graphs, tmp_path):
    from simlab.graph.editpath import edit_path_table
    from simlab.scale import pairs

    out = tmp_path / "ged.tsv"
    res = pairs(graphs, out, method="editpath", chunk=64)
    ref = edit_path_table(graphs)  # the one default (DEFAULT_RESTARTS), as scale.pairs uses
    t = res.table()
    assert res.pairs == 435 and res.chunks == 7
    assert (t.a, t.b) == (ref.a, ref.b)
    np.testing.assert_array_equal(t.ged, ref.ged)
    np.testing.assert_array_equal(t.exact, ref.exact)
    # an interrupted job (3 chunks written) resumes with the missing chunks only
    parts = tmp_path / "ged.tsv.parts"
    os.remove(out)
    (parts / "_done.json").unlink()
    again = pairs(graphs, out, method="editpath", chunk=64)
    assert again.pairs == 435 and again.table().ged.tolist() == ref.ged.tolist()
    assert pairs(graphs, out, method="editpath", chunk=64).seconds == 0.0  # complete: nothing recomputed
    with pytest.raises(ConfigError, match="another job"):
        pairs(graphs, out, method="editpath", chunk=32)


def test_pairs_exact_equals_compute_ged(graphs, tmp_path):
    from simlab.graph.ged import compute_ged
    from simlab.scale import pairs

    listed = [(graphs.ids[i], graphs.ids[j]) for i, j in ((0, 5), (3, 9), (7, 2), (11, 29))]
    res = pairs(graphs, tmp_path / "x.tsv", method="exact", pairs=listed, chunk=3, timeout=5.0)
    ref = compute_ged(graphs, tmp_path / "ref.tsv", listed, timeout=5.0, workers=1, progress=False)
    t = res.table()
    assert list(zip(t.a, t.b, strict=True)) == listed and t.exact.all()
    got = {(a, b): g for a, b, g in zip(ref.a, ref.b, ref.ged, strict=True)}
    assert [got[p] for p in listed] == t.ged.tolist()


# -- CLI -----------------------------------------------------------------------------------------------------


def test_cli_embed_join_ged(d2v, corpus_files, graphs, tmp_path):
    from typer.testing import CliRunner

    from simlab.cli.main import app

    _, model = d2v
    r = CliRunner()
    res = r.invoke(
        app,
        [
            "embed",
            str(model),
            str(corpus_files["dir"] / "docs.jsonl"),
            "--out",
            str(tmp_path / "emb"),
            "--engine",
            "local",
            "--id-field",
            "id",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Parquet part" in res.output and "rows/s" in res.output
    res = r.invoke(
        app, ["join", str(tmp_path / "emb"), str(tmp_path / "emb"), "-k", "3", "--out", str(tmp_path / "knn")]
    )
    assert res.exit_code == 0, res.output
    from simlab.scale import read_join

    ids, nb, sc = read_join(tmp_path / "knn")
    assert np.allclose(
        sc[:, 0], 1.0, atol=1e-5
    )  # every document (or its duplicate) is its own nearest neighbour
    assert (nb == ids[:, None]).any(1).all()
    graphs.write_jsonl(tmp_path / "g.jsonl")
    res = r.invoke(
        app, ["ged", str(tmp_path / "g.jsonl"), "--out", str(tmp_path / "g.tsv"), "--method", "editpath"]
    )
    assert res.exit_code == 0, res.output


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, simlab.scale, simlab.cli.main; "
        "print(sorted(m for m in ('ray', 'pyarrow', 'torch', 'gensim', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_engine_options():
    from simlab.scale import Engine
    from simlab.scale.engine import resolve

    assert resolve("local", address="auto").name == "ray"  # an address implies Ray
    with pytest.raises(ConfigError, match="cpus"):
        Engine("ray", cpus=0)
    with pytest.raises(ConfigError, match="needs engine='ray'"):
        Engine("local", address="auto")


def test_task_threads_limits_blas_and_restores():
    from threadpoolctl import threadpool_info, threadpool_limits

    from simlab.scale.engine import task_threads

    with threadpool_limits(2):
        with task_threads(1):
            inside = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
        after = {i["filepath"]: i["num_threads"] for i in threadpool_info()}
    assert set(inside.values()) == {1}
    assert any("faiss" in p or "gomp" in p for p in inside)  # FAISS's pools are loaded, then limited
    assert set(after.values()) == {2}


def test_code_fingerprint_follows_the_sources(tmp_path):
    import simlab
    from simlab.scale import engine

    assert engine.code_fingerprint().startswith(f"simlab {simlab.__version__}+")
    assert ", numpy " in engine.code_fingerprint()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    before = engine.source_fingerprint(tmp_path)
    assert engine.source_fingerprint(tmp_path) == before
    (tmp_path / "pkg" / "m.py").write_text("x = 2\n")
    assert engine.source_fingerprint(tmp_path) != before
