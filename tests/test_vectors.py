"""Vectors: lookup, search, analogies, persistence and word2vec interop (checked with gensim)."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab import Vectors
from simlab.errors import ArtifactError, DataError, DimensionError, UnknownKeyError


@pytest.fixture
def vecs(rng):
    keys = [f"w{i}" for i in range(50)]
    return Vectors(keys, rng.normal(size=(50, 8)), counts=np.arange(50, 0, -1))


def test_lookup_and_contains(vecs):
    assert len(vecs) == 50 and vecs.dim == 8 and vecs.matrix.dtype == np.float32
    assert "w3" in vecs and "nope" not in vecs and [1] not in vecs
    np.testing.assert_array_equal(vecs["w3"], vecs.matrix[3])
    assert vecs[["w1", "w2"]].shape == (2, 8)
    with pytest.raises(UnknownKeyError, match="'nope'"):
        vecs["nope"]
    assert vecs.get("nope") is None


def test_most_similar_matches_brute_force(vecs):
    m = vecs.matrix.astype(np.float64)
    unit = m / np.linalg.norm(m, axis=1, keepdims=True)
    sims = unit @ unit[7]
    sims[7] = -np.inf
    ref = np.argsort(-sims)[:5]
    hits = vecs.most_similar("w7", k=5)
    assert hits.keys == [f"w{i}" for i in ref]
    np.testing.assert_allclose(hits.scores, sims[ref], rtol=1e-5)
    assert "w7" not in hits.keys
    # by vector: the key itself comes first
    assert vecs.most_similar(vecs["w7"], k=1).keys == ["w7"]


def test_most_similar_other_metric_and_restrict(vecs):
    hits = vecs.most_similar("w0", k=3, metric="euclidean")
    d = np.linalg.norm(vecs.matrix - vecs.matrix[0], axis=1)
    d[0] = np.inf
    assert hits.keys == [f"w{i}" for i in np.argsort(d)[:3]]
    assert all(s <= 0 for _, s in hits)  # similarity = negated distance
    assert all(int(k[1:]) < 10 for k in vecs.most_similar("w0", k=5, restrict=10).keys)


def test_analogy_recovers_planted_relation():
    rng = np.random.default_rng(1)
    base = {w: rng.normal(size=16) for w in ["man", "woman", "king", "queen_noise", "apple", "car"]}
    offset = rng.normal(size=16)
    base["woman"] = base["man"] + offset
    base["queen"] = base["king"] + offset
    v = Vectors(list(base), np.array(list(base.values())))
    for method in ("3cosadd", "3cosmul"):
        assert v.analogy("man", "woman", "king", method=method).keys[0] == "queen"
    q = np.array([[v.index_of("man"), v.index_of("woman"), v.index_of("king")]])
    assert v.keys[v.analogy_batch(q)[0]] == "queen"
    assert v.most_similar(positive=["woman", "king"], negative=["man"], k=1).keys == ["queen"]


def test_doesnt_match():
    v = Vectors(["a", "b", "c", "z"], [[1, 0.1], [1, 0], [0.9, 0.1], [-1, 1]])
    assert v.doesnt_match(["a", "b", "c", "z"]) == "z"


def test_similarity_and_distance(vecs):
    a, b = vecs["w1"].astype(np.float64), vecs["w2"].astype(np.float64)
    assert vecs.similarity("w1", "w2") == pytest.approx(
        a @ b / np.linalg.norm(a) / np.linalg.norm(b), rel=1e-5
    )
    assert vecs.distance("w1", "w2", "euclidean") == pytest.approx(np.linalg.norm(a - b), rel=1e-5)


def test_bad_construction():
    with pytest.raises(DataError, match="duplicate key 'a'"):
        Vectors(["a", "a"], np.ones((2, 2)))
    with pytest.raises(DimensionError):
        Vectors(["a"], np.ones((2, 2)))
    with pytest.raises(DataError, match="NaN"):
        Vectors(["a"], [[np.nan, 1.0]])
    with pytest.raises(DimensionError, match="dimension 3"):
        Vectors(["a"], np.ones((1, 2))).most_similar(np.ones(3))


def test_save_load_round_trip(vecs, tmp_path):
    p = vecs.save(tmp_path / "v")
    back = simlab.load(p)
    assert isinstance(back, Vectors)
    assert back.keys == vecs.keys
    np.testing.assert_array_equal(back.matrix, vecs.matrix)
    np.testing.assert_array_equal(back.counts, vecs.counts)
    assert Vectors.load(p).most_similar("w5", k=3).keys == vecs.most_similar("w5", k=3).keys


def test_int_keys_survive_round_trip(tmp_path):
    v = Vectors([10, 20], np.eye(2))
    back = Vectors.load(v.save(tmp_path / "v"))
    assert back.keys == [10, 20] and 10 in back


def test_word2vec_formats_readable_by_gensim(vecs, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    for binary in (False, True):
        p = tmp_path / f"v.{'bin' if binary else 'txt'}"
        vecs.save_word2vec_format(p, binary=binary)
        kv = gensim_models.KeyedVectors.load_word2vec_format(str(p), binary=binary)
        assert list(kv.index_to_key) == vecs.keys
        np.testing.assert_allclose(kv.vectors, vecs.matrix, rtol=1e-5, atol=1e-6)
        back = Vectors.load_word2vec_format(p, binary=binary)
        np.testing.assert_allclose(back.matrix, vecs.matrix, rtol=1e-5, atol=1e-6)
        # and what gensim writes, we read
        q = tmp_path / f"g.{'bin' if binary else 'txt'}"
        kv.save_word2vec_format(str(q), binary=binary)
        np.testing.assert_allclose(
            Vectors.load_word2vec_format(q, binary=binary).matrix, kv.vectors, rtol=1e-5
        )


def test_word2vec_text_malformed_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("2 3\na 1 2 3\nb 1 x 3\n")
    with pytest.raises(DataError, match=r"bad.txt:3:"):
        Vectors.load_word2vec_format(p)
    p.write_text("2 3\na 1 2 3\nb 1 3\n")
    with pytest.raises(DataError, match=r"bad.txt:3: expected a word and 3 numbers"):
        Vectors.load_word2vec_format(p)
    p.write_text("garbage\n")
    with pytest.raises(DataError, match=r"bad.txt:1: header"):
        Vectors.load_word2vec_format(p)
    with pytest.raises(DataError, match="cannot open"):
        Vectors.load_word2vec_format(tmp_path / "missing.txt")


def test_word2vec_format_rejects_keys_with_spaces(tmp_path):
    with pytest.raises(DataError, match="'a b'"):
        Vectors(["a b"], np.ones((1, 2))).save_word2vec_format(tmp_path / "x.txt")


def test_corrupt_artifact_detected(vecs, tmp_path):
    p = vecs.save(tmp_path / "v")
    f = p / "vectors.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"vectors\.safetensors: checksum mismatch"):
        simlab.load(p)
    f.write_bytes(bytes(data[:-10]))
    with pytest.raises(ArtifactError, match="truncated"):
        simlab.load(p)
