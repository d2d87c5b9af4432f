"""SIF sentence / document vectors (Arora, Liang, Ma 2017): a training-free baseline over any word vectors.

A text s is embedded as the weighted mean of its words' vectors, ``v_s = (1/|s|) Σ_{w ∈ s} a / (a + p(w)) ·
v_w`` with p(w) the unigram probability of w, then the projection on the first principal component u of the
embeddings of a reference corpus is removed: ``v_s ← v_s - (u·v_s) u`` ("common discourse" removal).
Unknown words are skipped (and counted); a text without a known word gets no vector (NaN similarity / an
error), never a silent zero.

Reference:
    Arora, Liang, Ma. A Simple but Tough-to-Beat Baseline for Sentence Embeddings. ICLR 2017.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.model import Model
from simlab.text._pairs import PairsBySimilarity
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SifConfig:
    """SIF settings.

    Attributes:
        a: the smoothing parameter a of ``a / (a + p(w))`` (Arora et al. use 1e-3).
        n_components: principal components to remove (0 = plain weighted average).
    """

    a: float = 1e-3
    n_components: int = 1

    def __post_init__(self) -> None:
        if self.a <= 0:
            raise ConfigError("SIF a must be > 0")
        if self.n_components < 0:
            raise ConfigError("n_components must be >= 0")


class SIF(PairsBySimilarity, Model):
    """Smooth-inverse-frequency weighted averages of word vectors, minus the first principal component.

    Args:
        words: word vectors: a :class:`simlab.Vectors`, a word model (anything with ``.vectors``) or a path to
            a vectors/model artifact.
        config: a :class:`SifConfig` or a mapping; keyword overrides (``a``, ``n_components``) apply on top.
        tokenizer: ``str -> list[str]`` (simlab's default tokenizer; not saved).

    Word probabilities come from the vectors' counts when they have them (trained simlab models do), otherwise
    from the corpus given to :meth:`fit`.

    Example:
        >>> import numpy as np, simlab
        >>> from simlab.text import SIF
        >>> wv = simlab.Vectors(["good", "bad", "movie"], np.eye(3, dtype="float32"), counts=[5, 5, 20])
        >>> sif = SIF(wv, n_components=0).fit(["good movie", "bad movie"])
        >>> good, bad = sif.similarity_text("good movie", "good"), sif.similarity_text("good movie", "bad")
        >>> round(good, 3) > round(bad, 3)
        True
    """

    KIND = "sif"
    Config = SifConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "texts"})
    COLLECTION_ATTR = "vectors"

    def __init__(
        self, words: Any = None, config: Any = None, /, *, tokenizer: Any = None, **overrides: Any
    ) -> None:
        super().__init__(config, **overrides)
        if isinstance(words, str | Path):
            from simlab.artifacts import load

            words = load(words)
        if words is not None and not isinstance(words, Vectors):
            words = getattr(words, "vectors", None)
            if not isinstance(words, Vectors):
                raise ConfigError("SIF needs word vectors: a Vectors, a word model or an artifact path")
        self.words: Vectors | None = words
        self.tokenizer = tokenizer
        self.weights: np.ndarray | None = None  # (n_words,) a / (a + p(w))
        self.components: np.ndarray | None = None  # (n_components, dim)
        self.vectors: Vectors | None = None  # the fitted corpus' document vectors
        self.empty_documents = 0

    @property
    def a(self) -> float:
        return float(self.config.a)

    @property
    def n_components(self) -> int:
        return int(self.config.n_components)

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the fitted corpus' document vectors."""
        return self.vectors

    def _tok(self, text: str | Sequence[str]) -> list[str]:
        from simlab.text.corpus import tokenize

        if not isinstance(text, str):
            return list(text)
        return (self.tokenizer or tokenize)(text)

    def fit(self, corpus: Any) -> SIF:
        """Estimate p(w) (if the vectors have no counts) and the principal component(s) on `corpus`; keep the
        corpus' document vectors in :attr:`vectors` (for :meth:`most_similar_text`).

        Args:
            corpus: a path / :class:`~simlab.text.TextCorpus` (keys = document ids), or a re-iterable of
                strings or token lists (keys 0..n-1).
        """
        from simlab.text.corpus import TextCorpus, ensure_reiterable

        if self.words is None:
            raise NotFittedError("SIF has no word vectors")
        if isinstance(corpus, str | Path):
            corpus = TextCorpus(corpus, tokenizer=self.tokenizer)
        ensure_reiterable(corpus)
        docs = (
            list(corpus.documents())
            if isinstance(corpus, TextCorpus)
            else [(i, self._tok(d)) for i, d in enumerate(corpus)]
        )
        if not docs:
            raise DataError("empty corpus")
        wv = self.words
        if wv.counts is not None and wv.counts.sum() > 0:
            freq = wv.counts.astype(np.float64)
        else:
            c = Counter(t for _, toks in docs for t in toks)
            freq = np.array([c.get(k, 0) for k in wv.keys], dtype=np.float64)
            if freq.sum() == 0:
                raise DataError("no corpus word is in the word vectors")
        p = freq / freq.sum()
        self.weights = (self.a / (self.a + p)).astype(np.float32)
        self.components = None
        raw, keep = self._average([t for _, t in docs])
        if not keep.any():
            raise DataError("no document of the corpus has a known word")
        if self.n_components:
            from numpy.linalg import svd

            x = raw[keep].astype(np.float64)
            _, _, vt = svd(x, full_matrices=False)
            self.components = vt[: self.n_components].astype(np.float32)
        emb = self._remove(raw)
        ids = [d for (d, _), k in zip(docs, keep, strict=True) if k]
        self.empty_documents = int((~keep).sum())
        if self.empty_documents:
            log.warning("SIF: %d document(s) without a known word have no vector", self.empty_documents)
        self.vectors = Vectors(ids, emb[keep])
        return self

    def _average(self, token_lists: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        wv, w = self.words, self.weights
        assert wv is not None and w is not None
        k2i = wv.key_to_index
        out = np.zeros((len(token_lists), wv.dim), dtype=np.float32)
        keep = np.zeros(len(token_lists), dtype=bool)
        for i, toks in enumerate(token_lists):
            idx = [k2i[t] for t in toks if t in k2i]
            if idx:
                ia = np.asarray(idx)
                out[i] = (w[ia, None] * wv.matrix[ia]).sum(0) / len(idx)
                keep[i] = True
        return out, keep

    def _remove(self, x: np.ndarray) -> np.ndarray:
        if self.components is None:
            return x
        u = self.components
        return (x - (x @ u.T) @ u).astype(np.float32)

    def encode(self, texts: Sequence[str | Sequence[str]]) -> np.ndarray:
        """``(n, dim)`` SIF vectors of texts; rows of texts without a known word are NaN (not a silent
        zero)."""
        if self.weights is None:
            raise NotFittedError("SIF is not fitted; call fit(corpus)")
        raw, keep = self._average([self._tok(t) for t in texts])
        out = self._remove(raw)
        out[~keep] = np.nan
        return out

    encode_texts = encode

    def infer(self, text: str | Sequence[str]) -> np.ndarray:
        """The ``(dim,)`` vector of one text.

        Raises:
            DataError: the text has no known word.
        """
        v = self.encode([text])[0]
        if np.isnan(v).any():
            raise DataError(f"no known word in text {str(text)[:60]!r}")
        return v

    def similarity_text(self, a: str, b: str) -> float:
        """Cosine similarity of two texts (NaN when one has no known word)."""
        from simlab.metrics import similarity

        va, vb = self.encode([a, b])
        if np.isnan(va).any() or np.isnan(vb).any():
            return float("nan")
        return similarity(va, vb)

    def similarity(self, a: Any, b: Any) -> float:
        """Similarity of two fitted documents (by id)."""
        if self.vectors is None:
            raise NotFittedError("SIF is not fitted")
        return self.vectors.similarity(a, b)

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Fitted documents most similar to a document id, or (if not an id) to a text."""
        if self.vectors is None:
            raise NotFittedError("SIF is not fitted")
        if isinstance(query, str) and query not in self.vectors:
            return self.most_similar_text(query, k)
        if not isinstance(query, str | np.ndarray) and query not in self.vectors:
            raise UnknownKeyError(f"unknown document id {query!r}")
        return self.vectors.most_similar(query, k)

    def most_similar_text(self, text: str, k: int = 10) -> Hits:
        """Fitted documents most similar to a free text."""
        if self.vectors is None:
            raise NotFittedError("SIF is not fitted")
        return self.vectors.most_similar(self.infer(text), k)

    def embed_file(self, path: str | Path) -> Vectors:
        """SIF vectors of the documents of a corpus file (keys = document ids); documents without a known word
        are left out (logged)."""
        from simlab.text.corpus import TextCorpus

        docs = list(TextCorpus(path, tokenizer=self.tokenizer).documents())
        emb = self.encode([t for _, t in docs])
        keep = ~np.isnan(emb).any(1)
        if not keep.any():
            raise DataError("no document with a known word", path)
        if (~keep).any():
            log.warning("%s: %d document(s) without a known word were left out", path, int((~keep).sum()))
        return Vectors([d for (d, _), k in zip(docs, keep, strict=True) if k], emb[keep])

    def check_fitted(self) -> None:
        if self.weights is None or self.words is None or self.vectors is None:
            raise NotFittedError("SIF is not fitted")

    def to_artifact(self, w: ArtifactWriter) -> None:
        """Word vectors, weights, components and the fitted documents' vectors."""
        self.words.to_artifact(w, prefix="words_")  # type: ignore[union-attr]
        self.vectors.to_artifact(w, prefix="docs_")  # type: ignore[union-attr]
        arr = {"weights": self.weights}
        if self.components is not None:
            arr["components"] = self.components
        w.save_arrays("sif.safetensors", arr)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> SIF:
        self = cls(Vectors.from_artifact(artifact, prefix="words_"), artifact.config)
        arr = artifact.arrays("sif.safetensors")
        self.weights = arr["weights"]
        self.components = arr.get("components")
        self.vectors = Vectors.from_artifact(artifact, prefix="docs_")
        return self
