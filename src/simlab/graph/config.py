"""Configs of the GED-trained graph models (:mod:`simlab.graph.models`), shared with their nets."""

from __future__ import annotations

from dataclasses import dataclass, field

from simlab.errors import ConfigError
from simlab.graph.encoders import CONVS
from simlab.graph.features import Featurizer
from simlab.model import TrainConfig


def _graph_train() -> TrainConfig:
    return TrainConfig(epochs=30, lr=1e-3, patience=8)


@dataclass(frozen=True)
class GraphModelConfig:
    """Settings shared by the graph models.

    Attributes:
        conv: ``gcn``, ``gin``, ``sage`` or ``gat``.
        hidden / layers / dropout / residual / jk / heads: GNN settings (see :class:`GNNEncoder`).
        pool: ``sum``, ``mean`` or ``attention``.
        dim: output vector size of the bi-encoder (0: no projection).
        label_attr / feature_attrs / degree / max_degree / unknown: node features (see :class:`Featurizer`).
        batch_size / pairs_per_epoch: ``batch_size`` pairs per step; ``pairs_per_epoch`` sampled each epoch
            (0 = all pairs).
        dev_share: share of the training graphs held out as dev queries for early stopping (0: none).
        near_share / near_k: share of each epoch's pairs drawn from each graph's `near_k` most similar
            training partners (hard pairs that decide the top of a ranking; 0: uniform sampling).
        train: optimisation (:class:`~simlab.model.TrainConfig`: epochs 30, lr 1e-3, patience 8, seed,
            device, threads...); its keys may also be given flat (``epochs=5``).
    """

    conv: str = "gin"
    hidden: int = 64
    layers: int = 3
    dropout: float = 0.0
    residual: bool = True
    jk: str = "cat"
    heads: int = 4
    pool: str = "sum"
    dim: int = 64
    label_attr: str | None = "auto"
    feature_attrs: tuple[str, ...] = ()
    degree: bool | str = "auto"
    max_degree: int = 10
    unknown: str = "error"
    batch_size: int = 512
    pairs_per_epoch: int = 50000
    dev_share: float = 0.1
    near_share: float = 0.0
    near_k: int = 20
    train: TrainConfig = field(default_factory=_graph_train)

    def __post_init__(self) -> None:
        if self.conv not in CONVS:
            raise ConfigError(f"unknown conv {self.conv!r}; valid: {', '.join(CONVS)}")
        if not 0 <= self.dev_share < 1:
            raise ConfigError(f"dev_share must be in [0, 1), got {self.dev_share}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")
        if not 0 <= self.near_share < 1:
            raise ConfigError(f"near_share must be in [0, 1), got {self.near_share}")
        object.__setattr__(self, "feature_attrs", tuple(self.feature_attrs))

    def featurizer(self) -> Featurizer:
        """An unfitted featurizer with these node-feature settings."""
        return Featurizer(
            self.label_attr, list(self.feature_attrs), self.degree, self.max_degree, self.unknown
        )


@dataclass(frozen=True)
class PairModelConfig(GraphModelConfig):
    """:class:`GraphModelConfig` plus the pair model's interaction settings.

    Attributes:
        ntn_k: slices of the neural tensor network.
        bins: bins of the node-node similarity histogram (0: no histogram).
        bounds: add the GED lower-bound features.
    """

    pool: str = "attention"
    jk: str = "cat"
    ntn_k: int = 16
    bins: int = 16
    bounds: bool = True
