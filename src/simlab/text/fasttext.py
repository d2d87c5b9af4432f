"""FastText word vectors with character n-grams (Bojanowski et al. 2017), trained with gensim.

A word w is represented by its own vector plus the vectors of its character n-grams (``min_n``..``max_n``
characters of ``<w>``, hashed into `buckets` rows): ``v_w = (z_w + Σ_{g ∈ G(w)} z_g) / (1 + |G(w)|)``. An unseen
word gets the mean of its n-gram vectors, so every word has a vector (``oov="subword"``, the default).

Reference:
    Bojanowski, Grave, Joulin, Mikolov. Enriching Word Vectors with Subword Information. TACL 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, UnknownKeyError
from simlab.text._base import WordModel, check_common
from simlab.text.word2vec import gensim_kwargs


@dataclass(frozen=True)
class FastTextConfig:
    """FastText hyper-parameters: those of :class:`~simlab.text.word2vec.Word2VecConfig` plus n-grams.

    Attributes:
        min_n / max_n: character n-gram lengths (``max_n < min_n`` disables n-grams).
        buckets: hash buckets for n-gram vectors (memory: ``buckets x dim x 4`` bytes, twice while training).
        oov: ``"subword"`` (n-gram vector for unseen words), ``"error"`` or ``"skip"``.
    """

    dim: int = 100
    architecture: str = "cbow"
    sg: bool | None = None
    window: int = 5
    epochs: int = 5
    min_count: int = 5
    max_final_vocab: int | None = None
    negative: int = 5
    ns_exponent: float = 0.75
    hs: bool = False
    sample: float = 1e-3
    alpha: float = 0.025
    min_alpha: float = 1e-4
    cbow_mean: bool = True
    shrink_windows: bool = True
    seed: int = 1
    workers: int = 0
    batch_words: int = 10000
    max_tokens: int = 10000
    min_n: int = 3
    max_n: int = 6
    buckets: int = 500_000
    oov: str = "subword"

    def __post_init__(self) -> None:
        arch = {"sg": "skipgram", "cbow": "cbow", "skipgram": "skipgram"}.get(self.architecture.lower())
        if arch is None:
            raise ConfigError(f"architecture must be 'cbow' or 'skipgram', got {self.architecture!r}")
        if self.sg is not None:
            arch = "skipgram" if self.sg else "cbow"
        object.__setattr__(self, "architecture", arch)
        object.__setattr__(self, "sg", arch == "skipgram")
        check_common(self)
        if self.min_n < 1:
            raise ConfigError("min_n must be >= 1")
        if self.buckets < 0:
            raise ConfigError("buckets must be >= 0")
        if self.oov not in ("error", "skip", "subword"):
            raise ConfigError(f"oov must be 'error', 'skip' or 'subword', got {self.oov!r}")


class FastText(WordModel):
    """FastText word vectors: a vector for any word, seen or not.

    Example:
        >>> from simlab.text import FastText
        >>> docs = [["running", "runner", "runs"], ["jumping", "jumper", "jumps"]] * 20
        >>> m = FastText(dim=8, min_count=1, epochs=2, workers=1, buckets=1000).fit(docs)
        >>> m.vector("runnings").shape   # unseen word: built from its character n-grams
        (8,)
    """

    Config = FastTextConfig
    KIND = "fasttext"
    has_subwords = True

    def _gensim_class(self) -> Any:
        from simlab.text._engine import GFastText

        return GFastText

    def _gensim_kwargs(self) -> dict[str, Any]:
        c = self.config
        return {**gensim_kwargs(c), "min_n": c.min_n, "max_n": c.max_n, "bucket": c.buckets}

    def _oov_vector(self, word: str) -> np.ndarray:
        wv = self._g.wv
        if wv.bucket == 0:
            raise UnknownKeyError(f"unknown word {word!r}: this FastText has no n-gram buckets (buckets=0)")
        v = wv.get_vector(word)
        if not np.any(v):
            raise UnknownKeyError(f"unknown word {word!r}: none of its character n-grams is known")
        return np.asarray(v, dtype=np.float32)

    def _save_extra(self, w: ArtifactWriter, g: Any) -> None:
        w.save_arrays(
            "ngrams.safetensors", {"vectors_vocab": g.wv.vectors_vocab, "vectors_ngrams": g.wv.vectors_ngrams}
        )

    def _load_extra(self, art: Artifact, g: Any) -> None:
        from simlab.text._base import _assign

        arr = art.arrays("ngrams.safetensors")
        _assign(g.wv.vectors_vocab, arr["vectors_vocab"], "vectors_vocab", art)
        _assign(g.wv.vectors_ngrams, arr["vectors_ngrams"], "vectors_ngrams", art)
        g.wv.adjust_vectors()
