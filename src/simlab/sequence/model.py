"""`SiameseModel`: a weight-shared recurrent encoder for series or sentences, trained with `simlab.train.fit`.

The model is glue: a featurizer (:mod:`simlab.sequence.featurizers`, chosen once from the training data) turns
items into recurrent inputs, :mod:`simlab.sequence.batching` builds the training batches of each data kind,
:mod:`simlab.sequence.training` decides the loss, dev split and validation plan, and
:mod:`simlab.sequence.fallback` may ship a classical or blended similarity for series collections.

Example:
    >>> from simlab.sequence import SiameseModel
    >>> m = SiameseModel(encoder="gru", hidden=32, epochs=5).fit("ucr:GunPoint")   # doctest: +SKIP
    >>> m.encode(test_series).shape                                               # doctest: +SKIP
    (150, 32)
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, DimensionError, NotFittedError
from simlab.model import Model, TrainConfig
from simlab.sequence import data as D
from simlab.sequence import sampling as S
from simlab.sequence.featurizers import featurizer_for, modality_of
from simlab.sequence.search import SimilaritySearch
from simlab.vectors import Vectors

log = logging.getLogger(__name__)

KIND = "sequence-siamese"
#: defaults of the settings left at None / "auto", by modality. Series: the default recipe ("infonce-aug":
#: supervised InfoNCE at temperature 0.1 on class-balanced batches, jitter / scaling / warp augmentations),
#: chosen among the candidate recipes by mean rank of 1-NN accuracy (mean over 3 seeds) over the 16 sets of
#: the UCR/UEA + synthetic suite: 1.41 against 1.59 for batch-all triplets, the same winner with any one set
#: left out; never per dataset (benchmarks/bench_sequence_suite.py). Text: the MaLSTM-style settings.
MODALITY_DEFAULTS: dict[str, dict[str, Any]] = {
    "series": {
        "bidirectional": True,
        "pooling": "mean",
        "lr": 5e-3,
        "epochs": 20,
        "loss": "infonce",
        "loss_options": {"temperature": 0.1},
        "augment": ("jitter", "scaling", "warp"),
    },
    "text": {"bidirectional": False, "pooling": "last", "lr": 1e-3, "epochs": 30, "augment": ()},
}
_TRAIN_KEYS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


@dataclass(frozen=True)
class SiameseTrainConfig(TrainConfig):
    """The shared :class:`~simlab.model.TrainConfig`, with ``epochs`` and ``lr`` None by default: the
    modality's default (series 20 / 5e-3, text 30 / 1e-3; :data:`MODALITY_DEFAULTS`), resolved at fit time."""

    epochs: int | None = None  # type: ignore[assignment]
    lr: float | None = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.resolve({"epochs": 1, "lr": 1e-3})  # validates every field, and epochs / lr when given

    def resolve(self, defaults: Mapping[str, Any]) -> TrainConfig:
        """A plain TrainConfig, ``epochs`` / ``lr`` left at None taken from `defaults`."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(TrainConfig)}
        for key in ("epochs", "lr"):
            if values[key] is None:
                values[key] = defaults[key]
        return TrainConfig(**values)


@dataclass(frozen=True)
class SiameseConfig:
    """Settings of a :class:`SiameseModel` (architecture, loss, sampling, optimisation).

    Attributes:
        modality: ``auto`` (from the data), ``series`` or ``text``.
        encoder: recurrent cell, ``rnn``, ``lstm`` or ``gru``.
        hidden / layers / bidirectional / dropout / pooling: see
            :class:`~simlab.sequence.encoders.RNNEncoder`; ``bidirectional=None`` and ``pooling="auto"``
            take the modality's default (series: bidirectional, mean pooling; text: unidirectional, last
            state; :data:`MODALITY_DEFAULTS`).
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
        train: the optimisation settings (:class:`SiameseTrainConfig`: epochs, lr, weight_decay, optimizer,
            grad_clip, patience, min_delta, seed, device, threads, progress), given nested
            (``train={"epochs": 5}``), flat (``epochs=5``) or dotted (``train.epochs=5``); ``epochs`` / ``lr``
            None: series 20 / 3e-3, text 30 / 1e-3. ``threads``: torch threads for training and encoding,
            restored after each call (None: 1 on CPU, where these small recurrent models are fastest and a
            busy machine does not oversubscribe).
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
        augment: series augmentations among ``jitter``, ``scaling``, ``crop``, ``warp``; None: the default
            recipe's (``jitter``, ``scaling``, ``warp``) on a labelled series collection with ``loss="auto"``,
            none otherwise; ``()``: none.
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
    train: SiameseTrainConfig = dataclasses.field(default_factory=lambda: SiameseTrainConfig())
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


class _Featurized:
    """A read-only model attribute answered by the model's featurizer (`default` before fitting)."""

    def __init__(self, default: Any = None) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return self.default if obj.featurizer is None else getattr(obj.featurizer, self.name)


class SiameseModel(SimilaritySearch, Model):
    """A Siamese recurrent model: one shared RNN/LSTM/GRU encoder for both sides of a pair and a head.

    It embeds numeric series (uni- or multivariate, any length, NaN allowed) or sentences (word vectors from a
    :class:`simlab.Vectors`) into ``(n, dim)`` vectors that an :class:`simlab.Index` can search; trained with
    the one loop :func:`simlab.train.fit` on scored pairs, labelled pairs, triplets, or a labelled collection
    from which class-balanced pairs/triplets (optionally hard negatives) are sampled.

    References: Mueller & Thyagarajan 2016 (MaLSTM, ``exp(-||a-b||_1)``); Bromley et al. 1993 (Siamese);
    Hadsell et al. 2006 (contrastive); Hermans et al. 2017 (batch-hard triplets).

    Args:
        config: a :class:`SiameseConfig` or a dict; keyword arguments override it (``epochs=5``: ``train``).
        vectors: word vectors (a :class:`simlab.Vectors` or an artifact path) for text.

    Attributes:
        featurizer: the series or text featurizer chosen by the first fit (:mod:`simlab.sequence.featurizers`;
            ``modality``, ``channels``, ``vocab``, ``mask_channel`` and ``downsample`` are read from it).
    """

    KIND: ClassVar[str] = KIND
    Config: ClassVar[type] = SiameseConfig
    CAPABILITIES: ClassVar[frozenset[str]] = frozenset({"embeds", "scores_pairs", "searches", "texts"})
    modality = _Featurized(None)
    channels = _Featurized(None)
    vocab = _Featurized(None)
    mask_channel = _Featurized(False)
    downsample = _Featurized(1)

    def __init__(self, config: Any = None, /, *, vectors: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.vectors = vectors
        self.net: Any = None
        self.featurizer: Any = None
        self.score_range: tuple[float, float] | None = None
        self.history: dict[str, Any] = {}
        self.collection: Vectors | None = None
        self.collection_labels: list[str] | None = None
        self.selection: Any = None  # simlab.sequence.fallback.Selection when fallback="auto" chose one
        self.raw_collection: list[np.ndarray] | None = None  # series of the collection (classical similarity)

    @classmethod
    def build_config(cls, config: Any = None, /, **overrides: Any) -> Any:
        """As the base's; a plain :class:`~simlab.model.TrainConfig` is accepted as ``train`` too."""
        if isinstance(config, Mapping) and isinstance(config.get("train"), TrainConfig):
            config = {**config, "train": dataclasses.asdict(config["train"])}
        if isinstance(overrides.get("train"), TrainConfig):
            overrides["train"] = dataclasses.asdict(overrides["train"])
        return super().build_config(config, **overrides)

    def __repr__(self) -> str:
        c, fitted = self.config, "fitted" if self.net is not None else "unfitted"
        where = self.modality or c.modality
        return f"SiameseModel({c.encoder}, hidden={c.hidden}, head={c.head}, {where}, {fitted})"

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        self.check_fitted()
        return int(self.net.dim)

    @property
    def metric(self) -> str | None:
        """The core metric equivalent to the head (``cosine``, ``manhattan``) or None for a learned head."""
        return {"cosine": "cosine", "malstm": "manhattan"}.get(self.config.head)

    def check_fitted(self) -> None:
        if self.net is None:
            raise NotFittedError("SiameseModel is not fitted; call fit(...) or simlab.load(...)")

    def torch_modules(self) -> list[Any]:
        return [] if self.net is None else [self.net]

    def setting(self, key: str) -> Any:
        """A config value (``train``'s for its keys), with ``None`` / ``"auto"`` resolved by modality
        (:data:`MODALITY_DEFAULTS`)."""
        v = getattr(self.config.train if key in _TRAIN_KEYS else self.config, key)
        if v is None or v == "auto":
            return MODALITY_DEFAULTS[self.modality or "series"].get(key, v)
        return v

    def new_net(self, front: Any) -> Any:
        """The Siamese network over a featurizer's front end (encoder and head from the config)."""
        E, c = _seq_module(), self.config
        bi, pool = self.setting("bidirectional"), self.setting("pooling")
        enc = E.RNNEncoder(front.out_dim, c.hidden, c.encoder, c.layers, bi, c.dropout, pool, self.downsample)
        return E.SiameseNet(front, enc, c.head)

    # -- encoding and scoring ---------------------------------------------------------------------------
    def encode(self, items: Any, batch_size: int = 1024) -> np.ndarray:
        """Embed raw items -> ``(n, dim)`` float32.

        Args:
            items: sentences (text models) or series: a list of ``(len,)`` / ``(len, C)`` arrays, a
                ``(n, len)`` / ``(n, len, C)`` array, or a :class:`SeriesDataset`. One item is also accepted.
            batch_size: items per forward pass (padding does not change any embedding).
        """
        self.check_fitted()
        items = self.featurizer.batch_of(items)
        if len(items) == 0:
            raise DataError("nothing to encode")
        return self._encode_prepared(self.featurizer.prepare(items), batch_size).numpy().astype(np.float32)

    def _encode_prepared(self, prepared: Any, batch_size: int = 1024) -> Any:
        self.check_fitted()
        E = _seq_module()
        with self.threads():
            return E.encode_prepared(self.net, self.featurizer, prepared, batch_size)

    def embed(self, items: Any, keys: Sequence[Any] | None = None) -> Vectors:
        """Embed items into a :class:`simlab.Vectors` (keys: the sentences, or 0..n-1 for series)."""
        self.check_fitted()
        items = self.featurizer.batch_of(items)
        if keys is None:
            items, keys = self.featurizer.default_keys(items)
        return Vectors(keys, self.encode(items))

    def embed_file(self, path: str | Path) -> Vectors:
        """Embed a file: one sentence a line (text; keys = the sentences, duplicates once), or a series file
        (``.ts``, UCR TSV, ``.npy``; keys = row numbers)."""
        self.check_fitted()
        return self.embed(self.featurizer.read_file(path))

    def oov_share(self, items: Sequence[str]) -> float:
        """Share of tokens of `items` that are not in the vocabulary (text models)."""
        self.check_fitted()
        return self.featurizer.oov_share(items)

    def score_pairs(self, a: Sequence[Any], b: Sequence[Any], batch_size: int = 1024) -> np.ndarray:
        """Head scores of pairs ``(a[i], b[i])`` -> ``(n,)``."""
        import torch

        if len(a) != len(b):
            raise DimensionError(f"{len(a)} items in a but {len(b)} in b")
        self.check_fitted()
        ea = self._encode_prepared(self.featurizer.prepare(list(a)), batch_size)
        eb = self._encode_prepared(self.featurizer.prepare(list(b)), batch_size)
        dev = self.device
        with torch.no_grad():
            return self.net.score(ea.to(dev), eb.to(dev)).cpu().numpy().astype(np.float32)

    def predict_score(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        """Head scores mapped linearly back to the training score range (e.g. SICK's [1, 5])."""
        s = self.score_pairs(a, b)
        if self.score_range is None:
            return s
        lo, hi = self.score_range
        if self.config.head == "cosine" and self.history.get("loss", self.config.loss) != "mse":
            s = (s + 1) / 2
        return lo + np.clip(s, 0, 1) * (hi - lo)

    def pairwise_scores(self, queries: np.ndarray, corpus: np.ndarray) -> np.ndarray:
        """Head scores of every query embedding with every corpus embedding ``(q, d), (n, d) -> (q, n)``."""
        import torch

        self.check_fitted()
        dev = self.device
        with torch.no_grad():
            q, c = torch.as_tensor(queries, device=dev), torch.as_tensor(corpus, device=dev)
            return self.net.pairwise_score(q, c).cpu().numpy()

    def evaluate_file(self, path: str | Path, **options: Any) -> Any:
        """A scored pairs file given as a bare path (``simlab evaluate MODEL pairs.tsv``): the same batched
        evaluator as ``pairs:FILE`` (Pearson, Spearman, MSE), not the per-key ``pairs-file`` one."""
        from simlab.registry import EVALUATORS

        return EVALUATORS.get("pairs")(self, str(path), **options)

    # -- training ----------------------------------------------------------------------------------------
    def fit(
        self, data: Any, dev: Any = None, *, vectors: Any = None, checkpoint: str | Path | None = None
    ) -> Any:
        """Train the encoder (continues training when already fitted).

        Args:
            data: a labelled series collection (:class:`SeriesDataset`, ``(X, y)``, ``"ucr:NAME"``, a
                ``.ts`` / UCR TSV file), labelled sentences ``(texts, labels)``, sentence or series pairs
                (:class:`PairDataset`, a SICK / STS-B / pairs TSV/CSV file), or :class:`Triplets`.
            dev: data of the same kind for early stopping and best-checkpoint selection (optional).
            vectors: word vectors for text (overrides the constructor's).
            checkpoint: a ``.safetensors`` path for the best weights during training.

        Returns:
            self.
        """
        from simlab.sequence import batching as B
        from simlab.sequence import training as TR

        c = self.config
        data = TR.resolve_data(data)
        dev = None if dev is None else TR.resolve_data(dev)
        items = D.items_of(data)
        self._start(modality_of(items), items, vectors)
        full, plan = data, TR.fallback_plan(c, data, dev)
        if plan is not None and plan[0] == "holdout":
            data = plan[1]  # the learned encoder trains on the rest; the held-out part only validates
        if dev is None and c.dev_fraction > 0:
            data, dev = TR.split(data, c.dev_fraction, c.train.seed)
        defaults = MODALITY_DEFAULTS[self.modality]
        loss_name, loss, kind = TR.make_loss(c, TR.data_kind(data), defaults)
        self.score_range = TR.score_range(data) or self.score_range
        augment = TR.augmentations(c, TR.data_kind(data), defaults)
        feed = B.Feed(self.featurizer, dataclasses.replace(c, augment=augment), self.net)
        batches = B.epoch_batches(feed, data, kind, self.score_range)
        metric = None if dev is None else TR.dev_metric(self, dev, data)
        cfg = dataclasses.replace(c.train.resolve(MODALITY_DEFAULTS[self.modality]), threads=None)
        with self.threads():
            seconds, hist = TR.run(self.net, batches, loss, kind, cfg, metric, checkpoint, c.max_seconds)
        self.history = {
            "loss": loss_name,
            "data_kind": kind,
            "train_items": len(items),
            "augment": list(augment),
        }
        self.history.update(train_seconds=seconds, **hist)
        self.net.eval()
        if plan is not None:
            from simlab.sequence.fallback import choose

            self.selection = choose(self, plan, full)
            log.info("%s", self.selection.describe())
        kept = self.featurizer.collection_of(full) if c.keep_collection else None
        if kept is not None:
            self.index(kept[0], labels=kept[1])
        return self

    def _start(self, modality: str, items: list[Any], vectors: Any) -> None:
        """Build the featurizer and the network on the first fit (seeded); check the data on later ones."""
        from simlab import train as T

        c = self.config
        if c.modality != "auto" and c.modality != modality:
            raise ConfigError(f"config says modality={c.modality} but the data is {modality}")
        vectors = vectors if vectors is not None else self.vectors
        if isinstance(vectors, str | Path):
            vectors = Vectors.load(vectors)
        if self.net is None:
            T.seed_everything(c.train.seed)  # weight initialisation is part of the seeded run
            self.featurizer, front = featurizer_for(modality).build(items, c, vectors)
            self.net = self.new_net(front)
        elif modality != self.modality:
            raise ConfigError(f"the model embeds {self.modality}; cannot continue training on {modality}")
        else:
            self.featurizer.check_vectors(vectors)

    # -- persistence (the artifact layout: :mod:`simlab.sequence.persist`) --------------------------------
    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Write weights, featurizer state, vocabulary, collection and fallback choice (never pickled)."""
        from simlab.sequence import persist

        persist.write(self, writer)

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> SiameseModel:
        """Rebuild a saved model (weights on ``device="auto"`` of this machine; old flat configs load too)."""
        from simlab.sequence import persist

        return persist.read(cls, artifact).to("auto")
