"""The model contract (simlab.model): config building, the thread rule, capabilities, persistence, search."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pytest

import simlab
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, NotFittedError
from simlab.model import (
    CAPABILITY_NAMES,
    Model,
    TrainConfig,
    build_config,
    can,
    capabilities,
    config_dict,
    thread_limit,
)
from simlab.registry import KINDS
from simlab.vectors import Vectors


@dataclass(frozen=True)
class DummyConfig:
    dim: int = 4
    metric: str = "cosine"
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=3, lr=0.01, progress=False))

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ConfigError(f"dim must be >= 1, got {self.dim}")


class Dummy(Model):
    """A tiny model family: a fixed projection; its collection is whatever it embedded last."""

    KIND = "test-dummy"
    Config = DummyConfig
    CAPABILITIES: ClassVar[frozenset[str]] = frozenset({"embeds", "searches"})

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.weights: np.ndarray | None = None

    def fit(self, items: list[list[float]]) -> Dummy:
        rng = np.random.default_rng(self.config.train.seed)
        self.weights = rng.normal(size=(len(items[0]), self.config.dim)).astype(np.float32)
        return self

    def check_fitted(self) -> None:
        if self.weights is None:
            raise NotFittedError("Dummy is not fitted")

    def encode(self, items: Any) -> np.ndarray:
        self.check_fitted()
        return np.asarray(items, np.float32) @ self.weights

    def index_items(self, keys: list[str], items: Any) -> Dummy:
        self.collection = Vectors(keys, self.encode(items))
        return self

    def collection_metric(self) -> str:
        return self.config.metric

    def to_artifact(self, writer: ArtifactWriter) -> None:
        writer.save_arrays("weights.safetensors", {"weights": self.weights})
        if self.collection is not None:
            self.collection.to_artifact(writer, "collection_")

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Dummy:
        model = cls(artifact.config)
        model.weights = artifact.arrays("weights.safetensors")["weights"]
        if "collection_keys.json" in artifact.files:
            model.collection = Vectors.from_artifact(artifact, "collection_")
        return model


class Bare(Model):
    Config = DummyConfig


# -- build_config --------------------------------------------------------------------------------------------
def test_build_config_from_none_instance_and_mapping():
    default = build_config(DummyConfig)
    assert default == DummyConfig()
    assert build_config(DummyConfig, DummyConfig(dim=7)).dim == 7
    assert build_config(DummyConfig, {"dim": 5, "metric": "dot"}) == DummyConfig(dim=5, metric="dot")
    assert build_config(DummyConfig, {"dim": 5}, dim=6).dim == 6  # keyword overrides win
    with pytest.raises(ConfigError, match="expected a DummyConfig"):
        build_config(DummyConfig, 3)


def test_build_config_rejects_unknown_keys_with_the_valid_names():
    with pytest.raises(ConfigError) as err:
        build_config(DummyConfig, dims=3)
    assert "dims" in str(err.value) and "dim" in str(err.value) and "metric" in str(err.value)
    with pytest.raises(ConfigError, match="train"):
        build_config(DummyConfig, {"train": {"epoch": 2}})
    with pytest.raises(ConfigError, match="dim must be"):
        build_config(DummyConfig, dim=0)


def test_build_config_routes_flat_and_dotted_train_keys_and_keeps_family_defaults():
    flat = build_config(DummyConfig, epochs=5)
    assert flat.train.epochs == 5
    assert flat.train.lr == 0.01 and flat.train.progress is False  # the family's defaults are kept
    dotted = build_config(DummyConfig, **{"train.lr": 0.5})
    assert dotted.train.lr == 0.5 and dotted.train.epochs == 3
    nested = build_config(DummyConfig, {"train": {"seed": 4}}, epochs=2)
    assert (nested.train.seed, nested.train.epochs, nested.train.lr) == (4, 2, 0.01)
    as_obj = build_config(DummyConfig, train=TrainConfig(epochs=9))
    assert as_obj.train == TrainConfig(epochs=9)
    with pytest.raises(ConfigError, match=r"DummyConfig\.train"):
        build_config(DummyConfig, epochs=0)


def test_config_round_trips_through_the_saved_dict():
    cfg = build_config(DummyConfig, dim=3, epochs=2)
    saved = config_dict(cfg)
    assert saved["train"]["epochs"] == 2
    assert build_config(DummyConfig, saved) == cfg
    # an old manifest with a flat config (training keys at the top level) still builds
    flat = {"dim": 3, "metric": "cosine", "epochs": 2, "lr": 0.01}
    assert build_config(DummyConfig, flat).train.epochs == 2


def test_model_init_builds_config_once():
    m = Dummy(dim=2, epochs=4)
    assert m.config.dim == 2 and m.config.train.epochs == 4
    assert m.get_params()["train"]["epochs"] == 4
    assert Dummy(m.config).config == m.config


# -- threads, device, capabilities -------------------------------------------------------------------------
def test_thread_limit_restores_torch_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with thread_limit(target):
        assert torch.get_num_threads() == target
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), thread_limit(target):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with thread_limit(None):
        assert torch.get_num_threads() == before


def test_model_threads_uses_the_train_setting():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    m = Dummy(threads=1)
    with m.threads():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_device_of_a_model_without_weights_is_cpu():
    m = Bare()
    assert m.torch_modules() == []
    assert m.device == "cpu"
    assert m.to("cpu") is m


def test_capabilities_and_can():
    m = Dummy()
    assert capabilities(m) == frozenset({"embeds", "searches"})
    assert can(m, "embeds") and not can(m, "reranks")
    assert capabilities(object()) == frozenset()
    assert set(CAPABILITY_NAMES) >= {"embeds", "scores_pairs", "searches", "reranks"}
    with pytest.raises(ValueError, match="valid"):
        can(m, "flies")


# -- persistence -------------------------------------------------------------------------------------------
@pytest.fixture
def dummy_kind(monkeypatch):
    monkeypatch.setitem(KINDS._items, Dummy.KIND, Dummy)
    return Dummy


def _fitted() -> Dummy:
    rng = np.random.default_rng(0)
    items = rng.normal(size=(20, 6)).tolist()
    return Dummy(dim=3, seed=2).fit(items).index_items([f"k{i}" for i in range(20)], items)


def test_save_load_round_trip(tmp_path, dummy_kind):
    m = _fitted()
    m.save(tmp_path / "m")
    for back in (Dummy.load(tmp_path / "m"), simlab.load(tmp_path / "m")):
        assert isinstance(back, Dummy)
        assert back.config == m.config
        np.testing.assert_array_equal(back.weights, m.weights)
        assert back.collection.keys == m.collection.keys
        assert back.most_similar("k3", k=4).keys == m.most_similar("k3", k=4).keys


def test_save_refuses_an_unfitted_model(tmp_path):
    with pytest.raises(NotFittedError):
        Dummy().save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_load_of_a_flat_config_manifest(tmp_path, dummy_kind):
    m = _fitted()
    flat = {k: v for k, v in dataclasses.asdict(m.config).items() if k != "train"}
    flat.update(epochs=3, lr=0.01, seed=2)
    with ArtifactWriter(tmp_path / "old", Dummy.KIND, flat) as w:
        m.to_artifact(w)
    back = simlab.load(tmp_path / "old")
    assert back.config.train.seed == 2 and back.config.dim == 3


# -- collection search ---------------------------------------------------------------------------------------
def test_most_similar_by_key_by_item_and_through_an_index():
    m = _fitted()
    exact = m.most_similar("k5", k=5)
    assert "k5" not in exact.keys and len(exact) == 5
    by_item = m.most_similar(np.random.default_rng(0).normal(size=(20, 6))[5].tolist(), k=5)
    assert by_item.keys[0] == "k5"
    index = simlab.Index.from_vectors(m.collection, metric="cosine")
    assert m.attach_index(index) is m
    assert m.most_similar("k5", k=5).keys == exact.keys
    np.testing.assert_allclose(m.most_similar("k5", k=5).scores, exact.scores, atol=1e-5)


def test_most_similar_without_a_collection_or_embedding():
    with pytest.raises(NotFittedError, match="no collection"):
        Dummy().most_similar("a")
    bare = Bare()
    bare.collection = Vectors(["a", "b"], np.eye(2, dtype=np.float32))
    assert bare.most_similar("a", k=1).keys == ["b"]
    with pytest.raises(NotFittedError, match="cannot embed"):
        bare.most_similar("zzz")
