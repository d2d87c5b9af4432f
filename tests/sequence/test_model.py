from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import simlab  # noqa: E402
from simlab.errors import ConfigError, DataError, DimensionError, NotFittedError  # noqa: E402
from simlab.sequence import evaluation as V  # noqa: E402
from simlab.sequence.data import PairDataset, SeriesDataset, Triplets, read_sick  # noqa: E402
from simlab.sequence.model import SiameseModel  # noqa: E402

from .conftest import FAST_SERIES  # noqa: E402


@pytest.fixture(scope="module")
def italy_model(italy):
    train, _ = italy
    return SiameseModel(FAST_SERIES).fit(train)


def test_series_learning_beats_chance(italy, italy_model):
    train, test = italy
    acc = float(np.mean(V.learned_1nn(italy_model, train, test) == test.labels))
    assert acc >= 0.75, acc  # chance is 0.5
    assert italy_model.history["data_kind"] == "binary_pairs"  # sampled from the labelled collection
    emb = italy_model.encode(test.series)
    assert emb.shape == (len(test), 32) and emb.dtype == np.float32


def test_save_load_identity(italy, italy_model, tmp_path):
    _, test = italy
    italy_model.save(tmp_path / "m")
    m2 = simlab.load(tmp_path / "m")
    assert isinstance(m2, SiameseModel)
    np.testing.assert_array_equal(italy_model.encode(test.series[:20]), m2.encode(test.series[:20]))
    assert m2.similarity(test.series[0], test.series[1]) == italy_model.similarity(
        test.series[0], test.series[1]
    )
    h1, h2 = italy_model.most_similar(test.series[3], k=5), m2.most_similar(test.series[3], k=5)
    assert h1.keys == h2.keys
    # never pickle: only safetensors + json
    assert {p.suffix for p in (tmp_path / "m").iterdir()} == {".json", ".safetensors"}


def test_reproducible_with_seed(italy):
    train, test = italy
    cfg = {**FAST_SERIES, "epochs": 2, "pairs_per_epoch": 128}
    e1 = SiameseModel(cfg, seed=3).fit(train).encode(test.series[:10])
    e2 = SiameseModel(cfg, seed=3).fit(train).encode(test.series[:10])
    e3 = SiameseModel(cfg, seed=4).fit(train).encode(test.series[:10])
    np.testing.assert_array_equal(e1, e2)
    assert not np.allclose(e1, e3)


@pytest.mark.parametrize(
    "loss,head", [("contrastive", "cosine"), ("triplet", "cosine"), ("mse", "malstm"), ("cosent", "learned")]
)
def test_losses_and_heads_train_on_labelled_series(italy, loss, head):
    train, _ = italy
    m = SiameseModel(
        {
            **FAST_SERIES,
            "epochs": 1,
            "pairs_per_epoch": 64,
            "loss": loss,
            "head": head,
            "hard_negatives": 0.5,
            "augment": ("jitter", "scaling", "crop", "warp"),
        }
    ).fit(train)
    s = m.similarity(train.series[0], train.series[1])
    assert np.isfinite(s)
    assert m.most_similar(train.series[0], k=3).keys


def test_nan_series_train_and_embed():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 6, 40)
    x = [np.sin(t * (1 + (i % 2))) + 0.1 * rng.normal(size=40) for i in range(40)]
    for s in x[::3]:
        s[rng.integers(0, 40, 8)] = np.nan
    labels = [i % 2 for i in range(40)]
    m = SiameseModel({**FAST_SERIES, "epochs": 3, "pairs_per_epoch": 256}).fit((x, labels))
    assert m.mask_channel is True
    emb = m.encode(x)
    assert np.isfinite(emb).all()
    # multivariate + unequal lengths
    mv = [rng.normal(size=(int(rng.integers(10, 30)), 3)).astype(np.float32) for _ in range(20)]
    m2 = SiameseModel({**FAST_SERIES, "epochs": 1, "pairs_per_epoch": 64}).fit(
        SeriesDataset.from_arrays(mv, [i % 2 for i in range(20)])
    )
    assert m2.encode(mv).shape == (20, 32)
    with pytest.raises(DimensionError, match="channels"):
        m2.encode([np.ones((5, 2))])


def test_series_bad_input(italy, italy_model):
    with pytest.raises(DataError, match="one class only"):
        SiameseModel(FAST_SERIES).fit((np.ones((5, 10)), ["a"] * 5))
    with pytest.raises(DataError, match="empty"):
        italy_model.encode([np.zeros(0)])
    with pytest.raises(DataError, match="only missing"):
        italy_model.encode([np.full(10, np.nan)])
    with pytest.raises(NotFittedError):
        SiameseModel().encode([np.ones(5)])
    with pytest.raises(ConfigError, match="unknown SiameseConfig key"):
        SiameseModel(hiden=3)
    with pytest.raises(ConfigError, match="expects"):
        SiameseModel({**FAST_SERIES, "loss": "triplet"}).fit(
            PairDataset([np.ones(5)] * 4, [np.ones(5)] * 4, np.array([1.0, 2, 3, 4]))
        )


def test_text_malstm_learns(sick_files, word_vectors):
    train = read_sick(sick_files / "SICK_train.txt")
    test = read_sick(sick_files / "SICK_test_annotated.txt")
    cfg = dict(
        encoder="lstm",
        hidden=16,
        head="malstm",
        loss="mse",
        epochs=6,
        batch_size=32,
        lr=5e-3,
        progress=False,
        device="cpu",
        threads=1,
        word_dropout=0.1,
    )
    untrained = SiameseModel({**cfg, "epochs": 1, "lr": 1e-9}, vectors=word_vectors).fit(train)
    before = V.eval_sick(untrained, path=sick_files / "SICK_test_annotated.txt").value
    m = SiameseModel(cfg, vectors=word_vectors).fit(train, dev=sick_files / "SICK_trial.txt")
    rep = V.eval_sick(m, path=sick_files / "SICK_test_annotated.txt")
    assert rep.value > 0.6 and rep.value > before + 0.1, (before, rep.metrics)
    assert rep.counts["items_scored"] == len(test) and rep.counts["oov_share"] == 0.0
    pred = m.predict_score(test.a[:5], test.b[:5])
    assert ((pred >= 1) & (pred <= 5)).all()
    # unknown tokens are mapped to <unk> explicitly, empty text is an error
    assert np.isfinite(m.similarity("a zebra plays guitar", "the guitar plays"))
    with pytest.raises(DataError, match="empty"):
        m.similarity("", "a man")
    hits = m.most_similar("a man plays the guitar", k=3)
    assert len(hits) == 3


def test_text_save_load_and_embed_file(sick_files, word_vectors, tmp_path):
    train = read_sick(sick_files / "SICK_train.txt")
    m = SiameseModel(
        encoder="gru", hidden=8, epochs=1, progress=False, device="cpu", head="learned", vectors=word_vectors
    ).fit(train)
    m.save(tmp_path / "t")
    m2 = simlab.load(tmp_path / "t")
    assert m2.similarity("a man plays guitar", "a dog barks") == m.similarity(
        "a man plays guitar", "a dog barks"
    )
    f = tmp_path / "s.txt"
    f.write_text("a man plays guitar\na dog barks\n", "utf-8")
    v = m2.embed_file(f)
    assert v.keys == ["a man plays guitar", "a dog barks"] and v.dim == 8


def test_text_dimension_mismatch(sick_files, word_vectors):
    train = read_sick(sick_files / "SICK_train.txt")
    m = SiameseModel(hidden=8, epochs=1, progress=False, device="cpu", vectors=word_vectors).fit(train)
    other = simlab.Vectors(["man"], np.ones((1, 7), np.float32))
    with pytest.raises(DimensionError, match="dim 7"):
        m.fit(train, vectors=other)


def test_triplets_and_labelled_texts(word_vectors, tmp_path):
    from .conftest import make_sentences

    rng = np.random.default_rng(0)
    texts, labels = make_sentences(rng, 60)
    m = SiameseModel(
        hidden=8, epochs=2, progress=False, device="cpu", vectors=word_vectors, loss="contrastive"
    ).fit((texts, labels))
    assert m.history["data_kind"] == "binary_pairs"
    trip = Triplets(texts[:10], texts[10:20], texts[20:30])
    ckpt = tmp_path / "best.safetensors"
    m2 = SiameseModel(hidden=8, epochs=2, progress=False, device="cpu", vectors=word_vectors).fit(
        trip, dev=trip, checkpoint=ckpt
    )
    assert m2.history["data_kind"] == "triplets" and m2.history["best_dev"] is not None
    assert ckpt.is_file()  # best weights kept as safetensors during training


def test_dev_split_and_early_stopping(italy):
    train, _ = italy
    m = SiameseModel({**FAST_SERIES, "epochs": 6, "patience": 1, "lr": 1e-9, "dev_fraction": 0.3}).fit(train)
    hist = m.history
    assert hist["best_dev"] is not None and 0 <= hist["best_dev"] <= 1
    assert len(hist["epochs"]) < 6 and hist["stopped_early"]  # nothing improves with a zero learning rate


def test_equal_length_fast_path_matches_padded_path(italy, italy_model):
    _, test = italy
    series = test.series[:40]
    fast = italy_model.encode(series, batch_size=16)  # stacked, chunked, no packing or masks
    longer = np.concatenate([series[0], series[0]])
    padded = italy_model.encode([*series, longer])[:40]  # unequal lengths: packed and masked
    np.testing.assert_allclose(fast, padded, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        fast, italy_model.encode(np.stack([s[:, 0] for s in series]), batch_size=16)
    )
    with pytest.raises(DataError, match="item 1: only missing"):
        italy_model.encode([series[0], np.full_like(series[1], np.nan)])
