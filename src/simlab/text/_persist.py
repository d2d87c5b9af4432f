"""Persistence helpers of the gensim-backed models (Word2Vec, FastText, Doc2Vec): no pickle, ever.

The gensim model is rebuilt from the saved word counts (its vocabulary in the saved order), then the saved
arrays are copied into it, shape-checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ArtifactError
from simlab.vectors import Vectors

OUTPUT_WEIGHTS = ("syn1neg", "syn1")


def output_weights(g: Any) -> dict[str, np.ndarray]:
    """The output layer(s) a gensim model trains with (``syn1neg`` for negative sampling, ``syn1`` for hs)."""
    out = {}
    if getattr(g, "negative", 0) and getattr(g, "syn1neg", None) is not None:
        out["syn1neg"] = g.syn1neg
    if getattr(g, "hs", 0) and getattr(g, "syn1", None) is not None:
        out["syn1"] = g.syn1
    return out


def training_state(g: Any, history: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The ``state.json`` of a gensim model: what resuming training needs, and the fit history."""
    return {
        "corpus_count": int(g.corpus_count),
        "corpus_total_words": int(g.corpus_total_words),
        **extra,
        "history": history,
    }


def write_training(w: ArtifactWriter, g: Any, state: dict[str, Any]) -> None:
    """Write the output weights and ``state.json`` into an open artifact."""
    w.save_arrays("train.safetensors", output_weights(g))
    w.save_json("state.json", state)


def read_output_weights(art: Artifact, g: Any) -> None:
    """Copy the saved output weights into the rebuilt gensim model `g` (shapes checked)."""
    arrays = art.arrays("train.safetensors")
    for name in OUTPUT_WEIGHTS:
        if name in arrays:
            assign(getattr(g, name), arrays[name], name, art)


def rebuild_vocab(
    cls: Any, kwargs: dict[str, Any], words: Vectors, state: dict[str, Any], art: Artifact
) -> Any:
    """A gensim model of class `cls` whose vocabulary is rebuilt from saved word counts, in the saved
    order."""
    if words.counts is None:
        raise ArtifactError(f"{art.path}: word counts missing; cannot rebuild the vocabulary")
    g = cls(**{**kwargs, "sorted_vocab": 0})
    g.build_vocab_from_freq(
        dict(zip(words.keys, (int(c) for c in words.counts), strict=True)),
        corpus_count=int(state["corpus_count"]),
    )
    if list(g.wv.index_to_key) != words.keys:
        raise ArtifactError(f"{art.path}: vocabulary could not be rebuilt in the saved order")
    g.sorted_vocab = 1
    g.corpus_total_words = int(state["corpus_total_words"])
    return g


def assign(dst: np.ndarray, src: np.ndarray, name: str, art: Artifact) -> None:
    """``dst[...] = src`` after checking the shapes (ArtifactError naming the array otherwise)."""
    if dst.shape != src.shape:
        raise ArtifactError(
            f"{art.path}: {name} has shape {src.shape}, the rebuilt model expects {dst.shape}"
        )
    dst[...] = src


def set_doc_vectors(g: Any, docs: Vectors) -> None:
    """Put saved document vectors (keys = tags) into a rebuilt gensim Doc2Vec."""
    g.dv.index_to_key = list(docs.keys)
    g.dv.key_to_index = {k: i for i, k in enumerate(docs.keys)}
    g.dv.vectors = docs.matrix.copy()
    g.dv.norms = None
