"""The fusion CLI: train nodes --features, train fusion (keyed and series views), evaluate
nodeclass/ucr/pairs."""

from __future__ import annotations

import itertools
import json

import pytest

from simlab.cli.main import main


def run(argv, capsys, code=0):
    try:
        main(argv)
    except SystemExit as exc:
        if (exc.code or 0) != code:
            raise AssertionError(f"exit {exc.code}: {capsys.readouterr().err}") from None
        return capsys.readouterr()
    assert code == 0
    return capsys.readouterr()


def test_cli_nodes_and_fusion(csbm, tmp_path, capsys):
    g = str(csbm["path"])
    for view in ("features", "structure", "fused"):
        out = run(
            [
                "train",
                "nodes",
                g,
                "--features",
                "--set",
                f"view={view}",
                "--set",
                "dim=16",
                "--out",
                str(tmp_path / view),
            ],
            capsys,
        ).out
        assert "embedded 600 nodes" in out
    acc = {}
    for view in ("features", "structure", "fused"):
        rep = json.loads(run(["evaluate", str(tmp_path / view), f"nodeclass:{g}", "--json"], capsys).out)[
            "result"
        ]
        acc[view] = rep["metrics"]["accuracy"]
    assert acc["fused"] > max(acc["features"], acc["structure"])
    labels = tmp_path / "labels.tsv"
    labels.write_text("id\tlabel\n" + "".join(f"{k}\t{v}\n" for k, v in csbm["labels"].items()))
    for method in ("early", "late", "learned"):
        out = run(
            [
                "train",
                "fusion",
                "--view",
                f"x={tmp_path / 'features'}",
                "--view",
                f"s={tmp_path / 'structure'}",
                "--method",
                method,
                "--labels",
                str(labels),
                "--set",
                "epochs=20",
                "--threads",
                "1",
                "--out",
                str(tmp_path / method),
                *(["--json"] if method == "late" else []),
            ],
            capsys,
        ).out
        if method == "late":  # the --json envelope of train fusion
            env = json.loads(out)
            assert (
                env["command"] == "simlab train fusion" and env["ok"] and env["result"]["views"] == ["x", "s"]
            )
        else:
            assert "fused 2 views" in out
        rep = json.loads(run(["evaluate", str(tmp_path / method), f"nodeclass:{g}", "--json"], capsys).out)[
            "result"
        ]
        assert rep["metrics"]["accuracy"] > max(acc["features"], acc["structure"])
    pairs = tmp_path / "pairs.tsv"
    ids = list(csbm["labels"])[:60]
    pairs.write_text(
        "a\tb\tscore\n"
        + "".join(
            f"{a}\t{b}\t{float(csbm['labels'][a] == csbm['labels'][b])}\n" for a, b in itertools.pairwise(ids)
        )
    )
    rep = json.loads(run(["evaluate", str(tmp_path / "early"), f"pairs:{pairs}", "--json"], capsys).out)[
        "result"
    ]
    assert rep["counts"]["items_scored"] == 59 and rep["metrics"]["pearson"] > 0.2
    # the node-graph file itself is accepted as labels (its train + val nodes)
    out = run(
        [
            "train",
            "fusion",
            "--view",
            f"x={tmp_path / 'features'}",
            "--view",
            f"s={tmp_path / 'structure'}",
            "--labels",
            g,
            "--out",
            str(tmp_path / "e2"),
        ],
        capsys,
    ).out
    assert "validation" in out
    hits = json.loads(run(["similar", str(tmp_path / "e2"), "0", "-k", "3", "--json"], capsys).out)["result"][
        "hits"
    ]
    assert len(hits) == 3


def test_cli_series_views(tmp_path, capsys):
    pytest.importorskip("sktime")
    out = run(
        [
            "train",
            "fusion",
            "--view",
            "acc=ucr:BasicMotions:0,1,2",
            "--view",
            "gyro=ucr:BasicMotions:3,4,5",
            "--method",
            "late",
            "--out",
            str(tmp_path / "bm"),
        ],
        capsys,
    ).out
    assert "fused 2 views (late; weights" in out
    rep = json.loads(run(["evaluate", str(tmp_path / "bm"), "ucr:BasicMotions", "--json"], capsys).out)[
        "result"
    ]
    assert rep["metrics"]["accuracy"] >= 0.7 and "accuracy_dtw" in rep["metrics"]


def test_cli_errors(tmp_path, capsys):
    err = run(["train", "fusion", "--view", "novalue", "--out", str(tmp_path / "x")], capsys, code=1).err
    assert err.startswith("error:") and "NAME=ARTIFACT" in err
    err = run(
        ["train", "fusion", "--view", f"a={tmp_path}", "--out", str(tmp_path / "x")], capsys, code=1
    ).err
    assert "manifest" in err
    err = run(
        ["train", "fusion", "--view", "a=ucr:BasicMotions:0,x", "--out", str(tmp_path / "x")], capsys, code=1
    ).err
    assert "channels" in err
    bad = tmp_path / "l.tsv"
    bad.write_text("p q r s\n")
    from simlab.cli.fusion import read_supervision
    from simlab.errors import DataError

    with pytest.raises(DataError, match="columns"):
        read_supervision(bad)
