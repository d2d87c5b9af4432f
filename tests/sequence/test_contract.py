"""SiameseModel under the model contract (simlab.model): config building, capabilities, device, persistence
of old flat-config artifacts, and the featurizers / batching that it is split into."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import simlab  # noqa: E402
from simlab.errors import ConfigError  # noqa: E402
from simlab.model import Model, TrainConfig, can, capabilities  # noqa: E402
from simlab.sequence.model import MODALITY_DEFAULTS, SiameseModel  # noqa: E402

DATA = Path(__file__).parent / "data"


def _series(seed: int = 0, n: int = 10) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6, 24)
    x = np.concatenate(
        [np.sin(t)[None] + 0.1 * rng.normal(size=(n, 24)), np.cos(t)[None] + 0.1 * rng.normal(size=(n, 24))]
    )
    return x.astype(np.float32), ["a"] * n + ["b"] * n


TINY = dict(hidden=4, epochs=1, pairs_per_epoch=64, fallback="off", progress=False, device="cpu", threads=1)


def test_config_one_way_with_a_composed_train_config():
    m = SiameseModel(epochs=3, lr=0.01, hidden=8)
    assert isinstance(m, Model) and m.KIND == "sequence-siamese"
    assert m.config.hidden == 8 and m.config.train.epochs == 3 and m.config.train.lr == 0.01
    assert SiameseModel({"train": {"seed": 4}}, **{"train.patience": 2}).config.train.patience == 2
    assert SiameseModel(train=TrainConfig(epochs=7)).config.train.epochs == 7
    assert SiameseModel(m.config, seed=9).config.train.seed == 9
    # epochs / lr left at None take the modality's default when training
    t = SiameseModel().config.train
    assert t.epochs is None and t.lr is None
    assert (
        t.resolve(MODALITY_DEFAULTS["text"]).epochs == 30
        and t.resolve(MODALITY_DEFAULTS["series"]).lr == 5e-3
    )
    with pytest.raises(ConfigError, match="valid keys"):
        SiameseModel(epoks=3)
    with pytest.raises(ConfigError):
        SiameseModel(epochs=0)


def test_capabilities_are_declared():
    m = SiameseModel()
    assert capabilities(m) >= {"embeds", "scores_pairs", "searches"}
    assert can(m, "embeds") and not can(m, "reranks")


def test_old_flat_config_artifact_loads():
    """An artifact written before the composed config (flat epochs / lr / seed / device in simlab.json)."""
    path = DATA / "old_flat_series"
    assert "epochs" in json.loads((path / "simlab.json").read_text())["config"]  # really the old layout
    m = simlab.load(path)
    assert isinstance(m, SiameseModel) and m.modality == "series"
    assert m.config.train.epochs == 1 and m.config.train.threads == 1 and m.config.hidden == 4
    assert m.device == "cpu" or m.device.startswith("cuda")  # on this machine's "auto" device
    expect = json.loads((DATA / "old_flat_series.json").read_text())
    got = m.encode(np.array(expect["queries"], np.float32))
    np.testing.assert_allclose(got, np.array(expect["embeddings"], np.float32), rtol=1e-5, atol=1e-6)
    assert [str(k) for k in m.most_similar(0, k=3).keys] == expect["most_similar_0"]


def test_save_writes_nested_config_and_loads_on_auto_device(tmp_path):
    x, y = _series()
    m = SiameseModel(TINY).fit((x, y))
    before = torch.get_num_threads()
    m.save(tmp_path / "m")
    assert torch.get_num_threads() == before
    cfg = json.loads((tmp_path / "m" / "simlab.json").read_text())["config"]
    assert cfg["train"]["epochs"] == 1 and "epochs" not in cfg
    m2 = SiameseModel.load(tmp_path / "m")
    np.testing.assert_array_equal(m.encode(x[:3]), m2.encode(x[:3]))
    assert m2.to("cpu") is m2 and m2.device == "cpu"
    assert m2.torch_modules() == [m2.net]
    # resuming with a flat key goes into train
    assert m2.build_config(m2.config, epochs=2).train.epochs == 2


def test_featurizers_round_trip(word_vectors):
    from simlab.sequence.featurizers import SeriesFeaturizer, TextFeaturizer

    c = SiameseModel(mask_channel=True, downsample=2).config
    f, front = SeriesFeaturizer.build([np.ones(8), np.zeros(8)], c)
    assert (f.channels, f.mask_channel, f.downsample) == (1, True, 2) and front.out_dim == 2
    g = SeriesFeaturizer.from_dict(f.to_dict(), c)
    assert g.to_dict() == f.to_dict()
    t, front = TextFeaturizer.build(["a man plays"], c, word_vectors)
    assert t.ids("A man plays zebra") == [t.word_index["a"], t.word_index["man"], t.word_index["plays"], 1]
    assert t.oov_share(["a zebra"]) == 0.5 and front.out_dim == word_vectors.dim
    u = TextFeaturizer.from_dict(t.to_dict(), c, t.vocab)
    assert u.vocab == t.vocab and u.dim == t.dim


def test_batches_are_one_function_per_kind_and_seeded():
    from simlab.sequence import batching as B
    from simlab.sequence.data import PairDataset, SeriesDataset, Triplets
    from simlab.sequence.featurizers import SeriesFeaturizer

    x, y = _series()
    c = SiameseModel(batch_size=8, pairs_per_epoch=32).config
    f, _ = SeriesFeaturizer.build(list(x), c)
    feed = B.Feed(f, c)
    coll = SeriesDataset.from_arrays(x, y)
    for kind in ("labelled", "triplets", "binary_pairs"):
        e1, e2 = B.epoch_batches(feed, coll, kind)(1), B.epoch_batches(feed, coll, kind)(1)
        assert e1 and all(b.kind == kind for b in e1)
        assert all(
            torch.equal(a.targets.get("label", torch.zeros(1)), b.targets.get("label", torch.zeros(1)))
            for a, b in zip(e1, e2, strict=True)
        )
    trip = B.epoch_batches(feed, Triplets(list(x[:6]), list(x[6:12]), list(x[12:18])), "triplets")(1)
    assert sum(b.size for b in trip) == 6
    pairs = PairDataset(list(x[:10]), list(x[10:]), np.linspace(1, 5, 10))
    got = B.epoch_batches(feed, pairs, "scored_pairs", score_range=(1.0, 5.0))(1)
    assert sum(b.size for b in got) == 10 and set(got[0].targets) == {"score", "label"}


def test_most_similar_through_an_attached_index():
    from simlab.index import Index

    x, y = _series()
    m = SiameseModel(TINY).fit((x, y))
    plain = m.most_similar(3, k=4)
    coll = m.collection
    m.attach_index(Index(backend="exact", metric="cosine", dim=coll.dim).add(coll.keys, coll.matrix))
    via = m.most_similar(3, k=4)
    assert via.keys == plain.keys and 3 not in via.keys
    np.testing.assert_allclose(via.scores, plain.scores, atol=1e-5)
