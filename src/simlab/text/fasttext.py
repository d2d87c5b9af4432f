"""FastText word vectors with character n-grams (Bojanowski et al. 2017), trained with gensim.

A word w is represented by its own vector plus the vectors of its character n-grams (``min_n``..``max_n``
characters of ``<w>``, hashed into `buckets` rows): ``v_w = (z_w + Σ_{g ∈ G(w)} z_g) / (1 + |G(w)|)``. An
unseen word gets the mean of its n-gram vectors, so every word has a vector (``oov="subword"``, the default).

Reference:
    Bojanowski, Grave, Joulin, Mikolov. Enriching Word Vectors with Subword Information. TACL 2017.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, UnknownKeyError
from simlab.text import _persist
from simlab.text._base import WordModel
from simlab.text.word2vec import Word2VecConfig, gensim_kwargs


@dataclass(frozen=True)
class FastTextConfig(Word2VecConfig):
    """FastText hyper-parameters: those of :class:`~simlab.text.word2vec.Word2VecConfig` (same names, same
    accepted values, same conflicts rejected) plus character n-grams.

    FastText's own defaults are gensim's (100-d, window 5, 5 epochs, negative 5, sample 1e-3). With
    ``recipe="auto"`` (the default) a corpus below 10M tokens gets Word2Vec's size rule for the settings not
    given (skip-gram, epochs scaled by corpus size: :mod:`simlab.text.recipes`); from 10M tokens, or with
    ``recipe="fixed"``, these defaults are used as they are. gensim computes no FastText loss
    (``compute_loss=False``; True is refused).

    Attributes:
        min_n / max_n: character n-gram lengths (``max_n < min_n`` disables n-grams).
        buckets: hash buckets for n-gram vectors (memory: ``buckets x dim x 4`` bytes, twice while training).
        oov: ``"subword"`` (n-gram vector for unseen words), ``"error"`` or ``"skip"``.
    """

    OOV: ClassVar[tuple[str, ...]] = ("error", "skip", "subword")

    dim: int = 100
    window: int = 5
    epochs: int = 5
    negative: int = 5
    sample: float = 1e-3
    compute_loss: bool = False
    oov: str = "subword"
    recipe: str = "auto"
    min_n: int = 3
    max_n: int = 6
    buckets: int = 500_000

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.compute_loss:
            raise ConfigError("FastText: gensim computes no FastText loss; compute_loss must be false")
        if self.min_n < 1:
            raise ConfigError("min_n must be >= 1")
        if self.buckets < 0:
            raise ConfigError("buckets must be >= 0")


class FastText(WordModel):
    """FastText word vectors: a vector for any word, seen or not.

    Example:
        >>> from simlab.text import FastText
        >>> docs = [["running", "runner", "runs"], ["jumping", "jumper", "jumps"]] * 20
        >>> m = FastText(dim=8, min_count=1, epochs=2, workers=1, buckets=1000).fit(docs)
        >>> m.vector("runnings").shape   # unseen word: built from its character n-grams
        (8,)
    """

    KIND = "fasttext"
    Config = FastTextConfig
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
        arrays = {"vectors_vocab": g.wv.vectors_vocab, "vectors_ngrams": g.wv.vectors_ngrams}
        w.save_arrays("ngrams.safetensors", arrays)

    def _load_extra(self, art: Artifact, g: Any) -> None:
        arr = art.arrays("ngrams.safetensors")
        for name in ("vectors_vocab", "vectors_ngrams"):
            _persist.assign(getattr(g.wv, name), arr[name], name, art)
        g.wv.adjust_vectors()
