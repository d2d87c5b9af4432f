"""FastText OOV vectors, Doc2Vec inference determinism / persistence, SIF formula."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.text import SIF, Doc2Vec, FastText, TextCorpus


@pytest.fixture(scope="module")
def ft(lee):
    return FastText(dim=20, epochs=2, min_count=3, workers=2, buckets=20000, seed=2).fit(lee)


def test_fasttext_vector_for_any_word(ft, lee, tmp_path):
    v = ft.vector("governmentish")
    assert v.shape == (20,) and np.isfinite(v).all() and np.any(v)
    # an unseen word built from n-grams is close to its seen relatives
    assert ft.similarity("governmentish", "government") > ft.similarity("governmentish", "cricket")
    hits = ft.most_similar("governmentish", k=5)
    assert len(hits) == 5
    with pytest.raises(UnknownKeyError, match="governmentish"):
        ft.vector("governmentish", oov="error")
    assert np.isnan(ft.similarity("governmentish", "government", oov="skip"))
    ft.save(tmp_path / "ft")
    ft2 = simlab.load(tmp_path / "ft")
    assert np.array_equal(ft2.vectors.matrix, ft.vectors.matrix)
    assert np.allclose(ft2.vector("governmentish"), v, atol=1e-6)
    assert np.array_equal(ft2.gensim_model.wv.vectors_ngrams, ft.gensim_model.wv.vectors_ngrams)
    ft2.fit(list(TextCorpus(lee))[:50] + [["governmentish", "policy"]] * 10, epochs=1)
    assert "governmentish" in ft2


def test_fasttext_config():
    with pytest.raises(ConfigError, match=r"unknown FastTextConfig key.*bucket"):
        FastText(bucket=10)
    assert FastText(sg=True).config.architecture == "skipgram"


@pytest.fixture(scope="module")
def d2v(lee):
    return Doc2Vec(dim=30, epochs=10, min_count=2, workers=2, seed=4).fit(lee)


def test_doc2vec_infer_is_deterministic(d2v, lee, tmp_path):
    text = "The Taliban fighters in Kandahar surrendered to the Afghan government"
    v1, v2 = d2v.infer(text), d2v.infer(text)
    assert np.array_equal(v1, v2) and v1.shape == (30,)
    assert not np.array_equal(v1, d2v.infer(text, seed=99))
    d2v.save(tmp_path / "d")
    d2 = simlab.load(tmp_path / "d")
    assert np.array_equal(d2.infer(text), v1)
    assert d2.vectors.keys == d2v.vectors.keys and np.array_equal(d2.vectors.matrix, d2v.vectors.matrix)
    with pytest.raises(DataError, match="no known word"):
        d2v.infer("qqqq zzzz")


def test_doc2vec_finds_training_document(d2v, lee):
    first = lee.read_text().splitlines()[5]
    hits = d2v.most_similar_text(first, k=5)
    assert "lee_background.cor:6" in hits.keys
    assert d2v.most_similar("lee_background.cor:6", k=3).keys[0] != "lee_background.cor:6"
    with pytest.raises(UnknownKeyError, match="most_similar_text"):
        d2v.most_similar("not a tag")


def test_doc2vec_modes_and_resume(lee, tmp_path):
    docs = list(TextCorpus(lee))[:60]
    for kw in (
        {"mode": "dm"},
        {"mode": "dm", "dm_concat": True, "window": 2},
        {"mode": "dbow", "dbow_words": True},
    ):
        m = Doc2Vec(dim=10, epochs=2, min_count=2, workers=1, **kw).fit(docs)
        assert m.vectors.keys == list(range(60))
        assert np.isfinite(m.infer(docs[0])).all()
    m.fit(docs[:10], epochs=1)
    assert m.history[-1]["documents"] == 10
    with pytest.raises(DataError, match="tag 'new' is not in the trained model"):
        m.fit([("new", ["the", "cat"])], epochs=1)
    with pytest.raises(ConfigError, match="mode"):
        Doc2Vec(mode="lsi")
    with pytest.raises(DataError, match="empty corpus"):
        Doc2Vec(min_count=1).fit(["", "<br />"])


def test_doc2vec_embed_file(d2v, tmp_path):
    f = tmp_path / "docs.txt"
    f.write_text("the government said\nqqqq\npolice were called to the fire\n")
    v = d2v.embed_file(f)
    assert v.keys == ["docs.txt:1", "docs.txt:3"] and v.dim == 30


def test_sif_formula_and_pc_removal(w2v_small, lee, tmp_path):
    docs = lee.read_text().splitlines()[:80]
    sif = SIF(w2v_small, a=1e-3, n_components=1).fit(docs)
    vecs = w2v_small.vectors
    p = vecs.counts / vecs.counts.sum()
    i = vecs.index_of("government")
    assert sif.weights[i] == pytest.approx(1e-3 / (1e-3 + p[i]), rel=1e-5)
    emb = sif.encode(docs)
    u = sif.components[0]
    assert np.abs(emb @ u).max() < 1e-3 * np.abs(emb).max()  # first principal component removed
    # the formula by hand for one document
    toks = [t for t in simlab.text.tokenize(docs[3]) if t in vecs]
    raw = np.mean([sif.weights[vecs.index_of(t)] * vecs[t] for t in toks], axis=0)
    assert np.allclose(emb[3], raw - (raw @ u) * u, atol=1e-5)
    assert np.isnan(sif.encode(["qqqq zzzz"])).all()
    assert np.isnan(sif.similarity_text("qqqq", docs[0]))
    with pytest.raises(DataError, match="no known word"):
        sif.infer("qqqq")
    assert sif.most_similar_text(docs[3], k=1).keys == [3]
    sif.save(tmp_path / "sif")
    s2 = simlab.load(tmp_path / "sif")
    assert np.allclose(s2.encode(docs[:5]), emb[:5])
    f = tmp_path / "docs.txt"
    f.write_text(docs[0] + "\nqqqq\n")
    assert s2.embed_file(f).keys == ["docs.txt:1"]


def test_doc_pairs_evaluator(w2v_small, tmp_path):
    from simlab.evaluate import evaluate

    sif = SIF(w2v_small).fit(["the government said", "police fire", "the cricket match was played"])
    f = tmp_path / "docpairs.tsv"
    f.write_text(
        "the government said\tthe government announced\t4.5\npolice fire\tcricket match\t0.5\n"
        "police were called\tthe fire brigade\t3\nqqqq\tthe government\t1\n"
    )
    r = evaluate(sif, f"doc-pairs:{f}")
    assert r.primary == "pearson" and r.counts["pairs"] == 4 and r.counts["pairs_scored"] == 3
    r2 = evaluate(sif, str(f))  # a plain path dispatches on the model type
    assert r2.metrics == r.metrics
