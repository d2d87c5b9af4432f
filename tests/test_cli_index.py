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
    res = runner.invoke(app, ["index", "build", str(p), "--backend", "exact", "--metric", "cosine",
                              "--out", str(tmp_path / "idx")])
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
    res = runner.invoke(app, ["index", "build", str(tmp_path / "v.vec"), "--backend", "faiss", "--factory", "HNSW16",
                              "--metric", "euclidean", "--set", "efSearch=50", "--out", str(tmp_path / "h"), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)["result"]
    assert summary["settings"] == {"efSearch": 50} and summary["count"] == 600
    np.save(tmp_path / "q.npy", v.matrix[:2])
    res = runner.invoke(app, ["search", str(tmp_path / "h"), "--vector-file", str(tmp_path / "q.npy"), "-k", "3",
                              "--set", "efSearch=100"])
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
    r = run_cli("index", "build", str(p), "--backend", "faiss", "--factory", "Nope7", "--out", str(tmp_path / "x"))
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
