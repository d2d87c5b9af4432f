"""The command line as a user meets it (issue 14): one --json envelope, one vocabulary and exit codes,
readable help, one progress convention, library warnings on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import simlab
from simlab.cli.common import ENVELOPE_KEYS
from simlab.cli.main import app


def ok_json(cli, argv, capsys, command):
    code, out, err = cli([*argv, "--json"], capsys)
    assert code == 0, err
    env = json.loads(out)
    assert tuple(env) == ENVELOPE_KEYS and env["ok"] is True and env["command"] == f"simlab {command}", env
    return env["result"]


@pytest.fixture
def words(tmp_path):
    rng = np.random.default_rng(0)
    keys = ["great", "film", "movie", "bad", "good", "plot"]
    mat = rng.normal(size=(len(keys), 8)).astype(np.float32)
    mat[1] = mat[2] + 0.05  # film ~ movie
    return simlab.Vectors(keys, mat).save(tmp_path / "words")


@pytest.fixture
def int_keyed(tmp_path):
    return simlab.Vectors([0, 1, 2, 3], np.eye(4) + 0.1).save(tmp_path / "nodes")


@pytest.fixture(scope="module")
def w2v(tmp_path_factory):
    pytest.importorskip("gensim")
    from simlab.paths import gensim_test_data
    from simlab.text import Word2Vec

    d = tmp_path_factory.mktemp("w2v")
    Word2Vec(dim=16, epochs=1, min_count=3, workers=1, seed=3).fit(
        gensim_test_data() / "lee_background.cor"
    ).save(d / "m")
    return d / "m"


# -- 1. one JSON envelope ------------------------------------------------------------------------------------
def test_envelope_of_every_generic_command(cli, words, int_keyed, tmp_path, capsys):
    assert "cosine" in ok_json(cli, ["list", "metrics"], capsys, "list")
    assert ok_json(cli, ["info", words], capsys, "info")["kind"] == "vectors"
    res = ok_json(cli, ["similar", words, "film", "-k", "2"], capsys, "similar")
    assert (
        res["query"] == "film"
        and [h["rank"] for h in res["hits"]] == [1, 2]
        and res["hits"][0]["key"] == "movie"
    )
    pair = ok_json(cli, ["similar", words, "film", "movie"], capsys, "similar")
    assert set(pair) == {"a", "b", "similarity"} and pair["similarity"] > 0.9
    assert ok_json(cli, ["similar", words, "--text", "great film"], capsys, "similar")["hits"]
    assert (
        len(
            ok_json(
                cli, ["similar", words, "--analogy", "film", "movie", "bad", "-k", "1"], capsys, "similar"
            )["hits"]
        )
        == 1
    )
    wl = tmp_path / "wl.txt"
    wl.write_text("film\nplot\n")
    code, _, err = cli(["embed", words, wl, "--out", tmp_path / "e"], capsys)  # envelope: test_oov_policy...
    assert code == 1 and "a vectors artifact cannot embed files; it can: similar KEY" in err
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("film\tmovie\t9\ngreat\tgood\t7\nbad\tplot\t1\nfilm\tbad\t2\n")
    rep = ok_json(cli, ["evaluate", words, f"word-pairs:{pairs}"], capsys, "evaluate")
    assert {"name", "primary", "metrics", "counts"} <= set(rep)
    built = ok_json(cli, ["index", "build", int_keyed, "--out", tmp_path / "idx"], capsys, "index build")
    assert built["count"] == 4
    found = ok_json(cli, ["search", tmp_path / "idx", "0", "-k", "2"], capsys, "search")
    assert found["query"] == "0" and len(found["hits"]) == 2
    np.save(tmp_path / "q.npy", np.eye(4)[:2])
    batch = ok_json(
        cli, ["search", tmp_path / "idx", "--vector-file", tmp_path / "q.npy", "-k", "1"], capsys, "search"
    )
    assert isinstance(batch, list) and len(batch) == 2 and set(batch[0]) == {"query", "hits"}
    more = tmp_path / "more"
    from simlab.vectors import Vectors

    Vectors([10, 11], np.eye(4)[2:]).save(more)
    added = ok_json(cli, ["index", "add", tmp_path / "idx", more], capsys, "index add")
    assert added["added"] == 2 and added["count"] == 6
    removed = ok_json(cli, ["index", "remove", tmp_path / "idx", "10"], capsys, "index remove")
    assert removed["removed"] == 1 and removed["count"] == 5


def test_envelope_of_the_one_pass_text_engines(cli, tmp_path, capsys):
    pytest.importorskip("scipy")
    corpus = tmp_path / "c.txt"
    corpus.write_text(
        "\n".join(
            [
                "a good film with a great plot",
                "a bad film and a weak plot",
                "the cat sat on the mat",
                "dogs and cats are pets",
            ]
            * 3
        )
    )
    res = ok_json(cli, ["train", "tfidf", corpus, "--out", tmp_path / "tfidf"], capsys, "train tfidf")
    assert res["kind"] == "tfidf" and res["out"].endswith("tfidf")


def test_failure_envelope_and_one_line(cli, words, capsys):
    code, out, err = cli(["similar", words, "nope", "--json"], capsys)
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1
    env = json.loads(out)
    assert env["ok"] is False and env["result"]["exit_code"] == 1 and "nope" in env["result"]["error"]
    code, out, _ = cli(["similar", words, "film", "-k", "0", "--json"], capsys)
    assert code == 2 and json.loads(out)["result"]["exit_code"] == 2


def test_every_json_command_is_covered():
    """Each command with --json has its envelope tested: here, or in the module's own CLI test."""
    import typer

    from simlab.cli.common import polish_help

    root = polish_help(typer.main.get_command(app))
    with_json = set()

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])
        if any("--json" in getattr(p, "opts", []) for p in cmd.params):
            with_json.add(" ".join(path))

    walk(root, [])
    here = {"list", "info", "similar", "embed", "evaluate", "index build", "search"}
    elsewhere = {
        "rerank": "tests/graph/test_cli.py",
        "train siamese": "tests/sequence/test_cli.py",
        "train word2vec": "tests/text/test_cli_demo_examples.py",
        "train fasttext": "same shape as word2vec",
        "train doc2vec": "same shape as word2vec",
        "demo": "test_demo_json (slow)",
        "ged": "test_ged_json",
        "graph evaluate": "test_graph_evaluate_json",
        "train graph": "tests/graph/test_cli.py",
        "train nodes": "test_train_nodes_json",
        "train fusion": "tests/fusion/test_cli.py",
        "join": "test_join_json",
        "index add": "here",
        "index remove": "here",
        "train tfidf": "here",
        "train bm25": "same shape as tfidf",
        "train lsi": "same shape as tfidf",
        "train hybrid": "same shape as tfidf",
        "train docs": "same shape as tfidf",
    }
    missing = with_json - here - set(elsewhere)
    assert not missing, f"commands with --json whose envelope no test covers: {sorted(missing)}"


def test_ged_json(cli, tmp_path, capsys):
    pytest.importorskip("networkx")
    import networkx as nx

    from simlab.graph.io import GraphSet

    GraphSet([nx.path_graph(3), nx.cycle_graph(3), nx.star_graph(3)]).write_jsonl(tmp_path / "g.jsonl")
    res = ok_json(
        cli, ["ged", tmp_path / "g.jsonl", "--out", tmp_path / "ged.tsv", "--workers", "1"], capsys, "ged"
    )
    assert res["pairs"] == 3 and res["exact"] + res["upper_bounds"] == 3


def test_graph_evaluate_json(cli, tmp_path, capsys):
    """Graph-only evaluation options live in ``simlab graph evaluate``; the old spelling on ``simlab
    evaluate`` still works for one release, with a deprecation line on stderr."""
    pytest.importorskip("networkx")
    import networkx as nx

    from simlab.cli.graph import RESTARTS
    from simlab.graph.editpath import EditPathConfig
    from simlab.graph.io import GraphSet

    assert EditPathConfig.restarts == RESTARTS  # one restart default for the CLI and Python
    graphs = [nx.path_graph(4), nx.cycle_graph(4), nx.star_graph(3), nx.complete_graph(4), nx.path_graph(3)]
    GraphSet(graphs).write_jsonl(tmp_path / "g.jsonl")
    ged = tmp_path / "ged.tsv"
    ok_json(cli, ["ged", tmp_path / "g.jsonl", "--out", ged, "--workers", "1"], capsys, "ged")
    argv = ["editpath", f"ged:{ged}", "--graphs", tmp_path / "g.jsonl"]
    new = ok_json(cli, ["graph", "evaluate", *argv], capsys, "graph evaluate")
    assert new["name"].startswith("ged") and "rho" in new["metrics"]
    code, out, err = cli(["evaluate", *argv, "--json"], capsys)
    assert code == 0 and "deprecated" in err and "simlab graph evaluate" in err
    assert json.loads(out)["result"]["metrics"] == new["metrics"]


def test_threads_are_scoped_to_the_command(cli, words, tmp_path, capsys, monkeypatch):
    """``--threads N`` holds for the command's work only: torch's and BLAS' settings are restored after it."""
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_info

    import simlab.cli.index_cmds as cmds

    before, blas = torch.get_num_threads(), [p["num_threads"] for p in threadpool_info()]
    seen = []
    add_all = cmds._add_all
    monkeypatch.setattr(cmds, "_add_all", lambda *a: (seen.append(torch.get_num_threads()), add_all(*a)))
    ok_json(cli, ["index", "build", words, "--out", tmp_path / "i", "--threads", "1"], capsys, "index build")
    assert seen == [1]
    assert torch.get_num_threads() == before and [p["num_threads"] for p in threadpool_info()] == blas


def test_join_json(cli, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "a.npy", rng.normal(size=(20, 4)).astype(np.float32))
    res = ok_json(
        cli,
        ["join", tmp_path / "a.npy", tmp_path / "a.npy", "-k", "2", "--out", tmp_path / "j"],
        capsys,
        "join",
    )
    assert res["rows"] == 20 and res["k"] == 2


def test_train_nodes_json(cli, tmp_path, capsys):
    pytest.importorskip("torch_geometric")
    import networkx as nx

    nx.write_graphml(nx.karate_club_graph(), tmp_path / "k.graphml")
    res = ok_json(
        cli,
        [
            "train",
            "nodes",
            tmp_path / "k.graphml",
            "--out",
            tmp_path / "n",
            "--epochs",
            "2",
            "--set",
            "test_share=0.1",
            "--threads",
            "1",
        ],
        capsys,
        "train nodes",
    )
    assert res["kind"] == "graph-nodes" and res["nodes"] == 34 and res["epochs"] == 2
    assert set(res["link_prediction"]) >= {"auc"}


# -- 2. one vocabulary, one set of exit codes ----------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["similar", "{v}", "film", "-k", "0"],
        ["similar", "{v}", "film", "-k", "-2"],
        ["search", "{i}", "0", "-k", "0"],
        ["rerank", "{v}", "{v}", "0", "-k", "0"],
    ],
)
def test_k_below_one_is_a_usage_error_everywhere(cli, argv, words, int_keyed, capsys):
    code, _, err = cli([a.format(v=words, i=int_keyed) for a in argv], capsys)
    assert code == 2 and "-k" in err and "Traceback" not in err


def test_integer_keys_parse_the_same_in_similar_and_search(cli, int_keyed, tmp_path, capsys):
    sim = ok_json(cli, ["similar", int_keyed, "0", "-k", "3"], capsys, "similar")
    ok_json(cli, ["index", "build", int_keyed, "--out", tmp_path / "idx"], capsys, "index build")
    found = ok_json(cli, ["search", tmp_path / "idx", "0", "-k", "3"], capsys, "search")
    assert [h["key"] for h in sim["hits"]] == [h["key"] for h in found["hits"]] == [1, 2, 3]
    pair = ok_json(cli, ["similar", int_keyed, "0", "1"], capsys, "similar")
    assert pair["a"] == "0" and pair["similarity"] == pytest.approx(
        float(simlab.artifacts.load(int_keyed).similarity(0, 1))
    )  # the integer keys, echoed as typed


def test_similar_accepts_a_word2vec_file_like_index_build(cli, words, tmp_path, capsys):
    simlab.artifacts.load(words).save_word2vec_format(tmp_path / "w.vec")
    res = ok_json(cli, ["similar", tmp_path / "w.vec", "film", "-k", "1"], capsys, "similar")
    assert res["hits"][0]["key"] == "movie"


def test_text_on_a_word_model_is_the_mean_of_its_words(cli, w2v, capsys, caplog):
    from simlab.text.corpus import tokenize

    model = simlab.artifacts.load(w2v)
    res = ok_json(cli, ["similar", w2v, "--text", "The police said, fire!", "-k", "3"], capsys, "similar")
    assert tokenize("The police said, fire!") == ["the", "police", "said", "fire"]
    want = model.most_similar(["the", "police", "said", "fire"], k=3)  # the mean of the four words' vectors
    assert [h["key"] for h in res["hits"]] == [k for k, _ in want]
    code, _, _ = cli(["similar", w2v, "--text", "police zzqqxx", "-k", "1"], capsys)
    assert code == 0 and "zzqqxx" in caplog.text  # unknown words are left out, and said so (a warning)


def test_oov_policy_from_the_cli(cli, w2v, tmp_path, capsys):
    wl = tmp_path / "words.txt"
    wl.write_text("police\nzzqqxx\nfire\n")
    code, _, err = cli(["embed", w2v, wl, "--out", tmp_path / "e1"], capsys)
    assert code == 1 and "zzqqxx" in err
    assert ok_json(cli, ["embed", w2v, wl, "--out", tmp_path / "e2", "--oov", "skip"], capsys, "embed") == {
        "out": str(tmp_path / "e2"),
        "count": 2,
        "dim": 16,
    }
    code, _, err = cli(["embed", w2v, wl, "--out", tmp_path / "e3", "--oov", "maybe"], capsys)
    assert code == 2
    code, _, err = cli(["similar", w2v, "zzqqxx", "--oov", "subword"], capsys)
    assert code == 1 and "subword" in err and "FastText" in err


def test_messages_say_what_the_model_can_do(cli, words, capsys):
    from simlab.cli.main import can_do, check_capable
    from simlab.errors import ConfigError

    torch = pytest.importorskip("torch")  # noqa: F841
    from simlab.graph.nodes import NodeEmbedder

    with pytest.raises(
        ConfigError,
        match=r"graph-nodes model has node vectors, not word vectors; it can: .*"
        r"evaluate linkpred\|nodeclass",
    ):
        check_capable(NodeEmbedder(), "wordsim353")
    check_capable(NodeEmbedder(), "linkpred:Cora")  # fine
    assert "similar KEY" in can_do(simlab.artifacts.load(words))
    code, _, err = cli(["similar", words, "film", "--oov", "skip"], capsys)
    assert code == 1 and "a vectors artifact can: similar KEY" in err


def test_the_cli_asks_declared_capabilities(words):
    """What a command may ask of a model comes from its declared CAPABILITIES (simlab.model), not from probing
    its attributes; every registered artifact kind declares what it can do."""
    import dataclasses

    from simlab.cli.models import can, can_do, caps
    from simlab.model import CAPABILITY_NAMES, Model
    from simlab.registry import KINDS

    for kind in KINDS.names():
        declared = getattr(KINDS.get(kind), "CAPABILITIES", None)
        assert declared is not None and set(declared) <= set(CAPABILITY_NAMES), kind

    @dataclasses.dataclass(frozen=True)
    class NoSettings:
        pass

    class Searcher(Model):
        KIND, Config, CAPABILITIES = "searcher", NoSettings, frozenset({"searches"})

        def embed_file(self, path):  # present, but not declared: the CLI does not offer it
            raise AssertionError

    assert caps(Searcher()) == {"searches"} and can_do(Searcher()) == "can: similar KEY"
    vecs = simlab.artifacts.load(words)
    assert can(vecs, "searches") and can(vecs, "scores_pairs") and not can(vecs, "embeds")
    with pytest.raises(ValueError, match="unknown capability"):
        can(vecs, "flies")


# -- 3. help -------------------------------------------------------------------------------------------------
def _commands():
    import typer

    from simlab.cli.common import polish_help

    root = polish_help(typer.main.get_command(app))
    out = []

    def walk(cmd, path):
        subs = getattr(cmd, "commands", {})
        for name, sub in subs.items():
            walk(sub, [*path, name])
        if not subs:
            out.append((path, cmd))

    walk(root, [])
    return out


def test_every_command_help_is_readable():
    commands = _commands()
    assert len(commands) >= 15
    problems = []
    for path, cmd in commands:
        name = " ".join(path)
        if "Example" not in (cmd.help or ""):
            problems.append(f"{name}: no example in its help")
        for p in cmd.params:
            if not (p.help if p.param_type_name == "option" else getattr(p, "help", None)):
                problems.append(f"{name} {p.opts[0]}: no help text")
            if getattr(p, "is_flag", False) and p.metavar != " ":
                problems.append(f"{name} {p.opts[0]}: flag shown with a value")
    assert not problems, "\n".join(problems)


def test_help_renders_for_every_command():
    from typer.testing import CliRunner

    runner = CliRunner()
    for path, _cmd in _commands():
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, (path, res.output)
        assert "Example" in res.output


def test_choices_and_defaults_are_listed():
    import typer

    from simlab.cli.main import DEMO_SECTIONS
    from simlab.demo import SECTION_MODULES
    from simlab.registry import LOSSES

    assert set(DEMO_SECTIONS) == set(SECTION_MODULES)
    cmds = {" ".join(p): c for p, c in _commands()}
    sections = next(p for p in cmds["demo"].params if p.name == "sections")
    assert all(name in sections.help for name in DEMO_SECTIONS)
    k = next(p for p in cmds["similar"].params if p.name == "k")
    assert k.default == 10 and k.show_default is not False
    assert "batch-all" in LOSSES.describe()["triplet"]
    assert typer  # the help tree is typer's


# -- 4. progress ---------------------------------------------------------------------------------------------
def _run_in_pty(argv, cwd):
    import pty

    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    pid, fd = pty.fork()
    if pid == 0:  # child: stdin/stdout/stderr are the pseudo-terminal (100 columns, as a real one has)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(2, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        os.chdir(cwd)
        os.execve(sys.executable, [sys.executable, "-m", "simlab", *map(str, argv)], env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_progress_on_a_terminal_and_not_when_piped(tmp_path):
    rng = np.random.default_rng(0)
    simlab.Vectors([f"k{i}" for i in range(300)], rng.normal(size=(300, 8))).save(tmp_path / "v")
    code, shown = _run_in_pty(["index", "build", tmp_path / "v", "--out", tmp_path / "a"], tmp_path)
    assert code == 0, shown
    assert "%|" in shown and "/300 [" in shown  # the bar, with its total
    assert "index build (exact): 300 vec in" in shown  # the summary line that replaces it
    code, quiet = _run_in_pty(
        ["index", "build", tmp_path / "v", "--out", tmp_path / "b", "--quiet"], tmp_path
    )
    assert code == 0 and "/300 [" not in quiet and "vec in" not in quiet
    piped = subprocess.run(
        [sys.executable, "-m", "simlab", "index", "build", str(tmp_path / "v"), "--out", str(tmp_path / "c")],
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("indexed 300 vectors")


def test_doc2vec_embeds_in_batches_with_progress(tmp_path):
    pytest.importorskip("gensim")
    from simlab.paths import gensim_test_data
    from simlab.text import Doc2Vec

    lee = gensim_test_data() / "lee_background.cor"
    model = Doc2Vec(dim=8, epochs=1, min_count=3, workers=1, seed=1).fit(lee)
    seen = []
    vecs = model.embed_file(lee, batch_size=100, progress=seen.append)
    assert sum(seen) == len(lee.read_text().splitlines()) and max(seen) == 100 and len(seen) >= 3
    assert len(vecs) == sum(seen)
    model.save(tmp_path / "d2v")
    code, shown = _run_in_pty(["embed", tmp_path / "d2v", lee, "--out", tmp_path / "e"], tmp_path)
    assert code == 0 and "embed lee_background.cor: 300 item in" in shown, shown


# -- 5. library warnings reach the user ----------------------------------------------------------------------
def test_library_warnings_are_one_line_on_stderr(tmp_path):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    simlab.Vectors([f"k{i}" for i in range(600)], rng.normal(size=(600, 16))).save(tmp_path / "v")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "simlab",
            "index",
            "build",
            str(tmp_path / "v"),
            "--out",
            str(tmp_path / "i"),
            "--backend",
            "faiss",
            "--factory",
            "IVF32,PQ4",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "WARNING clustering" not in r.stderr  # FAISS's C++ noise is silenced...
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "warning: faiss IVF32,PQ4: training on 600 vectors"
    )  # ...once
