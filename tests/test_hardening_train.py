"""One option precedence (API defaults < --config < flags < --set) recorded in the manifest; interrupted
training saves its best epoch; --resume for the graph, node and Siamese trainers (issue 9)."""

from __future__ import annotations

import json

import pytest

from simlab.cli.main import main

pytest.importorskip("torch")


def cli(argv, capsys):
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def config_of(path):
    """The saved config with the composed training settings (``train``) flattened in."""
    config = json.loads((path / "simlab.json").read_text())["config"]
    return {**config, **config.get("train", {})}


@pytest.fixture
def karate(tmp_path):
    nx = pytest.importorskip("networkx")
    p = tmp_path / "karate.graphml"
    nx.write_graphml(nx.karate_club_graph(), p)
    return p


def test_set_and_config_beat_flag_defaults(karate, tmp_path, capsys):
    out = tmp_path / "n1"
    assert (
        cli(["train", "nodes", karate, "--out", out, "--set", "conv=gcn", "--set", "epochs=2"], capsys)[0]
        == 0
    )
    assert config_of(out)["conv"] == "gcn"
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"conv": "gin", "epochs": 2, "seed": 3}))
    out2 = tmp_path / "n2"
    assert cli(["train", "nodes", karate, "--out", out2, "--config", cfg], capsys)[0] == 0
    assert config_of(out2)["conv"] == "gin" and config_of(out2)["seed"] == 3
    # a flag given beats the file; --set beats the flag
    out3 = tmp_path / "n3"
    assert (
        cli(
            [
                "train",
                "nodes",
                karate,
                "--out",
                out3,
                "--config",
                cfg,
                "--seed",
                "5",
                "--conv",
                "sage",
                "--set",
                "conv=gcn",
            ],
            capsys,
        )[0]
        == 0
    )
    assert config_of(out3)["seed"] == 5 and config_of(out3)["conv"] == "gcn"


def test_graph_set_conv_trains_that_conv(tmp_path, capsys):
    pytest.importorskip("torch_geometric")
    from simlab.demo.graph import make_graphs
    from simlab.graph.ged import compute_ged

    gs, _ = make_graphs(3, 4, (4, 5), seed=1)
    gs.write_jsonl(tmp_path / "g.jsonl")
    compute_ged(gs, tmp_path / "ged.tsv", timeout=2.0, workers=1, progress=False)
    out = tmp_path / "m"
    code, text, _ = cli(
        [
            "train",
            "graph",
            tmp_path / "g.jsonl",
            "--ged",
            tmp_path / "ged.tsv",
            "--out",
            out,
            "--set",
            "conv=gcn",
            "--set",
            "epochs=2",
            "--set",
            "hidden=8",
            "--device",
            "cpu",
        ],
        capsys,
    )
    assert code == 0 and "(gcn)" in text and config_of(out)["conv"] == "gcn"
    # --resume continues the saved model for more epochs; changing its architecture is refused by name
    code, _, err = cli(
        [
            "train",
            "graph",
            tmp_path / "g.jsonl",
            "--ged",
            tmp_path / "ged.tsv",
            "--out",
            tmp_path / "m3",
            "--resume",
            out,
            "--set",
            "conv=gin",
        ],
        capsys,
    )
    assert code == 1 and "cannot change conv" in err
    out2 = tmp_path / "m2"
    code, _, _ = cli(
        [
            "train",
            "graph",
            tmp_path / "g.jsonl",
            "--ged",
            tmp_path / "ged.tsv",
            "--out",
            out2,
            "--resume",
            out,
            "--set",
            "epochs=1",
        ],
        capsys,
    )
    assert code == 0 and config_of(out2)["conv"] == "gcn" and config_of(out2)["epochs"] == 1


def test_siamese_config_keeps_the_files_encoder_and_loss(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    lines = [f"{i % 2}\t" + "\t".join(f"{x:.3f}" for x in rng.normal(i % 2, 1, 12)) for i in range(24)]
    data = tmp_path / "train.tsv"
    data.write_text("\n".join(lines) + "\n")
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"encoder": "lstm", "loss": "contrastive", "epochs": 1, "hidden": 8}))
    out = tmp_path / "s"
    code, _, err = cli(["train", "siamese", data, "--out", out, "--config", cfg, "--device", "cpu"], capsys)
    assert code == 0, err
    assert config_of(out)["encoder"] == "lstm" and config_of(out)["loss"] == "contrastive"
    out2 = tmp_path / "s2"
    code, _, err = cli(
        ["train", "siamese", data, "--out", out2, "--resume", out, "--set", "epochs=1"], capsys
    )
    assert code == 0, err
    assert config_of(out2)["encoder"] == "lstm"


def test_word2vec_epochs_flag_is_recorded(tmp_path, capsys):
    pytest.importorskip("gensim")
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 30)
    out = tmp_path / "w"
    code, _, err = cli(
        [
            "train",
            "word2vec",
            corpus,
            "--out",
            out,
            "--epochs",
            "3",
            "--set",
            "min_count=1",
            "--set",
            "dim=8",
        ],
        capsys,
    )
    assert code == 0, err
    assert config_of(out)["epochs"] == 3


def test_interrupted_training_saves_the_best_epoch(karate, tmp_path, capsys, monkeypatch):
    import simlab
    import simlab.train as T

    calls = {"n": 0}

    class Log:
        def info(self, *a, **k):
            calls["n"] += 1
            if calls["n"] == 3:  # Ctrl-C during the third epoch's bookkeeping
                raise KeyboardInterrupt

        def warning(self, *a, **k):
            pass

    monkeypatch.setattr(T, "log", Log())
    out = tmp_path / "n"
    code, _, err = cli(["train", "nodes", karate, "--out", out, "--set", "epochs=50"], capsys)
    assert code == 130 and "saved the best model so far" in err
    model = simlab.load(out)
    assert model.history["interrupted"] == "interrupted" and len(model.history["epochs"]) == 3
    # --resume continues from it
    monkeypatch.undo()
    code, _, err = cli(
        ["train", "nodes", karate, "--out", tmp_path / "n2", "--resume", out, "--set", "epochs=2"], capsys
    )
    assert code == 0, err


def test_interrupt_before_any_epoch_saves_nothing(karate, tmp_path, capsys, monkeypatch):
    import simlab.train as T

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(T._Run, "epoch", stop)
    code, _, err = cli(["train", "nodes", karate, "--out", tmp_path / "n", "--set", "epochs=5"], capsys)
    assert code == 130 and err.strip() == "interrupted" and not (tmp_path / "n").exists()


def test_ctrl_c_during_word2vec_saves_the_epochs_done(tmp_path, capsys, monkeypatch):
    pytest.importorskip("gensim")
    import os
    import signal

    import simlab
    from simlab.text import _engine

    real = _engine.Progress.end_epoch

    def end_epoch(self, *a, **k):
        if self.done_epochs == 0:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the first epoch
        return real(self, *a, **k)

    monkeypatch.setattr(_engine.Progress, "end_epoch", end_epoch)
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    out = tmp_path / "w"
    code, _, err = cli(
        [
            "train",
            "word2vec",
            corpus,
            "--out",
            out,
            "--set",
            "epochs=5",
            "--set",
            "min_count=1",
            "--set",
            "dim=8",
        ],
        capsys,
    )
    assert code == 130 and "saved the best model so far" in err
    model = simlab.load(out)
    assert model.history[-1]["interrupted"] == "interrupted" and model.history[-1]["epochs"] == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
