"""The shared combiner: score fusion, rank fusion, early fusion (missing views included)."""

import numpy as np
import pytest

from simlab.errors import ConfigError, DimensionError
from simlab.evaluate import pearson
from simlab.fuse import ScoreFusion, concat_views, reciprocal_rank_fusion, search_weights


def test_score_fusion_learns_the_informative_view_and_beats_each_view():
    rng = np.random.default_rng(0)
    target = rng.normal(size=400)
    a = target + rng.normal(scale=1.0, size=400)  # informative, noisy
    b = 100 + 50 * (target + rng.normal(scale=1.0, size=400))  # informative, other scale, independent noise
    c = rng.normal(size=400)  # useless
    scores = np.stack([a, b, c], 1)
    f = ScoreFusion(["a", "b", "c"]).fit(scores, lambda s: pearson(s, target), "pearson")
    assert f.weights[2] < 0.1
    assert abs(f.weights[0] - f.weights[1]) < 0.25
    fused = pearson(f.combine(scores), target)
    assert fused > max(pearson(a, target), pearson(b, target)) + 0.05
    assert f.validation["fused"] == pytest.approx(fused, abs=1e-9)
    g = ScoreFusion.from_dict(f.to_dict())
    np.testing.assert_allclose(g.combine(scores), f.combine(scores))


def test_score_fusion_missing_view_renormalises():
    f = ScoreFusion(["a", "b"], weights=[0.5, 0.5], mean=[0, 0], std=[1, 1])
    out = f.combine([[1.0, 3.0], [1.0, np.nan], [np.nan, np.nan]])
    assert out[0] == pytest.approx(2.0)
    assert out[1] == pytest.approx(1.0)
    assert np.isnan(out[2])
    with pytest.raises(DimensionError):
        f.combine([[1.0, 2.0, 3.0]])
    with pytest.raises(ConfigError):
        ScoreFusion(["a", "a"])
    with pytest.raises(ConfigError):
        ScoreFusion(["a", "b"], weights=[-1, 2])


def test_search_weights_coordinate_ascent_for_many_views():
    rng = np.random.default_rng(1)
    target = rng.normal(size=300)
    cols = [target + rng.normal(scale=s, size=300) for s in (0.3, 3, 3, 3, 3, 3)]
    w, best, _ = search_weights(np.stack(cols, 1), lambda s: pearson(s, target), step=0.05)
    assert w.argmax() == 0 and w.sum() == pytest.approx(1.0)
    assert best >= pearson(cols[0], target)


def test_rrf_orders_by_fused_rank():
    out = reciprocal_rank_fusion([["x", "y", "z"], ["y", "x", "w"]], k=3)
    assert {out[0][0], out[1][0]} == {"x", "y"} and out[2][0] in {"z", "w"}
    only_first = reciprocal_rank_fusion([["x", "y"], ["y", "x"]], weights=[1, 0])
    assert [k for k, _ in only_first] == ["x", "y"]


def test_concat_views_dot_is_weighted_cosine_and_handles_missing():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 7))
    fused = concat_views([a, b], weights=[0.25, 0.75])
    cos = lambda m, i, j: m[i] @ m[j] / np.linalg.norm(m[i]) / np.linalg.norm(m[j])  # noqa: E731
    assert fused[0] @ fused[1] == pytest.approx(0.25 * cos(a, 0, 1) + 0.75 * cos(b, 0, 1), abs=1e-5)
    b[2] = np.nan  # row 2 lacks view b: its a-block carries all the weight
    fused = concat_views([a, b], weights=[0.25, 0.75])
    assert np.linalg.norm(fused[2]) == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(fused).all()
