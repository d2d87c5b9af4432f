"""`SiameseModel`: a weight-shared recurrent encoder for series or sentences, trained with `simlab.train.fit`.

Example:
    >>> from simlab.sequence import SiameseModel
    >>> m = SiameseModel(encoder="gru", hidden=32, epochs=5).fit("ucr:GunPoint")   # doctest: +SKIP
    >>> m.encode(test_series).shape                                               # doctest: +SKIP
    (150, 32)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict, to_dict
from simlab.errors import ArtifactError, ConfigError, DataError, DimensionError, NotFittedError
from simlab.sequence import data as D
from simlab.sequence import sampling as S
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)

KIND = "sequence-siamese"
#: defaults of the settings left at None / "auto", by modality. Series: the default recipe ("triplet": batch-all
#: triplets, no augmentation), chosen among candidate recipes by mean rank over the UCR/UEA + synthetic suite
#: (tied with "infonce-aug" at 1.50; mean accuracy 0.809 vs 0.795 broke the tie; never per dataset;
#: benchmarks/bench_sequence_suite.py); text: the MaLSTM-style settings of before.
MODALITY_DEFAULTS: dict[str, dict[str, Any]] = {
    "series": {
        "bidirectional": True,
        "pooling": "mean",
        "lr": 3e-3,
        "epochs": 20,
        "loss": "triplet",
        "loss_options": {},
        "augment": (),
    },
    "text": {"bidirectional": False, "pooling": "last", "lr": 1e-3, "epochs": 30, "augment": ()},
}


@dataclass(frozen=True)
class SiameseConfig:
    """Settings of a :class:`SiameseModel` (architecture, loss, sampling, optimisation).

    Attributes:
        modality: ``auto`` (from the data), ``series`` or ``text``.
        encoder: recurrent cell, ``rnn``, ``lstm`` or ``gru``.
        hidden / layers / bidirectional / dropout / pooling: see :class:`~simlab.sequence.encoders.RNNEncoder`;
            ``bidirectional=None`` and ``pooling="auto"`` take the modality's default (series: bidirectional,
            mean pooling; text: unidirectional, last state; :data:`MODALITY_DEFAULTS`).
        head: ``cosine``, ``malstm`` (``exp(-||a-b||_1)``) or ``learned`` (MLP on ``[|a-b|, a*b]``).
        loss: a registered loss (``simlab list losses``) or ``auto``: ``mse`` for scored pairs with a
            malstm/learned head, ``cosent`` for scored pairs with a cosine head, ``contrastive`` for binary
            pairs, ``triplet`` (batch-all) for triplets and labelled collections (the series default recipe).
        loss_options: keyword arguments of the loss (e.g. ``{"margin": 0.5}``). For ``triplet`` the model's
            defaults are ``mining="all"`` and ``distance="chord"`` (batch-all on L2-normalised embeddings;
            ``{"mining": "hard"}`` restores batch-hard, which collapses from a random init).
        batch_size: pairs / triplets / items per step.
        pairs_per_epoch: pairs or triplets sampled per epoch from a labelled collection
            (default ``5 n`` within [512, 1024]).
        hard_negatives: probability that a sampled negative is one of the anchor's 5 nearest other-class
            items under the current encoder (recomputed each epoch).
        epochs / lr / weight_decay / optimizer / grad_clip / patience / seed / device / progress:
            passed to :class:`simlab.train.TrainConfig` (``epochs`` / ``lr`` None: series 20 / 3e-3, text
            30 / 1e-3).
        threads: torch threads for training and encoding, restored after each call (None: 1 on CPU, where
            these small recurrent models are fastest and a busy machine does not oversubscribe).
        dev_fraction: share of the training data held out (stratified) for early stopping when no dev set is
            given; 0 keeps the last epoch.
        normalize: series normalisation: ``global`` (training mean/std per channel), ``series`` or ``none``.
        mask_channel: append observed-indicator channels (None: when the training data has NaN).
        downsample: average windows of this many steps before the recurrence (piecewise aggregate
            approximation), or ``auto``: ``ceil(median length / target_steps)``, so long series are shortened
            to about `target_steps` steps before the recurrent encoder (1 for short series).
        target_steps: recurrence length aimed at by ``downsample="auto"``.
        fallback: ``auto`` (series collections): hold out a stratified part of the training split
            (leave-one-out when tiny), measure 1-NN accuracy of the learned similarity, z-normalised
            Euclidean, DTW (full and 10% band) and learned+classical blends there, and ship the best
            (:mod:`simlab.sequence.fallback`); ``off``: always the learned similarity, trained on everything.
        val_fraction: share of every class held out for the fallback's validation.
        max_seconds: stop training after the epoch that passes this many seconds (None: no cap).
        augment: series augmentations among ``jitter``, ``scaling``, ``crop``, ``warp`` (None: none).
        augment_strength: scales every augmentation.
        freeze_embeddings: keep the word vectors fixed (text).
        word_dropout: drop each training token with this probability (text).
        oov: unknown words: ``unk`` (a dedicated ``<unk>`` row) or ``drop``.
        lowercase: lowercase text before lookup.
        max_vocab: keep only the first words of the vectors (None: all).
        text_dim: embedding size when no word vectors are given (trained from scratch).
        keep_collection: embed the training items after fitting and keep them for `most_similar`.
    """

    modality: str = "auto"
    encoder: str = "gru"
    hidden: int = 64
    layers: int = 1
    bidirectional: bool | None = None
    dropout: float = 0.0
    pooling: str = "auto"
    head: str = "cosine"
    loss: str = "auto"
    loss_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    batch_size: int = 64
    pairs_per_epoch: int | None = None
    hard_negatives: float = 0.0
    epochs: int | None = None
    lr: float | None = None
    weight_decay: float = 0.0
    optimizer: str = "adam"
    grad_clip: float | None = 1.0
    patience: int | None = 5
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True
    dev_fraction: float = 0.0
    normalize: str = "global"
    mask_channel: bool | None = None
    downsample: int | str = "auto"
    target_steps: int = 64
    fallback: str = "auto"
    val_fraction: float = 0.3
    max_seconds: float | None = None
    augment: tuple[str, ...] | None = None
    augment_strength: float = 1.0
    freeze_embeddings: bool = True
    word_dropout: float = 0.0
    oov: str = "unk"
    lowercase: bool = True
    max_vocab: int | None = None
    text_dim: int = 100
    keep_collection: bool = True

    def __post_init__(self) -> None:
        from simlab.sequence.encoders import CELLS, HEADS, POOLINGS

        if self.augment is not None:
            object.__setattr__(self, "augment", tuple(self.augment))
        if self.modality not in ("auto", "series", "text"):
            raise ConfigError(f"unknown modality {self.modality!r}; valid: auto, series, text")
        if self.encoder not in CELLS:
            raise ConfigError(f"unknown encoder {self.encoder!r}; valid: {', '.join(CELLS)}")
        if self.pooling not in POOLINGS and self.pooling != "auto":
            raise ConfigError(f"unknown pooling {self.pooling!r}; valid: {', '.join(POOLINGS)}")
        if self.head not in HEADS:
            raise ConfigError(f"unknown head {self.head!r}; valid: {', '.join(HEADS)}")
        if self.oov not in ("unk", "drop"):
            raise ConfigError(f"oov must be 'unk' or 'drop', got {self.oov!r}")
        if self.batch_size < 2:
            raise ConfigError(f"batch_size must be >= 2, got {self.batch_size}")
        if not 0 <= self.dev_fraction < 1:
            raise ConfigError(f"dev_fraction must be in [0, 1), got {self.dev_fraction}")
        S.check_augmentations(self.augment or ())
        if self.fallback not in ("auto", "off"):
            raise ConfigError(f"fallback must be 'auto' or 'off', got {self.fallback!r}")
        if not (self.downsample == "auto" or (isinstance(self.downsample, int) and self.downsample >= 1)):
            raise ConfigError(f"downsample must be 'auto' or an integer >= 1, got {self.downsample!r}")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in (0, 1), got {self.val_fraction}")


def _seq_module() -> Any:
    from simlab._deps import require

    require("torch")
    from simlab.sequence import encoders

    return encoders


class SiameseModel:
    """A Siamese recurrent model: one shared RNN/LSTM/GRU encoder for both sides of a pair and a head.

    It embeds numeric series (uni- or multivariate, any length, NaN allowed) or sentences (word vectors from a
    :class:`simlab.Vectors`) into ``(n, dim)`` vectors that an :class:`simlab.Index` can search; trained with
    the one loop :func:`simlab.train.fit` on scored pairs, labelled pairs, triplets, or a labelled collection
    from which class-balanced pairs/triplets (optionally hard negatives) are sampled.

    References: Mueller & Thyagarajan 2016 (MaLSTM, ``exp(-||a-b||_1)``); Bromley et al. 1993 (Siamese);
    Hadsell et al. 2006 (contrastive); Hermans et al. 2017 (batch-hard triplets).

    Args:
        config: a :class:`SiameseConfig` or a dict; keyword arguments override it.
        vectors: word vectors (a :class:`simlab.Vectors` or an artifact path) for text.
    """

    def __init__(
        self, config: SiameseConfig | dict[str, Any] | None = None, *, vectors: Any = None, **kwargs: Any
    ) -> None:
        if isinstance(config, SiameseConfig):
            config = to_dict(config)
        self.config: SiameseConfig = from_dict(SiameseConfig, {**(config or {}), **kwargs})
        self.vectors = vectors
        self.net: Any = None
        self.modality: str | None = None
        self.channels: int | None = None
        self.vocab: list[str] | None = None
        self._word_index: dict[str, int] = {}
        self.score_range: tuple[float, float] | None = None
        self.history: dict[str, Any] = {}
        self.collection: Vectors | None = None
        self.collection_labels: list[str] | None = None
        self.mask_channel: bool = False
        self.downsample: int = 1
        self.selection: Any = None  # simlab.sequence.fallback.Selection when fallback="auto" chose one
        self.raw_collection: list[np.ndarray] | None = None  # series of the collection (classical similarity)

    # -- building ----------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        c = self.config
        state = "fitted" if self.net is not None else "unfitted"
        return f"SiameseModel({c.encoder}, hidden={c.hidden}, head={c.head}, {self.modality or c.modality}, {state})"

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        self._check_fitted()
        return int(self.net.dim)

    @property
    def metric(self) -> str | None:
        """The core metric equivalent to the head (``cosine``, ``manhattan``) or None for a learned head."""
        return {"cosine": "cosine", "malstm": "manhattan"}.get(self.config.head)

    def _check_fitted(self) -> None:
        if self.net is None:
            raise NotFittedError("SiameseModel is not fitted; call fit(...) or simlab.load(...)")

    def _build(self, modality: str, train_items: list[Any], vectors: Vectors | None) -> None:
        E = _seq_module()
        c = self.config
        self.modality = modality
        if modality == "series":
            self.channels = int(train_items[0].shape[1])
            self.mask_channel = (
                bool(c.mask_channel)
                if c.mask_channel is not None
                else any(np.isnan(s).any() for s in train_items)
            )
            front = E.SeriesFrontend(self.channels, c.normalize, self.mask_channel)
            front.set_stats(train_items)
        else:
            if vectors is not None:
                words = list(vectors.keys)[: c.max_vocab] if c.max_vocab else list(vectors.keys)
                bad = next((w for w in words if not isinstance(w, str)), None)
                if bad is not None:
                    raise DataError(f"word vectors must have string keys, got {bad!r}")
                self.vocab = words
                front = E.TokenFrontend(len(words) + 2, vectors.dim, freeze=c.freeze_embeddings)
                front.load_vectors(vectors.matrix[: len(words)])
            else:
                counts: dict[str, int] = {}
                for t in train_items:
                    for w in D.tokenize(t, c.lowercase):
                        counts[w] = counts.get(w, 0) + 1
                self.vocab = sorted(counts, key=lambda w: (-counts[w], w))[: c.max_vocab]
                front = E.TokenFrontend(len(self.vocab) + 2, c.text_dim, freeze=False)
                log.warning("no word vectors given: training a %d-dim embedding from scratch", c.text_dim)
            self._word_index = {w: i + 2 for i, w in enumerate(self.vocab)}
        if modality == "series":
            self.downsample = _resolve_downsample(c, train_items)
        self.net = E.SiameseNet(front, self._encoder(front.out_dim), c.head)

    def _encoder(self, input_dim: int) -> Any:
        c = self.config
        return _seq_module().RNNEncoder(
            input_dim,
            c.hidden,
            c.encoder,
            c.layers,
            self.setting("bidirectional"),
            c.dropout,
            self.setting("pooling"),
            self.downsample if self.modality == "series" else 1,
        )

    def setting(self, key: str) -> Any:
        """A config value, with ``None`` / ``"auto"`` resolved by modality (:data:`MODALITY_DEFAULTS`)."""
        v = getattr(self.config, key)
        if v is None or v == "auto":
            return MODALITY_DEFAULTS[self.modality or "series"].get(key, v)
        return v

    def _threads(self) -> int | None:
        """Threads for a call: the configured count, else 1 on CPU (None on CUDA: leave torch's count)."""
        if self.config.threads:
            return int(self.config.threads)
        if self.net is not None and next(self.net.parameters()).device.type != "cpu":
            return None
        return 1

    # -- item preparation ----------------------------------------------------------------------------------
    def _ids(self, text: str, where: str = "text") -> list[int]:
        if not isinstance(text, str):
            raise DataError(f"{where}: expected a string, got {type(text).__name__}")
        toks = D.tokenize(text, self.config.lowercase)
        if not toks:
            raise DataError(f"{where}: empty sequence (no tokens in {text!r})")
        ids = [self._word_index.get(t, 1) for t in toks]
        if self.config.oov == "drop":
            ids = [i for i in ids if i != 1] or [1]
        return ids

    def _prepare(self, items: Sequence[Any]) -> list[Any]:
        """Raw items -> series arrays (``(len, C)``) or token-id lists."""
        if self.modality == "text":
            return [self._ids(t, f"item {i}") for i, t in enumerate(items)]
        fast = _stack_equal(items)
        if fast is not None:  # equal-length float arrays: validated in one vectorised pass
            if fast.shape[2] != self.channels:
                raise DimensionError(
                    f"series have {fast.shape[2]} channels, the model was trained on {self.channels}"
                )
            return fast
        out = (
            D.as_series_list(items)
            if not isinstance(items, list)
            else [D.as_series(s, f"item {i}") for i, s in enumerate(items)]
        )
        for s in out:
            if s.shape[1] != self.channels:
                raise DimensionError(
                    f"series have {s.shape[1]} channels, the model was trained on {self.channels}"
                )
        return out

    def _collate(self, prepared: list[Any]) -> dict[str, Any]:
        E = _seq_module()
        return E.collate_ids(prepared) if self.modality == "text" else E.collate_series(prepared)

    def oov_share(self, items: Sequence[str]) -> float:
        """Share of tokens of `items` that are not in the vocabulary (text models)."""
        n = unk = 0
        for t in items:
            for w in D.tokenize(t, self.config.lowercase):
                n += 1
                unk += w not in self._word_index
        return unk / max(n, 1)

    # -- encoding -------------------------------------------------------------------------------------------
    def _encode_prepared(self, prepared: list[Any], batch_size: int = 1024) -> Any:
        from simlab.train import torch_threads

        self._check_fitted()
        with torch_threads(self._threads()):
            return self._encode_prepared_now(prepared, batch_size)

    def _encode_prepared_now(self, prepared: list[Any], batch_size: int = 1024) -> Any:
        import torch

        dev = next(self.net.parameters()).device
        was_training = self.net.training
        self.net.eval()
        if self.modality == "series" and (
            isinstance(prepared, np.ndarray) or len({p.shape for p in prepared}) == 1
        ):
            # equal lengths: stack directly (no NaN padding, sorting or scatter); the encoder skips packing and
            # masks when nothing is padded
            x = torch.from_numpy(prepared if isinstance(prepared, np.ndarray) else np.stack(prepared)).to(dev)
            lengths = torch.full((len(prepared),), x.shape[1], dtype=torch.int64, device=dev)
            with torch.inference_mode():
                out = torch.cat(
                    [
                        self.net.encode({"x": x[s : s + batch_size], "lengths": lengths[s : s + batch_size]})
                        .float()
                        .cpu()
                        for s in range(0, len(prepared), batch_size)
                    ]
                )
            self.net.train(was_training)
            return out.clone()  # a normal tensor (inference tensors cannot enter autograd later)
        order = np.argsort([len(p) for p in prepared], kind="stable")
        out = torch.empty(len(prepared), self.net.dim)
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                inp = {k: v.to(dev) for k, v in self._collate([prepared[i] for i in idx]).items()}
                out[torch.as_tensor(idx)] = self.net.encode(inp).float().cpu()
        self.net.train(was_training)
        return out

    def encode(self, items: Any, batch_size: int = 1024) -> np.ndarray:
        """Embed raw items.

        Args:
            items: sentences (text models) or series: a list of ``(len,)`` / ``(len, C)`` arrays, a
                ``(n, len)`` / ``(n, len, C)`` array, or a :class:`SeriesDataset`. One item is also accepted.
            batch_size: items per forward pass (padding does not change any embedding).

        Returns:
            ``(n, dim)`` float32 embeddings.
        """
        self._check_fitted()
        if isinstance(items, D.SeriesDataset):
            items = items.series
        single = isinstance(items, str) or (self.modality == "series" and _is_single_series(items))
        if single:
            items = [items]
        if len(items) == 0:
            raise DataError("nothing to encode")
        emb = self._encode_prepared(self._prepare(items), batch_size).numpy()
        return emb.astype(np.float32)

    def embed(self, items: Any, keys: Sequence[Any] | None = None) -> Vectors:
        """Embed items into a :class:`simlab.Vectors` (keys default to the sentences, or 0..n-1 for series)."""
        if isinstance(items, D.SeriesDataset):
            items = items.series
        if keys is None:
            if self.modality == "text":
                items = D.unique(items)
                keys = items
            else:
                keys = list(range(len(items)))
        return Vectors(keys, self.encode(items))

    def embed_file(self, path: str | Path) -> Vectors:
        """Embed a file: one sentence a line (text; keys = the sentences, duplicates once), or a series file
        (``.ts``, UCR TSV, ``.npy``; keys = row numbers)."""
        self._check_fitted()
        if self.modality == "text":
            return self.embed(D.read_lines(path))
        return self.embed(D.read_series(path).series)

    # -- similarity --------------------------------------------------------------------------------------
    def score_pairs(self, a: Sequence[Any], b: Sequence[Any], batch_size: int = 1024) -> np.ndarray:
        """Head scores of pairs ``(a[i], b[i])`` -> ``(n,)``."""
        import torch

        if len(a) != len(b):
            raise DimensionError(f"{len(a)} items in a but {len(b)} in b")
        ea = self._encode_prepared(self._prepare(list(a)), batch_size)
        eb = self._encode_prepared(self._prepare(list(b)), batch_size)
        dev = next(self.net.parameters()).device
        with torch.no_grad():
            return self.net.score(ea.to(dev), eb.to(dev)).cpu().numpy().astype(np.float32)

    def similarity(self, a: Any, b: Any) -> float:
        """Similarity of two items (higher = more similar): the head's score, or, when the fallback chose a
        classical or blended similarity, the negated distance it ships (:attr:`selection`)."""
        if self._classical_active():
            return -float(self.series_distances([a], [b])[0, 0])
        return float(self.score_pairs([a], [b])[0])

    # -- series distances (learned, classical, blended) --------------------------------------------------
    def _classical_active(self) -> bool:
        return self.modality == "series" and self.selection is not None and self.selection.choice != "learned"

    def _series(self, items: Any) -> list[np.ndarray]:
        if isinstance(items, D.SeriesDataset):
            return items.series
        if isinstance(items, str):
            return [D.as_series(items)]
        if _is_single_series(items) or (
            isinstance(items, np.ndarray)
            and items.ndim == 2
            and items.shape[1] == self.channels
            and items.dtype != object
        ):
            return [D.as_series(items)]
        return (
            D.as_series_list(items)
            if not isinstance(items, list)
            else [D.as_series(s, f"item {i}") for i, s in enumerate(items)]
        )

    def learned_distances(self, queries: Any, corpus: Any) -> np.ndarray:
        """``(q, n)`` distances of the learned similarity: ``1 - cos`` (cosine head), L1 (malstm head) or
        ``1 - score`` (learned head) between embeddings."""
        from simlab.metrics import pairwise, pairwise_distance

        qe, ce = self.encode(self._series(queries)), self.encode(self._series(corpus))
        if self.config.head == "cosine":
            return 1.0 - pairwise(qe, ce, "cosine", dtype=np.float64)
        if self.config.head == "malstm":
            return pairwise_distance(qe, ce, "manhattan", dtype=np.float64)
        return 1.0 - self.pairwise_scores(qe, ce).astype(np.float64)

    def series_distances(self, queries: Any, corpus: Any) -> np.ndarray:
        """``(q, n)`` distances of the similarity this model ships (learned, classical or blended; see
        :attr:`selection`), lower = more similar."""
        from simlab.sequence import classical

        self._check_fitted()
        sel = self.selection
        if sel is None:
            return self.learned_distances(queries, corpus)
        q, c = self._series(queries), self._series(corpus)
        parts = {
            k: self.learned_distances(q, c) if k == "learned" else classical.distances(q, c, k, sel.length)
            for k in sel.components
        }
        return sel.combine(parts)

    def knn_predict(self, train: D.SeriesDataset, test: Any) -> np.ndarray:
        """1-NN labels of `test` series among the labelled `train` series with the shipped similarity."""
        if train.labels is None:
            raise DataError("1-NN needs a labelled training collection")
        return train.labels[np.argmin(self.series_distances(test, train), axis=1)]

    def evaluate_file(self, path: str | Path, **options: Any) -> Any:
        """A scored pairs file given as a bare path (``simlab evaluate MODEL pairs.tsv``): the same batched
        evaluator as ``pairs:FILE`` (Pearson, Spearman, MSE), not the per-key ``pairs-file`` one."""
        from simlab.sequence.evaluation import eval_pairs

        return eval_pairs(self, str(path), **options)

    def predict_score(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        """Head scores mapped linearly back to the training score range (e.g. SICK's [1, 5])."""
        s = self.score_pairs(a, b)
        if self.score_range is None:
            return s
        lo, hi = self.score_range
        if self.config.head == "cosine":
            s = (s + 1) / 2 if self._loss_name() != "mse" else s
        return lo + np.clip(s, 0, 1) * (hi - lo)

    def pairwise_scores(self, queries: np.ndarray, corpus: np.ndarray) -> np.ndarray:
        """Head scores of every query embedding with every corpus embedding ``(q, d), (n, d) -> (q, n)``."""
        import torch

        self._check_fitted()
        dev = next(self.net.parameters()).device
        with torch.no_grad():
            return (
                self.net.pairwise_score(
                    torch.as_tensor(queries, device=dev), torch.as_tensor(corpus, device=dev)
                )
                .cpu()
                .numpy()
            )

    def search(self, queries: np.ndarray, corpus: Vectors, k: int) -> Hits:
        """Top-k corpus keys for query embeddings ``(q, d)``, ranked by the head."""
        if self.metric is not None:
            from simlab.metrics import topk

            idx, sc = topk(queries, corpus.matrix, k, self.metric)
            if self.config.head == "malstm":
                sc = np.exp(sc)  # -L1 -> exp(-L1), the head's own score
        else:
            s = self.pairwise_scores(queries, corpus.matrix)
            k = min(k, s.shape[1])
            idx = np.argsort(-s, axis=1, kind="stable")[:, :k]
            sc = np.take_along_axis(s, idx, 1)
        keys = [[corpus.keys[j] for j in row] for row in idx]
        return Hits(keys, sc.astype(np.float32))

    def index(
        self, items: Any, keys: Sequence[Any] | None = None, labels: Sequence[Any] | None = None
    ) -> SiameseModel:
        """Embed a collection that :meth:`most_similar` searches (replaces the training collection)."""
        if self.modality == "series":
            items = self._series(items)
            self.raw_collection = items if self._classical_active() else None
        self.collection = self.embed(items, keys)
        self.collection_labels = None if labels is None else [str(x) for x in labels]
        return self

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """The k items of the collection (:meth:`index`, or the training items) most similar to `query`.

        `query` is a raw item (a sentence, a series) or the key of a collection item.
        """
        self._check_fitted()
        if self._classical_active() and self.raw_collection is not None:
            return self._most_similar_series(query, k)
        if self.collection is None or len(self.collection) == 0:
            raise DataError("no collection to search; call index(items) first")
        exclude = None
        if not isinstance(query, np.ndarray) and query in self.collection:
            exclude = query
            q = self.collection[query][None, :]
        elif isinstance(query, int | np.integer):
            raise DataError(f"unknown collection key {query!r}")
        else:
            q = self.encode(query)
        hits = self.search(q, self.collection, k + (exclude is not None))[0]
        pairs = [(kk, s) for kk, s in hits if kk != exclude][:k]
        return Hits([p[0] for p in pairs], np.array([p[1] for p in pairs], np.float32))

    def _most_similar_series(self, query: Any, k: int) -> Hits:
        raw = self.raw_collection or []
        keys = list(self.collection.keys) if self.collection is not None else list(range(len(raw)))
        if isinstance(query, int | np.integer) and not isinstance(query, bool):
            if query not in keys:
                raise DataError(f"unknown collection key {query!r}")
            pos = keys.index(query)
            d = self.series_distances([raw[pos]], raw)[0]
            d[pos] = np.inf
        else:
            d = self.series_distances(query, raw)[0]
        order = np.argsort(d, kind="stable")[: min(k, int(np.isfinite(d).sum()))]
        return Hits([keys[i] for i in order], (-d[order]).astype(np.float32))

    def most_similar_text(self, text: str, k: int = 10) -> Hits:
        """Alias of :meth:`most_similar` for free text (used by ``simlab similar --text``)."""
        return self.most_similar(text, k)

    # -- training -------------------------------------------------------------------------------------------
    def _loss_name(self) -> str:
        return self.history.get("loss", self.config.loss)

    def _resolve_data(self, data: Any) -> Any:
        if isinstance(data, D.SeriesDataset | D.PairDataset | D.Triplets):
            return data
        if isinstance(data, str | Path):
            s = str(data)
            if s.lower().startswith("ucr:") or not D.is_pairs_file(s):
                return D.read_series(s)
            return D.read_any(s)
        if isinstance(data, tuple) and len(data) == 2:
            x, y = data
            if len(x) and isinstance(x[0], str):
                return D.LabelledTexts(list(x), np.asarray(y).astype(str))
            return D.SeriesDataset.from_arrays(x, y)
        raise DataError(
            f"cannot train on {type(data).__name__}; give a SeriesDataset, PairDataset, Triplets, "
            "(X, labels), 'ucr:NAME' or a file path"
        )

    def fit(
        self, data: Any, dev: Any = None, *, vectors: Any = None, checkpoint: str | Path | None = None
    ) -> SiameseModel:
        """Train the encoder (continues training when already fitted).

        Args:
            data: a labelled series collection (:class:`SeriesDataset`, ``(X, y)``, ``"ucr:NAME"``, a ``.ts`` /
                UCR TSV file), labelled sentences ``(texts, labels)``, sentence or series pairs
                (:class:`PairDataset`, a SICK / STS-B / pairs TSV/CSV file), or :class:`Triplets`.
            dev: data of the same kind for early stopping and best-checkpoint selection (optional).
            vectors: word vectors for text (overrides the constructor's).
            checkpoint: a ``.safetensors`` path for the best weights during training.

        Returns:
            self.
        """
        from simlab import train as T
        from simlab.registry import LOSSES

        c = self.config
        data = self._resolve_data(data)
        dev = None if dev is None else self._resolve_data(dev)
        items = _items_of(data)
        modality = "text" if isinstance(items[0], str) else "series"
        if c.modality != "auto" and c.modality != modality:
            raise ConfigError(f"config says modality={c.modality} but the data is {modality}")
        vectors = vectors if vectors is not None else self.vectors
        if isinstance(vectors, str | Path):
            vectors = Vectors.load(vectors)
        if self.net is None:
            T.seed_everything(c.seed)  # weight initialisation is part of the seeded run
            if modality == "series":
                items = [D.as_series(s, f"series {i}") for i, s in enumerate(items)]
            self._build(modality, items, vectors if modality == "text" else None)
        else:
            if modality != self.modality:
                raise ConfigError(f"the model embeds {self.modality}; cannot continue training on {modality}")
            if vectors is not None and modality == "text" and vectors.dim != self.net.frontend.out_dim:
                raise DimensionError(
                    f"word vectors have dim {vectors.dim} but the model's embedding has "
                    f"{self.net.frontend.out_dim}"
                )
        full = data
        plan = self._fallback_plan(data, dev)
        if plan is not None and plan[0] == "holdout":
            data = plan[1]  # the learned encoder trains on the rest; the held-out part only validates
        if dev is None and c.dev_fraction > 0:
            data, dev = _split(data, c.dev_fraction, c.seed)
        kind = _data_kind(data)
        loss_name = c.loss if c.loss != "auto" else _auto_loss(kind, c.head)
        options = dict(c.loss_options)
        if c.loss == "auto" and self.modality == "series" and kind == "labelled":  # the series default recipe
            loss_name = MODALITY_DEFAULTS["series"]["loss"]
            options = {**MODALITY_DEFAULTS["series"]["loss_options"], **options}
        if loss_name == "triplet":  # batch-hard on cosine collapses from a random init (see TripletLoss)
            options = {"mining": "all", "distance": "chord", **options}
        try:
            loss = LOSSES.get(loss_name)(**options)
        except TypeError as exc:
            raise ConfigError(f"bad loss_options for loss {loss_name!r}: {exc}") from None
        expects = getattr(loss, "expects", ())
        train_kind = _train_kind(kind, expects, loss_name)
        if isinstance(data, D.PairDataset) and data.score is not None:
            rng_ = data.meta.get("score_range") or (float(data.score.min()), float(data.score.max()))
            self.score_range = (float(rng_[0]), float(rng_[1]))
        batches = self._batch_fn(data, train_kind)
        dev_metric = None if dev is None else self._dev_metric(dev, data)
        cfg = from_dict(
            T.TrainConfig,
            {
                k: self.setting(k)
                for k in (
                    "epochs",
                    "lr",
                    "weight_decay",
                    "optimizer",
                    "grad_clip",
                    "patience",
                    "seed",
                    "device",
                    "progress",
                )
            },
        )
        t_start = time.perf_counter()
        cap = [] if c.max_seconds is None else [lambda e: time.perf_counter() - t_start > c.max_seconds]
        with T.torch_threads(self._threads()):
            hist = T.fit(
                self.net,
                batches,
                T.siamese_step(loss),
                cfg,
                dev_metric=dev_metric,
                checkpoint=checkpoint,
                data_kind=train_kind,
                loss=loss,
                callbacks=cap,
                unit={"triplets": "triplets", "labelled": "items"}.get(train_kind, "pairs"),
            )
        self.history = {
            "loss": loss_name,
            "data_kind": train_kind,
            "train_items": len(items),
            "train_seconds": round(time.perf_counter() - t_start, 3),
            **hist.to_dict(),
        }
        self.net.eval()
        if plan is not None:
            from simlab.sequence.fallback import choose

            self.selection = choose(self, plan, full)
            log.info("%s", self.selection.describe())
        data = full
        if c.keep_collection:
            if isinstance(data, D.SeriesDataset):
                self.index(data.series, labels=None if data.labels is None else list(data.labels))
            elif isinstance(data, D.LabelledTexts):
                self.index(data.texts)
            elif isinstance(data, D.PairDataset) and modality == "text":
                self.index(D.unique(list(data.a) + list(data.b)))
        return self

    def _fallback_plan(self, data: Any, dev: Any) -> tuple[str, Any, Any] | None:
        """How the fallback validates: ``("holdout", fit, val)``, ``("loo", data, None)`` (tiny split) or
        ``("dev", data, dev)`` (a dev collection was given); None when there is no choice to make."""
        from simlab.sequence.fallback import holdout_split

        if (
            self.config.fallback != "auto"
            or self.modality != "series"
            or not isinstance(data, D.SeriesDataset)
            or data.labels is None
        ):
            return None
        if dev is not None:
            return ("dev", data, dev) if isinstance(dev, D.SeriesDataset) and dev.labels is not None else None
        split = holdout_split(data.labels, self.config.val_fraction, self.config.seed)
        if split is None:
            return ("loo", data, None)
        return ("holdout", data.subset(split[0]), data.subset(split[1]))

    def _dev_metric(self, dev: Any, train: Any) -> Any:
        from simlab.evaluate import pearson

        if isinstance(dev, D.PairDataset):
            target = dev.score if dev.score is not None else np.asarray(dev.label, np.float32)
            return lambda net: pearson(self.score_pairs(dev.a, dev.b), target)
        if isinstance(dev, D.Triplets):

            def trip(net: Any) -> float:
                return float(
                    np.mean(
                        self.score_pairs(dev.anchor, dev.positive)
                        > self.score_pairs(dev.anchor, dev.negative)
                    )
                )

            return trip
        dev_items, dev_labels = _items_of(dev), _labels_of(dev)
        tr_items, tr_labels = _items_of(train), _labels_of(train)
        if dev_labels is None or tr_labels is None:
            raise DataError("a dev collection needs labels")

        def knn(net: Any) -> float:
            qe = self.encode(dev_items)
            ce = self.encode(tr_items)
            hits = self.search(qe, Vectors(list(range(len(ce))), ce), 1)
            pred = np.asarray(tr_labels)[[h[0] for h in hits.keys]]
            return float(np.mean(pred == np.asarray(dev_labels)))

        return knn

    def _batch_fn(self, data: Any, kind: str) -> Any:
        import torch

        from simlab.train import Batch

        c = self.config
        rng0 = c.seed
        if self.modality == "series":
            base = (
                [D.as_series(s, f"series {i}") for i, s in enumerate(_items_of(data))]
                if not isinstance(data, D.PairDataset | D.Triplets)
                else None
            )
        else:
            base = None

        def prep_all(items: Sequence[Any]) -> list[Any]:
            return (
                [self._ids(t, f"item {i}") for i, t in enumerate(items)]
                if self.modality == "text"
                else [D.as_series(s, f"item {i}") for i, s in enumerate(items)]
            )

        def aug(x: Any, rng: np.random.Generator) -> Any:
            if self.modality == "text":
                return S.word_dropout(x, rng, c.word_dropout)
            augment = self.setting("augment")
            if augment:
                return S.augment_series(x, augment, rng, c.augment_strength)
            return x

        def coll(items: list[Any], rows: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
            return self._collate([aug(items[i], rng) for i in rows])

        if isinstance(data, D.SeriesDataset | D.LabelledTexts):
            items = base if base is not None else prep_all(_items_of(data))
            ci = S.ClassIndex(_labels_of(data))
            n = len(items)
            per_epoch = c.pairs_per_epoch or max(512, min(1024, 5 * n))

            def batches(epoch: int) -> list[Batch]:
                rng = np.random.default_rng([rng0, epoch])
                hard = None
                if (
                    c.hard_negatives > 0
                    and epoch > 1
                    and kind in ("binary_pairs", "triplets", "scored_pairs")
                ):
                    emb = self._encode_prepared(items).numpy()
                    self.net.train()
                    hard = S.nearest_other_class(emb, ci.codes)
                out = []
                bs = c.batch_size
                if kind == "labelled":
                    for rows in S.balanced_batches(ci, max(1, per_epoch // bs), bs, rng):
                        y = torch.as_tensor(ci.codes[rows])
                        out.append(Batch(kind, {"x": coll(items, rows, rng)}, {"label": y}, len(rows)))
                    return out
                if kind == "triplets":
                    ia, ip, ineg = S.sample_triplets(ci, per_epoch, rng, hard, c.hard_negatives)
                    for s in range(0, per_epoch, bs):
                        sl = slice(s, s + bs)
                        out.append(
                            Batch(
                                kind,
                                {
                                    "anchor": coll(items, ia[sl], rng),
                                    "positive": coll(items, ip[sl], rng),
                                    "negative": coll(items, ineg[sl], rng),
                                },
                                {},
                                len(ia[sl]),
                            )
                        )
                    return out
                ia, ib, y = S.sample_pairs(ci, per_epoch, rng, hard, c.hard_negatives)
                if kind == "positive_pairs":
                    ia, ib = ia[y == 1], ib[y == 1]
                    y = y[y == 1]
                for s in range(0, len(ia), bs):
                    sl = slice(s, s + bs)
                    tgt = torch.as_tensor(y[sl])
                    out.append(
                        Batch(
                            kind,
                            {"a": coll(items, ia[sl], rng), "b": coll(items, ib[sl], rng)},
                            {"label": tgt, "score": tgt},
                            len(ia[sl]),
                        )
                    )
                return out

            return batches

        if isinstance(data, D.Triplets):
            A, P, N = prep_all(data.anchor), prep_all(data.positive), prep_all(data.negative)

            def tbatches(epoch: int) -> list[Batch]:
                rng = np.random.default_rng([rng0, epoch])
                perm = rng.permutation(len(A))
                return [
                    Batch(
                        kind,
                        {"anchor": coll(A, r, rng), "positive": coll(P, r, rng), "negative": coll(N, r, rng)},
                        {},
                        len(r),
                    )
                    for r in np.array_split(perm, max(1, int(np.ceil(len(A) / c.batch_size))))
                ]

            return tbatches

        # pairs
        A, B = prep_all(data.a), prep_all(data.b)
        score = data.score
        if score is not None and self.score_range is not None:
            lo, hi = self.score_range
            unit = (score - lo) / max(hi - lo, 1e-9)
        else:
            unit = None
        label = None
        if data.label is not None:
            try:
                label = np.asarray(data.label, np.float32)
            except ValueError:
                label = None
        if label is None and unit is not None:
            label = (unit >= 0.5).astype(np.float32)
        keep = np.arange(len(A))
        if kind == "positive_pairs":
            keep = np.flatnonzero(label > 0.5) if label is not None else keep
            if len(keep) < 2:
                raise DataError("too few positive pairs for in-batch negatives")
        if kind == "binary_pairs" and label is None:
            raise DataError("binary pairs need a numeric 0/1 label or a score column")
        if kind == "scored_pairs" and unit is None:
            raise DataError(f"loss {self.config.loss} needs scored pairs but the data has no score column")
        if kind == "binary_pairs" and len(np.unique(label)) < 2:
            raise DataError("labels have one class only; contrastive training needs 0 and 1 pairs")

        def pbatches(epoch: int) -> list[Batch]:
            rng = np.random.default_rng([rng0, epoch])
            perm = rng.permutation(keep)
            out = []
            for s in range(0, len(perm), c.batch_size):
                r = perm[s : s + c.batch_size]
                if len(r) < 2:
                    continue
                tgt: dict[str, Any] = {}
                if unit is not None:
                    tgt["score"] = torch.as_tensor(unit[r], dtype=torch.float32)
                if label is not None:
                    tgt["label"] = torch.as_tensor(label[r], dtype=torch.float32)
                out.append(Batch(kind, {"a": coll(A, r, rng), "b": coll(B, r, rng)}, tgt, len(r)))
            return out

        return pbatches

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact: ``model.safetensors`` (weights), ``state.json`` (modality, channels, vocabulary,
        score range, history), the collection as Vectors; the config in the manifest. Never pickled."""
        self._check_fitted()
        state = {
            "modality": self.modality,
            "channels": self.channels,
            "mask_channel": self.mask_channel,
            "vocab_size": None if self.vocab is None else len(self.vocab),
            "embedding_dim": self.net.frontend.out_dim if self.modality == "text" else None,
            "score_range": self.score_range,
            "history": self.history,
            "collection_labels": self.collection_labels,
            "downsample": self.downsample,
            "selection": None if self.selection is None else self.selection.to_dict(),
        }
        with ArtifactWriter(path, KIND, to_dict(self.config)) as w:
            if self.raw_collection is not None:
                padded, lengths = D.SeriesDataset(self.raw_collection).to_padded()
                w.save_arrays(
                    "raw_collection.safetensors",
                    {"series": padded.astype(np.float32), "lengths": lengths.astype(np.int64)},
                )
            w.save_arrays("model.safetensors", self.net.state_dict())
            w.save_json("state.json", state)
            if self.vocab is not None:
                w.save_json("vocab.json", self.vocab)
            if self.collection is not None:
                self.collection.to_artifact(w, prefix="collection_")
            w.metrics = {k: self.history.get(k) for k in ("best_dev", "best_epoch") if k in self.history}
            if self.selection is not None:
                w.metrics.update(
                    {
                        "similarity": self.selection.name,
                        "validation": self.selection.protocol,
                        "validation_accuracy": {
                            k: v for k, v in self.selection.validation.items() if not k.startswith("blend_")
                        },
                    }
                )
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> SiameseModel:
        """Load a model saved with :meth:`save` (checksums verified)."""
        return cls.from_artifact(Artifact(path, kind=KIND))

    @classmethod
    def from_artifact(cls, art: Artifact) -> SiameseModel:
        import torch

        E = _seq_module()
        try:
            m = cls(art.config)
        except ConfigError as exc:
            raise ArtifactError(f"{art.path}: bad config ({exc})") from None
        st = art.json("state.json")
        c = m.config
        m.modality = st["modality"]
        m.score_range = tuple(st["score_range"]) if st.get("score_range") else None
        m.history = st.get("history") or {}
        m.mask_channel = bool(st.get("mask_channel"))
        if m.modality == "series":
            m.channels = int(st["channels"])
            front = E.SeriesFrontend(m.channels, c.normalize, m.mask_channel)
        else:
            m.vocab = art.json("vocab.json")
            if len(m.vocab) != st.get("vocab_size"):
                raise ArtifactError(
                    f"{art.path}: vocab.json has {len(m.vocab)} words, state says {st.get('vocab_size')}"
                )
            m._word_index = {w: i + 2 for i, w in enumerate(m.vocab)}
            front = E.TokenFrontend(len(m.vocab) + 2, int(st["embedding_dim"]), freeze=c.freeze_embeddings)
        m.downsample = int(st.get("downsample") or (c.downsample if isinstance(c.downsample, int) else 1))
        m.net = E.SiameseNet(front, m._encoder(front.out_dim), c.head)
        arrays = art.arrays("model.safetensors")
        try:
            m.net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)
        except RuntimeError as exc:
            raise ArtifactError(
                f"{art.path}: weights do not fit the config ({str(exc).splitlines()[0]})"
            ) from None
        m.net.eval()
        if "collection_vectors.safetensors" in art.files:
            m.collection = Vectors.from_artifact(art, prefix="collection_")
            m.collection_labels = st.get("collection_labels")
        if st.get("selection"):
            from simlab.sequence.fallback import Selection

            m.selection = Selection.from_dict(st["selection"])
        if "raw_collection.safetensors" in art.files:
            raw = art.arrays("raw_collection.safetensors")
            m.raw_collection = [np.array(x[:n]) for x, n in zip(raw["series"], raw["lengths"], strict=True)]
        return m


def _resolve_downsample(c: SiameseConfig, series: list[np.ndarray]) -> int:
    """``downsample="auto"``: windows of ``ceil(median length / target_steps)`` steps (1 for short series)."""
    if c.downsample != "auto":
        return int(c.downsample)
    med = float(np.median([len(s) for s in series]))
    return max(1, int(np.ceil(med / max(1, c.target_steps))))


def _is_single_series(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.ndim == 1 and x.dtype != object
    return isinstance(x, list) and bool(x) and isinstance(x[0], int | float | np.floating)


def _items_of(data: Any) -> list[Any]:
    if isinstance(data, D.SeriesDataset):
        return data.series
    if isinstance(data, D.LabelledTexts):
        return data.texts
    if isinstance(data, D.PairDataset):
        return list(data.a) + list(data.b)
    if isinstance(data, D.Triplets):
        return list(data.anchor)
    raise DataError(f"unsupported data {type(data).__name__}")


def _stack_equal(items: Any) -> np.ndarray | None:
    """A list of equal-shape 1-D/2-D float arrays as one ``(n, length, channels)`` float32 array, checked like
    :func:`simlab.sequence.data.as_series` (non-empty, not all-NaN); None when the fast path does not apply."""
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


def _labels_of(data: Any) -> Any:
    return getattr(data, "labels", None)


def _data_kind(data: Any) -> str:
    if isinstance(data, D.SeriesDataset | D.LabelledTexts):
        if data.labels is None:
            raise DataError(f"{getattr(data, 'name', 'data')}: a collection needs class labels for training")
        return "labelled"
    if isinstance(data, D.Triplets):
        return "triplets"
    return data.kind


def _auto_loss(kind: str, head: str) -> str:
    if kind == "scored_pairs":
        return "cosent" if head == "cosine" else "mse"
    if kind == "binary_pairs":
        return "contrastive" if head == "cosine" else "mse"
    return "triplet"


def _train_kind(kind: str, expects: Sequence[str], loss_name: str) -> str:
    """The batch kind to train on, converting when the loss needs another kind."""
    if kind in expects:
        return kind
    if kind == "labelled":  # sample pairs / triplets from the collection
        for k in ("triplets", "binary_pairs", "scored_pairs", "positive_pairs"):
            if k in expects:
                return k
    if kind == "scored_pairs":
        for k in ("binary_pairs", "positive_pairs"):
            if k in expects:
                return k
    if kind == "binary_pairs" and "positive_pairs" in expects:
        return "positive_pairs"
    raise ConfigError(f"loss {loss_name!r} expects {' or '.join(expects)} data; it cannot train on {kind}")


def _split(data: Any, frac: float, seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    n = len(data)
    labels = _labels_of(data)
    if labels is not None:
        dev_idx = []
        for lab in np.unique(labels):
            rows = rng.permutation(np.flatnonzero(np.asarray(labels) == lab))
            dev_idx += list(rows[: round(len(rows) * frac)])
        dev_idx = np.array(sorted(dev_idx), int)
    else:
        dev_idx = np.sort(rng.permutation(n)[: max(1, round(n * frac))])
    train_idx = np.setdiff1d(np.arange(n), dev_idx)
    if len(train_idx) == 0 or len(dev_idx) == 0:
        raise DataError(f"dev_fraction={frac} leaves an empty train or dev split of {n} items")
    return data.subset(train_idx), data.subset(dev_idx)
