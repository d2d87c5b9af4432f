"""The fusion families on the model contract: composed train config (flat keys routed), flat-config artifacts
of older versions still load, weights' device, threads restored, declared capabilities."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.artifacts import ArtifactWriter
from simlab.errors import ConfigError
from simlab.fusion.model import FusedModel, FusionConfig
from simlab.fusion.nodes import PropagatedNodes, PropagationConfig
from simlab.fusion.persist import write_model
from simlab.model import Model, TrainConfig, capabilities

#: a FusionConfig as versions before the model contract saved it (training fields flat, no ``train``)
FLAT_FUSION = {
    "method": "learned",
    "weights": None,
    "pca": None,
    "search": "score",
    "rrf_c": 60.0,
    "dim": 8,
    "hidden": 16,
    "gate": "network",
    "loss": "auto",
    "temperature": 0.1,
    "epochs": 3,
    "lr": 0.001,
    "batch_size": 256,
    "weight_decay": 0.0,
    "patience": 20,
    "max_items": 1500,
    "seed": 0,
    "device": "cpu",
    "threads": 1,
    "progress": False,
}


def test_train_is_composed_and_flat_keys_route_into_it():
    cfg = FusedModel({"a": simlab.Vectors(["x", "y"], np.eye(2))}, epochs=5, seed=3, lr=0.01).config
    assert isinstance(cfg.train, TrainConfig)
    assert (cfg.train.epochs, cfg.train.seed, cfg.train.lr, cfg.train.threads) == (5, 3, 0.01, 1)
    assert FusionConfig().train.device == "cpu" and FusionConfig().train.epochs == 200
    assert PropagationConfig().train.epochs == 300 and PropagationConfig().train.grad_clip is None
    assert PropagatedNodes(epochs=7).config.train.epochs == 7
    with pytest.raises(ConfigError, match="valid keys"):
        FusedModel({"a": simlab.Vectors(["x", "y"], np.eye(2))}, nope=1)
    with pytest.raises(ConfigError, match="valid keys"):
        PropagatedNodes(nope=1)


def test_flat_config_fusion_artifact_still_loads(csbm, tmp_path):
    import torch

    threads = torch.get_num_threads()
    m = FusedModel(csbm["views"], dict(FLAT_FUSION)).fit(labels=csbm["labels"])
    assert torch.get_num_threads() == threads  # training's thread limit is restored
    with ArtifactWriter(tmp_path / "old", "fusion", FLAT_FUSION) as w:  # the old manifest layout
        write_model(m, w)
    m2 = simlab.load(tmp_path / "old")
    assert type(m2) is FusedModel and m2.config == m.config and m2.config.train.epochs == 3
    assert m2.device == str(next(m2.net.parameters()).device)
    np.testing.assert_allclose(m2.encode([0, 5, 9]), m.encode([0, 5, 9]), atol=1e-5)


def test_flat_config_node_artifact_still_loads(csbm, tmp_path):
    m = PropagatedNodes(k=2).fit(csbm["graph"])
    flat = {"view": "fused", "k": 2, "alpha": 0.0, "dim": 64, "pca": False, "hidden": 512, "epochs": 300}
    flat |= {"lr": 0.001, "patience": 20, "seed": 0, "threads": 1, "progress": True}
    with ArtifactWriter(tmp_path / "old", "fusion-nodes", flat) as w:
        m.to_artifact(w)
    m2 = simlab.load(tmp_path / "old")
    assert m2.config == m.config
    np.testing.assert_array_equal(m2.encode([0, 1]), m.encode([0, 1]))


def test_same_seed_same_learned_fusion(csbm):
    a = FusedModel(csbm["views"], dict(FLAT_FUSION)).fit(labels=csbm["labels"])
    b = FusedModel(csbm["views"], dict(FLAT_FUSION)).fit(labels=csbm["labels"])
    np.testing.assert_array_equal(a.encode([0, 1, 2]), b.encode([0, 1, 2]))


def test_capabilities_declared():
    for cls in (FusedModel, PropagatedNodes):
        assert issubclass(cls, Model) and cls.KIND and cls.Config is not type(None)
        assert cls.kind == cls.KIND
    m = PropagatedNodes()
    assert capabilities(m) == {"embeds", "scores_pairs", "searches"}
