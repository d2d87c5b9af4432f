"""Word2Vec: quality floors on real data, metric correctness against gensim, loss, save/load, resume, OOV."""

from __future__ import annotations

import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.text import Word2Vec
from simlab.text.evaluation import analogies, evaluate_word_pairs, wordsim353


def test_wordsim353_floor_beats_random(w2v_lee):
    trained = wordsim353(w2v_lee)
    assert trained.counts["pairs"] == 353
    assert 100 < trained.counts["pairs_scored"] < 353  # Lee is small: many pairs are out of vocabulary
    assert trained.value > 0.15
    vecs = w2v_lee.vectors
    rng = np.random.default_rng(0)
    random = [
        wordsim353(simlab.Vectors(vecs.keys, rng.normal(size=vecs.matrix.shape))).value for _ in range(5)
    ]
    assert trained.value > max(random) and trained.value > np.mean(random) + 0.1


def test_wordsim353_equals_gensim(w2v_lee, data_dir):
    """The metric is right: same Spearman/Pearson/OOV share as gensim's own evaluate_word_pairs."""
    kv = w2v_lee.gensim_model.wv
    (pear, _), (spear, _), oov_pct = kv.evaluate_word_pairs(str(data_dir / "wordsim353.tsv"))
    r = wordsim353(w2v_lee)
    assert r.metrics["spearman"] == pytest.approx(spear, abs=1e-4)
    assert r.metrics["pearson"] == pytest.approx(pear, abs=1e-4)
    assert r.counts["oov_share"] * 100 == pytest.approx(oov_pct, abs=0.01)


def test_analogies_equal_gensim(w2v_lee, data_dir):
    kv = w2v_lee.gensim_model.wv
    score, sections = kv.evaluate_word_analogies(str(data_dir / "questions-words.txt"))
    r = analogies(w2v_lee)
    total = next(s for s in sections if s["section"] == "Total accuracy")
    assert r.counts["scored"] == len(total["correct"]) + len(total["incorrect"])
    assert r.value == pytest.approx(score, abs=1e-9)
    assert r.counts["scored"] + r.counts["skipped"] == r.counts["questions"] == 19544
    assert set(r.details["sections"]) >= {"capital-common-countries", "gram1-adjective-to-adverb"}
    kv.norms = None  # gensim's evaluation filled its normalised cache; keep the fixture pristine


def test_neighbours_make_sense(w2v_lee):
    hits = w2v_lee.most_similar("afghanistan", k=10)
    assert len(hits) == 10 and "afghanistan" not in hits.keys
    assert {"taliban", "afghan", "kandahar", "pakistan", "bin", "laden", "kabul"} & set(hits.keys)
    s = w2v_lee.similarity("afghanistan", "taliban")
    va, vb = w2v_lee.vector("afghanistan"), w2v_lee.vector("taliban")
    assert s == pytest.approx(float(va @ vb / np.linalg.norm(va) / np.linalg.norm(vb)), abs=1e-6)


def test_vectors_share_gensim_matrix_without_normalised_copy(w2v_lee):
    g = w2v_lee.gensim_model
    assert np.shares_memory(w2v_lee.vectors.matrix, g.wv.vectors)
    w2v_lee.most_similar("government", k=5)
    assert g.wv.norms is None  # gensim's normalised copy never built


def test_per_epoch_loss_matches_gensim_single_thread(lee):
    from gensim.models import Word2Vec as GW

    m = Word2Vec(dim=20, epochs=1, min_count=3, workers=1, seed=5, sample=1e-3, recipe="fixed").fit(lee)
    g = GW(
        sentences=simlab.text.TextCorpus(lee),
        vector_size=20,
        epochs=1,
        min_count=3,
        workers=1,
        seed=5,
        sample=1e-3,
        window=8,
        negative=10,
        compute_loss=True,
    )
    assert m.epoch_loss[0] == pytest.approx(g.get_latest_training_loss(), rel=2e-3)
    m2 = Word2Vec(dim=20, epochs=3, min_count=3, workers=2, seed=5, sample=1e-3).fit(lee)
    assert len(m2.epoch_loss) == 3 and all(x > 0 for x in m2.epoch_loss)
    assert m2.epoch_loss[-1] < m2.epoch_loss[0]  # per epoch, not cumulative


def test_hierarchical_softmax_cbow_sum_and_config_names(lee, tmp_path):
    m = Word2Vec(
        dim=10, epochs=1, min_count=5, hs=True, negative=0, cbow_mean=False, workers=1, recipe="fixed"
    ).fit(lee)
    assert m.gensim_model.hs == 1 and m.gensim_model.negative == 0
    assert m.epoch_loss[0] > 0
    m.save(tmp_path / "hs")
    m2 = simlab.load(tmp_path / "hs")
    assert np.array_equal(m2.gensim_model.syn1, m.gensim_model.syn1)
    assert Word2Vec(sg=True).config.architecture == "skipgram"
    assert Word2Vec(architecture="skip-gram").config.sg is True
    with pytest.raises(ConfigError, match=r"unknown Word2VecConfig key.*vector_size"):
        Word2Vec(vector_size=10)
    with pytest.raises(ConfigError, match="architecture"):
        Word2Vec(architecture="glove")
    with pytest.raises(ConfigError, match="negative=0 and hs=false"):
        Word2Vec(negative=0)
    with pytest.raises(ConfigError, match="dim must be >= 1"):
        Word2Vec(dim=0)


def test_save_load_identity(w2v_small, tmp_path):
    path = w2v_small.save(tmp_path / "m")
    assert simlab.info(path)["kind"] == "word2vec"
    m2 = simlab.load(path)
    assert isinstance(m2, Word2Vec)
    assert m2.vectors.keys == w2v_small.vectors.keys
    assert np.array_equal(m2.vectors.matrix, w2v_small.vectors.matrix)
    assert np.array_equal(m2.vectors.counts, w2v_small.vectors.counts)
    assert np.array_equal(m2.gensim_model.syn1neg, w2v_small.gensim_model.syn1neg)
    assert np.array_equal(
        m2.gensim_model.wv.get_vecattr("the", "sample_int"),
        w2v_small.gensim_model.wv.get_vecattr("the", "sample_int"),
    )
    assert m2.most_similar("government", k=5).keys == w2v_small.most_similar("government", k=5).keys
    assert m2.config == w2v_small.config
    assert not list(tmp_path.glob(".m.tmp-*"))


def test_resume_continues_training(w2v_small, lee, tmp_path):
    w2v_small.save(tmp_path / "m")
    m = Word2Vec.load(tmp_path / "m")
    before = m.vectors["government"].copy()
    more = list(simlab.text.TextCorpus(lee))[:100] + [["zorblax", "government", "said"]] * 20
    m.fit(more, epochs=2)
    assert "zorblax" in m and len(m) == len(w2v_small) + 1
    assert not np.array_equal(m.vectors["government"], before)
    assert m.history[-1]["new_words"] == 1 and len(m.history) == len(w2v_small.history) + 1
    m.save(tmp_path / "m")  # overwrite in place
    assert "zorblax" in simlab.load(tmp_path / "m")


def test_oov_policies(w2v_small, tmp_path):
    with pytest.raises(UnknownKeyError, match="unknown word 'qwertyuiop'"):
        w2v_small.similarity("government", "qwertyuiop")
    with pytest.raises(UnknownKeyError, match="qwertyuiop"):
        w2v_small.most_similar("qwertyuiop")
    assert np.isnan(w2v_small.similarity("government", "qwertyuiop", oov="skip"))
    kept, mat, skipped = w2v_small.lookup(["government", "qwertyuiop"], oov="skip")
    assert kept == ["government"] and skipped == ["qwertyuiop"] and mat.shape == (1, 20)
    hits = w2v_small.most_similar(["government", "qwertyuiop"], k=3, oov="skip")
    assert len(hits) == 3
    with pytest.raises(ConfigError, match="subword"):
        w2v_small.vector("x", oov="subword")
    words = tmp_path / "words.txt"
    words.write_text("government\nqwertyuiop\n\n")
    with pytest.raises(UnknownKeyError, match="qwertyuiop"):
        w2v_small.embed_file(words)
    v = w2v_small.embed_file(words, oov="skip")
    assert v.keys == ["government"]


def test_bad_training_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n<br />\n")
    with pytest.raises(DataError, match=r"empty.txt: empty corpus"):
        Word2Vec(min_count=1).fit(empty)
    with pytest.raises(DataError, match="empty corpus"):
        Word2Vec(min_count=1).fit([])
    rare = tmp_path / "rare.txt"
    rare.write_text("alpha beta\ngamma delta\n")
    with pytest.raises(DataError, match=r"rare.txt: no word occurs at least min_count=5 times \(4 distinct"):
        Word2Vec().fit(rare)
    with pytest.raises(DataError, match="one-shot iterator"):
        Word2Vec(min_count=1).fit(d for d in [["a", "b"]])
    binf = tmp_path / "x.bin"
    binf.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"x.bin:1"):
        Word2Vec(min_count=1).fit(binf)
    with pytest.raises(DataError, match=r"missing.txt: file not found"):
        Word2Vec().fit(tmp_path / "missing.txt")
    with pytest.raises(NotFittedError):
        _ = Word2Vec().vectors


def test_corpus_file_mode(lee, tmp_path):
    from simlab.text.corpus import TextCorpus, write_line_corpus

    lf = tmp_path / "lee.txt"
    write_line_corpus(TextCorpus(lee), lf)
    m = Word2Vec(dim=10, epochs=1, min_count=5, workers=2).fit(corpus_file=lf)
    assert len(m) > 1000 and m.epoch_loss == [None]
    with pytest.raises(ConfigError, match="exactly one"):
        Word2Vec().fit(lee, corpus_file=lf)


def test_generic_evaluate_and_pairs_file(w2v_small, tmp_path):
    from simlab.evaluate import evaluate

    f = tmp_path / "pairs.tsv"
    f.write_text(
        "# comment\nword1\tword2\tscore\ngovernment\tminister\t8\ngovernment\tzzzz\t3\nsaid\ttold\t7\n"
        "police\tfire\t4\n"
    )
    r = evaluate(w2v_small, str(f))
    assert r.name == "pairs-file:pairs.tsv" or r.name.startswith("word-pairs")
    assert r.counts["pairs"] == 4 and r.counts["pairs_scored"] == 3 and r.counts["oov_share"] == 0.25
    r2 = evaluate(w2v_small, f"word-pairs:{f}")
    assert r2.metrics == r.metrics
    bad = tmp_path / "bad.tsv"
    bad.write_text("government\tminister\t8\nsaid\ttold\n")
    with pytest.raises(DataError, match=r"bad.tsv:2: expected"):
        evaluate_word_pairs(w2v_small, bad)
    bad.write_text("government\tminister\t8\nsaid\ttold\thigh\n")
    with pytest.raises(DataError, match=r"bad.tsv:2: score 'high'"):
        evaluate_word_pairs(w2v_small, bad)
    q = tmp_path / "q.txt"
    q.write_text(": capitals\nathens greece\n")
    with pytest.raises(DataError, match=r"q.txt:2: an analogy question needs 4 words"):
        analogies(w2v_small, str(q))
    with pytest.raises(DataError, match="not found"):
        evaluate_word_pairs(w2v_small, tmp_path / "nope.tsv")


def test_index_plugs_in(w2v_small):
    pytest.importorskip("simlab.index")
    exact = w2v_small.most_similar("government", k=5)
    idx = simlab.Index.from_vectors(w2v_small.vectors)
    assert len(idx) == len(w2v_small) if hasattr(idx, "__len__") else True
    w2v_small.use_index("exact")
    try:
        assert w2v_small.most_similar("government", k=5).keys == exact.keys
    finally:
        w2v_small.use_index(None)


def test_faiss_index_for_big_vocabularies(w2v_lee):
    pytest.importorskip("faiss")
    exact = w2v_lee.most_similar("government", k=10)
    w2v_lee.use_index("faiss", factory="HNSW32", efSearch=128)
    try:
        approx = w2v_lee.most_similar("government", k=10)
    finally:
        w2v_lee.use_index(None)
    assert "government" not in approx.keys
    assert len(set(approx.keys) & set(exact.keys)) >= 8  # recall@10 against exact search


def test_resume_in_corpus_file_mode(w2v_small, lee, tmp_path):
    from simlab.text.corpus import TextCorpus, write_line_corpus

    w2v_small.save(tmp_path / "m")
    m = Word2Vec.load(tmp_path / "m")
    lf = tmp_path / "more.txt"
    write_line_corpus(list(TextCorpus(lee))[:50] + [["quuxword", "police"]] * 10, lf)
    m.fit(corpus_file=lf, epochs=1)
    assert "quuxword" in m and m.history[-1]["epoch_loss"] == [None]
