"""Demo section: a Siamese GRU on GunPoint (bundled in the sktime wheel), 1-NN accuracy next to Euclidean and
DTW, and a 2-D PCA scatter of the learned test embeddings coloured by class."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from simlab.demo import DemoContext, Section

TITLE = "Sequences: Siamese GRU on GunPoint (UCR)"


def run(ctx: DemoContext) -> Section:
    """Train, evaluate and plot; the model sets its one thread for each call and restores it."""
    from simlab.sequence import data as D
    from simlab.sequence.model import SiameseModel

    train, test = D.load_ucr("GunPoint", "train"), D.load_ucr("GunPoint", "test")
    cfg = dict(
        encoder="gru",
        hidden=64,
        bidirectional=True,
        pooling="mean",
        downsample=5,
        loss="contrastive",
        augment=("jitter", "scaling", "warp"),
        lr=5e-3,
        epochs=3 if ctx.quick else 30,
        pairs_per_epoch=256 if ctx.quick else 1024,
        seed=ctx.seed,
        progress=False,
        device="cpu",
        threads=1,
    )  # a small GRU is fastest on one thread
    t0 = time.perf_counter()
    model = SiameseModel(cfg).fit(train)
    t_fit = time.perf_counter() - t0
    model.save(ctx.out / "sequence_gunpoint_gru")
    sel = model.selection
    text = (
        "A bidirectional GRU (hidden 64, mean pooling over windows of 5 steps) is trained with a "
        f"contrastive loss on class-balanced pairs of the {len(train)} GunPoint training series "
        "(jitter/scaling/time-warp augmentation); its "
        f"embeddings classify the {len(test)} test series by 1-NN (cosine). With fallback auto the model "
        "ships the similarity that validated best on a hold-out of the training series "
        f"({sel.describe() if sel else 'learned'})."
    )
    if ctx.quick:
        text += " Quick mode: 3 short epochs, so the learned accuracy is not representative."
    return Section(TITLE, _rows(model, train, test, t_fit), text, _figures(model, test))


def _timed(fn: Any) -> tuple[float, float]:
    t0 = time.perf_counter()
    acc = float(fn())
    return acc, time.perf_counter() - t0


def _rows(model: Any, train: Any, test: Any, t_fit: float) -> list[dict[str, Any]]:
    """1-NN accuracy and query time of the model's similarity, Euclidean and DTW on the test split."""
    from simlab.sequence import evaluation as V

    acc, t_model = _timed(lambda: np.mean(V.learned_1nn(model, train, test) == test.labels))
    acc_ed, t_ed = _timed(lambda: np.mean(V.euclidean_1nn(train, test) == test.labels))
    acc_dtw, t_dtw = _timed(lambda: np.mean(V.dtw_1nn(train, test) == test.labels))
    sel = model.selection
    return [
        {
            "method": f"1-NN Siamese GRU, fallback auto: {sel.name if sel else 'learned'}",
            "accuracy": acc,
            "query_seconds": t_model,
            "train_seconds": t_fit,
        },
        {"method": "1-NN Euclidean", "accuracy": acc_ed, "query_seconds": t_ed, "train_seconds": None},
        {
            "method": "1-NN DTW (full window, dtaidistance)",
            "accuracy": acc_dtw,
            "query_seconds": t_dtw,
            "train_seconds": None,
        },
    ]


def _figures(model: Any, test: Any) -> list[tuple[str, bytes]]:
    """A PCA scatter of the test embeddings by class, and the training curve."""
    from simlab.demo.report import pca_2d, scatter_2d, training_curve

    pts, xl, yl = pca_2d(model.encode(test.series))
    png = scatter_2d(
        pts,
        [f"class {c}" for c in test.labels],
        "GunPoint test embeddings (PCA), Siamese GRU",
        xlabel=xl,
        ylabel=yl,
    )
    figures = [("PCA of the learned GunPoint test embeddings, coloured by class", png)]
    curve = training_curve(model.history, "Siamese GRU on GunPoint: training")
    if curve is not None:
        figures.append(("Training curve of the Siamese GRU (contrastive loss per epoch)", curve))
    return figures
