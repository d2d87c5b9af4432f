"""Word2Vec (Mikolov et al. 2013) trained with gensim, exposed with simlab's API.

CBOW predicts a word from the mean (or sum) of its context vectors, skip-gram predicts each context word from
the centre word. With negative sampling the loss of one (input h, target o) pair is
``-log σ(u_o·h) - Σ_{n ~ P(w)^0.75} log σ(-u_n·h)``; with hierarchical softmax it is the sum of
``-log σ(±u_node·h)`` along o's Huffman path. Frequent words are subsampled with probability
``1 - (sqrt(f/(s·T)) + 1)·s·T/f`` (gensim's variant, `sample` = s).

References:
    Mikolov, Chen, Corrado, Dean. Efficient Estimation of Word Representations in Vector Space. 2013.
    Mikolov, Sutskever, Chen, Corrado, Dean. Distributed Representations of Words and Phrases. NIPS 2013.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from simlab.errors import ConfigError
from simlab.text._base import WordModel, auto_workers, check_common


@dataclass(frozen=True)
class Word2VecConfig:
    """Word2Vec hyper-parameters (gensim's knobs under simlab's names).

    The defaults are simlab's recipe, chosen by measurement on IMDB (see docs/text.md and
    benchmarks/results/text_quality.json): it beats gensim's defaults on WS-353 and the Google analogies.

    Attributes:
        dim: vector size (gensim ``vector_size``).
        architecture: ``"cbow"`` or ``"skipgram"``; `sg` (gensim's flag) may be given instead.
        window: maximum context distance (a random window 1..window per word when `shrink_windows`).
        epochs: passes over the corpus.
        min_count: ignore words with fewer occurrences.
        max_final_vocab: keep at most this many words (raises the effective min_count).
        negative: negative samples per positive pair (0 disables negative sampling).
        ns_exponent: exponent of the unigram noise distribution.
        hs: hierarchical softmax.
        sample: subsampling threshold for frequent words (0 disables).
        alpha / min_alpha: learning rate, decayed linearly to min_alpha.
        cbow_mean: CBOW uses the mean (True) or the sum of the context vectors.
        seed: random seed (exact reproducibility also needs workers=1 and a fixed PYTHONHASHSEED).
        workers: training threads (0 = all cores, at most 8).
        batch_words: words per job handed to a worker thread.
        compute_loss: record the per-epoch loss (exact, see simlab.text._engine).
        max_tokens: documents longer than this are split into chunks (gensim ignores tokens past 10,000).
        oov: policy for unknown words: ``"error"`` or ``"skip"``.
        tokenizer: tokenizer spec for texts given as strings or paths (:mod:`simlab.text.tokenizers`).
        recipe: ``"auto"``: at the first fit, the settings you did not give (architecture, dim, window,
            negative, sample, epochs) are chosen from the corpus size by :mod:`simlab.text.recipes` (skip-gram
            with more epochs on small corpora, the CBOW defaults below from 10M tokens); ``"fixed"``: the
            values as given / these defaults.
    """

    dim: int = 200
    architecture: str = "cbow"
    sg: bool | None = None
    window: int = 8
    epochs: int = 10
    min_count: int = 5
    max_final_vocab: int | None = None
    negative: int = 10
    ns_exponent: float = 0.75
    hs: bool = False
    sample: float = 1e-4
    alpha: float = 0.025
    min_alpha: float = 1e-4
    cbow_mean: bool = True
    shrink_windows: bool = True
    seed: int = 1
    workers: int = 0
    batch_words: int = 10000
    compute_loss: bool = True
    max_tokens: int = 10000
    oov: str = "error"
    tokenizer: Any = "simlab"
    recipe: str = "auto"

    #: the OOV policies this family supports (FastText adds "subword")
    OOV: ClassVar[tuple[str, ...]] = ("error", "skip")

    def __post_init__(self) -> None:
        object.__setattr__(self, "architecture", _architecture(self.architecture, self.sg))
        object.__setattr__(self, "sg", self.architecture == "skipgram")
        check_common(self)
        if self.recipe not in ("auto", "fixed"):
            raise ConfigError(f"recipe must be 'auto' or 'fixed', got {self.recipe!r}")
        from simlab.text.tokenizers import make_tokenizer, tokenizer_spec

        object.__setattr__(self, "tokenizer", tokenizer_spec(make_tokenizer(self.tokenizer)))
        if self.oov not in self.OOV:
            raise ConfigError(
                f"{type(self).__name__}.oov must be {' or '.join(map(repr, self.OOV))}, got {self.oov!r}"
            )


def _architecture(architecture: str, sg: bool | None) -> str:
    """``cbow`` or ``skipgram`` from the spelling given (``skip-gram``, ``sg``...) and gensim's `sg` flag.

    Raises:
        ConfigError: an unknown architecture, or `sg` contradicting an architecture that was given.
    """
    key = architecture.lower().replace("-", "").replace("_", "")
    arch = {"sg": "skipgram", "cbow": "cbow", "skipgram": "skipgram"}.get(key)
    if arch is None:
        raise ConfigError(f"architecture must be 'cbow' or 'skipgram', got {architecture!r}")
    if sg is None:
        return arch
    from_sg = "skipgram" if sg else "cbow"
    if architecture != "cbow" and from_sg != arch:
        raise ConfigError(f"sg={sg} contradicts architecture={architecture!r}")
    return from_sg


def gensim_kwargs(cfg: Any) -> dict[str, Any]:
    """gensim ``Word2Vec``/``FastText`` constructor arguments for a config."""
    return dict(
        vector_size=cfg.dim,
        sg=int(cfg.sg),
        window=cfg.window,
        epochs=cfg.epochs,
        min_count=cfg.min_count,
        max_final_vocab=cfg.max_final_vocab,
        negative=cfg.negative,
        ns_exponent=cfg.ns_exponent,
        hs=int(cfg.hs),
        sample=cfg.sample,
        alpha=cfg.alpha,
        min_alpha=cfg.min_alpha,
        cbow_mean=int(cfg.cbow_mean),
        shrink_windows=cfg.shrink_windows,
        seed=cfg.seed,
        workers=auto_workers(cfg.workers),
        batch_words=cfg.batch_words,
    )


class Word2Vec(WordModel):
    """Word2Vec word vectors: ``Word2Vec(dim=100, architecture="skipgram").fit(corpus)``.

    After :meth:`fit`, :attr:`vectors` is a :class:`simlab.Vectors` sharing gensim's matrix; the model answers
    :meth:`most_similar`, :meth:`similarity`, :meth:`analogy` and :meth:`embed_file`, saves to a safe artifact
    (:meth:`save` / :func:`simlab.load`) and continues training after loading (:meth:`fit` again).

    Example:
        >>> from simlab.text import Word2Vec
        >>> docs = [["cat", "sat", "on", "mat"], ["dog", "sat", "on", "log"]] * 20
        >>> m = Word2Vec(dim=8, min_count=1, epochs=2, workers=1).fit(docs)
        >>> m.vectors.dim, "cat" in m
        (8, True)
    """

    KIND = "word2vec"
    Config = Word2VecConfig

    def _gensim_class(self) -> Any:
        from simlab.text._engine import GWord2Vec

        return GWord2Vec

    def _gensim_kwargs(self) -> dict[str, Any]:
        return {**gensim_kwargs(self.config), "compute_loss": self.config.compute_loss}
