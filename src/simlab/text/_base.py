"""Shared machinery of the gensim-backed word models (Word2Vec, FastText): fit, resume, OOV policy,
persistence.

Not imported by ``simlab.text``; gensim is imported lazily inside methods. The fitting steps live in
:mod:`simlab.text._fit`, the persistence helpers in :mod:`simlab.text._persist`, the OOV rules in
:mod:`simlab.text._words`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, NotFittedError, UnknownKeyError
from simlab.model import Model
from simlab.text import _fit, _persist, _words
from simlab.text._pairs import PairsBySimilarity
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)

OOV_POLICIES = _words.OOV_POLICIES


def auto_workers(workers: int) -> int:
    """`workers` or, when 0, the visible CPU count capped at 8."""
    return workers if workers > 0 else max(1, min(8, os.cpu_count() or 1))


def check_common(cfg: Any) -> None:
    """Validate the fields word and document models share (raises ConfigError naming the field)."""
    for name in ("dim", "epochs", "window", "min_count"):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.negative < 0:
        raise ConfigError("negative must be >= 0")
    if cfg.negative == 0 and not cfg.hs:
        raise ConfigError("negative=0 and hs=false: choose negative sampling (negative>0) or hs=true")
    if cfg.sample < 0:
        raise ConfigError("sample must be >= 0")
    if cfg.workers < 0:
        raise ConfigError("workers must be >= 0 (0 = all cores, at most 8)")


class WordModel(PairsBySimilarity, Model):
    """Base class of the gensim-backed word-vector models.

    Subclasses define ``Config``, ``KIND``, ``_gensim_class()`` and ``_gensim_kwargs()``.
    """

    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "words"})
    COLLECTION_ATTR = "vectors"
    #: whether unseen words get a vector from character n-grams (``oov="subword"``; then ``_oov_vector``)
    has_subwords: ClassVar[bool] = False

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        # settings the caller chose (never replaced by the size recipe); a config object counts as all chosen
        self._explicit = _fit.explicit_keys(config, overrides, self.Config)
        self._g: Any = None  # the gensim model
        self._vectors: Vectors | None = None
        self.history: list[dict[str, Any]] = []  # one entry per fit() call

    # -- gensim plumbing -------------------------------------------------------------------------------------
    def _gensim_class(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _gensim_kwargs(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _new_gensim(self) -> Any:
        return self._gensim_class()(**self._gensim_kwargs())

    def __repr__(self) -> str:
        state = f"vocab={len(self._g.wv)}" if self._g is not None else "not fitted"
        return f"{type(self).__name__}({state}, dim={self.config.dim})"

    @property
    def gensim_model(self) -> Any:
        """The underlying gensim model (for advanced use; simlab never pickles it)."""
        self.check_fitted()
        return self._g

    def check_fitted(self) -> None:
        if self._g is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit(corpus) or load(path)")

    _check_fitted = check_fitted

    @property
    def tokenizer(self) -> Any:
        """The tokenizer applied to texts given as strings (from ``config.tokenizer``)."""
        from simlab.text.tokenizers import make_tokenizer

        return make_tokenizer(self.config.tokenizer)

    @property
    def is_fitted(self) -> bool:
        return self._g is not None

    # -- training --------------------------------------------------------------------------------------------
    def fit(
        self,
        corpus: Any = None,
        *,
        corpus_file: str | Path | None = None,
        epochs: int | None = None,
        progress: bool | None = None,
    ) -> WordModel:
        """Train on `corpus` (or continue training a fitted / loaded model, adding new words).

        Args:
            corpus: a path, a :class:`~simlab.text.TextCorpus`, or a re-iterable of token lists / strings
                (iterated once for the vocabulary and once per epoch; a generator raises DataError).
            corpus_file: instead of `corpus`, a plain-text file of space-separated tokens, one document per
                line, trained with gensim's faster ``corpus_file`` mode (no Python iteration; no loss
                reported). Make one with :func:`simlab.text.corpus.write_line_corpus`.
            epochs: epochs for this call (default: ``config.epochs``).
            progress: show the tqdm bar (None: only on a terminal).

        Returns:
            self.

        Raises:
            DataError: empty corpus, no word with at least ``min_count`` occurrences, unreadable file.
        """
        from simlab.text.recipes import check_corpus_size

        it, cf = _fit.training_input(corpus, corpus_file, self.config)
        source = cf or _fit.describe(corpus)
        update = self._g is not None
        g = self._g if update else self._new_gensim()
        n_before = len(g.wv) if update else 0
        tokens, docs = _fit.scan(g, it, cf, source)
        g, recipe = (g, None) if update else _fit.apply_recipe(self, g, tokens)
        cfg = self.config
        _fit.prepare(g, cfg.min_count, tokens, docs, update, source)
        n_ep = _fit.check_epochs(cfg.epochs if epochs is None else epochs)
        warnings = check_corpus_size(tokens, len(g.wv), cfg.dim, n_ep)
        desc = f"{self.KIND} {'resume' if update else 'train'}"
        prog = _fit.train(g, it, cf, tokens, docs, n_ep, desc, progress)
        self._g, self._vectors, self._index = g, None, None
        sizes = {"new_words": len(g.wv) - n_before, "vocab": len(g.wv)}
        entry = _fit.history_entry(
            prog, n_ep, docs, tokens, **sizes, speed=True, recipe=recipe, warnings=warnings
        )
        self.history.append(entry)
        _fit.check_collapse(entry, self.vectors)
        msg = "%s: trained %d epochs on %d documents / %d tokens, vocabulary %d"
        log.info(msg, self.KIND, entry["epochs"], docs, tokens, len(g.wv))
        return self

    @property
    def epoch_loss(self) -> list[float | None]:
        """Per-epoch training loss of the last fit call (None where gensim computes none)."""
        return list(self.history[-1]["epoch_loss"]) if self.history else []

    # -- vectors ---------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """The word vectors as :class:`simlab.Vectors` sharing gensim's float32 array (no copy, no normalised
        copy: gensim's ``fill_norms`` / ``get_normed_vectors`` are never called)."""
        self.check_fitted()
        if self._vectors is None:
            wv = self._g.wv
            self._vectors = Vectors(list(wv.index_to_key), wv.vectors, wv.expandos.get("count"))
        return self._vectors

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the word vectors (None before fitting)."""
        return self.vectors if self._g is not None else None

    @property
    def vocab(self) -> list[str]:
        """Words in the vocabulary, most frequent first."""
        return self.vectors.keys

    def __contains__(self, word: object) -> bool:
        return self._g is not None and word in self.vectors

    def __len__(self) -> int:
        return 0 if self._g is None else len(self._g.wv)

    def vector(self, word: str, oov: str | None = None) -> np.ndarray:
        """The ``(dim,)`` vector of `word`.

        Raises:
            UnknownKeyError: naming the word, when it is not in the vocabulary and the policy is not "subword"
                (a single word cannot be skipped).
        """
        v = self.vectors.get(word)
        if v is not None:
            return v
        if _words.policy(self, oov) == "subword":
            return self._oov_vector(word)
        raise UnknownKeyError(f"unknown word {word!r} (not among the {len(self)} words of this {self.KIND})")

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vector(word)

    def lookup(self, words: Sequence[str], oov: str | None = None) -> tuple[list[str], np.ndarray, list[str]]:
        """Vectors of several words under the OOV policy.

        Returns:
            ``(kept_words, (len(kept), dim) matrix, skipped_words)``. With ``"error"`` an unknown word raises
            UnknownKeyError naming it; with ``"skip"`` it is left out and listed; with ``"subword"`` it gets a
            vector from its character n-grams.
        """
        return _words.lookup(self, words, oov)

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` vectors of words (an unknown word raises unless the model has subwords)."""
        rows = [self.vector(w) for w in words]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.config.dim)

    def similarity(self, a: str, b: str, oov: str | None = None) -> float:
        """Cosine similarity of two words.

        With ``oov="skip"`` a pair with an unknown word returns NaN (it cannot be scored), never 0.
        """
        _kept, mat, skipped = self.lookup([a, b], oov)
        if skipped:
            return float("nan")
        vecs = self.vectors
        return vecs.similarity(a, b) if a in vecs and b in vecs else vecs.similarity(mat[0], mat[1])

    def use_index(self, backend: str | None = "faiss", **options: Any) -> Any:
        """Build an :class:`simlab.Index` over the vocabulary (e.g. FAISS HNSW for big vocabularies) that
        :meth:`most_similar` then searches instead of scanning; ``use_index(None)`` goes back to exact."""
        from simlab.index import Index

        self.check_fitted()
        self._index = (
            None if backend is None else Index.from_vectors(self.vectors, backend=backend, **options)
        )
        return self._index

    def most_similar(  # type: ignore[override]
        self,
        query: Any = None,
        k: int = 10,
        *,
        positive: Sequence[str] = (),
        negative: Sequence[str] = (),
        restrict: int | None = None,
        oov: str | None = None,
    ) -> Hits:
        """The k words most similar (cosine) to a word, a vector, or a list of words (their mean).

        Uses the FAISS/exact :class:`simlab.Index` set by :meth:`use_index` if any, else an exact chunked scan
        of the one float32 matrix. Unknown query words follow the OOV policy.
        """
        query, pos, neg = _words.resolve_query(self, query, positive, negative, oov)
        index = self._index if restrict is None else None
        return self.vectors.most_similar(query, k, positive=pos, negative=neg, restrict=restrict, index=index)

    def analogy(self, a: str, b: str, c: str, k: int = 1, method: str = "3cosadd") -> Hits:
        """ "a is to b as c is to ?" (see :meth:`simlab.Vectors.analogy`)."""
        return self.vectors.analogy(a, b, c, k=k, method=method)

    def embed_file(self, path: str | Path, oov: str | None = None) -> Vectors:
        """Vectors of the words in a file (one word per line, blank lines ignored), under the OOV policy."""
        return _words.embed_word_file(self, path, oov)

    # -- persistence -----------------------------------------------------------------------------------------
    def to_artifact(self, w: ArtifactWriter) -> None:
        """Vectors, counts, output weights (syn1neg/syn1) and training state: enough to continue training
        (:meth:`fit` after :meth:`load`)."""
        g = self._g
        min_count = int(getattr(g, "effective_min_count", self.config.min_count))
        self.vectors.to_artifact(w)
        _persist.write_training(w, g, _persist.training_state(g, self.history, effective_min_count=min_count))
        self._save_extra(w, g)
        w.metrics = {"vocab": len(g.wv)}
        recipes = [h["recipe"] for h in self.history if h.get("recipe")]
        if recipes:  # the size rule and what it set, visible in the manifest
            w.extra = {"recipe": recipes[0]}

    def _save_extra(self, w: ArtifactWriter, g: Any) -> None:
        """Subclass hook (FastText n-gram buckets)."""

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> WordModel:
        """Rebuild the gensim model from the saved arrays (checksums verified, nothing unpickled)."""
        self = cls(artifact.config)
        vecs = Vectors.from_artifact(artifact)
        state = artifact.json("state.json")
        g = _persist.rebuild_vocab(self._gensim_class(), self._gensim_kwargs(), vecs, state, artifact)
        _persist.assign(g.wv.vectors, vecs.matrix, "vectors", artifact)
        _persist.read_output_weights(artifact, g)
        self._load_extra(artifact, g)
        self._g = g
        self.history = list(state.get("history", []))
        return self

    def _load_extra(self, art: Artifact, g: Any) -> None:
        """Subclass hook."""


def sample_words(model: Any, n: int) -> Iterable[str]:
    """The n most frequent words (for demos)."""
    return model.vectors.keys[:n]
