"""CLI: ``simlab index build`` and ``simlab search`` (exit 0 / 1 with one line / 2 on usage errors)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import simlab
from simlab.cli.main import app

runner = CliRunner()


@pytest.fixture
def vecs(tmp_path, clustered_data):
    x = clustered_data(600, 16, n_clusters=6, seed=0)
    v = simlab.Vectors([f"w{i}" for i in range(len(x))], x)
    return v, v.save(tmp_path / "vecs")


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simlab", *argv], capture_output=True, text=True)


def test_build_and_search_exact(tmp_path, vecs):
    v, p = vecs
    res = runner.invoke(
        app,
        [
            "index",
            "build",
            str(p),
            "--backend",
            "exact",
            "--metric",
            "cosine",
            "--out",
            str(tmp_path / "idx"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "indexed 600 vectors" in res.output
    res = runner.invoke(app, ["search", str(tmp_path / "idx"), "w3", "-k", "5", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)["result"]
    ref = v.most_similar("w3", k=5)
    assert [h["key"] for h in out["hits"]] == ref.keys
    np.testing.assert_allclose([h["similarity"] for h in out["hits"]], ref.scores, rtol=1e-5)


def test_build_faiss_from_word2vec_and_vector_file(tmp_path, vecs):
    v, _ = vecs
    v.save_word2vec_format(tmp_path / "v.vec")
    res = runner.invoke(
        app,
        [
            "index",
            "build",
            str(tmp_path / "v.vec"),
            "--backend",
            "faiss",
            "--factory",
            "HNSW16",
            "--metric",
            "euclidean",
            "--set",
            "efSearch=50",
            "--out",
            str(tmp_path / "h"),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)["result"]
    assert summary["settings"] == {"efSearch": 50} and summary["count"] == 600
    np.save(tmp_path / "q.npy", v.matrix[:2])
    res = runner.invoke(
        app,
        [
            "search",
            str(tmp_path / "h"),
            "--vector-file",
            str(tmp_path / "q.npy"),
            "-k",
            "3",
            "--set",
            "efSearch=100",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "w0" in res.output and "w1" in res.output
    res = runner.invoke(app, ["search", str(tmp_path / "h"), "w0", "-k", "3"])
    assert res.exit_code == 0 and "similarity" in res.output


def test_exit_codes(tmp_path, vecs):
    _, p = vecs
    # SimlabError -> exit 1 with one line
    r = run_cli("index", "build", str(p), "--metric", "cosinus", "--out", str(tmp_path / "x"))
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "euclidean" in lines[0]
    assert not (tmp_path / "x").exists()
    r = run_cli(
        "index", "build", str(p), "--backend", "faiss", "--factory", "Nope7", "--out", str(tmp_path / "x")
    )
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_cli("index", "build", str(p), "--out", str(tmp_path / "i"))
    assert r.returncode == 0, r.stderr
    r = run_cli("search", str(tmp_path / "i"), "no-such-key")
    assert r.returncode == 1 and "no-such-key" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("search", str(tmp_path / "missing"), "w1")
    assert r.returncode == 1
    # usage errors -> exit 2
    r = run_cli("index", "build", str(p))  # --out missing
    assert r.returncode == 2
    r = run_cli("search", str(tmp_path / "i"))  # neither key nor --vector-file
    assert r.returncode == 2
    r = run_cli("search", str(tmp_path / "i"), "w1", "-k", "many")
    assert r.returncode == 2


@pytest.mark.parametrize(
    "backend,opts", [("exact", []), ("faiss", ["--factory", "HNSW32", "--set", "efSearch=96"])]
)
def test_index_add_remove_equal_rebuild(tmp_path, clustered_data, backend, opts):
    x = clustered_data(900, 16, n_clusters=6, seed=3)
    keys = [f"w{i}" for i in range(len(x))]
    first, extra = simlab.Vectors(keys[:600], x[:600]), simlab.Vectors(keys[600:], x[600:])
    first.save(tmp_path / "a")
    extra.save(tmp_path / "b")
    idx = tmp_path / "idx"
    res = runner.invoke(
        app, ["index", "build", str(tmp_path / "a"), "--backend", backend, *opts, "--out", str(idx)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["index", "add", str(idx), str(tmp_path / "b")])
    assert res.exit_code == 0 and "added 300 vectors" in res.output, res.output
    gone = keys[::7]
    (tmp_path / "gone.txt").write_text("\n".join(gone[1:]) + "\n")
    res = runner.invoke(
        app, ["index", "remove", str(idx), gone[0], "--keys-file", str(tmp_path / "gone.txt"), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["result"]["removed"] == len(gone)
    from simlab.index import Index

    updated = Index.load(idx)
    live = [k for k in keys if k not in set(gone)]
    rebuilt = Index("exact", "cosine").add(live, x[[int(k[1:]) for k in live]])
    q = x[:40] + 0.01
    if backend == "exact":
        assert updated.search(q, 10).keys == rebuilt.search(q, 10).keys
    else:
        assert updated.settings == {"efSearch": 96}
        from simlab.index import recall_at_k

        assert recall_at_k(updated, rebuilt, q, 10) >= 0.95
    assert len(updated) == len(live) and updated.dead == 0
    # unknown key: one line, exit 1, nothing removed
    bad = run_cli("index", "remove", str(idx), "no-such-key")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(Index.load(idx)) == len(live)
    dup = run_cli("index", "add", str(idx), str(tmp_path / "b"))
    assert dup.returncode == 1 and "already in the index" in (dup.stderr + dup.stdout)
