"""Sparse bag-of-words document models: TF-IDF and BM25 (Okapi, BM25+), with exact blocked sparse top-k.

Plain ``scipy.sparse`` (CSR) is the engine: the document-term matrix of the fitted corpus stays sparse in
memory and on disk (``data`` / ``indices`` / ``indptr`` arrays in safetensors), queries are sparse rows, and
top-k multiplies a block of queries by the sparse corpus and keeps the k best of each row (exact, memory
bounded). ``benchmarks/bench_text_docsim.py`` measures this engine beside scikit-learn's ``TfidfVectorizer``
and gensim's ``TfidfModel`` (same scores; speed compared in one run).

Formulas (``tf`` = count of term t in document d, ``df`` = documents containing t, ``N`` = documents,
``dl`` = document length, ``avgdl`` = mean length):

- TF-IDF: ``w = tf' * idf`` with ``tf' = 1 + log(tf)`` (``sublinear_tf``) or ``tf``, ``idf = log((1 + N) /
  (1 + df)) + 1`` (``smooth_idf``, scikit-learn's) or ``log(N / df) + 1``; rows normalised (``l2``, ``l1``,
  ``none``). Similarity of two texts: cosine (the dot product of l2-normalised rows).
- BM25 (Robertson & Zaragoza 2009): ``score(q, d) = sum_{t in q} qtf * idf(t) * (tf (k1 + 1) / (tf + k1 (1 - b
  + b dl / avgdl)) + delta)`` with ``idf = log(1 + (N - df + 0.5) / (df + 0.5))`` (Lucene's, never negative);
  ``delta = 0`` is Okapi BM25, ``delta > 0`` BM25+ (Lv & Zhai 2011, delta 1). Search (``most_similar_text``,
  ``search``, ``scores``) ranks by this score; the symmetric similarity of two documents or texts is the
  cosine of their BM25-weighted vectors.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.model import Model
from simlab.text._pairs import PairsBySimilarity
from simlab.vectors import Hits

log = logging.getLogger(__name__)

#: memory budget of one dense block of scores in sparse top-k.
BLOCK_BYTES = 64 * 2**20


# -- sparse linear algebra -----------------------------------------------------------------------------------
def csr(x: Any, n_cols: int | None = None) -> Any:
    """``x`` as a float32 CSR matrix (validated)."""
    import scipy.sparse as sp

    m = sp.csr_matrix(x, dtype=np.float32)
    if n_cols is not None and m.shape[1] != n_cols:
        from simlab.errors import DimensionError

        raise DimensionError(f"expected {n_cols} columns, got {m.shape[1]}")
    return m


def l2_normalize(m: Any) -> Any:
    """Rows of a CSR matrix scaled to unit L2 norm (zero rows stay zero)."""
    import scipy.sparse as sp

    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.diags((1.0 / norms).astype(np.float32)) @ m


def sparse_topk(
    queries: Any,
    corpus: Any,
    k: int,
    *,
    exclude: Sequence[int | None] | None = None,
    budget_bytes: int = BLOCK_BYTES,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of ``queries @ corpus.T`` for sparse matrices, in blocks of queries.

    Args:
        queries: ``(q, V)`` CSR.
        corpus: ``(n, V)`` CSR.
        k: results per query (clipped to n).
        exclude: optional per-query corpus row to leave out (a query document itself).
        budget_bytes: no dense score block larger than this is built.

    Returns:
        ``(indices (q, k), scores (q, k))`` sorted by decreasing score, ties by lower index.
    """
    n = corpus.shape[0]
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    k = min(k, n - (1 if exclude is not None and any(e is not None for e in exclude) else 0))
    ct = corpus.T.tocsc()
    rows = max(1, budget_bytes // max(1, 4 * n))
    q = queries.shape[0]
    out_i = np.zeros((q, max(k, 0)), dtype=np.int64)
    out_s = np.zeros((q, max(k, 0)), dtype=np.float32)
    for s in range(0, q, rows):
        block = np.asarray((queries[s : s + rows] @ ct).todense(), dtype=np.float32)
        if exclude is not None:
            for r in range(block.shape[0]):
                e = exclude[s + r]
                if e is not None:
                    block[r, e] = -np.inf
        if k < n:
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(n), (block.shape[0], 1))
        sc = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -sc), axis=1)
        out_i[s : s + rows] = np.take_along_axis(part, order, axis=1)
        out_s[s : s + rows] = np.take_along_axis(sc, order, axis=1)
    return out_i, out_s


def _csr_from_ids(ids: Sequence[int], lengths: Sequence[int], n_cols: int) -> Any:
    """``(len(lengths), n_cols)`` CSR counts from the concatenated term ids of each row (duplicates
    summed)."""
    import scipy.sparse as sp

    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=indptr[1:])
    m = sp.csr_matrix(
        (np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int64), indptr),
        shape=(len(lengths), n_cols),
    )
    m.sum_duplicates()  # sorts indices and adds repeated terms
    return m


def _row_dot(a: Any, b: Any) -> float:
    return float(a.multiply(b).sum())


class SparseVectors:
    """Keys with one sparse row each (what ``embed_file`` of a sparse model returns; ``simlab embed`` saves
    it).

    Args:
        keys: n unique keys.
        matrix: ``(n, V)`` sparse matrix (stored as float32 CSR).
        terms: optional column names (the vocabulary).
    """

    KIND = "sparse-vectors"
    CAPABILITIES = frozenset({"searches", "scores_pairs"})

    def __init__(self, keys: Sequence[Any], matrix: Any, terms: Sequence[str] | None = None) -> None:
        self.keys = list(keys)
        self.matrix = csr(matrix)
        if len(self.keys) != self.matrix.shape[0]:
            raise DataError(f"{len(self.keys)} keys for {self.matrix.shape[0]} rows")
        if len(set(self.keys)) != len(self.keys):
            raise DataError("duplicate keys")
        self.terms = list(terms) if terms is not None else None
        self.key_to_index = {k: i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self.key_to_index

    @property
    def dim(self) -> int:
        """Number of columns (vocabulary size)."""
        return int(self.matrix.shape[1])

    def __repr__(self) -> str:
        return f"SparseVectors({len(self)} x {self.dim}, nnz={self.matrix.nnz})"

    def row(self, key: Any) -> Any:
        """The ``(1, V)`` CSR row of a key."""
        i = self.key_to_index.get(key)
        if i is None:
            raise UnknownKeyError(f"unknown key {key!r}")
        return self.matrix[i]

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two keys."""
        ra, rb = l2_normalize(self.row(a)), l2_normalize(self.row(b))
        return _row_dot(ra, rb)

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Exact cosine top-k for a key (itself excluded) or a ``(1, V)`` sparse row."""
        unit = l2_normalize(self.matrix)
        if isinstance(query, Hashable) and not hasattr(query, "shape"):
            i = self.key_to_index.get(query)
            if i is None:
                raise UnknownKeyError(f"unknown key {query!r}")
            idx, sc = sparse_topk(unit[i], unit, k, exclude=[i])
        else:
            idx, sc = sparse_topk(l2_normalize(csr(query, self.dim)), unit, k)
        return Hits([self.keys[j] for j in idx[0]], sc[0])

    def save(self, path: str | Path) -> Path:
        """Save as an artifact (CSR arrays in safetensors, keys and terms as JSON)."""
        with ArtifactWriter(path, self.KIND, {"rows": len(self), "dim": self.dim}) as w:
            self.to_artifact(w)
        return Path(path)

    def to_artifact(self, w: ArtifactWriter, prefix: str = "") -> None:
        """Write the rows, keys and terms into an open artifact (files named with `prefix`)."""
        write_csr(w, f"{prefix}matrix.safetensors", self.matrix)
        w.save_json(f"{prefix}keys.json", self.keys)
        if self.terms is not None:
            w.save_json(f"{prefix}terms.json", self.terms)

    @classmethod
    def from_artifact(cls, art: Artifact, prefix: str = "") -> SparseVectors:
        """Read SparseVectors written by :meth:`to_artifact` (the whole artifact, or files with `prefix`)."""
        terms = art.json(f"{prefix}terms.json") if f"{prefix}terms.json" in art.files else None
        return cls(art.json(f"{prefix}keys.json"), read_csr(art, f"{prefix}matrix.safetensors"), terms)

    @classmethod
    def load(cls, path: str | Path) -> SparseVectors:
        return cls.from_artifact(Artifact(path, kind=cls.KIND))


def write_csr(w: ArtifactWriter, name: str, m: Any) -> None:
    """Store a CSR matrix as ``data`` / ``indices`` / ``indptr`` / ``shape`` arrays."""
    m = csr(m)
    m.sort_indices()
    w.save_arrays(
        name,
        {
            "data": m.data.astype(np.float32),
            "indices": m.indices.astype(np.int64),
            "indptr": m.indptr.astype(np.int64),
            "shape": np.array(m.shape, dtype=np.int64),
        },
    )


def read_csr(art: Artifact, name: str) -> Any:
    """Inverse of :func:`write_csr` (checked)."""
    import scipy.sparse as sp

    a = art.arrays(name)
    try:
        shape = tuple(int(x) for x in a["shape"])
        m = sp.csr_matrix((a["data"], a["indices"], a["indptr"]), shape=shape)
        m.check_format(full_check=True)
    except (KeyError, ValueError) as exc:
        from simlab.errors import ArtifactError

        raise ArtifactError(f"{art.path}: {name} is not a valid CSR matrix ({exc})") from None
    return m


# -- configs -------------------------------------------------------------------------------------------------
def _check_vocab_fields(cfg: Any) -> None:
    if cfg.min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {cfg.min_count}")
    if not 0 < cfg.max_df <= 1:
        raise ConfigError(f"max_df must be in (0, 1], got {cfg.max_df}")
    if cfg.max_features is not None and cfg.max_features < 1:
        raise ConfigError("max_features must be >= 1 or null")
    from simlab.text.tokenizers import make_tokenizer

    make_tokenizer(cfg.tokenizer)  # validates the spec


@dataclass(frozen=True)
class TfidfConfig:
    """TF-IDF settings.

    Attributes:
        sublinear_tf: ``1 + log(tf)`` instead of raw counts.
        smooth_idf: ``log((1 + N) / (1 + df)) + 1`` (as if one extra document held every term) instead of
            ``log(N / df) + 1``.
        norm: row normalisation: ``"l2"`` (cosine), ``"l1"`` or ``"none"``.
        min_count: keep terms in at least this many documents.
        max_df: drop terms in more than this share of the documents (1.0 keeps all).
        max_features: keep the most frequent terms only (None = all).
        tokenizer: a tokenizer spec (:func:`simlab.text.tokenizers.make_tokenizer`): a name or a dict of
            options.
    """

    sublinear_tf: bool = True
    smooth_idf: bool = True
    norm: str = "l2"
    min_count: int = 1
    max_df: float = 1.0
    max_features: int | None = None
    tokenizer: Any = field(default_factory=lambda: {"kind": "simlab", "stopwords": "english"})

    def __post_init__(self) -> None:
        if self.norm not in ("l2", "l1", "none"):
            raise ConfigError(f"norm must be l2, l1 or none, got {self.norm!r}")
        _check_vocab_fields(self)


@dataclass(frozen=True)
class BM25Config:
    """BM25 settings.

    Attributes:
        k1: term-frequency saturation (1.2 - 2.0 usual; Lucene uses 1.2).
        b: length normalisation (0 = none, 1 = full).
        delta: BM25+ lower bound for a matching term (0 = Okapi BM25; Lv & Zhai use 1.0).
        variant: ``"okapi"`` or ``"plus"`` (``plus`` with ``delta=0`` sets delta to 1).
        Other fields as in :class:`TfidfConfig`.
    """

    k1: float = 1.2
    b: float = 0.75
    delta: float = 0.0
    variant: str = "okapi"
    min_count: int = 1
    max_df: float = 1.0
    max_features: int | None = None
    tokenizer: Any = field(default_factory=lambda: {"kind": "simlab", "stopwords": "english"})

    def __post_init__(self) -> None:
        if self.variant not in ("okapi", "plus"):
            raise ConfigError(f"variant must be okapi or plus, got {self.variant!r}")
        if self.variant == "plus" and self.delta == 0:
            object.__setattr__(self, "delta", 1.0)
        if self.variant == "okapi" and self.delta != 0:
            raise ConfigError("delta > 0 is BM25+: set variant='plus'")
        if self.k1 < 0 or not 0 <= self.b <= 1 or self.delta < 0:
            raise ConfigError("BM25 needs k1 >= 0, 0 <= b <= 1, delta >= 0")
        _check_vocab_fields(self)


# -- the shared model ----------------------------------------------------------------------------------------
class SparseTextModel(PairsBySimilarity, Model):
    """Base of TF-IDF and BM25: vocabulary, counts, weights, top-k, persistence.

    Subclasses define ``Config``, ``KIND`` and ``_weigh(counts, lengths)`` (weighted rows of term counts, the
    fitted corpus' and new texts' alike).
    """

    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "texts"})

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        from simlab.text.tokenizers import make_tokenizer

        super().__init__(config, **overrides)
        self.tokenizer = make_tokenizer(self.config.tokenizer)
        self.terms: list[str] = []
        self.term_index: dict[str, int] = {}
        self.df: np.ndarray | None = None  # (V,) document frequencies
        self.n_docs = 0
        self.avgdl = 0.0
        self.vectors: SparseVectors | None = None  # fitted documents, weighted rows
        self.history: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        state = f"docs={self.n_docs}, terms={len(self.terms)}" if self.vectors is not None else "not fitted"
        return f"{type(self).__name__}({state})"

    def check_fitted(self) -> None:
        self._check_fitted()

    def _check_fitted(self) -> SparseVectors:
        if self.vectors is None:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted; call fit(corpus) or simlab.load(path)"
            )
        return self.vectors

    @property
    def is_fitted(self) -> bool:
        return self.vectors is not None

    def _tokens(self, text: str | Sequence[str]) -> list[str]:
        return self.tokenizer(text) if isinstance(text, str) else list(text)

    def summary(self) -> dict[str, Any]:
        """What the last fit saw (documents, tokens, terms, non-zeros)."""
        self._check_fitted()
        return (
            dict(self.history[-1]) if self.history else {"documents": self.n_docs, "terms": len(self.terms)}
        )

    # -- fitting ---------------------------------------------------------------------------------------------
    def fit(self, corpus: Any) -> SparseTextModel:
        """Build the vocabulary and weights from `corpus` and keep its documents' rows for search.

        Args:
            corpus: a path / :class:`~simlab.text.TextCorpus` (keys = document ids ``"file:line"``), or a list
                of strings / token lists (keys 0..n-1), or ``(key, tokens)`` pairs.

        Raises:
            DataError: empty corpus, or no term left after ``min_count`` / ``max_df``.
        """
        keys, docs = read_documents(corpus, self.tokenizer)
        if not docs:
            raise DataError("empty corpus: no document has a token")
        n = len(docs)
        all_terms: dict[str, int] = {}
        ids = [
            all_terms.setdefault(t, len(all_terms)) for d in docs for t in d
        ]  # one pass, no per-doc Counter
        raw = _csr_from_ids(ids, [len(d) for d in docs], len(all_terms))
        df_all = np.bincount(raw.indices, minlength=len(all_terms))
        ok = np.flatnonzero((df_all >= self.config.min_count) & (df_all <= self.config.max_df * n))
        names = np.array(list(all_terms), dtype=object)
        order = ok[np.lexsort((names[ok].astype(str), -df_all[ok]))]  # most documents first, then by term
        if self.config.max_features is not None:
            order = order[: self.config.max_features]
        if len(order) == 0:
            raise DataError(
                f"no term in at least min_count={self.config.min_count} documents and at most "
                f"max_df={self.config.max_df} of them ({len(all_terms)} distinct terms, {n} documents)"
            )
        self.terms = [str(t) for t in names[order]]
        self.term_index = {t: i for i, t in enumerate(self.terms)}
        self.df = df_all[order].astype(np.float64)
        self.n_docs = n
        counts = raw[:, order]
        counts.sort_indices()
        lengths = [len(d) for d in docs]
        self.avgdl = float(np.mean(lengths))
        self.vectors = SparseVectors(keys, self._weigh(counts, lengths), self.terms)
        df = all_terms
        self.history.append(
            {
                "documents": n,
                "tokens": int(sum(len(d) for d in docs)),
                "terms": len(self.terms),
                "distinct_terms": len(df),
                "nnz": int(self.vectors.matrix.nnz),
            }
        )
        empty = int((np.diff(self.vectors.matrix.indptr) == 0).sum())
        if empty:
            log.warning("%s: %d document(s) have no term of the vocabulary", self.KIND, empty)
        return self

    def counts(self, docs: Sequence[Sequence[str]]) -> Any:
        """``(n, V)`` CSR term counts of token lists (unknown terms ignored)."""

        t2i = self.term_index
        kept = [[t2i[t] for t in d if t in t2i] for d in docs]
        return _csr_from_ids([i for k in kept for i in k], [len(k) for k in kept], len(t2i))

    def _weigh(self, counts: Any, lengths: Sequence[int]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- encoding --------------------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str | Sequence[str]]) -> Any:
        """``(n, V)`` CSR rows of texts, weighted like the fitted documents (what cosine similarity uses)."""
        self._check_fitted()
        toks = [self._tokens(t) for t in texts]
        return self._weigh(self.counts(toks), [len(t) for t in toks])

    encode_texts = encode

    def _unit(self, m: Any) -> Any:
        return l2_normalize(m)

    def similarity_text(self, a: str | Sequence[str], b: str | Sequence[str]) -> float:
        """Cosine similarity of two texts (0 when one has no known term)."""
        m = self._unit(self.encode([a, b]))
        return _row_dot(m[0], m[1])

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two fitted documents (by key); a key not in the corpus is read as a text."""
        vecs = self._check_fitted()
        ra = vecs.row(a) if a in vecs else self.encode([a])
        rb = vecs.row(b) if b in vecs else self.encode([b])
        return _row_dot(self._unit(ra), self._unit(rb))

    def _corpus_unit(self) -> Any:
        if getattr(self, "_unit_cache", None) is None:
            self._unit_cache = self._unit(self._check_fitted().matrix)
        return self._unit_cache

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Fitted documents most similar (cosine) to a document key (itself excluded), or to a text."""
        vecs = self._check_fitted()
        if not isinstance(query, str | list | tuple) and query not in vecs:
            raise UnknownKeyError(f"unknown document {query!r}")
        if isinstance(query, str | list | tuple) and (isinstance(query, list | tuple) or query not in vecs):
            return self.most_similar_text(query, k)
        i = vecs.key_to_index[query]
        unit = self._corpus_unit()
        idx, sc = sparse_topk(unit[i], unit, k, exclude=[i])
        return Hits([vecs.keys[j] for j in idx[0]], sc[0])

    def most_similar_text(self, text: str | Sequence[str], k: int = 10) -> Hits:
        """Fitted documents most similar to a free text (cosine; BM25 ranks by its query score)."""
        return self.search([text], k)[0]

    def search(self, queries: Sequence[str | Sequence[str]], k: int = 10) -> Hits:
        """Batched exact top-k of fitted documents for texts: :class:`Hits` with ``(q, k)`` scores."""
        vecs = self._check_fitted()
        idx, sc = sparse_topk(self._query_rows(queries), self._search_corpus(), k)
        return Hits([[vecs.keys[j] for j in row] for row in idx], sc)

    def _query_rows(self, queries: Sequence[str | Sequence[str]]) -> Any:
        return self._unit(self.encode(queries))

    def _search_corpus(self) -> Any:
        return self._corpus_unit()

    def scores(self, text: str | Sequence[str]) -> np.ndarray:
        """``(n_docs,)`` search scores of every fitted document for one text."""
        self._check_fitted()
        q = self._query_rows([text])
        return np.asarray((q @ self._search_corpus().T).todense(), dtype=np.float32).ravel()

    def embed_file(self, path: str | Path) -> SparseVectors:
        """Sparse rows of the documents of a corpus file (keys = document ids)."""
        from simlab.text.corpus import TextCorpus

        docs = list(TextCorpus(path, tokenizer=self.tokenizer).documents())
        if not docs:
            raise DataError("no document in file", path)
        return SparseVectors([d for d, _ in docs], self.encode([t for _, t in docs]), self.terms)

    # -- persistence -----------------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The config as saved: the tokenizer as its spec (None for a custom function, which cannot be
        saved)."""
        return saved_params(self.config, self.tokenizer)

    def to_artifact(self, w: ArtifactWriter) -> None:
        """Vocabulary, document frequencies and the fitted documents' sparse rows (CSR), no pickle."""
        vecs = self._check_fitted()
        check_saveable(self.tokenizer)
        write_stats(w, self)
        w.save_json("keys.json", vecs.keys)
        write_csr(w, "docs.safetensors", vecs.matrix)
        w.save_json("state.json", {"history": self.history})
        w.metrics = {"documents": self.n_docs, "terms": len(self.terms), "nnz": int(vecs.matrix.nnz)}

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> SparseTextModel:
        self = cls(artifact.config)
        read_stats(artifact, self)
        docs = read_csr(artifact, "docs.safetensors")
        self.vectors = SparseVectors(artifact.json("keys.json"), docs, self.terms)
        self.history = list(artifact.json("state.json").get("history", []))
        return self


def saved_params(config: Any, tokenizer: Any) -> dict[str, Any]:
    """A config as saved in the manifest, its tokenizer as the spec of the tokenizer in use."""
    import dataclasses

    from simlab.model import config_dict
    from simlab.text.tokenizers import tokenizer_spec

    return {
        **config_dict(dataclasses.replace(config, tokenizer=None)),
        "tokenizer": tokenizer_spec(tokenizer),
    }


def check_saveable(tokenizer: Any) -> None:
    """Raise ConfigError for a custom tokenizer function (only tokenizer specs are saved)."""
    from simlab.text.tokenizers import tokenizer_spec

    if tokenizer_spec(tokenizer) is None:
        raise ConfigError("a model with a custom tokenizer function cannot be saved; use a tokenizer spec")


def write_stats(w: ArtifactWriter, m: SparseTextModel) -> None:
    """The vocabulary (``terms.json``) and the corpus statistics (df, documents, mean length)."""
    w.save_json("terms.json", m.terms)
    stats = {"df": m.df, "n_docs": np.array([m.n_docs], np.int64), "avgdl": np.array([m.avgdl], np.float64)}
    w.save_arrays("stats.safetensors", stats)


def read_stats(art: Artifact, m: SparseTextModel) -> None:
    """Inverse of :func:`write_stats`, into the unfitted model `m`."""
    m.terms = list(art.json("terms.json"))
    m.term_index = {t: i for i, t in enumerate(m.terms)}
    st = art.arrays("stats.safetensors")
    m.df, m.n_docs, m.avgdl = st["df"], int(st["n_docs"][0]), float(st["avgdl"][0])


def read_documents(corpus: Any, tokenizer: Any) -> tuple[list[Any], list[list[str]]]:
    """``(keys, token lists)`` of a corpus given as a path, TextCorpus, list of texts/token lists or pairs."""
    from simlab.text.corpus import TextCorpus, ensure_reiterable

    if isinstance(corpus, str | Path):
        corpus = TextCorpus(corpus, tokenizer=tokenizer)
    if isinstance(corpus, TextCorpus):
        pairs = list(corpus.documents())
        return [k for k, _ in pairs], [t for _, t in pairs]
    ensure_reiterable(corpus)
    keys, docs = [], []
    for i, d in enumerate(corpus):
        if isinstance(d, str):
            keys.append(i)
            docs.append(tokenizer(d))
        elif isinstance(d, tuple) and len(d) == 2 and not isinstance(d[1], str):
            keys.append(d[0])
            docs.append(list(d[1]))
        elif isinstance(d, list | tuple):
            keys.append(i)
            docs.append(list(d))
        else:
            raise DataError(f"document {i} is a {type(d).__name__}; expected a str, tokens or (key, tokens)")
    return keys, docs


class Tfidf(SparseTextModel):
    """TF-IDF document vectors with cosine similarity: ``Tfidf().fit(corpus)``.

    Example:
        >>> from simlab.text import Tfidf
        >>> m = Tfidf().fit(["the cat sat on the mat", "a dog sat on a log", "stocks fell sharply"])
        >>> m.most_similar_text("a cat on a mat", k=1).keys
        [0]
    """

    Config = TfidfConfig
    KIND = "tfidf"

    @property
    def idf(self) -> np.ndarray:
        """``(V,)`` inverse document frequencies."""
        if self.df is None:
            raise NotFittedError("Tfidf is not fitted")
        n, df = self.n_docs, self.df
        if self.config.smooth_idf:
            return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        return (np.log(n / df) + 1).astype(np.float32)

    def _weigh(self, counts: Any, lengths: Sequence[int]) -> Any:
        import scipy.sparse as sp

        m = counts.copy()
        if self.config.sublinear_tf:
            m.data = 1 + np.log(m.data)
        m = m @ sp.diags(self.idf)
        if self.config.norm == "l2":
            m = l2_normalize(m)
        elif self.config.norm == "l1":
            s = np.asarray(abs(m).sum(axis=1)).ravel()
            s[s == 0] = 1
            m = sp.diags((1 / s).astype(np.float32)) @ m
        return csr(m)


class BM25(SparseTextModel):
    """BM25 (Okapi or BM25+) search over the fitted documents: ``BM25().fit(corpus).search(["query"], k=10)``.

    ``search`` / ``most_similar_text`` / ``scores`` rank by the BM25 query score; ``similarity`` /
    ``similarity_text`` / ``most_similar(key)`` give the cosine of BM25-weighted document vectors (symmetric).

    Example:
        >>> from simlab.text import BM25
        >>> m = BM25().fit(["the cat sat on the mat", "a dog sat on a log", "stocks fell sharply"])
        >>> m.search(["dog log"], k=1).keys
        [[1]]
    """

    Config = BM25Config
    KIND = "bm25"

    @property
    def idf(self) -> np.ndarray:
        """``(V,)`` Lucene's BM25 idf ``log(1 + (N - df + 0.5) / (df + 0.5))``."""
        if self.df is None:
            raise NotFittedError("BM25 is not fitted")
        n, df = self.n_docs, self.df
        return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def _weigh(self, counts: Any, lengths: Sequence[int]) -> Any:
        import scipy.sparse as sp

        c = self.config
        m = counts.copy().tocsr()
        dl = np.asarray(lengths, dtype=np.float64)
        norm = c.k1 * (1 - c.b + c.b * dl / max(self.avgdl, 1e-9))
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        tf = m.data.astype(np.float64)
        m.data = (tf * (c.k1 + 1) / (tf + norm[rows]) + c.delta).astype(np.float32)
        return csr(m @ sp.diags(self.idf))

    def _query_rows(self, queries: Sequence[str | Sequence[str]]) -> Any:
        self._check_fitted()
        return self.counts([self._tokens(q) for q in queries])  # query term counts

    def _search_corpus(self) -> Any:
        return self._check_fitted().matrix
