"""Fixtures of the text tests: models trained once per session on gensim's Lee corpus (≈60k tokens)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("gensim")


@pytest.fixture(scope="session")
def lee() -> Path:
    from simlab.paths import gensim_test_data

    return gensim_test_data() / "lee_background.cor"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from simlab.paths import gensim_test_data

    return gensim_test_data()


@pytest.fixture(scope="session")
def w2v_lee(lee):
    """Skip-gram on the Lee corpus: the quality fixture (≈10 s on 2 cores)."""
    from simlab.text import Word2Vec

    return Word2Vec(
        dim=50,
        architecture="skipgram",
        window=5,
        negative=5,
        sample=1e-3,
        epochs=15,
        min_count=2,
        workers=2,
        seed=1,
    ).fit(lee)


@pytest.fixture(scope="session")
def w2v_small(lee):
    """A quick CBOW model for API tests (not for quality)."""
    from simlab.text import Word2Vec

    return Word2Vec(dim=20, epochs=2, min_count=3, workers=1, seed=3, sample=1e-3).fit(lee)


@pytest.fixture
def tiny_docs() -> list[list[str]]:
    return [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "the", "log"]] * 30
