"""Series channel groups as views (BasicMotions from the sktime wheel: accelerometer vs gyroscope)."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.evaluate import evaluate
from simlab.fusion.model import FusedModel
from simlab.fusion.series import GROUPS, accuracy_1nn, channel_views, dtw_group_fusion, fit_series

pytest.importorskip("sktime")


@pytest.fixture(scope="module")
def motions():
    from simlab.sequence.data import load_ucr

    return load_ucr("BasicMotions", "train"), load_ucr("BasicMotions", "test")


def test_channel_groups_alone_and_fused(motions, tmp_path):
    train, test = motions
    groups = GROUPS["basicmotions"]
    alone = {
        g: accuracy_1nn(FusedModel(channel_views({g: ch}, 100)).fit(), train, test)
        for g, ch in groups.items()
    }
    assert all(0.6 <= a <= 0.9 for a in alone.values()), alone  # 4 classes: chance 0.25
    m = fit_series(FusedModel(channel_views(groups, 100), method="late"), train)
    assert m.history["objective"] == "loo_1nn_accuracy"
    assert m.history["validation"]["fused"] >= max(m.history["validation"][f"view:{g}"] for g in groups)
    fused = accuracy_1nn(m, train, test)
    assert fused >= min(alone.values())
    m.save(tmp_path / "bm")
    rep = evaluate(simlab.load(tmp_path / "bm"), "ucr:BasicMotions", dtw=False)
    assert rep.value == pytest.approx(fused) and "accuracy_euclidean" in rep.metrics


def test_missing_channel_group_is_still_encoded(motions):
    train, test = motions
    m = fit_series(FusedModel(channel_views(GROUPS["basicmotions"], 100)), train)
    s = test.series[0].copy()
    s[:, 3:] = np.nan  # the gyroscope failed
    _, present = m.raw([s])
    assert present.tolist() == [[True, False]]
    v = m.encode([s])[0]
    assert np.isfinite(v).all() and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)


def test_dtw_group_fusion(motions):
    train, test = motions
    out = dtw_group_fusion(train, test, GROUPS["basicmotions"])
    assert set(out["groups"]) == {"accelerometer", "gyroscope"}
    assert out["fused"] >= 0.9 and out["all_channels"] >= 0.9 and min(out["groups"].values()) >= 0.8
    assert sum(out["weights"]) == pytest.approx(1.0)
