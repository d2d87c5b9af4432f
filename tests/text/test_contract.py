"""The text families on the model contract: one config rule (FastText's config derived from Word2Vec's, the
same values accepted and the same conflicts rejected), declared capabilities, save/load from the base."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import simlab
from simlab.errors import ConfigError
from simlab.model import Model, capabilities
from simlab.text import (
    BM25,
    LSI,
    SIF,
    Doc2Vec,
    DocumentModel,
    FastText,
    FastTextConfig,
    Hybrid,
    Tfidf,
    Word2Vec,
    Word2VecConfig,
)

FAMILIES = (Word2Vec, FastText, Doc2Vec, SIF, Tfidf, BM25, LSI, Hybrid, DocumentModel)


@pytest.mark.parametrize("cls", [Word2Vec, FastText])
def test_skip_gram_spellings_and_sg_conflict(cls):
    for spelling in ("skip-gram", "skipgram", "skip_gram", "sg", "Skip-Gram"):
        cfg = cls(architecture=spelling).config
        assert cfg.architecture == "skipgram" and cfg.sg is True
    assert cls(sg=True).config.architecture == "skipgram"
    assert cls(sg=False).config.architecture == "cbow"
    with pytest.raises(ConfigError, match="contradicts"):
        cls(architecture="skip-gram", sg=False)
    with pytest.raises(ConfigError, match="architecture"):
        cls(architecture="glove")


def test_fasttext_config_derives_from_word2vec():
    assert issubclass(FastTextConfig, Word2VecConfig)
    w2v = {f.name for f in dataclasses.fields(Word2VecConfig)}
    ft = {f.name for f in dataclasses.fields(FastTextConfig)}
    assert ft - w2v == {"min_n", "max_n", "buckets"} and w2v <= ft
    assert FastText().config.oov == "subword" and FastText().config.dim == 100
    with pytest.raises(ConfigError, match="oov"):
        Word2Vec(oov="subword")
    with pytest.raises(ConfigError, match="compute_loss"):
        FastText(compute_loss=True)


@pytest.mark.parametrize("cls", FAMILIES)
def test_every_family_on_the_contract(cls):
    assert issubclass(cls, Model)
    assert cls.KIND and dataclasses.is_dataclass(cls.Config) and cls.CAPABILITIES
    with pytest.raises(ConfigError, match="valid keys"):
        cls(nope=1) if cls is not SIF else SIF(None, nope=1)


def test_capabilities():
    assert capabilities(Word2Vec()) >= {"words", "searches", "embeds"}
    assert "texts" in capabilities(Tfidf()) and "words" not in capabilities(Tfidf())
    assert capabilities(Hybrid()) == {"scores_pairs", "searches", "texts"}


def test_config_object_or_mapping_or_overrides(tmp_path):
    docs = [["cat", "sat", "on", "mat"], ["dog", "sat", "on", "log"]] * 20
    a = Word2Vec(Word2VecConfig(dim=8, min_count=1, epochs=2, workers=1)).fit(docs)
    b = Word2Vec({"dim": 8, "min_count": 1}, epochs=2, workers=1).fit(docs)
    assert a.config.dim == b.config.dim == 8
    a.save(tmp_path / "w")
    c = simlab.load(tmp_path / "w")
    np.testing.assert_array_equal(c.vectors.matrix, a.vectors.matrix)
    assert c.encode(["cat", "dog"]).shape == (2, 8) and c.score_pairs(["cat"], ["dog"]).shape == (1,)
