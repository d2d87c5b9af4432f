"""Vectors simlab itself produces, for the index benchmark: trained once, cached under ``benchmarks/.cache``.

* ``word2vec``: :class:`simlab.text.Word2Vec` (100-d, 5 epochs, min_count 1: every word, 100k+) on all
  100,000 IMDB reviews.
* ``doc2vec``: :class:`simlab.text.Doc2Vec` PV-DBOW (100-d, 10 epochs) vectors of the 100,000 IMDB reviews.
* ``gnn_nodes``: GNN node vectors of Cora (simlab.graph), ``siamese``: Siamese series vectors
  (simlab.sequence), when those packages can produce them quickly (see :func:`load`).

Run ``python benchmarks/index_data.py [name ...]`` to build the cache (1 worker thread; minutes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent / ".cache"


def _save(name: str, x: np.ndarray, meta: str) -> None:
    CACHE.mkdir(exist_ok=True)
    tmp = CACHE / f"{name}.tmp.npz"
    np.savez(tmp, x=np.ascontiguousarray(x, np.float32), meta=meta)
    tmp.replace(CACHE / f"{name}.npz")


def build_word2vec() -> None:
    from simlab.text import Word2Vec
    from simlab.text.datasets import imdb_corpus

    imdb = imdb_corpus()
    t0 = time.perf_counter()
    m = Word2Vec(dim=100, epochs=5, min_count=1, workers=1, seed=1).fit(corpus_file=imdb.path, progress=False)
    v = m.vectors
    _save(
        "word2vec",
        v.matrix,
        "simlab.text.Word2Vec(dim=100, epochs=5, min_count=1, seed=1) on all 100,000 IMDB reviews "
        f"({imdb.tokens:,} tokens): {len(v):,} words, trained in {time.perf_counter() - t0:.0f} s, 1 worker",
    )


def build_doc2vec() -> None:
    from simlab.text import Doc2Vec, TextCorpus
    from simlab.text.datasets import imdb_corpus

    imdb = imdb_corpus()
    shuf, _ = imdb.shuffled(seed=0)
    t0 = time.perf_counter()
    m = Doc2Vec(
        mode="dbow", dim=100, negative=5, hs=False, min_count=2, sample=0, epochs=10, workers=1, seed=1
    ).fit(TextCorpus(shuf, tokenizer=str.split), progress=False)
    v = m.vectors
    _save(
        "doc2vec",
        v.matrix,
        f"simlab.text.Doc2Vec(mode='dbow', dim=100, epochs=10, min_count=2, seed=1) vectors of "
        f"the {len(v):,} IMDB reviews, trained in {time.perf_counter() - t0:.0f} s, 1 worker",
    )


def build_gnn_nodes() -> None:
    import torch

    torch.set_num_threads(1)
    from simlab.graph.nodes import NodeEmbedder
    from simlab.graph.planetoid import load_planetoid

    x, ei, _ = load_planetoid("Cora")
    t0 = time.perf_counter()
    m = NodeEmbedder(
        progress=False,
        seed=0,
        threads=1,
        conv="gcn",
        hidden=128,
        dim=64,
        layers=2,
        dropout=0.3,
        epochs=100,
        lr=0.01,
        patience=30,
    ).fit(ei, features=x, name="Cora")
    v = m.vectors
    _save(
        "gnn_nodes",
        v.matrix,
        f"simlab.graph.NodeEmbedder (2-layer GCN, 64-d, 100 epochs, link prediction) "
        f"node vectors of Cora: {len(v):,} nodes, trained in {time.perf_counter() - t0:.0f} s",
    )


def build_siamese() -> None:
    import torch

    torch.set_num_threads(1)
    from simlab.sequence import data as D
    from simlab.sequence.model import SiameseModel

    train, test = D.load_ucr("ItalyPowerDemand", "train"), D.load_ucr("ItalyPowerDemand", "test")
    t0 = time.perf_counter()
    m = SiameseModel(
        dict(
            encoder="gru",
            hidden=16,
            bidirectional=False,
            pooling="mean",
            loss="infonce",
            loss_options={"temperature": 0.1},
            augment=("jitter", "scaling", "warp"),
            lr=5e-3,
            epochs=30,
            progress=False,
            device="cpu",
            threads=1,
            seed=0,
        )
    ).fit(train)
    x = np.vstack([m.encode(train.series), m.encode(test.series)])
    _save(
        "siamese",
        x,
        f"simlab.sequence.SiameseModel (GRU 16, InfoNCE, 30 epochs) vectors of the {len(x):,} "
        f"ItalyPowerDemand series (train + test), trained in {time.perf_counter() - t0:.0f} s",
    )


BUILDERS = {
    "word2vec": build_word2vec,
    "doc2vec": build_doc2vec,
    "gnn_nodes": build_gnn_nodes,
    "siamese": build_siamese,
}


def load(name: str) -> tuple[np.ndarray, str] | None:
    """``(vectors, description)`` from the cache, or None when not built yet."""
    path = CACHE / f"{name}.npz"
    if not path.is_file():
        return None
    z = np.load(path, allow_pickle=False)
    return z["x"], str(z["meta"])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from common import pin_threads

    pin_threads(1)
    for n in sys.argv[1:] or list(BUILDERS):
        if load(n) is None:
            t = time.perf_counter()
            BUILDERS[n]()
            print(n, "built in", round(time.perf_counter() - t), "s", flush=True)
