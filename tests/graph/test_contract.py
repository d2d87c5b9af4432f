"""Every graph family implements the model contract: declared kind / config / capabilities, one config rule
(a composed train config, flat keys routed, old flat artifacts load), one device rule (weights load onto
this machine whatever the saved device), no global RNG reseeding on load, ArtifactError on a weight mismatch,
threads restored after each call."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pytest
import torch

import simlab
from simlab.errors import ArtifactError, ConfigError
from simlab.graph.editpath import DEFAULT_RESTARTS, EditPathConfig
from simlab.graph.models import GraphBiEncoder, GraphModelConfig, GraphPairModel
from simlab.graph.nodes import NodeEmbedder
from simlab.graph.refine import EditPathScorer
from simlab.model import CAPABILITY_NAMES, Model, TrainConfig, capabilities


@pytest.fixture(scope="module")
def nodes():
    g = nx.planted_partition_graph(2, 12, 0.5, 0.05, seed=2)
    return NodeEmbedder(conv="sage", epochs=3, progress=False).fit(g, name="pp")


def _manifest(path):
    return json.loads((path / "simlab.json").read_text())


def _rewrite_config(path, change):
    man = _manifest(path)
    man["config"] = change(man["config"])
    (path / "simlab.json").write_text(json.dumps(man))


def _flat(config):
    """The config as saved before the train settings were composed: train keys at the top level."""
    out = {k: v for k, v in config.items() if k != "train"}
    out.update(config["train"])
    return out


def _models(trained, nodes):
    return {"bi": trained["bi"], "pair": trained["pair"], "nodes": nodes}


def test_declared_contract():
    for cls, kind, caps in (
        (GraphBiEncoder, "graph-biencoder", {"embeds", "scores_pairs", "searches"}),
        (GraphPairModel, "graph-pair", {"embeds", "scores_pairs", "searches", "reranks"}),
        (NodeEmbedder, "graph-nodes", {"embeds", "scores_pairs", "searches"}),
        (EditPathScorer, "graph-editpath", {"scores_pairs", "searches", "reranks"}),
    ):
        assert issubclass(cls, Model) and kind == cls.KIND
        assert capabilities(cls()) == caps and caps <= set(CAPABILITY_NAMES)


def test_config_composes_train_settings():
    m = GraphBiEncoder(epochs=5, lr=0.01, hidden=16)
    assert m.config.train == TrainConfig(epochs=5, lr=0.01, patience=8) and m.config.hidden == 16
    assert GraphBiEncoder({"train": {"epochs": 2}}).config.train.patience == 8  # family defaults kept
    assert GraphPairModel(GraphModelConfig(conv="gcn"), seed=3).config.conv == "gcn"
    assert NodeEmbedder(**{"train.epochs": 7}).config.train == TrainConfig(
        epochs=7, lr=0.01, patience=50, grad_clip=None
    )
    with pytest.raises(ConfigError, match="valid keys"):
        NodeEmbedder(epoch=3)
    scorer = EditPathScorer(restarts=2, blend=0.25, timeout=None)
    assert scorer.search == EditPathConfig(restarts=2, timeout=None) and scorer.blend == 0.25
    assert EditPathScorer().search.restarts == EditPathConfig().restarts == DEFAULT_RESTARTS


@pytest.mark.parametrize("which", ["bi", "pair", "nodes"])
def test_saved_on_cuda_loads_here_and_old_flat_configs_load(trained, nodes, tmp_path, which):
    m = _models(trained, nodes)[which]
    m.save(tmp_path / "m")

    def on_cuda(cfg):
        cfg["train"]["device"] = "cuda"
        return cfg

    _rewrite_config(tmp_path / "m", on_cuda)  # as if saved on a GPU machine: the weights never were on CUDA
    state = torch.random.get_rng_state()
    m2 = simlab.load(tmp_path / "m")
    assert torch.equal(torch.random.get_rng_state(), state)  # loading does not reseed the global RNG
    assert m2.config.train.device == "cuda"
    expect = "cuda:0" if torch.cuda.is_available() else "cpu"
    assert m2.device == expect  # the weights are on device="auto" of this machine
    m2.to("cpu")
    assert m2.device == "cpu"
    m2.to(m.device)  # same device as the original: same outputs
    items = None if which == "nodes" else m.collection
    np.testing.assert_allclose(m2.encode(items), m.encode(items), rtol=1e-5, atol=1e-6)

    m.save(tmp_path / "flat")
    _rewrite_config(tmp_path / "flat", _flat)
    assert "epochs" in _manifest(tmp_path / "flat")["config"]
    m3 = simlab.load(tmp_path / "flat")
    assert m3.config == m.config


@pytest.mark.parametrize("which", ["bi", "pair", "nodes"])
def test_weight_mismatch_is_an_artifact_error(trained, nodes, tmp_path, which):
    m = _models(trained, nodes)[which]
    m.save(tmp_path / "m")

    def wider(cfg):
        cfg["hidden"] = cfg["hidden"] * 2
        return cfg

    _rewrite_config(tmp_path / "m", wider)
    with pytest.raises(ArtifactError, match="weights do not fit"):
        simlab.load(tmp_path / "m")


def test_calls_restore_the_thread_setting(trained, nodes, ged_data):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        trained["bi"].score_matrix(ged_data["graphs"], ged_data["graphs"])
        trained["pair"].most_similar(ged_data["train_ids"][0], k=2)
        nodes.link_prediction()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_scorer_round_trips_with_its_model_or_collection(trained, ged_data, tmp_path):
    import os

    import simlab
    from simlab.errors import ArtifactError, NotFittedError

    with pytest.raises(NotFittedError):  # nothing to search or refine: nothing saved
        EditPathScorer().save(tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
    gs = ged_data["graphs"]
    alone = EditPathScorer(restarts=2).fit(gs)
    refined = EditPathScorer(trained["pair"], restarts=2, blend=0.5)
    for name, scorer in (("alone", alone), ("refined", refined)):
        scorer.save(tmp_path / name)
        back = simlab.load(tmp_path / name)
        assert type(back) is EditPathScorer and back.config == scorer.config
        assert (back.model is None) == (scorer.model is None)
        query = scorer.collection.ids[0]
        want, got = scorer.most_similar(query, k=5), back.most_similar(query, k=5)
        assert got.keys == want.keys
        np.testing.assert_allclose(got.scores, want.scores, atol=1e-6)
    # the nested model must be a real directory inside the artifact, never a link out of it
    os.rename(tmp_path / "refined" / "model", tmp_path / "elsewhere")
    os.symlink(tmp_path / "elsewhere", tmp_path / "refined" / "model")
    with pytest.raises(ArtifactError, match="link"):
        simlab.load(tmp_path / "refined")


def test_make_graphs_moved_to_datasets():
    from simlab.demo import graph as demo
    from simlab.graph.datasets import make_graphs

    assert demo.make_graphs is make_graphs
    gs, fams = make_graphs(2, 3, (4, 5), seed=0)
    assert len(gs) == 6 and fams == [0, 0, 0, 1, 1, 1] and gs.ids[0] == "g0"
