"""LSI / LSA (Deerwester et al. 1990): a truncated SVD of the TF-IDF document-term matrix.

``X ≈ U_k S_k V_k^T`` with X the ``(n_docs, V)`` TF-IDF matrix of the fitted corpus; a text is represented by
its TF-IDF row projected on the k right singular vectors, ``x V_k`` (gensim's fold-in: the fitted documents'
vectors are ``U_k S_k``), and compared by cosine. The SVD is scikit-learn's randomized solver (Halko et al.
2011) with a fixed seed; the vectors are dense (:class:`simlab.Vectors`).

Reference:
    Deerwester, Dumais, Furnas, Landauer, Harshman. Indexing by Latent Semantic Analysis. JASIS 1990.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
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
class LsiConfig:
    """LSI settings.

    Attributes:
        dim: number of topics k (clipped to ``min(n_docs, terms) - 1``).
        n_iter: power iterations of the randomized SVD.
        seed: random seed of the SVD.
        tfidf: :class:`~simlab.text.sparse.TfidfConfig` settings of the underlying TF-IDF (a dict).
    """

    dim: int = 200
    n_iter: int = 7
    seed: int = 1
    tfidf: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ConfigError(f"dim must be >= 1, got {self.dim}")
        if self.n_iter < 0:
            raise ConfigError("n_iter must be >= 0")
        from simlab.config import from_dict
        from simlab.text.sparse import TfidfConfig

        if not isinstance(self.tfidf, dict):
            raise ConfigError("tfidf must be a dict of TfidfConfig settings")
        from_dict(TfidfConfig, self.tfidf)


class LSI(PairsBySimilarity, Model):
    """Latent semantic indexing over TF-IDF: ``LSI(dim=200).fit(corpus)``; dense document vectors, cosine.

    Example:
        >>> from simlab.text import LSI
        >>> docs = ["the cat sat on the mat", "a cat and a dog", "stocks fell sharply", "markets and stocks"]
        >>> m = LSI(dim=2).fit(docs)
        >>> m.most_similar_text("stocks", k=1).keys[0] in (2, 3)
        True
    """

    KIND = "lsi"
    Config = LsiConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "texts"})
    COLLECTION_ATTR = "vectors"

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        from simlab.text.sparse import Tfidf

        super().__init__(config, **overrides)
        self.tfidf = Tfidf(self.config.tfidf)
        self.components: np.ndarray | None = None  # (k, V): rows are V_k^T
        self.singular_values: np.ndarray | None = None
        self.vectors: Vectors | None = None

    def __repr__(self) -> str:
        k = 0 if self.components is None else self.components.shape[0]
        return f"LSI(dim={k or self.config.dim}, {'fitted' if self.vectors is not None else 'not fitted'})"

    @property
    def tokenizer(self) -> Any:
        return self.tfidf.tokenizer

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the fitted documents' LSI vectors."""
        return self.vectors

    def check_fitted(self) -> None:
        self._check_fitted()

    def _check_fitted(self) -> Vectors:
        if self.vectors is None or self.components is None:
            raise NotFittedError("this LSI is not fitted; call fit(corpus) or simlab.load(path)")
        return self.vectors

    def fit(self, corpus: Any) -> LSI:
        """Fit TF-IDF on `corpus`, then the truncated SVD of its matrix; keep the documents' vectors.

        Raises:
            DataError: empty corpus (from TF-IDF), or fewer than 2 documents / terms.
        """
        from simlab._deps import require

        require("sklearn")
        from sklearn.utils.extmath import randomized_svd

        self.tfidf.fit(corpus)
        x = self.tfidf.vectors.matrix  # type: ignore[union-attr]
        k = min(self.config.dim, min(x.shape) - 1)
        if k < 1:
            raise DataError(f"LSI needs at least 2 documents and 2 terms, got {x.shape}")
        if k < self.config.dim:
            log.info("LSI: %d topics (the corpus has %d documents, %d terms)", k, *x.shape)
        u, s, vt = randomized_svd(
            x.astype(np.float64), n_components=k, n_iter=self.config.n_iter, random_state=self.config.seed
        )
        sign = np.sign(vt[np.arange(k), np.abs(vt).argmax(axis=1)])  # deterministic signs
        self.components = (vt * sign[:, None]).astype(np.float32)
        self.singular_values = s.astype(np.float32)
        keys = self.tfidf.vectors.keys  # type: ignore[union-attr]
        self.vectors = Vectors(keys, (u * s * sign).astype(np.float32))
        return self

    def summary(self) -> dict[str, Any]:
        """Documents, terms and topics of the fit."""
        self._check_fitted()
        return {**self.tfidf.summary(), "dim": self.dim}

    @property
    def dim(self) -> int:
        self._check_fitted()
        return int(self.components.shape[0])  # type: ignore[union-attr]

    def encode(self, texts: Sequence[str | Sequence[str]]) -> np.ndarray:
        """``(n, k)`` LSI vectors of texts (TF-IDF rows folded in); a text with no known term gets zeros."""
        self._check_fitted()
        x = self.tfidf.encode(texts)
        return np.asarray(x @ self.components.T, dtype=np.float32)  # type: ignore[union-attr]

    encode_texts = encode

    def infer(self, text: str | Sequence[str]) -> np.ndarray:
        """The ``(k,)`` vector of one text.

        Raises:
            DataError: the text has no term of the vocabulary.
        """
        v = self.encode([text])[0]
        if not np.any(v):
            raise DataError(f"no known term in text {str(text)[:60]!r}")
        return v

    def similarity_text(self, a: str | Sequence[str], b: str | Sequence[str]) -> float:
        """Cosine similarity of two texts (0 when one has no known term)."""
        va, vb = self.encode([a, b])
        na, nb = np.linalg.norm(va), np.linalg.norm(vb)
        return float(va @ vb / (na * nb)) if na and nb else 0.0

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two fitted documents (by key); a key not in the corpus is read as a text."""
        vecs = self._check_fitted()
        va = vecs[a] if a in vecs else self.encode([a])[0]
        vb = vecs[b] if b in vecs else self.encode([b])[0]
        return vecs.similarity(va, vb)

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Fitted documents most similar to a document key (itself excluded) or a text."""
        vecs = self._check_fitted()
        if query in vecs:
            return vecs.most_similar(query, k)
        if isinstance(query, str | list | tuple):
            return self.most_similar_text(query, k)
        raise UnknownKeyError(f"unknown document {query!r}")

    def most_similar_text(self, text: str | Sequence[str], k: int = 10) -> Hits:
        """Fitted documents most similar to a free text."""
        return self._check_fitted().most_similar(self.infer(text), k)

    def search(self, queries: Sequence[str | Sequence[str]], k: int = 10) -> Hits:
        """Batched exact cosine top-k for texts (:class:`Hits` with ``(q, k)`` scores)."""
        from simlab.metrics import topk

        vecs = self._check_fitted()
        idx, sc = topk(self.encode(queries), vecs.matrix, k, "cosine")
        return Hits([[vecs.keys[j] for j in row] for row in idx], sc)

    def embed_file(self, path: str | Path) -> Vectors:
        """LSI vectors of the documents of a corpus file (keys = document ids)."""
        from simlab.text.corpus import TextCorpus

        docs = list(TextCorpus(path, tokenizer=self.tokenizer).documents())
        if not docs:
            raise DataError("no document in file", path)
        return Vectors([d for d, _ in docs], self.encode([t for _, t in docs]))

    def get_params(self) -> dict[str, Any]:
        """The config as saved: the TF-IDF settings with the tokenizer's spec."""
        from simlab.text.sparse import saved_params

        return {**super().get_params(), "tfidf": saved_params(self.tfidf.config, self.tfidf.tokenizer)}

    def to_artifact(self, w: ArtifactWriter) -> None:
        """The TF-IDF statistics, the SVD components and the documents' vectors (no pickle)."""
        from simlab.text.sparse import check_saveable, write_csr, write_stats

        vecs = self._check_fitted()
        tf = self.tfidf
        check_saveable(tf.tokenizer)
        write_stats(w, tf)
        lsi = {"components": self.components, "singular_values": self.singular_values}
        w.save_arrays("lsi.safetensors", lsi)
        vecs.to_artifact(w)
        write_csr(w, "docs.safetensors", tf.vectors.matrix)  # type: ignore[union-attr]
        w.metrics = {"documents": len(vecs), "terms": len(tf.terms), "dim": self.dim}

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> LSI:
        from simlab.text.sparse import SparseVectors, read_csr, read_stats

        self = cls(artifact.config)
        tf = self.tfidf
        read_stats(artifact, tf)
        arr = artifact.arrays("lsi.safetensors")
        self.components, self.singular_values = arr["components"], arr["singular_values"]
        self.vectors = Vectors.from_artifact(artifact)
        tf.vectors = SparseVectors(self.vectors.keys, read_csr(artifact, "docs.safetensors"), tf.terms)
        return self
