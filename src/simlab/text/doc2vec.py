"""Doc2Vec paragraph vectors (Le & Mikolov 2014), trained with gensim.

PV-DM predicts a word from the document vector combined with its context words (mean or sum, or their
concatenation with ``dm_concat``); PV-DBOW predicts the words of the document from the document vector alone
(skip-gram style), optionally training word vectors at the same time (``dbow_words``). Unseen documents get a
vector by inference: the model is frozen and a fresh document vector is trained on the text for
``infer_epochs`` epochs; simlab seeds that from the text and the model's seed, so the same text always gives
the same vector (gensim's own ``infer_vector`` depends on a shared random state and Python's salted ``hash``).

Reference:
    Le, Mikolov. Distributed Representations of Sentences and Documents. ICML 2014.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.model import Model
from simlab.text import _fit, _persist
from simlab.text._base import auto_workers, check_common
from simlab.text._pairs import PairsBySimilarity
from simlab.text.tagged import TaggedCorpus, count_known, infer_vector
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)

__all__ = ["Doc2Vec", "Doc2VecConfig", "TaggedCorpus"]


@dataclass(frozen=True)
class Doc2VecConfig:
    """Doc2Vec hyper-parameters. Defaults follow gensim's IMDB tutorial PV-DBOW (100-d, 20 epochs, sample 0).

    Attributes:
        mode: ``"dbow"`` (PV-DBOW) or ``"dm"`` (PV-DM).
        dm_concat: PV-DM concatenates the context vectors instead of averaging (big, slow).
        dm_mean: PV-DM averages (True) or sums the context vectors.
        dbow_words: PV-DBOW also trains word vectors skip-gram style (slower, gives usable word vectors).
        infer_epochs: epochs of inference for unseen texts (default: `epochs`).
        Other fields as in :class:`~simlab.text.word2vec.Word2VecConfig`.
    """

    dim: int = 100
    mode: str = "dbow"
    dm_concat: bool = False
    dm_mean: bool = True
    dbow_words: bool = False
    window: int = 5
    epochs: int = 20
    min_count: int = 2
    max_final_vocab: int | None = None
    negative: int = 5
    hs: bool = False
    sample: float = 0.0
    alpha: float = 0.025
    min_alpha: float = 1e-4
    seed: int = 1
    workers: int = 0
    batch_words: int = 10000
    infer_epochs: int | None = None
    max_tokens: int = 10000
    tokenizer: Any = "simlab"

    def __post_init__(self) -> None:
        mode = self.mode.lower().replace("pv-", "").replace("pv_", "")
        if mode not in ("dm", "dbow"):
            raise ConfigError(f"mode must be 'dm' (PV-DM) or 'dbow' (PV-DBOW), got {self.mode!r}")
        object.__setattr__(self, "mode", mode)
        check_common(self)
        from simlab.text.tokenizers import make_tokenizer, tokenizer_spec

        spec = tokenizer_spec(make_tokenizer(self.tokenizer))
        object.__setattr__(self, "tokenizer", spec)
        if self.infer_epochs is not None and self.infer_epochs < 1:
            raise ConfigError("infer_epochs must be >= 1")


class Doc2Vec(PairsBySimilarity, Model):
    """Doc2Vec document vectors: ``Doc2Vec(mode="dbow").fit(corpus)``.

    :attr:`vectors` holds the trained document vectors (keys = document tags), :attr:`word_vectors` the word
    vectors (trained in PV-DM or with ``dbow_words``). :meth:`infer` embeds unseen text deterministically.

    Example:
        >>> from simlab.text import Doc2Vec
        >>> docs = ["the cat sat on the mat", "a dog sat on a log", "stocks fell sharply today"] * 5
        >>> m = Doc2Vec(dim=8, min_count=1, epochs=5, workers=1).fit(docs)
        >>> import numpy as np; bool(np.array_equal(m.infer("the cat sat"), m.infer("the cat sat")))
        True
    """

    KIND = "doc2vec"
    Config = Doc2VecConfig
    CAPABILITIES = frozenset({"embeds", "scores_pairs", "searches", "texts"})
    COLLECTION_ATTR = "vectors"

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self._g: Any = None
        self._vectors: Vectors | None = None
        self.history: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        state = f"docs={len(self._g.dv)}, vocab={len(self._g.wv)}" if self._g is not None else "not fitted"
        return f"Doc2Vec({state}, mode={self.config.mode}, dim={self.config.dim})"

    def _gensim_kwargs(self) -> dict[str, Any]:
        return gensim_kwargs(self.config)

    def check_fitted(self) -> None:
        if self._g is None:
            raise NotFittedError("this Doc2Vec is not fitted; call fit(corpus) or load(path)")

    _check_fitted = check_fitted

    @property
    def tokenizer(self) -> Any:
        """The tokenizer applied to texts given as strings (from ``config.tokenizer``)."""
        from simlab.text.tokenizers import make_tokenizer

        return make_tokenizer(self.config.tokenizer)

    @property
    def gensim_model(self) -> Any:
        self.check_fitted()
        return self._g

    # -- training --------------------------------------------------------------------------------------------
    def fit(self, corpus: Any, *, epochs: int | None = None, progress: bool | None = None) -> Doc2Vec:
        """Train document (and word) vectors.

        Args:
            corpus: a path / :class:`~simlab.text.TextCorpus` (tags = document ids such as ``"file.txt:3"``),
                or a re-iterable of strings / token lists (tags 0..n-1), ``(tag, tokens)`` pairs or
                TaggedDocuments.
            epochs: epochs for this call (default ``config.epochs``).

        Documents are read in the corpus's order, every epoch, and the learning rate decays linearly over the
        run. Shuffle a corpus that is sorted by label or split once before training (e.g.
        :meth:`simlab.text.datasets.ImdbCorpus.shuffled`): otherwise the model drifts within each epoch and a
        document's vector also encodes where it sits (measured on IMDB: PV-DM at chance, 52% error, sorted vs
        shuffled; see ``docs/text.md``).

        A fitted (or loaded) model continues training on `corpus` with its vocabulary and documents frozen:
        every tag of `corpus` must be known (gensim cannot grow a Doc2Vec vocabulary).

        Raises:
            DataError: empty corpus, no word with ``min_count`` occurrences, unknown tags when resuming.
        """
        from simlab.text._engine import GDoc2Vec
        from simlab.text.recipes import check_corpus_size

        cfg = self.config
        tc = TaggedCorpus(corpus, cfg.max_tokens, cfg.tokenizer)
        n_ep = _fit.check_epochs(cfg.epochs if epochs is None else epochs)
        source = _fit.describe(corpus)
        resume = self._g is not None
        if resume:
            g = self._g
            words, count = count_known(g, tc, source)
        else:
            g = GDoc2Vec(**self._gensim_kwargs())
            words, count = _fit.scan(g, tc, None, source)
            _fit.prepare(g, cfg.min_count, words, count, False, source)
        warnings = check_corpus_size(words, len(g.wv), cfg.dim, n_ep)
        desc = f"doc2vec {'resume' if resume else 'train'}"
        prog = _fit.train(g, tc, None, words, count, n_ep, desc, progress)
        self._g, self._vectors = g, None
        sizes = {"docs": len(g.dv), "vocab": len(g.wv)}
        self.history.append(_fit.history_entry(prog, n_ep, count, words, **sizes, warnings=warnings))
        return self

    # -- vectors ---------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """Trained document vectors (keys = tags), sharing gensim's array."""
        self.check_fitted()
        if self._vectors is None:
            self._vectors = Vectors(list(self._g.dv.index_to_key), self._g.dv.vectors)
        return self._vectors

    @property
    def collection(self) -> Vectors | None:  # type: ignore[override]
        """The searchable items: the trained document vectors (None before fitting)."""
        return self.vectors if self._g is not None else None

    @property
    def word_vectors(self) -> Vectors:
        """Word vectors (meaningful for PV-DM and PV-DBOW with ``dbow_words``; random otherwise)."""
        self.check_fitted()
        wv = self._g.wv
        return Vectors(list(wv.index_to_key), wv.vectors, wv.expandos.get("count"))

    def _tokens(self, text: str | Sequence[str]) -> list[str]:
        return self.tokenizer(text) if isinstance(text, str) else list(text)

    def infer(
        self, text: str | Sequence[str], *, epochs: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """The ``(dim,)`` vector of an unseen text (a string, tokenized, or a token list).

        Deterministic: the same text, model and `seed` (default ``config.seed``) always give the same vector.
        Words not in the vocabulary are ignored; a text with no known word raises DataError (no silent zero).
        """
        self.check_fitted()
        toks = self._tokens(text)
        if not any(t in self._g.wv.key_to_index for t in toks):
            raise DataError(f"no known word in text {' '.join(toks)[:60]!r}: cannot infer a document vector")
        ep = epochs or self.config.infer_epochs or self.config.epochs
        s = (self.config.seed if seed is None else seed) * 1_000_003 + zlib.crc32(" ".join(toks).encode())
        return infer_vector(self._g, toks, ep, s)

    def encode_texts(self, texts: Sequence[str | Sequence[str]], **kw: Any) -> np.ndarray:
        """``(n, dim)`` inferred vectors of texts (DataError for a text with no known word)."""
        out = np.zeros((len(texts), self.config.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self.infer(t, **kw)
        return out

    def encode(self, texts: Sequence[str | Sequence[str]]) -> np.ndarray:
        """``(n, dim)`` inferred vectors of texts; a text with no known word gets a zero row."""
        out = np.zeros((len(texts), self.config.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            with contextlib.suppress(DataError):
                out[i] = self.infer(t)
        return out

    def encode_imdb(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """IMDB evaluator hook: trained vectors when the model was fitted on ``shared/data/imdb/*.tsv.gz``
        with :class:`~simlab.text.TextCorpus` (tags ``"<split>.tsv.gz:<line>"``), else inferred vectors."""
        tags = [f"{prefix}.tsv.gz:{i + 2}" for i in range(len(texts))]
        vecs = self.vectors
        if all(t in vecs for t in tags):
            return vecs[tags]
        log.info("IMDB %s documents not among the trained tags: inferring %d vectors", prefix, len(texts))
        return self.encode_texts(texts)

    def similarity(self, a: Any, b: Any) -> float:
        """Cosine similarity of two trained documents (by tag)."""
        return self.vectors.similarity(a, b)

    def similarity_text(self, a: str, b: str) -> float:
        """Cosine similarity of two texts' inferred vectors (NaN when one has no known word)."""
        try:
            va, vb = self.infer(a), self.infer(b)
        except DataError:
            return float("nan")
        return self.vectors.similarity(va, vb) if len(self.vectors) else float("nan")

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Trained documents most similar to a document tag or a vector."""
        if isinstance(query, str) and query not in self.vectors:
            raise UnknownKeyError(f"unknown document tag {query!r}; use most_similar_text for free text")
        return self.vectors.most_similar(query, k)

    def most_similar_text(self, text: str, k: int = 10) -> Hits:
        """Trained documents most similar to a free text (inferred)."""
        return self.vectors.most_similar(self.infer(text), k)

    def embed_file(
        self, path: str | Path, *, batch_size: int = 256, progress: Callable[[int], None] | None = None
    ) -> Vectors:
        """Inferred vectors of the documents of a corpus file (keys = document ids ``"<file>:<line>"``).

        Documents are read and inferred `batch_size` at a time; ``progress(n)`` is called after each batch
        with the number of documents it held (the CLI's bar).
        """
        from simlab.text.corpus import TextCorpus

        docs = TextCorpus(path, tokenizer=self.config.tokenizer).documents()
        return infer_documents(self, docs, path, batch_size, progress)

    # -- persistence -----------------------------------------------------------------------------------------
    def to_artifact(self, w: ArtifactWriter) -> None:
        """Document vectors + tags, word vectors + counts, output weights, state (no pickle)."""
        g = self._g
        self.vectors.to_artifact(w)
        self.word_vectors.to_artifact(w, prefix="words_")
        _persist.write_training(w, g, _persist.training_state(g, self.history))
        w.metrics = {"docs": len(g.dv), "vocab": len(g.wv)}

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Doc2Vec:
        """Rebuild the gensim model from the saved arrays (nothing is unpickled)."""
        from simlab.text._engine import GDoc2Vec

        self = cls(artifact.config)
        words = Vectors.from_artifact(artifact, prefix="words_")
        state = artifact.json("state.json")
        g = _persist.rebuild_vocab(GDoc2Vec, self._gensim_kwargs(), words, state, artifact)
        _persist.assign(g.wv.vectors, words.matrix, "word vectors", artifact)
        _persist.set_doc_vectors(g, Vectors.from_artifact(artifact))
        _persist.read_output_weights(artifact, g)
        self._g = g
        self.history = list(state.get("history", []))
        return self


def gensim_kwargs(c: Doc2VecConfig) -> dict[str, Any]:
    """gensim ``Doc2Vec`` constructor arguments for a config."""
    return dict(
        vector_size=c.dim,
        dm=int(c.mode == "dm"),
        dm_concat=int(c.dm_concat),
        dm_mean=int(c.dm_mean),
        dbow_words=int(c.dbow_words),
        window=c.window,
        epochs=c.epochs,
        min_count=c.min_count,
        max_final_vocab=c.max_final_vocab,
        negative=c.negative,
        hs=int(c.hs),
        sample=c.sample,
        alpha=c.alpha,
        min_alpha=c.min_alpha,
        seed=c.seed,
        workers=auto_workers(c.workers),
        batch_words=c.batch_words,
    )


def infer_documents(
    model: Doc2Vec, docs: Any, path: Any, batch_size: int, progress: Callable[[int], None] | None
) -> Vectors:
    """Inferred vectors of ``(id, tokens)`` documents, `batch_size` at a time (those without a known word
    are left out and counted in a warning)."""
    from itertools import islice

    ids, rows, empty = [], [], 0
    docs = iter(docs)
    while batch := list(islice(docs, max(1, batch_size))):
        for doc_id, toks in batch:
            try:
                rows.append(model.infer(toks))
                ids.append(doc_id)
            except DataError:
                empty += 1
        if progress is not None:
            progress(len(batch))
    if empty:
        log.warning("%s: %d document(s) without a known word were left out", path, empty)
    if not rows:
        raise DataError("no document with a known word", path)
    return Vectors(ids, np.asarray(rows))
