"""Dimensionality reduction (PCA, random projection) and product quantisation."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, DimensionError, NotFittedError
from simlab.index import Index
from simlab.index.reduce import (
    PCA,
    RandomProjection,
    compression_ratio,
    neighbour_recall,
    product_quantize,
    recall_at_k,
)


@pytest.fixture
def vecs(clustered_data):
    x = clustered_data(3000, 64, n_clusters=15, seed=4)
    return simlab.Vectors([f"k{i}" for i in range(len(x))], x)


def test_pca_matches_sklearn(vecs):
    from sklearn.decomposition import PCA as SkPCA

    p = PCA(8).fit(vecs)
    sk = SkPCA(8, svd_solver="full").fit(vecs.matrix)
    np.testing.assert_allclose(p.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-3, atol=1e-5)
    # same subspace up to signs
    np.testing.assert_allclose(np.abs(p.components @ sk.components_.T), np.eye(8), atol=2e-3)
    y = p.transform(vecs)
    assert isinstance(y, simlab.Vectors) and y.dim == 8 and y.keys == vecs.keys
    np.testing.assert_allclose(np.abs(y.matrix), np.abs(sk.transform(vecs.matrix)), rtol=1e-3, atol=1e-3)


def test_pca_keeps_neighbours_on_decaying_spectrum(vecs):
    # PCA keeps Euclidean geometry (it centres, so cosine neighbours may move)
    r32 = neighbour_recall(PCA(32).fit_transform(vecs), vecs, k=10, metric="euclidean")
    r2 = neighbour_recall(PCA(2).fit_transform(vecs), vecs, k=10, metric="euclidean")
    assert r32 > 0.7 and r2 < r32 - 0.3


def test_random_projection(vecs):
    rp = RandomProjection(48, seed=1).fit(vecs)
    y = rp.transform(vecs)
    assert y.dim == 48
    # distances roughly preserved (Johnson-Lindenstrauss)
    d0 = simlab.pairwise_distance(vecs.matrix[:50])
    d1 = simlab.pairwise_distance(y.matrix[:50])
    mask = d0 > 0
    ratio = d1[mask] / d0[mask]
    assert 0.7 < np.median(ratio) < 1.3
    assert np.array_equal(RandomProjection(48, seed=1).fit(vecs).components, rp.components)


def test_projection_save_load_and_errors(tmp_path, vecs):
    for obj in (PCA(4).fit(vecs), RandomProjection(4, seed=3).fit(vecs)):
        obj.save(tmp_path / obj.kind)
        back = simlab.load(tmp_path / obj.kind)
        assert type(back) is type(obj)
        np.testing.assert_array_equal(back.transform(vecs.matrix[:5]), obj.transform(vecs.matrix[:5]))
    with pytest.raises(NotFittedError):
        PCA(2).transform(vecs)
    with pytest.raises(DimensionError):
        PCA(2).fit(vecs).transform(np.ones((2, 3)))
    with pytest.raises(DimensionError):
        PCA(100).fit(vecs)
    with pytest.raises(ConfigError):
        PCA(0)


def test_product_quantization_recall_vs_compression(vecs, clustered_data):
    q = clustered_data(100, 64, n_clusters=15, seed=5)
    exact = Index("exact", "euclidean").add(vecs.keys, vecs.matrix)
    results = {}
    for m in (8, 32):
        pq = product_quantize(vecs, m=m, metric="euclidean")
        results[m] = (recall_at_k(pq, exact, q, 10), compression_ratio(pq))
    # more sub-quantizers: more bytes, better recall
    assert results[32][0] > results[8][0] > 0.2
    assert results[8][1] > results[32][1] > 3  # codebooks included (64 KB here)
    ivfpq = product_quantize(vecs, m=16, nlist=16, metric="euclidean", nprobe=16)
    assert recall_at_k(ivfpq, exact, q, 10) > 0.4
    with pytest.raises(ConfigError, match="divisible"):
        product_quantize(vecs, m=7)
