"""FusedModel: every method beats each single view on the contextual SBM; missing views; save/load; verbs."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, DataError
from simlab.fusion.evaluate import evaluate_nodeclass
from simlab.fusion.missing import drop_views, missing_view_curve
from simlab.fusion.model import FusedModel

FAST = {"progress": False, "threads": 1}


def _acc(model, csbm):
    return evaluate_nodeclass(model, str(csbm["path"])).value


@pytest.fixture(scope="module")
def single(csbm):
    return {n: _acc(v, csbm) for n, v in csbm["views"].items()}


@pytest.mark.parametrize(
    "method,kw",
    [
        ("early", {}),
        ("early", {"pca": 8}),
        ("late", {}),
        ("learned", {}),
        ("learned", {"gate": "weights", "dim": None}),
        ("contrastive", {}),
    ],
)
def test_every_method_beats_each_view(csbm, single, method, kw, tmp_path):
    m = FusedModel(csbm["views"], method=method, **FAST, **kw)
    m.fit(labels=csbm["labels"] if method != "contrastive" else None)
    acc = _acc(m, csbm)
    assert acc > max(single.values()) + 0.03, (method, kw, acc, single)
    # every verb, and the round trip through simlab.load
    assert len(m.most_similar(0, k=5)) == 5 and 0 not in m.most_similar(0, k=5).keys
    if method == "late":  # a weighted mean of standardised per-view scores: not bounded by 1
        assert np.isfinite(m.similarity(0, 1))
    else:
        assert -1.0001 <= m.similarity(0, 1) <= 1.0001
    assert m.encode([0, 1, 2]).shape[0] == 3
    m.save(tmp_path / "m")
    m2 = simlab.load(tmp_path / "m")
    assert type(m2) is FusedModel and m2.names == m.names and m2.config == m.config
    np.testing.assert_allclose(m2.encode([0, 5, 9]), m.encode([0, 5, 9]), atol=1e-5)
    assert m2.similarity("0", "1") == pytest.approx(
        m.similarity(0, 1), abs=1e-5
    )  # ids read from files are str


def test_weights_prefer_the_better_view_and_are_validated(csbm):
    x = csbm["views"]["features"]
    rng = np.random.default_rng(0)
    noise = simlab.Vectors(x.keys, rng.normal(size=(len(x), 16)))
    m = FusedModel({"features": x, "noise": noise}).fit(labels=csbm["labels"])
    assert m.weights[0] > 0.7 and m.history["objective"] == "loo_1nn_accuracy"
    assert m.history["validation"]["fused"] >= m.history["validation"]["view:noise"]
    late = FusedModel({"features": x, "noise": noise}, method="late").fit(labels=csbm["labels"])
    assert late.score is not None and late.score.weights[0] > 0.7


def test_late_fusion_search_score_and_rrf(csbm):
    views = csbm["views"]
    late = FusedModel(views, method="late").fit()  # unsupervised: equal weights, standardised on random pairs
    hits = late.most_similar(3, k=10)
    assert len(hits) == 10 and 3 not in hits.keys and np.all(np.diff(hits.scores) <= 1e-6)
    # the fused score of a pair is the standardised weighted mean of the view cosines
    s = late.view_scores([3], [hits.keys[0]])[0]
    z = (s - np.array(late.score.mean)) / np.array(late.score.std)
    assert late.similarity(3, hits.keys[0]) == pytest.approx(float(z.mean()), abs=1e-6)
    rrf = FusedModel(views, method="late", search="rrf").fit()
    rk = rrf.most_similar(3, k=10)
    ranked = [views[n].most_similar(3, k=100).keys for n in views]
    assert rk.keys[0] in ranked[0][:20] or rk.keys[0] in ranked[1][:20]


def test_pairs_supervision(csbm):
    g = csbm["graph"]
    rng = np.random.default_rng(1)
    lab = csbm["labels"]
    ids = list(lab)
    pairs = [(str(a), str(b), float(lab[a] == lab[b])) for a, b in rng.choice(ids, (400, 2))]
    early = FusedModel(csbm["views"]).fit(pairs=pairs)
    assert early.history["objective"] == "auc" and early.history["validation"]["fused"] > 0.6
    learned = FusedModel(csbm["views"], method="learned", epochs=30, **FAST).fit(pairs=pairs)
    assert learned.history["best_dev"] is not None
    assert learned.encode(g.keys[:4]).shape == (4, 128)


def test_missing_views_are_scored_and_degrade_gracefully(csbm, single):
    for method in ("early", "learned", "contrastive"):
        m = FusedModel(csbm["views"], method=method, **FAST).fit(
            labels=csbm["labels"] if method != "contrastive" else None
        )
        curve = missing_view_curve(m, lambda mm: _acc(mm, csbm), shares=(0.0, 0.1, 0.3, 0.5))
        accs = [c["score"] for c in curve]
        assert [c["missing"] for c in curve] == [0.0, 0.1, 0.3, 0.5]
        assert accs[1] > min(single.values()), (method, accs)  # 10 % missing: still better than a view alone
        assert accs[-1] > 0.45, (method, accs)  # half the items with one view: still well above chance (1/3)
    d = drop_views(m, 0.5, seed=0)
    _, present = d.raw(d.keys)
    assert (
        len(d.keys) == 600
        and present.any(1).all()
        and (present.sum(1) == 1).mean() == pytest.approx(0.5, abs=0.01)
    )
    assert np.isfinite(d.encode()).all() and len(d.most_similar(d.keys[0], k=3)) == 3


def test_contrastive_cross_modal_search(csbm):
    m = FusedModel(csbm["views"], method="contrastive", epochs=300, **FAST).fit()
    g = csbm["graph"]
    q = m.encode(g.keys, view="features")
    c = m.encode(g.keys, view="structure")
    top = np.argsort(-(q @ c.T), 1)[:, :10]
    same = (g.labels[top] == g.labels[:, None]).mean()
    assert same > 0.4  # random: ~1/3; a node's words find structurally similar nodes of its class
    hits = m.most_similar(0, k=5, view="features", target_view="structure")
    assert len(hits) == 5


def test_contrastive_retrieves_the_same_item_across_views():
    """Two views of 400 items: B is a random non-linear map of A plus noise; towers trained on 360 items find
    the item's other view among all 400 (recall@10) far above chance (10 / 400)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 12))
    b = np.tanh(a @ rng.normal(size=(12, 20))) + 0.1 * rng.normal(size=(400, 20))
    keys = [f"i{i}" for i in range(400)]
    va, vb = simlab.Vectors(keys, a), simlab.Vectors(keys[:360], b[:360])  # 40 items lack view b in training
    m = FusedModel({"a": va, "b": vb}, method="contrastive", epochs=150, dim=32, **FAST).fit()
    m.views["b"] = FusedModel({"b": simlab.Vectors(keys, b)}).views["b"]  # now every item has view b
    q, c = m.encode(keys, view="a"), m.encode(keys, view="b")
    rank = np.argsort(-(q @ c.T), 1)[:, :10]
    hit = (rank == np.arange(400)[:, None]).any(1)
    assert hit[:360].mean() > 0.8 and hit[360:].mean() > 0.5  # unseen items too
    assert m.most_similar("i370", k=1, view="a", target_view="b").keys[0] in keys


def test_errors(csbm):
    with pytest.raises(ConfigError, match="method"):
        FusedModel(csbm["views"], method="stack")
    with pytest.raises(ConfigError, match="at least one view"):
        FusedModel({})
    with pytest.raises(ConfigError, match="weights"):
        FusedModel(csbm["views"], weights=[1, 2, 3])
    with pytest.raises(DataError, match="labels"):
        FusedModel(csbm["views"], method="learned", **FAST).fit()
    with pytest.raises(ConfigError, match="is not a view"):
        FusedModel({"a": 3})
    with pytest.raises(ConfigError, match="unknown view"):
        FusedModel(csbm["views"], method="contrastive", epochs=2, **FAST).fit().encode([0], view="text")
