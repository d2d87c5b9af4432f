"""Recipe: UCR series -> Siamese GRU -> 1-NN accuracy vs Euclidean and DTW -> save, reload, search an index.

Data: ItalyPowerDemand, bundled in the sktime wheel (offline). Runs in about 10 seconds on 2 cores.
Run: ``python examples/21_series_siamese_gru.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import simlab
from simlab.sequence import SiameseModel, load_ucr
from simlab.sequence.evaluation import dtw_1nn, euclidean_1nn, learned_1nn


def main(out: Path) -> dict[str, float]:
    train, test = load_ucr("ItalyPowerDemand", "train"), load_ucr("ItalyPowerDemand", "test")
    model = SiameseModel(
        encoder="gru",
        hidden=32,
        bidirectional=True,
        pooling="mean",
        loss="contrastive",
        augment=("jitter", "scaling"),
        lr=5e-3,
        epochs=10,
        pairs_per_epoch=1024,
        seed=0,
        threads=1,
        progress=False,
    )
    model.fit(train)  # class-balanced pairs sampled from the labelled training collection
    acc = {
        "siamese_gru": float(np.mean(learned_1nn(model, train, test) == test.labels)),
        "euclidean": float(np.mean(euclidean_1nn(train, test) == test.labels)),
        "dtw": float(np.mean(dtw_1nn(train, test) == test.labels)),
    }
    print("1-NN accuracy:", {k: round(v, 4) for k, v in acc.items()})
    model.save(out / "gru-italy")
    again = simlab.load(out / "gru-italy")
    assert np.array_equal(again.encode(test.series[:10]), model.encode(test.series[:10]))
    # the embeddings go into the core Index like any other vectors
    vecs = again.embed(train.series)
    index = simlab.Index.from_vectors(vecs, metric="cosine")
    hits = index.search(again.encode(test.series[:3]), k=3)
    print("nearest training series of 3 test series:", hits.keys)
    return acc


if __name__ == "__main__":
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("SIMLAB_EXAMPLE_OUT") or tempfile.mkdtemp())
    )
    main(out)
