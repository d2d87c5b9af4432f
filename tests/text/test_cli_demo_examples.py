"""CLI commands (typer CliRunner through simlab.cli.main.main), the demo section, the examples, light
import."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``simlab ARGS`` in-process through the console entry point; returns (exit code, stdout, stderr)."""
    import contextlib
    import io

    from simlab.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, lee):
    out = tmp_path_factory.mktemp("cli") / "w2v"
    code, stdout, stderr = run_cli(
        "train",
        "word2vec",
        str(lee),
        "--out",
        str(out),
        "--set",
        "dim=16",
        "--set",
        "min_count=3",
        "--set",
        "sample=1e-3",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--seed",
        "7",
    )
    assert code == 0, stderr
    assert "loss per epoch" in stdout and "saved to" in stdout
    return out


def test_train_similar_evaluate_embed(trained, tmp_path):
    code, out, _ = run_cli("similar", str(trained), "police", "-k", "3", "--json")
    assert code == 0 and len(json.loads(out)["result"]["hits"]) == 3
    code, out, _ = run_cli("similar", str(trained), "police", "fire")
    assert code == 0 and -1 <= float(out) <= 1
    code, out, _ = run_cli("evaluate", str(trained), "wordsim353", "--json")
    rep = json.loads(out)["result"]
    assert code == 0 and rep["counts"]["pairs"] == 353 and "spearman" in rep["metrics"]
    code, out, _ = run_cli("evaluate", str(trained), "analogies")
    assert code == 0 and "accuracy" in out
    words = tmp_path / "w.txt"
    words.write_text("police\nfire\n")
    code, out, _ = run_cli("embed", str(trained), str(words), "--out", str(tmp_path / "emb"))
    assert code == 0
    import simlab

    assert simlab.load(tmp_path / "emb").keys == ["police", "fire"]
    code, out, _ = run_cli("info", str(trained))
    assert code == 0 and "kind=word2vec" in out


def test_resume_and_threads(trained, lee, tmp_path):
    import simlab

    before = simlab.load(trained)
    out = tmp_path / "resumed"
    code, stdout, stderr = run_cli(
        "train",
        "word2vec",
        str(lee),
        "--out",
        str(out),
        "--resume",
        str(trained),
        "--epochs",
        "1",
        "--threads",
        "1",
        "--json",
    )
    assert code == 0, stderr
    summary = json.loads(stdout)["result"]
    assert summary["resumed_from"] == str(trained) and summary["epochs"] == 1
    after = simlab.load(out)
    assert after.vectors.keys == before.vectors.keys
    assert not np.array_equal(after.vectors.matrix, before.vectors.matrix)
    assert len(after.history) == len(before.history) + 1
    code, _, err = run_cli(
        "train", "word2vec", str(lee), "--out", str(out), "--resume", str(trained), "--set", "dim=5"
    )
    assert code == 1 and "cannot change dim" in err


def test_fasttext_doc2vec_cli(lee, tmp_path):
    code, _, err = run_cli(
        "train",
        "fasttext",
        str(lee),
        "--out",
        str(tmp_path / "ft"),
        "--set",
        "dim=8",
        "--set",
        "buckets=5000",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--corpus-file",
    )
    assert code == 0, err
    code, out, _ = run_cli("similar", str(tmp_path / "ft"), "policemanz", "-k", "2", "--json")
    assert code == 0 and len(json.loads(out)["result"]["hits"]) == 2
    code, _, err = run_cli(
        "train",
        "doc2vec",
        str(lee),
        "--out",
        str(tmp_path / "d2v"),
        "--set",
        "dim=8",
        "--epochs",
        "2",
        "--threads",
        "1",
    )
    assert code == 0, err
    code, out, _ = run_cli("similar", str(tmp_path / "d2v"), "--text", "police fire", "-k", "2", "--json")
    assert code == 0 and json.loads(out)["result"]["hits"][0]["key"].startswith("lee_background.cor:")
    docs = tmp_path / "docs.txt"
    docs.write_text("police fire\nthe government\n")
    code, out, _ = run_cli("embed", str(tmp_path / "d2v"), str(docs), "--out", str(tmp_path / "demb"))
    assert code == 0 and "wrote 2 vectors" in out


def test_errors_are_one_line_and_leave_no_artifact(tmp_path, lee):
    out = tmp_path / "model"
    cases = [
        (
            ["train", "word2vec", str(tmp_path / "missing.txt"), "--out", str(out)],
            "missing.txt: file not found",
        ),
        (["train", "word2vec", str(lee), "--out", str(out), "--set", "dims=3"], "unknown Word2VecConfig key"),
        (["train", "word2vec", str(lee), "--out", str(out), "--set", "min_count=100000"], "no word occurs"),
    ]
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    cases.append((["train", "word2vec", str(empty), "--out", str(out)], "empty corpus"))
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    cases.append((["train", "doc2vec", str(binary), "--out", str(out)], "blob.txt:"))
    for args, msg in cases:
        code, _, err = run_cli(*args)
        assert code == 1, args
        assert msg in err and err.count("\n") == 1, err
        assert not out.exists() and not list(tmp_path.glob(".model*"))


def test_unknown_word_and_bad_eval_file(trained, tmp_path):
    code, _, err = run_cli("similar", str(trained), "qwertyuiop")
    assert code == 1 and "unknown word 'qwertyuiop'" in err
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\t1\nc\td\n")
    code, _, err = run_cli("evaluate", str(trained), str(bad))
    assert code == 1 and "bad.tsv:2" in err


def test_demo_section_quick(tmp_path):
    from simlab.demo import DemoContext
    from simlab.demo import text as demo_text

    sec = demo_text.run(DemoContext(out=tmp_path, quick=True, threads=2))
    assert sec.title == demo_text.TITLE
    assert {r["model"] for r in sec.rows} >= {"Word2Vec skip-gram 50d", "Doc2Vec PV-DBOW 50d"}
    assert sec.figures and sec.figures[0][1][:4] == b"\x89PNG"
    assert all(set(r) == set(sec.rows[0]) for r in sec.rows)


def test_example_01_value_is_the_cosine_of_gensim_vectors(capsys):
    from gensim.models import Word2Vec as GW

    mod = runpy.run_path(str(ROOT / "examples" / "01_word_similarity.py"))
    score = mod["main"]()
    g = GW(mod["SENTENCES"], vector_size=50, window=3, min_count=1, workers=1, seed=42, epochs=50)
    a, b = g.wv["cat"], g.wv["dog"]
    assert score == pytest.approx(float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))), abs=1e-6)
    from sklearn.metrics import jaccard_score

    with pytest.raises(ValueError):  # what the original snippet did is not even defined for float vectors
        jaccard_score(a, b)
    assert "cosine similarity(cat, dog)" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["11_train_word2vec.py", "12_fasttext_doc2vec_sif.py"])
def test_recipes_run(name, tmp_path, capsys):
    mod = runpy.run_path(str(ROOT / "examples" / name))
    mod["main"](tmp_path)


def test_import_is_light():
    code = (
        "import sys, simlab, simlab.text; from simlab.registry import KINDS, EVALUATORS; "
        "KINDS.names(); EVALUATORS.names(); import simlab.cli.text; "
        "bad = [m for m in ('gensim', 'torch', 'sklearn', 'faiss') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
