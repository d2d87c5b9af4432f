"""Every failure is one line (exit 1, usage 2), never a traceback; interrupts exit 130/143 (issue 9)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import simlab
from simlab.cli.main import main

CATCH_ALL = "--debug shows the traceback"


def one_line_error(cli, argv, capsys, code=1, contains=""):
    """Run, and check the failure is one line with the right exit code, not the catch-all."""
    got, _, err = cli(argv, capsys)
    assert got == code, err
    assert "Traceback" not in err and CATCH_ALL not in err, err
    if code == 1:
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert contains in err, err
    return err


@pytest.fixture
def vecs(tmp_path):
    return simlab.Vectors(["a", "b", "c"], np.eye(3)).save(tmp_path / "v")


def edit_manifest(art, fn):
    m = art / "simlab.json"
    man = json.loads(m.read_text())
    new = fn(man)
    m.write_text(new if isinstance(new, str) else json.dumps(new))


def refresh(art, name):
    data = (art / name).read_bytes()
    edit_manifest(
        art,
        lambda m: {
            **m,
            "files": {**m["files"], name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}},
        },
    )


@pytest.mark.parametrize(
    "manifest",
    [
        "[]",
        '{"format": "simlab", "format_version": 1, "kind": "vectors", "files": []}',
        '{"format": "simlab", "format_version": 1, "kind": ["vectors"], "files": {}}',
        '{"format": "simlab", "format_version": 1, "kind": "vectors", "files": {"keys.json": "x"}}',
        '{"format": "simlab", "format_version": 1, "kind": "vectors", "config": [], "files": {}}',
        "[" * 100_000 + "]" * 100_000,
        '{"format": "simlab", "format_version": -7, "kind": "vectors", "files": {}}',
        '{"format": "simlab", "format_version": true, "kind": "vectors", "files": {}}',
        '{"format": "simlab", "format_version": 1.5, "kind": "vectors", "files": {}}',
    ],
)
def test_manifest_of_the_wrong_shape(cli, vecs, capsys, manifest):
    (vecs / "simlab.json").write_text(manifest)
    for cmd in (["info", vecs], ["similar", vecs, "a"]):
        one_line_error(cli, cmd, capsys)


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "/etc/passwd", "sub/../../x", "./keys.json", "a\\b", ""]
)
def test_file_names_outside_the_artifact_are_refused_without_naming_them(cli, vecs, capsys, name):
    from pathlib import Path

    passwd = Path("/etc/passwd")
    real = hashlib.sha256(passwd.read_bytes()).hexdigest() if passwd.exists() else "0" * 64
    edit_manifest(vecs, lambda m: {**m, "files": {**m["files"], name: {"sha256": real, "bytes": 1}}})
    err = one_line_error(cli, ["info", vecs], capsys, contains="not a plain relative name")
    assert "passwd" not in err


def test_symlink_hardlink_and_device_entries_are_refused(cli, vecs, tmp_path, capsys):
    outside = tmp_path / "secret.json"
    outside.write_text('["a", "b", "c"]')
    (vecs / "keys.json").unlink()
    (vecs / "keys.json").symlink_to(outside)
    err = one_line_error(cli, ["info", vecs], capsys, contains="symbolic link")
    assert "secret" not in err
    (vecs / "keys.json").unlink()
    os.link(outside, vecs / "keys.json")
    one_line_error(cli, ["info", vecs], capsys, contains="hard link")
    (vecs / "keys.json").unlink()
    os.mkfifo(vecs / "keys.json")
    one_line_error(cli, ["info", vecs], capsys, contains="not a regular file")


def test_keys_of_the_wrong_shape_and_missing_tensors(cli, vecs, capsys):
    (vecs / "keys.json").write_text('[["a"], {"b": 1}, 3]')
    refresh(vecs, "keys.json")
    one_line_error(cli, ["similar", vecs, "a"], capsys, contains="keys must be")
    (vecs / "keys.json").write_text('["a", "b"]')  # shorter than the stored rows
    refresh(vecs, "keys.json")
    one_line_error(cli, ["similar", vecs, "a"], capsys, contains="2 keys but a matrix")
    from safetensors.numpy import save_file

    save_file({"other": np.zeros((3, 3), np.float32)}, str(vecs / "vectors.safetensors"))
    refresh(vecs, "vectors.safetensors")
    one_line_error(cli, ["similar", vecs, "a"], capsys, contains="missing tensor")


def test_index_keys_shorter_than_rows(cli, vecs, tmp_path, capsys):
    idx = tmp_path / "idx"
    assert cli(["index", "build", vecs, "--out", idx], capsys)[0] == 0
    (idx / "keys.json").write_text('["a"]')
    refresh(idx, "keys.json")
    one_line_error(cli, ["search", idx, "a"], capsys, contains="1 keys for 3 stored vectors")


def test_search_breadth_is_checked_and_capped(cli, vecs, tmp_path, capsys):
    from simlab.cli.index_cmds import check_search_settings

    assert check_search_settings({"efSearch": 1_000_000_000}, 5) == {"efSearch": 5}
    one_line_error(
        cli,
        ["index", "build", vecs, "--out", tmp_path / "i", "--set", "efSearch=-3"],
        capsys,
        contains="efSearch must be an integer >= 1",
    )


def test_non_utf8_and_missing_inputs(cli, tmp_path, capsys):
    pytest.importorskip("networkx")
    bad = tmp_path / "g.jsonl"
    bad.write_bytes(b'{"id": "\xff\xfe"}\n')
    one_line_error(cli, ["ged", bad, "--out", tmp_path / "o.tsv"], capsys, contains="not UTF-8")
    good = tmp_path / "ok.jsonl"
    good.write_text(
        '{"id": "a", "nodes": [{"id": 0}], "links": []}\n{"id": "b", "nodes": [{"id": 0}], "links": []}\n'
    )
    one_line_error(
        cli,
        ["ged", good, "--out", tmp_path / "o.tsv", "--pairs", tmp_path / "missing.tsv"],
        capsys,
        contains="pairs file not found",
    )
    pairs = tmp_path / "p.tsv"
    pairs.write_bytes(b"id_a\tid_b\n\xff\tb\n")
    one_line_error(
        cli, ["ged", good, "--out", tmp_path / "o.tsv", "--pairs", pairs], capsys, contains="not UTF-8"
    )
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "nodes": [{"id": 0}, {"id": 0}], "links": []}\n')
    one_line_error(cli, ["ged", dup, "--out", tmp_path / "o.tsv"], capsys, contains="duplicate node id")


def test_truncated_npy(cli, vecs, tmp_path, capsys):
    idx = tmp_path / "idx"
    cli(["index", "build", vecs, "--out", idx], capsys)
    q = tmp_path / "q.npy"
    np.save(q, np.ones((2, 3), np.float32))
    q.write_bytes(q.read_bytes()[:-5])
    one_line_error(cli, ["search", idx, "--vector-file", q], capsys, contains="not a readable .npy")


def test_config_and_out_paths(cli, vecs, tmp_path, capsys):
    one_line_error(
        cli, ["index", "build", vecs, "--out", tmp_path / "x", "--set", "nlist"], capsys, contains="key=value"
    )
    pytest.importorskip("torch")
    for cfg in (".", tmp_path / "missing.json"):
        one_line_error(
            cli,
            ["train", "nodes", "cora", "--out", tmp_path / "n", "--config", cfg],
            capsys,
            contains="config",
        )


@pytest.mark.parametrize(
    "args,contains",
    [
        (["--timeout", "nan"], "--timeout"),
        (["--timeout", "-1"], "--timeout"),
        (["--workers", "100000"], "CPUs"),
        (["--workers", "0"], "--workers"),
        (["--restarts", "0"], "--restarts"),
    ],
)
def test_ged_numbers_are_checked(cli, tmp_path, capsys, args, contains):
    g = tmp_path / "g.jsonl"
    g.write_text('{"id": "a", "nodes": [{"id": 0}], "links": []}\n')
    one_line_error(cli, ["ged", g, "--out", tmp_path / "o.tsv", *args], capsys, code=2, contains=contains)


def test_train_numbers_device_and_seed(cli, tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("networkx")
    import networkx as nx

    path = tmp_path / "karate.graphml"
    nx.write_graphml(nx.karate_club_graph(), path)
    base = ["train", "nodes", path, "--out", tmp_path / "n", "--set", "epochs=1"]
    one_line_error(cli, [*base, "--device", "tpu"], capsys, contains="device")
    one_line_error(cli, [*base, "--seed", "-5"], capsys, contains="seed must be >= 0")
    one_line_error(cli, [*base, "--set", "lr=nan"], capsys, contains="lr must be a number")
    one_line_error(cli, [*base, "--set", "dim=1000000000"], capsys, contains="dim must be <= 65536")


def test_word2vec_header_larger_than_the_file(cli, tmp_path, capsys, vecs):
    f = tmp_path / "huge.txt"
    f.write_text("1000000000 1000000000\nthe 0.1 0.2\n")
    one_line_error(cli, ["index", "build", f, "--out", tmp_path / "i"], capsys, contains="more than the file")


def test_glove_without_header(tmp_path):
    f = tmp_path / "glove.txt"
    f.write_text("the 0.1 0.2 0.3\ncat 1 2 3\n")
    v = simlab.Vectors.load_word2vec_format(f)
    assert v.keys == ["the", "cat"] and v.dim == 3


def test_cosine_of_huge_vectors():
    v = simlab.Vectors(["a", "b"], np.full((2, 4), 1e20))
    assert v.similarity("a", "b") == pytest.approx(1.0)


def test_disk_full_and_file_too_large(cli, vecs, tmp_path, capsys, monkeypatch):
    import errno

    import simlab.artifacts as A

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(A.ArtifactWriter, "save_json", full)
    one_line_error(cli, ["index", "build", vecs, "--out", tmp_path / "i"], capsys, contains="no space left")
    assert not any(p.name.startswith(".i.") for p in tmp_path.iterdir())
    monkeypatch.undo()
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200)); "
        "from simlab.cli.main import main; main(sys.argv[1:])"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "index", "build", str(vecs), "--out", str(tmp_path / "big")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "too large" in r.stderr


def test_evaluate_and_rerank_with_the_wrong_model(cli, vecs, capsys):
    one_line_error(cli, ["evaluate", vecs, "ucr:GunPoint"], capsys, contains="cannot evaluate")
    pytest.importorskip("torch")
    one_line_error(cli, ["rerank", vecs, "editpath", "a"], capsys, contains="not a graph bi-encoder")


def test_torch_file_refused_by_weights_only(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("networkx")
    import networkx as nx

    from simlab.errors import DataError
    from simlab.graph.datasets import load_ged_benchmark

    root = tmp_path / "ged_AIDS700nef"
    for split in ("train", "test"):
        (root / "raw" / "AIDS700nef" / split).mkdir(parents=True)
        nx.write_gexf(
            nx.path_graph(2), root / "raw" / "AIDS700nef" / split / f"{0 if split == 'train' else 1}.gexf"
        )
    (root / "processed").mkdir()
    torch.save({"code": print}, root / "processed" / "AIDS700nef_ged.pt")  # pickled callable: refused
    monkeypatch.setenv("SIMLAB_SHARED_DATA", str(tmp_path))
    with pytest.raises(DataError, match="not a plain tensor file"):
        load_ged_benchmark("AIDS700nef")


def test_catch_all_is_one_line_and_debug_shows_traceback(cli, vecs, capsys, monkeypatch):
    import simlab.artifacts as A

    def boom(path):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(A, "info", boom)
    code, _, err = cli(["info", vecs], capsys)
    assert code == 1 and err == f"error: simlab info: ZeroDivisionError: bug ({CATCH_ALL})\n"
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "info", str(vecs)])


def test_version(cli, capsys):
    code, out, _ = cli(["--version"], capsys)
    assert code == 0 and out.startswith("simlab ")


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_exit_codes(tmp_path, vecs, sig, code):
    prog = (
        "import os, sys, time, simlab.artifacts as A\n"
        "def slow(p):\n"
        f"    os.kill(os.getpid(), {int(sig)}); time.sleep(30)\n"
        "A.info = slow\n"
        "from simlab.cli.main import main; main(sys.argv[1:])\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", prog, "info", str(vecs)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == code and r.stderr.strip() == "interrupted" and "Traceback" not in r.stderr


def test_editpath_time_limit_keeps_a_valid_upper_bound():
    pytest.importorskip("torch")
    nx = pytest.importorskip("networkx")
    from simlab.errors import ConfigError
    from simlab.graph.editpath import EditPathConfig, edit_path, mapping_cost

    g1, g2 = nx.gnp_random_graph(30, 0.2, seed=1), nx.gnp_random_graph(30, 0.2, seed=2)
    full, _, _ = edit_path(g1, g2)
    cut, mapping, _ = edit_path(g1, g2, timeout=1e-9)  # stops after the first start's first step
    assert cut >= full and cut == mapping_cost(g1, g2, mapping)
    with pytest.raises(ConfigError, match="timeout"):
        EditPathConfig(timeout=float("nan"))


@pytest.mark.parametrize(
    "setting,contains",
    [
        ("alpha=nan", "alpha must be a number"),
        ("alpha=1e999", "alpha must be a finite number"),
        ("dim=1000000000", "dim must be <= 65536"),
        ("epochs=true", "epochs must be an integer"),
    ],
)
def test_text_settings_are_checked_before_training(cli, tmp_path, capsys, setting, contains):
    pytest.importorskip("gensim")
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat\n" * 5)
    one_line_error(
        cli,
        ["train", "word2vec", corpus, "--out", tmp_path / "w", "--set", setting],
        capsys,
        contains=contains,
    )
    assert not (tmp_path / "w").exists()


def test_closed_output_pipe_stops_quietly(tmp_path):
    big = simlab.Vectors([f"w{i}" for i in range(5000)], np.random.default_rng(0).random((5000, 4))).save(
        tmp_path / "big"
    )
    p = subprocess.Popen(
        [sys.executable, "-m", "simlab", "similar", str(big), "w1", "-k", "5000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stdout.readline()
    p.stdout.close()  # `| head -1`
    _, err = p.communicate(timeout=120)
    assert p.returncode in (0, 141) and b"Traceback" not in err and b"error" not in err


def test_dtw_cost_is_bounded_before_it_runs(monkeypatch):
    pytest.importorskip("dtaidistance")
    import numpy as np

    from simlab.errors import ConfigError
    from simlab.metrics import dtw_cells, dtw_distance_matrix

    rng = np.random.default_rng(0)
    qs, cs = [rng.normal(size=50) for _ in range(3)], [rng.normal(size=40) for _ in range(4)]
    assert dtw_cells([50] * 3, [40] * 4, None) == 3 * 4 * 50 * 40
    assert dtw_cells([50], [40], 2) == 50 * 5  # the band: max length x (2w + 1)
    assert dtw_distance_matrix(qs, cs).shape == (3, 4)
    with pytest.raises(ConfigError, match="cells"):
        dtw_distance_matrix(qs, cs, max_cells=1000)
    monkeypatch.setenv("SIMLAB_DTW_MAX_CELLS", "100")
    with pytest.raises(ConfigError, match="SIMLAB_DTW_MAX_CELLS"):
        dtw_distance_matrix(qs, cs)
    assert dtw_distance_matrix(qs, cs, window=1, max_cells=1e9).shape == (3, 4)


def test_text_threads_are_capped_at_the_cpu_count(caplog):
    import logging
    import os

    from simlab.cli.text import cap_threads

    with caplog.at_level(logging.WARNING):
        assert cap_threads(10_000) == (os.cpu_count() or 1)
    assert "more than the" in caplog.text
    assert cap_threads(1) == 1 and cap_threads(None) is None
