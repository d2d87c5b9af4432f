"""Long checks (``make test-all``): the benchmark configuration reaches 1-NN DTW on GunPoint."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

pytestmark = pytest.mark.slow


def test_gunpoint_siamese_gru_reaches_dtw():
    import numpy as np

    from simlab.sequence import data as D
    from simlab.sequence.evaluation import dtw_1nn, ucr_seeds

    cfg = dict(
        encoder="gru",
        hidden=64,
        bidirectional=True,
        pooling="mean",
        downsample=5,
        loss="contrastive",
        augment=("jitter", "scaling", "warp"),
        lr=5e-3,
        epochs=30,
        progress=False,
        device="cpu",
        threads=1,
    )
    res = ucr_seeds("GunPoint", cfg, seeds=(0,))
    train, test = D.load_ucr("GunPoint", "train"), D.load_ucr("GunPoint", "test")
    dtw = float(np.mean(dtw_1nn(train, test) == test.labels))
    assert res["mean"] >= dtw, (res, dtw)
