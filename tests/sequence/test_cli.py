from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from simlab.cli.main import main


def run(capsys, *argv: str) -> str:
    main(list(argv))
    return capsys.readouterr().out


def test_train_similar_embed_evaluate_series(tmp_path, capsys):
    out = tmp_path / "m"
    text = run(
        capsys,
        "train",
        "siamese",
        "ucr:ItalyPowerDemand",
        "--encoder",
        "gru",
        "--loss",
        "contrastive",
        "--out",
        str(out),
        "--epochs",
        "2",
        "--quiet",
        "--set",
        "pairs_per_epoch=128",
        "--set",
        "hidden=8",
        "--seed",
        "1",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--json",
    )
    summary = json.loads(text)["result"]
    # bidirectional by default for series (2 x hidden); the fallback says which similarity it ships
    assert summary["modality"] == "series" and summary["dim"] == 16 and summary["pairs_per_s"] > 0
    assert summary["similarity"] and summary["validation_accuracy"]
    assert summary["epochs"] == 2  # --epochs is a flag like on every trainer
    s = float(run(capsys, "similar", str(out), "0.1,0.5,0.9,1.2,0.3", "0.2,0.4,1.0,1.1,0.2"))
    same = float(run(capsys, "similar", str(out), "0.1,0.5,0.9,1.2,0.3", "0.1,0.5,0.9,1.2,0.3"))
    assert same >= s
    rows = json.loads(run(capsys, "similar", str(out), "0.1,0.5,0.9,1.2,0.3", "-k", "3", "--json"))["result"][
        "hits"
    ]
    assert len(rows) == 3
    ts = tmp_path / "x.ts"
    ts.write_text("@classLabel true a b\n@data\n1,2,3,4:a\n4,3,2,1:b\n", "utf-8")
    assert "wrote 2 vectors of dim 16" in run(
        capsys, "embed", str(out), str(ts), "--out", str(tmp_path / "v")
    )
    rep = json.loads(run(capsys, "evaluate", str(out), "ucr:ItalyPowerDemand", "--json"))["result"]
    assert rep["primary"] == "accuracy" and {"accuracy_dtw", "accuracy_euclidean"} <= set(rep["metrics"])
    assert rep["metrics"]["accuracy_dtw"] > 0.9
    rep = json.loads(run(capsys, "evaluate", str(out), "retrieval:ucr:ItalyPowerDemand", "--json"))["result"]
    assert 0 < rep["metrics"]["mrr"] <= 1


def test_train_text_pairs_and_evaluate(tmp_path, capsys, sick_files, word_vectors):
    vec = tmp_path / "vec"
    word_vectors.save(vec)
    out = tmp_path / "t"
    run(
        capsys,
        "train",
        "siamese",
        str(sick_files / "SICK_train.txt"),
        "--encoder",
        "lstm",
        "--head",
        "malstm",
        "--loss",
        "mse",
        "--vectors",
        str(vec),
        "--dev",
        str(sick_files / "SICK_trial.txt"),
        "--out",
        str(out),
        "--set",
        "epochs=2",
        "--set",
        "hidden=8",
        "--device",
        "cpu",
    )
    s = float(run(capsys, "similar", str(out), "a man plays guitar", "a dog barks"))
    assert 0 < s <= 1
    rep = json.loads(
        run(capsys, "evaluate", str(out), f"pairs:{sick_files / 'SICK_test_annotated.txt'}", "--json")
    )["result"]
    assert set(rep["metrics"]) == {"pearson", "spearman", "mse"} and rep["counts"]["items_scored"] == 200
    # a bare path reaches the same batched pairs evaluator (not the per-key pairs-file one)
    bare = json.loads(
        run(capsys, "evaluate", str(out), str(sick_files / "SICK_test_annotated.txt"), "--json")
    )["result"]
    assert bare["metrics"] == rep["metrics"]
    rows = json.loads(
        run(capsys, "similar", str(out), "--text", "a man plays the guitar", "-k", "2", "--json")
    )["result"]["hits"]
    assert len(rows) == 2
    with pytest.raises(SystemExit):
        main(["evaluate", str(out), "ucr:GunPoint"])
    assert "needs a series model" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["train", "siamese", "ucr:NoSuchData", "--out", "X"], "GunPoint"),
        (
            ["train", "siamese", "ucr:GunPoint", "--encoder", "transformer", "--out", "X"],
            "valid: rnn, lstm, gru",
        ),
        (["train", "siamese", "ucr:GunPoint", "--set", "nope=1", "--out", "X"], "unknown SiameseConfig key"),
    ],
)
def test_cli_bad_input(tmp_path, capsys, argv, msg):
    argv = [a if a != "X" else str(tmp_path / "o") for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 1
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_mismatched_pair_columns(tmp_path, capsys):
    f = tmp_path / "p.tsv"
    f.write_text("a\tb\tscore\nx y\tz\t1\nonly one\n", "utf-8")
    with pytest.raises(SystemExit):
        main(["train", "siamese", str(f), "--out", str(tmp_path / "o")])
    assert "p.tsv:3" in capsys.readouterr().err
