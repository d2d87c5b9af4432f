"""Nothing a user owns is lost: --out refuses what is not a compatible simlab artifact; saves are atomic,
serialised, clean up after dead writers and respect the umask (issue 9, item 1)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

import simlab
from simlab.artifacts import ArtifactWriter, artifact_kind, check_out
from simlab.errors import ArtifactError


def vectors(path, value=1.0):
    return simlab.Vectors(["a", "b", "c"], np.eye(3) * value).save(path)


@pytest.fixture
def vecs(tmp_path):
    return vectors(tmp_path / "v")


def test_out_refuses_a_user_folder_and_keeps_its_files(cli, vecs, tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "thesis.tex").write_text("my thesis")
    code, _, err = cli(["index", "build", vecs, "--out", results], capsys)
    assert code == 1 and "not a simlab artifact" in err and err.count("\n") == 1
    code, _, err = cli(
        ["index", "build", vecs, "--out", results, "--force"], capsys
    )  # --force never deletes it
    assert code == 1
    assert (results / "thesis.tex").read_text() == "my thesis"


def test_out_refuses_a_file_a_path_under_a_file_and_dot(cli, vecs, tmp_path, capsys, monkeypatch):
    f = tmp_path / "notes.txt"
    f.write_text("keep")
    for out in (f, f / "sub"):
        code, _, err = cli(["index", "build", vecs, "--out", out, "--force"], capsys)
        assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["index", "build", vecs, "--out", "."], capsys)
    assert code == 1 and "not a simlab artifact" in err
    assert f.read_text() == "keep" and artifact_kind(vecs) == "vectors"


def test_out_refuses_the_input_and_another_kind_unless_forced(cli, vecs, tmp_path, capsys):
    code, _, err = cli(["index", "build", vecs, "--out", vecs], capsys)
    assert code == 1 and "input of this command" in err and artifact_kind(vecs) == "vectors"
    idx = tmp_path / "idx"
    assert cli(["index", "build", vecs, "--out", idx], capsys)[0] == 0
    assert cli(["index", "build", vecs, "--out", idx], capsys)[0] == 0  # same kind: replaced
    other = vectors(tmp_path / "other")
    code, _, err = cli(["index", "build", vecs, "--out", other], capsys)
    assert code == 1 and "'vectors' artifact" in err and artifact_kind(other) == "vectors"
    assert cli(["index", "build", vecs, "--out", other, "--force"], capsys)[0] == 0
    assert artifact_kind(other) == "index"


def test_embed_into_the_model_is_refused(cli, tmp_path, capsys):
    pytest.importorskip("gensim")
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "a.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    code, _, err = cli(["train", "doc2vec", corpus, "--out", corpus, "--set", "epochs=1"], capsys)
    assert code == 1 and (corpus / "a.txt").exists()  # its own corpus is never deleted
    m = tmp_path / "m"
    assert (
        cli(["train", "word2vec", corpus, "--out", m, "--set", "epochs=1", "--set", "min_count=1"], capsys)[0]
        == 0
    )
    words = tmp_path / "words.txt"
    words.write_text("cat\ndog\n")
    code, _, err = cli(["embed", m, words, "--out", m], capsys)
    assert code == 1 and "input of this command" in err and artifact_kind(m) == "word2vec"


def test_check_out_api(tmp_path):
    assert check_out(tmp_path / "new", "vectors") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    check_out(tmp_path / "empty", "vectors")  # an empty folder holds nothing to lose
    with pytest.raises(ArtifactError, match="holds a 'vectors' artifact"):
        check_out(vectors(tmp_path / "v"), "index")


def test_library_save_never_replaces_user_data(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.txt").write_text("x")
    with pytest.raises(ArtifactError, match="not a simlab artifact"):
        vectors(d)
    assert (d / "x.txt").read_text() == "x"


def test_umask_is_respected(tmp_path):
    old = os.umask(0o022)
    try:
        p = vectors(tmp_path / "v")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o755
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in p.iterdir())


def test_concurrent_writer_fails_with_one_line(tmp_path):
    import threading

    p = tmp_path / "v"
    errors = []

    def other() -> None:
        try:
            vectors(p)
        except ArtifactError as exc:
            errors.append(str(exc))

    with ArtifactWriter(p, "vectors") as w:
        w.save_json("keys.json", [])
        t = threading.Thread(target=other)  # another thread (or process) saving the same path meanwhile
        t.start()
        t.join()
    assert len(errors) == 1 and "another simlab process is writing" in errors[0]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["v"]  # lock and temp removed
    code = f"import numpy as np, simlab; simlab.Vectors(['a'], np.ones((1, 2))).save({str(p)!r})"
    with ArtifactWriter(p, "vectors") as w:
        w.save_json("keys.json", [])
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "another simlab process is writing" in r.stderr


def test_dead_writers_leftovers_are_cleaned_and_a_backup_restored(tmp_path):
    p = vectors(tmp_path / "v", 1.0)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (tmp_path / f".v.tmp-{dead}-abc").mkdir()  # a killed save's temp directory
    (tmp_path / f".v.tmp-{dead}-abc" / "big.bin").write_bytes(b"0" * 1000)
    os.rename(p, tmp_path / f".v.old-{dead}-def")  # killed between the two renames of the fallback path
    assert simlab.load(p)["a"][0] == 1.0  # the next open restores the backup
    vectors(p, 2.0)  # the next save removes the dead writer's temp
    assert sorted(x.name for x in tmp_path.iterdir()) == ["v"]
    assert simlab.load(p)["a"][0] == 2.0


def test_replacement_is_an_atomic_exchange(tmp_path, monkeypatch):
    """At no instant is the destination missing: the swap is one rename-exchange (or a recoverable backup)."""
    import simlab.artifacts as A

    p = vectors(tmp_path / "v", 1.0)
    seen = []
    real = A._exchange

    def spy(a, b):
        ok = real(a, b)
        seen.append((ok, os.path.exists(b / "simlab.json")))
        return ok

    monkeypatch.setattr(A, "_exchange", spy)
    vectors(p, 2.0)
    assert seen and all(present for _, present in seen)
    monkeypatch.setattr(A, "_exchange", lambda a, b: False)  # an OS without RENAME_EXCHANGE
    vectors(p, 3.0)
    assert simlab.load(p)["a"][0] == 3.0 and sorted(x.name for x in tmp_path.iterdir()) == ["v"]


def test_ged_out_refuses_a_foreign_file(cli, tmp_path, capsys):
    pytest.importorskip("networkx")
    import networkx as nx

    from simlab.graph.io import GraphSet

    gs = GraphSet([nx.path_graph(3), nx.path_graph(4)], ["a", "b"])
    gs.write_jsonl(tmp_path / "g.jsonl")
    mine = tmp_path / "results.csv"
    mine.write_text("name,score\nx,1\n")
    code, _, err = cli(["ged", tmp_path / "g.jsonl", "--out", mine, "--workers", "1"], capsys)
    assert code == 1 and "not a simlab GED table" in err
    assert mine.read_text() == "name,score\nx,1\n"
    code, _, err = cli(["ged", tmp_path / "g.jsonl", "--out", mine, "--method", "editpath"], capsys)
    assert code == 1 and mine.read_text() == "name,score\nx,1\n"


def test_manifest_of_replaced_artifact_is_complete(tmp_path):
    p = vectors(tmp_path / "v")
    man = json.loads((p / "simlab.json").read_text())
    assert set(man["files"]) == {"keys.json", "vectors.safetensors"}


def test_demo_out_refuses_a_foreign_folder(cli, tmp_path, capsys):
    d = tmp_path / "results"
    d.mkdir()
    (d / "thesis.tex").write_text("mine")
    code, _, err = cli(["demo", "--out", d, "--quick"], capsys)
    assert code == 1 and "not an earlier demo" in err and (d / "thesis.tex").read_text() == "mine"


def test_load_checks_the_expected_kind(tmp_path):
    p = vectors(tmp_path / "v")
    with pytest.raises(ArtifactError, match="expected index"):
        simlab.artifacts.load(p, kind="index")
