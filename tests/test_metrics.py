"""Metrics against independent implementations (scipy.spatial.distance, sklearn.metrics.pairwise)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import distance as sd
from sklearn.metrics import pairwise as skp

import simlab
from simlab import metrics as M
from simlab.errors import ConfigError, DataError, DimensionError, UnknownNameError


@pytest.fixture
def ab(rng):
    a = rng.normal(size=(13, 7)).astype(np.float32)
    b = rng.normal(size=(9, 7)).astype(np.float32)
    a[3] = 0.0  # a zero vector
    return a, b


def test_cosine_matches_sklearn_and_scipy(ab):
    a, b = ab
    ours = M.pairwise(a, b, "cosine")
    np.testing.assert_allclose(ours, skp.cosine_similarity(a, b), atol=1e-5)
    for i in (0, 5):
        for j in (0, 4):
            assert ours[i, j] == pytest.approx(1 - sd.cosine(a[i], b[j]), abs=1e-5)


def test_cosine_zero_vector_is_zero_not_nan(ab):
    a, b = ab
    s = M.pairwise(a, b, "cosine")
    assert np.isfinite(s).all()
    assert np.all(s[3] == 0)
    assert M.similarity(np.zeros(4), np.zeros(4)) == 0.0


def test_cosine_is_not_jaccard():
    # the text simlab grew from printed a Jaccard score as "cosine similarity"
    x, y = np.array([1.0, 2.0, 0.0]), np.array([2.0, 1.0, 1.0])
    expected = x @ y / (np.linalg.norm(x) * np.linalg.norm(y))
    assert simlab.similarity(x, y, "cosine") == pytest.approx(expected, rel=1e-6)
    assert simlab.similarity(x, y, "cosine") != pytest.approx(simlab.similarity(x, y, "jaccard"))


@pytest.mark.parametrize(
    ("metric", "scipy_name"),
    [
        ("euclidean", "euclidean"),
        ("sqeuclidean", "sqeuclidean"),
        ("manhattan", "cityblock"),
        ("chebyshev", "chebyshev"),
        ("cosine", "cosine"),
    ],
)
def test_distances_match_scipy_cdist(ab, metric, scipy_name):
    a, b = ab
    ref = sd.cdist(a.astype(np.float64), b.astype(np.float64), scipy_name)
    ok = np.isfinite(ref)  # scipy's cosine distance of a zero vector is NaN; ours is 1 (similarity 0)
    np.testing.assert_allclose(M.pairwise_distance(a, b, metric)[ok], ref[ok], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        M.pairwise_distance(a, b, metric, dtype=np.float64)[ok], ref[ok], rtol=1e-9, atol=1e-9
    )
    if metric == "cosine":
        assert np.all(M.pairwise_distance(a, b, metric)[3] == 1.0)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev", "sqeuclidean"])
def test_similarity_is_negated_distance(ab, metric):
    a, b = ab
    np.testing.assert_allclose(M.pairwise(a, b, metric), -M.pairwise_distance(a, b, metric), rtol=1e-6)


def test_binary_metrics_match_scipy(rng):
    a = rng.integers(0, 2, size=(8, 20)).astype(bool)
    b = rng.integers(0, 2, size=(6, 20)).astype(bool)
    a[0] = False
    b[0] = False  # two empty sets: Jaccard distance 0 in scipy
    np.testing.assert_allclose(M.pairwise_distance(a, b, "jaccard"), sd.cdist(a, b, "jaccard"), atol=1e-6)
    np.testing.assert_allclose(M.pairwise_distance(a, b, "hamming"), sd.cdist(a, b, "hamming"), atol=1e-6)
    assert M.similarity(a[1], a[1], "jaccard") == 1.0


def test_dot_matches_numpy(ab):
    a, b = ab
    np.testing.assert_allclose(
        M.pairwise(a, b, "dot"), a.astype(np.float64) @ b.T.astype(np.float64), rtol=1e-5, atol=1e-5
    )


def test_rowwise_equals_diagonal_of_pairwise(ab):
    a, b = ab
    a = a[:9]
    for name in M.METRICS.names():
        np.testing.assert_allclose(
            M.rowwise(a, b, name), np.diag(M.pairwise(a, b, name)), rtol=1e-5, atol=1e-5, err_msg=name
        )


def test_symmetry(ab):
    a, _ = ab
    for name in M.METRICS.names():
        s = M.pairwise(a, a, name)
        np.testing.assert_allclose(s, s.T, rtol=1e-5, atol=1e-5, err_msg=name)


def test_accepts_torch_tensors(ab):
    torch = pytest.importorskip("torch")
    a, b = ab
    np.testing.assert_allclose(
        M.pairwise(torch.from_numpy(a), torch.from_numpy(b)), M.pairwise(a, b), atol=1e-6
    )


def test_float64_on_request(ab):
    a, b = ab
    assert M.pairwise(a, b, dtype=np.float64).dtype == np.float64
    assert M.pairwise(a, b).dtype == np.float32


def test_nan_raises_data_error(ab):
    a, b = ab
    a = a.copy()
    a[2, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        M.pairwise(a, b)
    with pytest.raises(DataError, match="row 2, column 1"):
        M.topk(a, b, 3)


def test_dimension_mismatch(ab):
    a, _ = ab
    with pytest.raises(DimensionError, match="7 vs 5"):
        M.pairwise(a, np.ones((2, 5)))
    with pytest.raises(DimensionError):
        M.rowwise(a, a[:2])


def test_unknown_metric_lists_valid_names():
    with pytest.raises(UnknownNameError, match=r"cosine.*euclidean"):
        M.pairwise(np.ones((1, 2)), metric="cosinus")


def test_dot_has_no_distance():
    with pytest.raises(ConfigError, match="no distance"):
        M.pairwise_distance(np.ones((1, 2)), metric="dot")


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean", "sqeuclidean", "manhattan"])
def test_topk_matches_full_sort(rng, metric):
    q = rng.normal(size=(17, 8)).astype(np.float32)
    c = rng.normal(size=(300, 8)).astype(np.float32)
    full = M.pairwise(q, c, metric)
    idx, sc = M.topk(q, c, 10, metric, budget_bytes=4 * 17 * 23)  # forces many corpus blocks
    ref = np.argsort(-full, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(idx, ref)
    np.testing.assert_allclose(sc, np.take_along_axis(full, ref, 1), rtol=1e-5, atol=1e-5)
    assert np.all(np.diff(sc, axis=1) <= 1e-7)


def test_topk_k_larger_than_corpus_and_bad_k(rng):
    c = rng.normal(size=(4, 3)).astype(np.float32)
    idx, _ = M.topk(c, c, 10)
    assert idx.shape == (4, 4)
    np.testing.assert_array_equal(idx[:, 0], np.arange(4))
    with pytest.raises(ConfigError):
        M.topk(c, c, 0)


def test_metrics_declare_normalisation_kernel_and_raw_mapping():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(7, 6)).astype(np.float32)
    assert M.get_metric("cosine").normalizes and not M.get_metric("dot").normalizes
    kernels = {n: M.get_metric(n).kernel for n in ("cosine", "dot", "euclidean", "sqeuclidean", "manhattan")}
    assert kernels == {
        "cosine": M.KERNEL_IP,
        "dot": M.KERNEL_IP,
        "euclidean": M.KERNEL_L2,
        "sqeuclidean": M.KERNEL_L2,
        "manhattan": M.KERNEL_L1,
    }
    assert M.get_metric("dtw").kernel == M.KERNEL_OTHER and M.get_metric("dtw").from_raw is None
    # the raw kernel value mapped by from_raw is the metric's similarity
    for name in ("cosine", "dot", "euclidean", "sqeuclidean", "manhattan"):
        m = M.get_metric(name)
        x, y = (M.l2_normalize(a), M.l2_normalize(b)) if m.normalizes else (a, b)
        raw = {
            M.KERNEL_IP: x @ y.T,
            M.KERNEL_L2: ((x[:, None] - y[None]) ** 2).sum(-1),
            M.KERNEL_L1: np.abs(x[:, None] - y[None]).sum(-1),
        }[m.kernel]
        np.testing.assert_allclose(m.score_raw(raw), M.pairwise(a, b, name), rtol=1e-4, atol=1e-4)
    with pytest.raises(ConfigError, match="has no search kernel"):
        M.get_metric("jaccard").score_raw(np.zeros(2))


def test_a_metric_declares_kernel_and_mapping_together():
    with pytest.raises(ConfigError, match="needs from_raw"):
        M.Metric(
            "x", M.get_metric("dot").pairwise, M.get_metric("dot").rowwise, None, None, kernel=M.KERNEL_IP
        )
    with pytest.raises(ConfigError, match="unknown kernel"):
        M.Metric("x", M.get_metric("dot").pairwise, M.get_metric("dot").rowwise, None, None, kernel="cos")


def test_topk_on_prenormalised_rows_ranks_by_the_plain_kernel():
    rng = np.random.default_rng(4)
    c = M.l2_normalize(rng.normal(size=(300, 8)).astype(np.float32))
    q = M.l2_normalize(rng.normal(size=(5, 8)).astype(np.float32))
    i1, _ = M.topk(q, c, 7, "cosine", corpus_prepared=True, normalized=True)
    i2, _ = M.topk(q, c, 7, "dot", corpus_prepared=True)
    np.testing.assert_array_equal(i1, i2)
