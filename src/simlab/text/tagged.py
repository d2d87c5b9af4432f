"""Doc2Vec's input and inference kernel: the tagged document stream and the deterministic inference of one
text.

Inference freezes the model and trains a fresh document vector on the text for `epochs` epochs, with the
learning rate decayed linearly from ``alpha`` to ``min_alpha``; the starting vector and the negative samples
come from a random state seeded by the caller (the text and the model's seed), so the same text always gives
the same vector.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError

#: gensim ignores tokens past this position in one document; longer documents are chunked.
MAX_WORDS = 10000


class TaggedCorpus:
    """Re-iterable ``TaggedDocument`` stream for Doc2Vec: chunks of long documents share their document's tag.

    Args:
        docs: a :class:`~simlab.text.TextCorpus` (tags are its document ids), a re-iterable of ``(tag,
            tokens)`` pairs, of ``TaggedDocument``, or of token lists / strings (tags are their positions
            0..n-1).
    """

    def __init__(self, docs: Any, max_tokens: int = MAX_WORDS, tokenizer: Any = None) -> None:
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
        if self.is_text:
            yield from self.docs.documents()
            return
        for i, d in enumerate(self.docs):
            yield _pair(i, d, self.tokenizer)

    def __iter__(self) -> Iterator[Any]:
        from gensim.models.doc2vec import TaggedDocument

        from simlab.text.corpus import chunks

        size = self.max_tokens
        for tag, toks in self.pairs():
            for c in chunks(toks, size):
                yield TaggedDocument(c, [tag])


def _pair(i: int, d: Any, tokenize: Any) -> tuple[Any, list[str]]:
    """``(tag, tokens)`` of the i-th document of a plain iterable."""
    if isinstance(d, str):
        return i, tokenize(d)
    if isinstance(d, list):
        return i, d
    if hasattr(d, "words") and hasattr(d, "tags"):  # a gensim TaggedDocument (or look-alike)
        tags = list(d.tags)
        if len(tags) != 1:
            raise DataError(f"document {i} has {len(tags)} tags; simlab's Doc2Vec takes exactly one")
        return tags[0], list(d.words)
    if isinstance(d, tuple) and len(d) == 2 and isinstance(d[1], list):
        return d[0], d[1]
    raise DataError(
        f"document {i} is a {type(d).__name__}; expected tokens, a str, (tag, tokens) or a TaggedDocument"
    )


def count_known(g: Any, tc: TaggedCorpus, source: str | None) -> tuple[int, int]:
    """``(tokens, documents)`` of a corpus to resume training on, every tag known to the model `g`."""
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
        raise DataError("empty corpus: no document contains a token", source)
    return words, count


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


def infer_vector(g: Any, toks: list[str], epochs: int, seed: int) -> np.ndarray:
    """The ``(dim,)`` vector of the tokens `toks` under the frozen gensim Doc2Vec `g` (see the module doc)."""
    rng = np.random.default_rng(seed % (2**63))
    dim = g.dv.vector_size
    vec = ((rng.random((1, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    locks = np.ones(1, dtype=np.float32)
    work = np.zeros(g.layer1_size, dtype=np.float32)
    neu1 = np.zeros(g.layer1_size, dtype=np.float32)
    proxy = _Proxy(g, int(seed % (2**31)))
    alpha = g.alpha
    delta = (alpha - g.min_alpha) / max(epochs - 1, 1)
    for _ in range(epochs):
        for start in range(0, len(toks), MAX_WORDS):
            _train_document(g, proxy, toks[start : start + MAX_WORDS], alpha, work, neu1, vec, locks)
        alpha -= delta
    return vec[0].copy()


def _train_document(
    g: Any, proxy: _Proxy, words: list[str], alpha: float, work: Any, neu1: Any, vec: Any, locks: Any
) -> None:
    """One pass of gensim's Cython kernel for the model's mode, training the document vector only."""
    from gensim.models.doc2vec_inner import train_document_dbow, train_document_dm, train_document_dm_concat

    kw = {"learn_words": False, "learn_hidden": False, "doctag_vectors": vec, "doctags_lockf": locks}
    if g.sg:
        train_document_dbow(proxy, words, [0], alpha, work, **kw)
    elif g.dm_concat:
        train_document_dm_concat(proxy, words, [0], alpha, work, neu1, **kw)
    else:
        train_document_dm(proxy, words, [0], alpha, work, neu1, **kw)
