"""Doc2Vec paragraph vectors (Le & Mikolov 2014), trained with gensim.

PV-DM predicts a word from the document vector combined with its context words (mean or sum, or their
concatenation with ``dm_concat``); PV-DBOW predicts the words of the document from the document vector alone
(skip-gram style), optionally training word vectors at the same time (``dbow_words``). Unseen documents get a
vector by inference: the model is frozen and a fresh document vector is trained on the text for
``infer_epochs`` epochs; simlab seeds that from the text and the model's seed, so the same text always gives the
same vector (gensim's own ``infer_vector`` depends on a shared random state and Python's salted ``hash``).

Reference:
    Le, Mikolov. Distributed Representations of Sentences and Documents. ICML 2014.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import to_dict
from simlab.errors import ArtifactError, ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.text._base import _assign, _describe, _rebuild_vocab, auto_workers, build_config, check_common
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)


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


class TaggedCorpus:
    """Re-iterable ``TaggedDocument`` stream for Doc2Vec: chunks of long documents share their document's tag.

    Args:
        docs: a :class:`~simlab.text.TextCorpus` (tags are its document ids), a re-iterable of ``(tag, tokens)``
            pairs, of ``TaggedDocument``, or of token lists / strings (tags are their positions 0..n-1).
    """

    def __init__(self, docs: Any, max_tokens: int = 10000, tokenizer: Any = None) -> None:
        from simlab.text.corpus import TextCorpus, as_corpus, ensure_reiterable
        from simlab.text.tokenizers import make_tokenizer

        self.tokenizer = make_tokenizer(tokenizer)
        if isinstance(docs, str | Path):
            docs = as_corpus(docs, tokenizer=self.tokenizer, max_tokens=max_tokens)
        ensure_reiterable(docs)
        self.docs = docs
        self.is_text = isinstance(docs, TextCorpus)
        self.max_tokens = max_tokens

    def pairs(self) -> Iterator[tuple[Any, list[str]]]:
        tokenize = self.tokenizer
        if self.is_text:
            yield from self.docs.documents()
            return
        for i, d in enumerate(self.docs):
            if isinstance(d, str):
                yield i, tokenize(d)
            elif isinstance(d, list):
                yield i, d
            elif hasattr(d, "words") and hasattr(d, "tags"):
                tags = list(d.tags)
                if len(tags) != 1:
                    raise DataError(f"document {i} has {len(tags)} tags; simlab's Doc2Vec takes exactly one")
                yield tags[0], list(d.words)
            elif isinstance(d, tuple) and len(d) == 2 and isinstance(d[1], list):
                yield d[0], d[1]
            else:
                raise DataError(
                    f"document {i} is a {type(d).__name__}; expected tokens, a str, (tag, tokens) "
                    "or a TaggedDocument"
                )

    def __iter__(self) -> Iterator[Any]:
        from gensim.models.doc2vec import TaggedDocument

        from simlab.text.corpus import chunks

        size = self.max_tokens
        for tag, toks in self.pairs():
            for c in chunks(toks, size):
                yield TaggedDocument(c, [tag])


class _Proxy:
    """The model seen by one inference call, with its own random state (deterministic, thread-safe)."""

    __slots__ = ("_model", "dv", "random", "wv")

    def __init__(self, model: Any, seed: int) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "random", np.random.RandomState(seed))
        object.__setattr__(self, "wv", model.wv)  # read per token by the Cython loop
        object.__setattr__(self, "dv", model.dv)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


class Doc2Vec:
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

    Config = Doc2VecConfig
    KIND = "doc2vec"

    def __init__(self, config: Any = None, **params: Any) -> None:
        self.config = build_config(Doc2VecConfig, config, params)
        self._g: Any = None
        self._vectors: Vectors | None = None
        self.history: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        state = f"docs={len(self._g.dv)}, vocab={len(self._g.wv)}" if self._g is not None else "not fitted"
        return f"Doc2Vec({state}, mode={self.config.mode}, dim={self.config.dim})"

    def _gensim_kwargs(self) -> dict[str, Any]:
        c = self.config
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

    def _check_fitted(self) -> None:
        if self._g is None:
            raise NotFittedError("this Doc2Vec is not fitted; call fit(corpus) or load(path)")

    @property
    def gensim_model(self) -> Any:
        self._check_fitted()
        return self._g

    # -- training --------------------------------------------------------------------------------------------
    def fit(self, corpus: Any, *, epochs: int | None = None, progress: bool | None = None) -> Doc2Vec:
        """Train document (and word) vectors.

        Args:
            corpus: a path / :class:`~simlab.text.TextCorpus` (tags = document ids such as ``"file.txt:3"``), or a
                re-iterable of strings / token lists (tags 0..n-1), ``(tag, tokens)`` pairs or TaggedDocuments.
            epochs: epochs for this call (default ``config.epochs``).

        Documents are read in the corpus's order, every epoch, and the learning rate decays linearly over the run.
        Shuffle a corpus that is sorted by label or split once before training (e.g.
        :meth:`simlab.text.datasets.ImdbCorpus.shuffled`): otherwise the model drifts within each epoch and a
        document's vector also encodes where it sits (measured on IMDB: PV-DM at chance, 52% error, sorted vs
        shuffled; see ``docs/text.md``).

        A fitted (or loaded) model continues training on `corpus` with its vocabulary and documents frozen:
        every tag of `corpus` must be known (gensim cannot grow a Doc2Vec vocabulary).

        Raises:
            DataError: empty corpus, no word with ``min_count`` occurrences, unknown tags when resuming.
        """
        from simlab.text._engine import GDoc2Vec, run_training

        cfg = self.config
        tc = TaggedCorpus(corpus, cfg.max_tokens, cfg.tokenizer)
        n_ep = cfg.epochs if epochs is None else epochs
        if n_ep < 1:
            raise ConfigError("epochs must be >= 1")
        resume = self._g is not None
        if resume:
            g = self._g
            count = words = 0
            for td in tc:
                if not g.dv.has_index_for(td.tags[0]):
                    raise DataError(
                        f"document tag {td.tags[0]!r} is not in the trained model; Doc2Vec can only "
                        "continue training on documents it knows"
                    )
                count += 1
                words += len(td.words)
            if count == 0:
                raise DataError("empty corpus: no document contains a token", _describe(corpus))
        else:
            g = GDoc2Vec(**self._gensim_kwargs())
            words, count = g.scan_vocab(corpus_iterable=tc, progress_per=10**9, trim_rule=None)
            if count == 0 or words == 0:
                raise DataError("empty corpus: no document contains a token", _describe(corpus))
            n_raw = len(g.raw_vocab)
            g.corpus_count, g.corpus_total_words = count, words
            g.prepare_vocab(update=False, keep_raw_vocab=False, trim_rule=None)
            if len(g.wv) == 0:
                raise DataError(
                    f"no word occurs at least min_count={cfg.min_count} times ({n_raw} distinct "
                    f"words, {words} tokens); lower min_count or give more text",
                    _describe(corpus),
                )
            g.prepare_weights(update=False)
        from simlab.text.recipes import check_corpus_size

        size_warnings = check_corpus_size(words, len(g.wv), cfg.dim, n_ep)
        prog = run_training(
            g,
            corpus=tc,
            total_words=words,
            total_examples=count,
            epochs=n_ep,
            desc=f"doc2vec {'resume' if resume else 'train'}",
            progress=progress,
        )
        self._g = g
        self._vectors = None
        self.history.append(
            {
                "epochs": n_ep,
                "documents": int(count),
                "tokens": int(words),
                "docs": len(g.dv),
                "vocab": len(g.wv),
                "epoch_loss": prog.losses,
                "seconds": round(sum(prog.epoch_seconds), 3),
                **({"warnings": size_warnings} if size_warnings else {}),
            }
        )
        return self

    # -- vectors ---------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """Trained document vectors (keys = tags), sharing gensim's array."""
        self._check_fitted()
        if self._vectors is None:
            self._vectors = Vectors(list(self._g.dv.index_to_key), self._g.dv.vectors)
        return self._vectors

    @property
    def word_vectors(self) -> Vectors:
        """Word vectors (meaningful for PV-DM and PV-DBOW with ``dbow_words``; random otherwise)."""
        self._check_fitted()
        wv = self._g.wv
        return Vectors(list(wv.index_to_key), wv.vectors, wv.expandos.get("count"))

    def _tokens(self, text: str | Sequence[str]) -> list[str]:
        from simlab.text.tokenizers import make_tokenizer

        toks = make_tokenizer(self.config.tokenizer)(text) if isinstance(text, str) else list(text)
        return toks

    def infer(
        self, text: str | Sequence[str], *, epochs: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """The ``(dim,)`` vector of an unseen text (a string, tokenized, or a token list).

        Deterministic: the same text, model and `seed` (default ``config.seed``) always give the same vector.
        Words not in the vocabulary are ignored; a text with no known word raises DataError (no silent zero).
        """
        from gensim.models.doc2vec_inner import (
            train_document_dbow,
            train_document_dm,
            train_document_dm_concat,
        )

        self._check_fitted()
        g = self._g
        toks = self._tokens(text)
        known = [t for t in toks if t in g.wv.key_to_index]
        if not known:
            raise DataError(f"no known word in text {' '.join(toks)[:60]!r}: cannot infer a document vector")
        ep = epochs or self.config.infer_epochs or self.config.epochs
        s = (self.config.seed if seed is None else seed) * 1_000_003 + zlib.crc32(" ".join(toks).encode())
        rng = np.random.default_rng(s % (2**63))
        dim = g.dv.vector_size
        vec = ((rng.random((1, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
        locks = np.ones(1, dtype=np.float32)
        work = np.zeros(g.layer1_size, dtype=np.float32)
        neu1 = np.zeros(g.layer1_size, dtype=np.float32)
        proxy = _Proxy(g, int(s % (2**31)))
        alpha, min_alpha = g.alpha, g.min_alpha
        delta = (alpha - min_alpha) / max(ep - 1, 1)
        for _ in range(ep):
            for chunk_start in range(0, len(toks), 10000):
                words = toks[chunk_start : chunk_start + 10000]
                if g.sg:
                    train_document_dbow(
                        proxy,
                        words,
                        [0],
                        alpha,
                        work,
                        learn_words=False,
                        learn_hidden=False,
                        doctag_vectors=vec,
                        doctags_lockf=locks,
                    )
                elif g.dm_concat:
                    train_document_dm_concat(
                        proxy,
                        words,
                        [0],
                        alpha,
                        work,
                        neu1,
                        learn_words=False,
                        learn_hidden=False,
                        doctag_vectors=vec,
                        doctags_lockf=locks,
                    )
                else:
                    train_document_dm(
                        proxy,
                        words,
                        [0],
                        alpha,
                        work,
                        neu1,
                        learn_words=False,
                        learn_hidden=False,
                        doctag_vectors=vec,
                        doctags_lockf=locks,
                    )
            alpha -= delta
        return vec[0].copy()

    def encode_texts(self, texts: Sequence[str | Sequence[str]], **kw: Any) -> np.ndarray:
        """``(n, dim)`` inferred vectors of texts."""
        out = np.zeros((len(texts), self.config.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self.infer(t, **kw)
        return out

    def encode_imdb(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        """IMDB evaluator hook: trained vectors when the model was fitted on ``shared/data/imdb/*.tsv.gz`` with
        :class:`~simlab.text.TextCorpus` (tags ``"<split>.tsv.gz:<line>"``), else inferred vectors."""
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
        from itertools import islice

        from simlab.text.corpus import TextCorpus

        ids, rows, empty = [], [], 0
        docs = iter(TextCorpus(path, tokenizer=self.config.tokenizer).documents())
        while batch := list(islice(docs, max(1, batch_size))):
            for doc_id, toks in batch:
                try:
                    rows.append(self.infer(toks))
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

    # -- persistence -----------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save atomically: document vectors + tags, word vectors + counts, output weights, state (no pickle)."""
        self._check_fitted()
        g = self._g
        with ArtifactWriter(path, self.KIND, to_dict(self.config)) as w:
            self.vectors.to_artifact(w)
            self.word_vectors.to_artifact(w, prefix="words_")
            arrays = {}
            if g.negative:
                arrays["syn1neg"] = g.syn1neg
            if g.hs:
                arrays["syn1"] = g.syn1
            w.save_arrays("train.safetensors", arrays)
            w.save_json(
                "state.json",
                {
                    "corpus_count": int(g.corpus_count),
                    "corpus_total_words": int(g.corpus_total_words),
                    "history": self.history,
                },
            )
            w.metrics = {"docs": len(g.dv), "vocab": len(g.wv)}
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Doc2Vec:
        """Load a saved Doc2Vec (the gensim model is rebuilt from the arrays; nothing is unpickled)."""
        return cls.from_artifact(Artifact(path, kind=cls.KIND))

    @classmethod
    def from_artifact(cls, art: Artifact) -> Doc2Vec:
        from simlab.text._engine import GDoc2Vec

        self = cls(art.config)
        docs = Vectors.from_artifact(art)
        words = Vectors.from_artifact(art, prefix="words_")
        arrays = art.arrays("train.safetensors")
        state = art.json("state.json")
        if words.counts is None:
            raise ArtifactError(f"{art.path}: word counts missing")
        g = _rebuild_vocab(GDoc2Vec, self._gensim_kwargs(), words, state, art)
        _assign(g.wv.vectors, words.matrix, "word vectors", art)
        g.dv.index_to_key = list(docs.keys)
        g.dv.key_to_index = {k: i for i, k in enumerate(docs.keys)}
        g.dv.vectors = docs.matrix.copy()
        g.dv.norms = None
        for name in ("syn1neg", "syn1"):
            if name in arrays:
                _assign(getattr(g, name), arrays[name], name, art)
        self._g = g
        self.history = list(state.get("history", []))
        return self
