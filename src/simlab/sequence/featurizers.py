"""Featurizers of the Siamese sequence model: how raw items become recurrent inputs, one class per modality.

A featurizer is chosen once, when a :class:`~simlab.sequence.model.SiameseModel` first sees its training data
(:func:`featurizer_for`), and answers every modality question after that:

- :class:`SeriesFeaturizer`: numeric series (uni- or multivariate, any length, NaN allowed): channel count,
  normalisation, mask channel, downsampling (piecewise aggregate windows before the recurrence);
- :class:`TextFeaturizer`: sentences: tokenising, the vocabulary and word ids, pretrained word vectors, the
  out-of-vocabulary share.

Both build the model's torch front end (:class:`~simlab.sequence.encoders.SeriesFrontend` /
:class:`~simlab.sequence.encoders.TokenFrontend`), collate prepared items into padded batches, augment them
for training, and persist their fitted state with ``to_dict`` / ``from_dict`` (the ``state.json`` fields of a
saved model). Importing this module never imports torch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ArtifactError, DataError, DimensionError
from simlab.sequence import data as D
from simlab.sequence import sampling as S

log = logging.getLogger(__name__)


def _encoders() -> Any:
    from simlab._deps import require

    require("torch")
    from simlab.sequence import encoders

    return encoders


def resolve_downsample(config: Any, series: list[np.ndarray]) -> int:
    """``downsample="auto"``: windows of ``ceil(median length / target_steps)`` steps (1 for short series)."""
    if config.downsample != "auto":
        return int(config.downsample)
    med = float(np.median([len(s) for s in series]))
    return max(1, int(np.ceil(med / max(1, config.target_steps))))


def is_single_series(x: Any) -> bool:
    """Whether `x` is one univariate series (a 1-D float array or a list of numbers), not a batch."""
    if isinstance(x, np.ndarray):
        return x.ndim == 1 and x.dtype != object
    return isinstance(x, list) and bool(x) and isinstance(x[0], int | float | np.floating)


def stack_equal(items: Any) -> np.ndarray | None:
    """A list of equal-shape 1-D/2-D float arrays as one ``(n, length, channels)`` float32 array, checked
    like :func:`simlab.sequence.data.as_series` (non-empty, not all-NaN); None when the fast path does not
    apply."""
    if not isinstance(items, list) or not items:
        return None
    first = items[0]
    if not isinstance(first, np.ndarray) or first.ndim not in (1, 2) or first.shape[0] == 0:
        return None
    shape = first.shape
    for s in items:
        if not isinstance(s, np.ndarray) or s.shape != shape or s.dtype.kind != "f":
            return None
    arr = np.stack(items).astype(np.float32, copy=False)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    empty = np.isnan(arr).all(axis=(1, 2))
    if empty.any():
        raise DataError(f"item {int(np.argmax(empty))}: only missing (NaN) values")
    return arr


class SeriesFeaturizer:
    """Numeric series -> ``(len, C)`` float32 arrays for the recurrent encoder.

    Attributes:
        channels: input channels (fixed by the training data).
        normalize: ``global``, ``series`` or ``none`` (see :class:`~simlab.sequence.encoders.SeriesFrontend`).
        mask_channel: observed-indicator channels are appended (the training data had NaN, or the config
            said so).
        downsample: steps averaged into one before the recurrence.
    """

    modality = "series"
    vocab: list[str] | None = None

    def __init__(
        self, channels: int, normalize: str = "global", mask_channel: bool = False, downsample: int = 1
    ):
        self.channels, self.normalize = int(channels), normalize
        self.mask_channel, self.downsample = bool(mask_channel), int(downsample)

    @classmethod
    def build(cls, items: Sequence[Any], config: Any, vectors: Any = None) -> tuple[SeriesFeaturizer, Any]:
        """Fit on training series: the featurizer and its front end (global statistics set from `items`)."""
        series = [D.as_series(s, f"series {i}") for i, s in enumerate(items)]
        mask = config.mask_channel
        mask = bool(mask) if mask is not None else any(np.isnan(s).any() for s in series)
        feat = cls(int(series[0].shape[1]), config.normalize, mask, resolve_downsample(config, series))
        front = feat.frontend(config)
        front.set_stats(series)
        return feat, front

    def frontend(self, config: Any) -> Any:
        """A fresh (unfitted) front end of the right shape, e.g. to load saved weights into."""
        return _encoders().SeriesFrontend(self.channels, self.normalize, self.mask_channel)

    # items
    def batch_of(self, items: Any) -> Any:
        """Items as a batch: a :class:`SeriesDataset`'s series; one series becomes a batch of one."""
        if isinstance(items, D.SeriesDataset):
            return items.series
        return [items] if isinstance(items, str) or is_single_series(items) else items

    def as_items(self, items: Any) -> list[np.ndarray]:
        """Raw series (a dataset, one series, a list or an array of them) -> a list of ``(len, C)`` arrays."""
        if isinstance(items, D.SeriesDataset):
            return items.series
        if isinstance(items, str):
            return [D.as_series(items)]
        if is_single_series(items) or (
            isinstance(items, np.ndarray)
            and items.ndim == 2
            and items.shape[1] == self.channels
            and items.dtype != object
        ):
            return [D.as_series(items)]
        return self.as_list(items)

    def prepare_train(self, items: Sequence[Any], what: str = "item") -> list[np.ndarray]:
        """Training items -> checked ``(len, C)`` arrays."""
        return [D.as_series(s, f"{what} {i}") for i, s in enumerate(items)]

    def prepare(self, items: Any) -> Any:
        """Items to encode -> ``(n, len, C)`` (equal lengths, one vectorised check) or a list of arrays."""
        out = stack_equal(items)
        if out is None:
            out = self.as_list(items)
        for s in out[:1] if isinstance(out, np.ndarray) else out:
            if s.shape[1] != self.channels:
                raise DimensionError(
                    f"series have {s.shape[1]} channels, the model was trained on {self.channels}"
                )
        return out

    @staticmethod
    def as_list(items: Any) -> list[np.ndarray]:
        """A list or an array of series -> checked ``(len, C)`` arrays."""
        if isinstance(items, list):
            return [D.as_series(s, f"item {i}") for i, s in enumerate(items)]
        return D.as_series_list(items)

    def stack(self, prepared: Any) -> np.ndarray | None:
        """Prepared items as one ``(n, len, C)`` array when all have one length (no padding), else None."""
        if isinstance(prepared, np.ndarray):
            return prepared
        return np.stack(prepared) if len({p.shape for p in prepared}) == 1 else None

    def collate(self, prepared: list[np.ndarray]) -> dict[str, Any]:
        return _encoders().collate_series(prepared)

    def augment(self, x: np.ndarray, rng: np.random.Generator, config: Any) -> np.ndarray:
        """A training series, augmented by the config's ``augment`` list (unchanged when empty)."""
        if config.augment:
            return S.augment_series(x, config.augment, rng, config.augment_strength)
        return x

    def default_keys(self, items: list[Any]) -> tuple[list[Any], list[Any]]:
        """Items and their default keys (row numbers)."""
        return items, list(range(len(items)))

    def read_file(self, path: str | Path) -> list[np.ndarray]:
        """A series file (``.ts``, UCR TSV, ``.npy``)."""
        return D.read_series(path).series

    def collection_of(self, data: Any) -> tuple[list[Any], list[Any] | None] | None:
        """The items (and labels) kept as the search collection after training on `data` (None: none)."""
        if isinstance(data, D.SeriesDataset):
            return data.series, None if data.labels is None else list(data.labels)
        return None

    def check_vectors(self, vectors: Any) -> None:
        """Word vectors do not apply to series."""

    def oov_share(self, items: Sequence[Any]) -> float:
        raise DataError("oov_share is for text models; this model embeds series")

    # persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "modality": "series",
            "channels": self.channels,
            "mask_channel": self.mask_channel,
            "downsample": self.downsample,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any], config: Any, vocab: Any = None) -> SeriesFeaturizer:
        """The featurizer saved by :meth:`to_dict` (`vocab` is for text; ignored)."""
        ds = state.get("downsample") or (config.downsample if isinstance(config.downsample, int) else 1)
        return cls(int(state["channels"]), config.normalize, bool(state.get("mask_channel")), int(ds))


class TextFeaturizer:
    """Sentences -> token-id lists for an embedding layer (row 0 padding, row 1 ``<unk>``, words from row 2).

    Attributes:
        vocab: the words, in embedding-row order.
        dim: the word embedding size.
        lowercase / oov: how tokens are looked up (``oov="drop"`` removes unknown words).
    """

    modality = "text"
    channels: int | None = None
    mask_channel = False
    downsample = 1

    def __init__(self, vocab: list[str], dim: int, lowercase: bool = True, oov: str = "unk") -> None:
        self.vocab, self.dim, self.lowercase, self.oov = list(vocab), int(dim), lowercase, oov
        self.word_index = {w: i + 2 for i, w in enumerate(self.vocab)}

    @classmethod
    def build(cls, items: Sequence[str], config: Any, vectors: Any = None) -> tuple[TextFeaturizer, Any]:
        """Fit on training sentences: the vocabulary of `vectors` (their first ``max_vocab`` words) and an
        embedding initialised from them, or, without vectors, the training words by frequency and an embedding
        trained from scratch."""
        E, c = _encoders(), config
        if vectors is None:
            counts: dict[str, int] = {}
            for t in items:
                for w in D.tokenize(t, c.lowercase):
                    counts[w] = counts.get(w, 0) + 1
            vocab = sorted(counts, key=lambda w: (-counts[w], w))[: c.max_vocab]
            front = E.TokenFrontend(len(vocab) + 2, c.text_dim, freeze=False)
            log.warning("no word vectors given: training a %d-dim embedding from scratch", c.text_dim)
            return cls(vocab, c.text_dim, c.lowercase, c.oov), front
        words = list(vectors.keys)[: c.max_vocab] if c.max_vocab else list(vectors.keys)
        bad = next((w for w in words if not isinstance(w, str)), None)
        if bad is not None:
            raise DataError(f"word vectors must have string keys, got {bad!r}")
        front = E.TokenFrontend(len(words) + 2, vectors.dim, freeze=c.freeze_embeddings)
        front.load_vectors(vectors.matrix[: len(words)])
        return cls(words, vectors.dim, c.lowercase, c.oov), front

    def frontend(self, config: Any) -> Any:
        """A fresh embedding layer of the right shape, e.g. to load saved weights into."""
        return _encoders().TokenFrontend(len(self.vocab) + 2, self.dim, freeze=config.freeze_embeddings)

    # items
    def ids(self, text: str, where: str = "text") -> list[int]:
        """Token ids of one sentence (unknown words -> 1, or dropped with ``oov="drop"``)."""
        if not isinstance(text, str):
            raise DataError(f"{where}: expected a string, got {type(text).__name__}")
        toks = D.tokenize(text, self.lowercase)
        if not toks:
            raise DataError(f"{where}: empty sequence (no tokens in {text!r})")
        ids = [self.word_index.get(t, 1) for t in toks]
        if self.oov == "drop":
            ids = [i for i in ids if i != 1] or [1]
        return ids

    def batch_of(self, items: Any) -> Any:
        return [items] if isinstance(items, str) else items

    def as_items(self, items: Any) -> list[str]:
        return [items] if isinstance(items, str) else list(items)

    def prepare_train(self, items: Sequence[str], what: str = "item") -> list[list[int]]:
        return [self.ids(t, f"item {i}") for i, t in enumerate(items)]

    def prepare(self, items: Sequence[str]) -> list[list[int]]:
        return self.prepare_train(items)

    def stack(self, prepared: Any) -> None:
        """Sentences are always padded (no stacked fast path)."""
        return None

    def collate(self, prepared: list[list[int]]) -> dict[str, Any]:
        return _encoders().collate_ids(prepared)

    def augment(self, x: list[int], rng: np.random.Generator, config: Any) -> list[int]:
        """Word dropout (``word_dropout``) of a training sentence."""
        return S.word_dropout(x, rng, config.word_dropout)

    def default_keys(self, items: Sequence[str]) -> tuple[list[str], list[str]]:
        """Unique sentences, keyed by themselves."""
        items = D.unique(items)
        return items, items

    def read_file(self, path: str | Path) -> list[str]:
        """One sentence a line."""
        return D.read_lines(path)

    def collection_of(self, data: Any) -> tuple[list[Any], list[Any] | None] | None:
        """Labelled sentences, or the unique sentences of pairs (their labels are not kept)."""
        if isinstance(data, D.LabelledTexts):
            return data.texts, None
        if isinstance(data, D.PairDataset):
            return D.unique(list(data.a) + list(data.b)), None
        return None

    def check_vectors(self, vectors: Any) -> None:
        """Word vectors given to continue training must have the embedding's size."""
        if vectors is not None and vectors.dim != self.dim:
            raise DimensionError(
                f"word vectors have dim {vectors.dim} but the model's embedding has {self.dim}"
            )

    def oov_share(self, items: Sequence[str]) -> float:
        """Share of tokens of `items` that are not in the vocabulary."""
        n = unk = 0
        for t in items:
            for w in D.tokenize(t, self.lowercase):
                n += 1
                unk += w not in self.word_index
        return unk / max(n, 1)

    # persistence
    def to_dict(self) -> dict[str, Any]:
        """The state fields (the vocabulary itself is saved beside them, as ``vocab.json``)."""
        return {"modality": "text", "vocab_size": len(self.vocab), "embedding_dim": self.dim}

    @classmethod
    def from_dict(cls, state: dict[str, Any], config: Any, vocab: list[str] | None = None) -> TextFeaturizer:
        vocab = list(vocab or [])
        if len(vocab) != state.get("vocab_size"):
            raise ArtifactError(f"vocab.json has {len(vocab)} words, state says {state.get('vocab_size')}")
        return cls(vocab, int(state["embedding_dim"]), config.lowercase, config.oov)


FEATURIZERS: dict[str, type[SeriesFeaturizer] | type[TextFeaturizer]] = {
    "series": SeriesFeaturizer,
    "text": TextFeaturizer,
}


def modality_of(items: Sequence[Any]) -> str:
    """``text`` for sentences, ``series`` for anything else."""
    return "text" if isinstance(items[0], str) else "series"


def featurizer_for(modality: str) -> type[SeriesFeaturizer] | type[TextFeaturizer]:
    """The featurizer class of a modality (``series`` or ``text``)."""
    return FEATURIZERS[modality]
