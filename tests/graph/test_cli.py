"""The graph CLI: ged, train graph (bi-encoder and pair), evaluate, embed, similar, rerank, train nodes."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from simlab.cli.main import main


def run(argv, capsys):
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise AssertionError(f"exit {exc.code}: {capsys.readouterr().err}") from None
    return capsys.readouterr().out


def test_cli_end_to_end(ged_data, tmp_path, capsys):
    graphs = str(ged_data["dir"] / "graphs.jsonl")
    ged = tmp_path / "ged.tsv"
    out = run(["ged", graphs, "--out", str(ged), "--workers", "1", "--timeout", "5"], capsys)
    assert "wrote 435 pairs" in out
    assert ged.read_text().splitlines()[0] == "id_a\tid_b\tged\texact"
    # resuming a complete file computes nothing new
    assert "wrote 435 pairs" in run(["ged", graphs, "--out", str(ged), "--workers", "1"], capsys)
    for model in ("biencoder", "pair"):
        mdir = tmp_path / model
        out = run(
            [
                "train",
                "graph",
                graphs,
                "--ged",
                str(ged),
                "--conv",
                "gcn",
                "--model",
                model,
                "--out",
                str(mdir),
                "--set",
                "epochs=2",
                "--set",
                "hidden=16",
                "--seed",
                "1",
                "--threads",
                "1",
                "--device",
                "cpu",
                *(["--json"] if model == "pair" else []),
            ],
            capsys,
        )
        if model == "pair":  # the --json envelope of train graph
            env = json.loads(out)
            assert (
                env["command"] == "simlab train graph" and env["ok"] and env["result"]["kind"] == "graph-pair"
            )
            assert env["result"]["epochs"] == 2
        else:
            assert "saved to" in out
        rep = json.loads(run(["evaluate", str(mdir), f"ged:{ged}", "--graphs", graphs, "--json"], capsys))[
            "result"
        ]
        assert rep["primary"] == "rho" and set(rep["metrics"]) >= {"mse_e3", "rho", "tau", "p@10", "p@20"}
        # a bare GED file path reaches the graph evaluator too (not the word-pairs one)
        bare = json.loads(run(["evaluate", str(mdir), str(ged), "--graphs", graphs, "--json"], capsys))[
            "result"
        ]
        assert bare["metrics"] == rep["metrics"]
        sim = run(["similar", str(mdir), "g1", "g2"], capsys)
        assert 0 < float(sim) <= 1
        assert "g3" in run(["similar", str(mdir), "g2", "-k", "29"], capsys)
    run(["embed", str(tmp_path / "biencoder"), graphs, "--out", str(tmp_path / "vecs")], capsys)
    import simlab

    assert len(simlab.load(tmp_path / "vecs")) == 30
    # graph vectors through the generic index + search commands: same neighbours as the model
    run(
        ["index", "build", str(tmp_path / "vecs"), "--metric", "euclidean", "--out", str(tmp_path / "idx")],
        capsys,
    )
    found = json.loads(run(["search", str(tmp_path / "idx"), "g1", "-k", "3", "--json"], capsys))["result"]
    keys = [h["key"] for h in found["hits"]]
    assert keys == simlab.load(tmp_path / "biencoder").most_similar("g1", k=3).keys
    out = run(
        [
            "rerank",
            str(tmp_path / "biencoder"),
            str(tmp_path / "pair"),
            "g1",
            "-k",
            "3",
            "--candidates",
            "8",
            "--json",
        ],
        capsys,
    )
    assert len(json.loads(out)["result"]["hits"]) == 3
    # edit-path search: fast GED upper bounds, evaluation alone or refining a model, re-ranking
    ub = tmp_path / "ub.tsv"
    out = run(["ged", graphs, "--out", str(ub), "--method", "editpath", "--restarts", "4"], capsys)
    assert "wrote 435 pairs" in out and "proven exact" in out
    from simlab.graph.ged import GEDTable

    exact, bound = GEDTable.read(ged), GEDTable.read(ub)
    assert (exact.a, exact.b) == (bound.a, bound.b) and (bound.ged >= exact.ged).all()
    assert (bound.ged == exact.ged).mean() > 0.9
    alone = json.loads(run(["evaluate", "editpath", f"ged:{ged}", "--graphs", graphs, "--json"], capsys))[
        "result"
    ]
    assert alone["metrics"]["rho"] > 0.9
    refined = json.loads(
        run(
            [
                "evaluate",
                str(tmp_path / "pair"),
                f"ged:{ged}",
                "--graphs",
                graphs,
                "--edit-path",
                "2",
                "--json",
            ],
            capsys,
        )
    )["result"]
    assert refined["metrics"]["mse_e3"] < rep["metrics"]["mse_e3"]
    out = run(
        ["rerank", str(tmp_path / "biencoder"), "editpath", "g1", "-k", "3", "--candidates", "8", "--json"],
        capsys,
    )
    assert len(json.loads(out)["result"]["hits"]) == 3


def test_cli_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "nodes": [{"id": 0}], "edges": []}\n{oops\n')
    with pytest.raises(SystemExit) as exc:
        main(["ged", str(bad), "--out", str(tmp_path / "g.tsv")])
    assert exc.value.code == 1
    assert "bad.jsonl:2: invalid JSON" in capsys.readouterr().err
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "a", "nodes": [{"id": 0}], "edges": []}\n')
    with pytest.raises(SystemExit) as exc:
        main(["ged", str(good), "--out", str(tmp_path / "g.tsv"), "--method", "astar"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "astar" in err and "editpath" in err
    ged = tmp_path / "ged.tsv"
    ged.write_text("id_a\tid_b\tged\na\tmissing\t1\n")
    with pytest.raises(SystemExit):
        main(["train", "graph", str(good), "--ged", str(ged), "--out", str(tmp_path / "m")])
    assert "unknown graph id 'missing'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_cli_train_nodes(tmp_path, capsys):
    g = nx.karate_club_graph()
    path = tmp_path / "karate.graphml"
    nx.write_graphml(g, path)
    out = run(
        [
            "train",
            "nodes",
            str(path),
            "--conv",
            "sage",
            "--out",
            str(tmp_path / "n"),
            "--set",
            "epochs=20",
            "--set",
            "test_share=0.1",
        ],
        capsys,
    )
    assert "held-out link prediction auc=" in out
    assert len(run(["similar", str(tmp_path / "n"), "0", "-k", "3"], capsys).splitlines()) == 5
    rep = json.loads(run(["evaluate", str(tmp_path / "n"), "linkpred", "--json"], capsys))["result"]
    assert 0 <= rep["metrics"]["auc"] <= 1
    # linkpred:GRAPH with the training file, however the path is written (relative, absolute)
    import os

    rel = os.path.relpath(path)
    for spec in (f"linkpred:{path}", f"linkpred:{rel}"):
        again = json.loads(run(["evaluate", str(tmp_path / "n"), spec, "--json"], capsys))["result"]
        assert again["metrics"]["auc"] == rep["metrics"]["auc"]
