"""Import of pretrained vectors: word2vec text/binary, fastText .vec and .bin."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.errors import DataError
from simlab.text import load_vectors


def test_fasttext_vec_and_bin_agree(data_dir):
    vec = load_vectors(data_dir / "lee_fasttext.vec")
    new_bin = load_vectors(data_dir / "lee_fasttext_new.bin")  # fastText >= 0.9 format (magic number)
    old_bin = load_vectors(data_dir / "lee_fasttext.bin")  # old format without magic: falls back to fastText
    assert vec.dim == new_bin.dim == old_bin.dim == 10
    common = [w for w in vec.keys[:50] if w in new_bin]
    assert len(common) > 40
    from gensim.models.fasttext import load_facebook_vectors

    kv = load_facebook_vectors(str(data_dir / "lee_fasttext_new.bin"))
    assert np.allclose(new_bin["the"], kv["the"])


def test_word2vec_binary_and_text(data_dir, tmp_path):
    from gensim.models import KeyedVectors

    v = load_vectors(data_dir / "lee_fasttext.vec")
    v.save_word2vec_format(tmp_path / "lee.bin", binary=True)
    kv = KeyedVectors.load_word2vec_format(str(tmp_path / "lee.bin"), binary=True)
    back = load_vectors(tmp_path / "lee.bin")
    assert back.keys == v.keys == list(kv.index_to_key)
    assert np.array_equal(back.matrix, kv.vectors) and np.array_equal(back.matrix, v.matrix)
    assert load_vectors(data_dir / "toy-model.bin").dim == 5  # a fastText .bin, detected by its magic number


def test_bad_vector_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_vectors(tmp_path / "nope.vec")
    bad = tmp_path / "bad.vec"
    bad.write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(DataError, match=r"bad.vec:3: expected a word and 3 numbers"):
        load_vectors(bad)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(DataError, match=r"junk.bin"):
        load_vectors(junk)
