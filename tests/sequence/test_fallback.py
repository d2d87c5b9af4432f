"""Baseline-aware series similarity: classical metrics, the fallback choice, knn: evaluation, speed
helpers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("dtaidistance")

import simlab
from simlab import metrics as M
from simlab.sequence import SeriesDataset
from simlab.sequence import fallback as F
from simlab.sequence.model import SiameseModel
from simlab.sequence.synthetic import KINDS, make_motifs

FAST = dict(hidden=8, epochs=2, pairs_per_epoch=128, progress=False, device="cpu")


def nyquist_data(n: int, seed: int, length: int = 256) -> SeriesDataset:
    """Classes differ only by the sign of an alternating (+1, -1, ...) pattern: Euclidean separates them
    perfectly, while the learned encoder's front end averages windows of 4 steps (``downsample="auto"`` at
    256 steps), which cancels the pattern exactly, so the learned similarity sees noise only and must lose."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    alt = np.where(np.arange(length) % 2 == 0, 1.0, -1.0)
    x = (np.where(y == 0, 1.0, -1.0)[:, None] * alt[None, :] + rng.normal(0, 0.5, (n, length))).astype(
        np.float32
    )
    return SeriesDataset.from_arrays(x, np.array(["a", "b"])[y], name=f"nyquist/{seed}")


def test_classical_metrics_registered_and_lazy():
    code = "import simlab.metrics, sys; print('dtaidistance' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # dtaidistance is imported only when a DTW metric runs
    from dtaidistance import dtw

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 30)).astype(np.float32)
    z = M.znormalize(x.astype(np.float64))
    d = -M.pairwise(x, x, "dtw", dtype=np.float64)
    assert np.allclose(d[0, 1], dtw.distance_fast(z[0], z[1]), atol=1e-4) and np.allclose(
        np.diag(d), 0, atol=1e-6
    )
    assert np.allclose(M.pairwise_distance(x, x, "dtw"), d, atol=1e-4)
    assert (M.pairwise_distance(x, x, "dtw10") >= d - 1e-4).all()  # a band can only lengthen the warping path
    ed = M.pairwise_distance(x, x, "znorm_euclidean")
    assert np.allclose(ed[0, 2], np.linalg.norm(z[0] - z[2]), atol=1e-4)
    assert (ed >= d - 1e-4).all()  # DTW <= Euclidean on equal lengths
    idx, _ = M.topk(x[:2], x, 2, "dtw")
    assert idx[:, 0].tolist() == [0, 1]
    # re-ranking Euclidean candidates by DTW returns the DTW order within the candidates
    cand = M.topk(x[:1], x, 3, "znorm_euclidean")[0]
    ri, rs = M.rerank(x[:1], x, cand, 3, "dtw")
    assert ri[0, 0] == 0 and set(ri[0].tolist()) == set(cand[0].tolist()) and (np.diff(rs[0]) <= 0).all()
    assert {"dtw", "dtw10", "znorm_euclidean"} <= set(simlab.registry.METRICS.names())


def test_learned_must_lose_gets_classical_and_says_so(tmp_path):
    train = nyquist_data(60, 0)
    test = nyquist_data(40, 1)
    m = SiameseModel(**FAST).fit(train)
    sel = m.selection
    assert m.downsample == 4
    assert sel.choice in ("euclidean", "dtw", "dtw10") and not sel.uses_learned
    assert sel.validation["learned"] < sel.validation[sel.choice]
    assert "hold-out" in sel.protocol and sel.choice in sel.describe()
    assert np.mean(m.knn_predict(train, test) == test.labels) >= 0.95
    keep, m.selection = sel, None
    assert np.mean(m.knn_predict(train, test) == test.labels) < 0.8  # the learned one alone is poor
    m.selection = keep
    # the shipped similarity is the classical one everywhere: similarity, most_similar, save/load, info
    from simlab.sequence import classical

    a, b = test.series[0], test.series[1]
    assert m.similarity(a, b) == pytest.approx(
        -classical.distances([a], [b], sel.choice, sel.length)[0, 0], rel=1e-5
    )
    hits = m.most_similar(a, k=3)
    assert all(train.labels[k] == test.labels[0] for k in hits.keys)
    m.save(tmp_path / "m")
    again = simlab.load(tmp_path / "m")
    assert again.selection.name == sel.name and again.most_similar(a, k=3).keys == hits.keys
    info = simlab.artifacts.info(tmp_path / "m")
    assert info["metrics"]["similarity"] == sel.name and "learned" in info["metrics"]["validation_accuracy"]
    # fallback="off" ships the learned similarity
    off = SiameseModel(**FAST, fallback="off").fit(train)
    assert off.selection is None


def test_learned_can_win_and_blend_is_scored():
    # shifted motifs: Euclidean is weak; the candidates include the blends, scored on the hold-out
    d = {"euclidean": np.array([[1.0, 0.2], [0.1, 1.0]]), "learned": np.array([[0.1, 0.9], [0.8, 0.2]])}
    sel = F.select(d, np.array(["a", "b"]), np.array(["a", "b"]), "test", 10)
    assert sel.choice in ("learned", "blend") and sel.validation["euclidean"] == 0.0
    assert any(k.startswith("blend_euclidean") for k in sel.validation)
    # ties go to the classical distance when margins tie too
    tie = F.select(
        {"euclidean": np.eye(2)[::-1].copy(), "learned": np.eye(2)[::-1].copy()},
        np.array(["a", "b"]),
        np.array(["a", "b"]),
        "t",
        10,
    )
    assert tie.choice == "euclidean"


def test_tiny_training_split_uses_leave_one_out():
    train, _ = make_motifs("noisy", n_train=12, n_test=4, length=40, seed=0)
    m = SiameseModel(**FAST).fit(train)
    assert "leave-one-out" in m.selection.protocol and m.selection.validation["learned"] is None
    assert m.selection.choice in ("euclidean", "dtw", "dtw10")


def test_knn_evaluator_cli_and_files(tmp_path, capsys):
    from simlab.cli.main import main

    train, test = make_motifs("shifted", n_train=30, n_test=20, length=40, seed=1)
    for name, ds in (("tr", train), ("te", test)):
        rows = [
            f"{lab}\t" + "\t".join(f"{v:.5f}" for v in s[:, 0])
            for s, lab in zip(ds.series, ds.labels, strict=True)
        ]
        (tmp_path / f"{name}.tsv").write_text("\n".join(rows) + "\n", "utf-8")
        np.save(tmp_path / f"{name}.npy", np.stack([s[:, 0] for s in ds.series]))
        np.save(tmp_path / f"{name}_labels.npy", ds.labels)
    out = tmp_path / "m"
    main(
        [
            "train",
            "siamese",
            str(tmp_path / "tr.tsv"),
            "--out",
            str(out),
            "--set",
            "hidden=8",
            "--set",
            "epochs=2",
            "--set",
            "pairs_per_epoch=128",
            "--device",
            "cpu",
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)["result"]
    assert summary["similarity"] and "validation_accuracy" in summary
    main(["evaluate", str(out), f"knn:{tmp_path / 'te.tsv'}", "--train", str(tmp_path / "tr.tsv"), "--json"])
    rep = json.loads(capsys.readouterr().out)["result"]
    assert rep["primary"] == "accuracy" and {"accuracy_euclidean", "accuracy_dtw", "accuracy_dtw10"} <= set(
        rep["metrics"]
    )
    assert rep["counts"]["similarity"] == summary["similarity"] and rep["counts"]["test"] == 20
    from simlab.sequence.data import read_series
    from simlab.sequence.evaluation import dtw_1nn

    tr, te = read_series(tmp_path / "tr.tsv"), read_series(tmp_path / "te.tsv")
    assert rep["metrics"]["accuracy_dtw"] == pytest.approx(float(np.mean(dtw_1nn(tr, te) == te.labels)))
    assert rep["metrics"]["accuracy"] == pytest.approx(
        float(np.mean(simlab.load(out).knn_predict(tr, te) == te.labels))
    )
    main(["evaluate", str(out), f"knn:{tmp_path / 'te.npy'}", "--train", str(tmp_path / "tr.npy"), "--json"])
    rep2 = json.loads(capsys.readouterr().out)["result"]
    assert rep2["metrics"]["accuracy_dtw"] == pytest.approx(rep["metrics"]["accuracy_dtw"], abs=1e-6)
    main(["info", str(out)])
    assert "metrics.similarity" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["evaluate", str(out), f"knn:{tmp_path / 'te.tsv'}"])
    assert "--train" in capsys.readouterr().err


def test_downsample_auto_threads_restored_and_one_bar(monkeypatch):
    import torch
    import tqdm.auto

    from simlab.sequence.featurizers import resolve_downsample
    from simlab.sequence.model import SiameseConfig as C

    lens = [np.zeros((n, 1)) for n in (2000, 2000, 1800)]
    assert resolve_downsample(C(), lens) == 32 and resolve_downsample(C(downsample=3), lens) == 3
    assert resolve_downsample(C(), [np.zeros((24, 1))]) == 1
    bars = []
    real = tqdm.auto.tqdm

    def spy(*a, **k):
        bars.append(k)
        return real(*a, **k)

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    before = torch.get_num_threads()
    train, _ = make_motifs("shifted", n_train=20, n_test=2, length=30, seed=2)
    m = SiameseModel(**{**FAST, "epochs": 3}, fallback="off").fit(train)
    assert torch.get_num_threads() == before and len(bars) == 1  # one bar over all epochs, threads restored
    m.encode(train.series[:2])
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kind", KINDS)
def test_synthetic_kinds(kind):
    tr, te = make_motifs(kind, n_train=9, n_test=6, length=50, seed=0)
    assert len(tr) == 9 and len(te) == 6 and tr.channels == 1 and len(tr.classes) == 3
    assert tr.has_missing == (kind == "missing")
    assert (len(set(tr.lengths.tolist())) > 1) == (kind == "unequal")


def test_leave_one_out_ties_within_noise_go_to_the_suite_prior(monkeypatch):
    # 20 series: 0.95 against 0.90 is one series (a tie), 0.95 against 0.85 two
    assert F.within_noise({"euclidean": 0.95, "dtw10": 0.85, "dtw": 0.90}, 20) == ["euclidean", "dtw"]
    assert F.within_noise({"euclidean": 0.95, "dtw": 0.945}, 400) == ["euclidean"]  # two of 400 apart
    assert F.CLASSICAL_PRIOR.index("dtw") < F.CLASSICAL_PRIOR.index("euclidean")

    from simlab.sequence import classical
    from simlab.sequence.data import SeriesDataset

    labels = np.array([0, 1] * 10)
    full = SeriesDataset([np.zeros((5, 1), np.float32)] * 20, labels)
    wrong = {"euclidean": 1, "dtw10": 3, "dtw": 2}  # series each distance gets wrong (of 20)

    def fake(a, b, kind, length):
        d = np.where(labels[:, None] == labels[None, :], 1.0, 2.0)  # the nearest other series: same class
        for i in range(wrong[kind]):
            d[i, labels != labels[i]] = 0.5  # ... except for the first few, nearest to another class
        return d

    monkeypatch.setattr(classical, "distances", fake)
    best, acc = F.classical_loo(full)
    assert acc == {"euclidean": 0.95, "dtw10": 0.85, "dtw": 0.90} and best == "dtw"
    wrong["dtw"] = 4  # 0.80: outside the noise, Euclidean is kept
    assert F.classical_loo(full)[0] == "euclidean"
    # a costly full DTW is left out of the leave-one-out, the 10% band kept; Euclidean alone decides nothing
    wrong["dtw"] = 0
    best, acc = F.classical_loo(full, max_cells=5_000)  # 20 series of 5 steps: 10,000 cells for full DTW
    assert set(acc) == {"euclidean", "dtw10"} and best == "euclidean"
    assert F.classical_loo(full, max_cells=1_000) is None
