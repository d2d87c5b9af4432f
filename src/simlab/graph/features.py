"""Node features and tensor storage of graph collections.

:class:`Featurizer` turns each node into a float vector::

    x = [ one-hot(label) | numeric features | one-hot(min(degree, max_degree)) ]

* categorical labels are one-hot encoded with a vocabulary fitted on the training graphs and saved with the
  model; a label unseen at fit time raises :class:`~simlab.errors.UnknownKeyError` (``unknown="error"``,
  the default) or goes to a reserved ``<unk>`` column (``unknown="unk"``);
* numeric features come from node attributes named in `feature_attrs` (each a number or a list of numbers);
* unlabelled graphs without numeric features get the structural fallback: one-hot node degree (capped).

:class:`GraphStore` keeps a whole collection as concatenated tensors and builds PyG ``Batch`` objects for any
list of graph positions with a few vectorised gathers (much faster than ``Batch.from_data_list``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.graph.io import GraphSet, node_labels

UNK = "<unk>"


@dataclass
class Featurizer:
    """Node featurizer with a saved label vocabulary.

    Attributes:
        label_attr: node attribute with the categorical label; ``"auto"`` (``type`` or ``label``) or None.
        feature_attrs: node attributes with numeric features.
        degree: add one-hot degree features: ``"auto"`` (only when there are neither labels nor numeric
            features), True or False.
        max_degree: degrees above this share the last degree column.
        unknown: ``"error"`` or ``"unk"`` for labels unseen at fit time.
        vocab: the fitted label vocabulary (labels as strings).
    """

    label_attr: str | None = "auto"
    feature_attrs: list[str] = field(default_factory=list)
    degree: bool | str = "auto"
    max_degree: int = 10
    unknown: str = "error"
    vocab: list[str] | None = None
    n_numeric: int = 0
    use_degree: bool = False

    def __post_init__(self) -> None:
        if self.unknown not in ("error", "unk"):
            raise ConfigError(f"unknown must be 'error' or 'unk', got {self.unknown!r}")
        if self.degree not in ("auto", True, False):
            raise ConfigError(f"degree must be 'auto', true or false, got {self.degree!r}")

    @property
    def fitted(self) -> bool:
        return self.vocab is not None

    @property
    def dim(self) -> int:
        return len(self.vocab or []) + self.n_numeric + (self.max_degree + 1 if self.use_degree else 0)

    def fit(self, graphs: GraphSet) -> Featurizer:
        """Fit the label vocabulary (sorted labels seen in `graphs`) and the feature layout."""
        labels: set[str] = set()
        any_labels = False
        for gid, g in zip(graphs.ids, graphs.graphs, strict=True):
            try:
                ls = node_labels(g, self.label_attr)
            except DataError as exc:
                raise DataError(f"graph {gid!r}: {exc}", graphs.source) from None
            if ls is not None:
                any_labels = True
                labels.update(str(v) for v in ls)
        vocab = sorted(labels) if any_labels else []
        if any_labels and self.unknown == "unk":
            vocab.append(UNK)
        self.vocab = vocab
        self.n_numeric = 0
        if self.feature_attrs:
            g0 = graphs.graphs[0]
            n0 = next(iter(g0.nodes))
            self.n_numeric = sum(
                len(_as_list(g0.nodes[n0].get(a), a, graphs.ids[0])) for a in self.feature_attrs
            )
        self.use_degree = bool(
            self.degree is True or (self.degree == "auto" and not vocab and not self.n_numeric)
        )
        if self.dim == 0:
            raise ConfigError("no node features: graphs are unlabelled and degree features are switched off")
        return self

    def transform_graph(self, g: Any, gid: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """``(x (n, dim) float32, edge_index (2, 2m) int64)`` of one graph (both edge directions)."""
        if self.vocab is None:
            raise ConfigError("featurizer is not fitted")
        nodes = list(g.nodes())
        n = len(nodes)
        if n == 0:
            raise DataError(f"graph {gid!r} is empty (no nodes)")
        pos = {v: i for i, v in enumerate(nodes)}
        parts = []
        if self.vocab:
            index = {lab: i for i, lab in enumerate(self.vocab)}
            labels = node_labels(g, self.label_attr)
            if labels is None:
                raise DataError(
                    f"graph {gid!r} has no node labels but the model was fitted on labelled graphs"
                )
            cols = np.empty(n, dtype=np.int64)
            for i, lab in enumerate(labels):
                j = index.get(str(lab))
                if j is None:
                    if self.unknown == "unk":
                        j = index[UNK]
                    else:
                        raise UnknownKeyError(
                            f"graph {gid!r}: node label {lab!r} was not seen at training time "
                            f"(known: {', '.join(self.vocab[:20])}{' ...' if len(self.vocab) > 20 else ''}); "
                            "fit with unknown='unk' to map unseen labels to <unk>"
                        )
                cols[i] = j
            oh = np.zeros((n, len(self.vocab)), np.float32)
            oh[np.arange(n), cols] = 1
            parts.append(oh)
        if self.n_numeric:
            num = np.zeros((n, self.n_numeric), np.float32)
            for i, v in enumerate(nodes):
                row: list[float] = []
                for a in self.feature_attrs:
                    row += _as_list(g.nodes[v].get(a), a, gid)
                if len(row) != self.n_numeric:
                    raise DataError(
                        f"graph {gid!r}, node {v!r}: {len(row)} numeric features, expected {self.n_numeric}"
                    )
                num[i] = row
            parts.append(num)
        if self.use_degree:
            deg = np.array([min(g.degree(v), self.max_degree) for v in nodes], dtype=np.int64)
            oh = np.zeros((n, self.max_degree + 1), np.float32)
            oh[np.arange(n), deg] = 1
            parts.append(oh)
        x = np.concatenate(parts, axis=1)
        if g.number_of_edges():
            e = np.array([(pos[u], pos[v]) for u, v in g.edges()], dtype=np.int64).T
            ei = np.concatenate([e, e[::-1]], axis=1)
        else:
            ei = np.zeros((2, 0), np.int64)
        return x, ei

    def to_dict(self) -> dict[str, Any]:
        return {
            "label_attr": self.label_attr,
            "feature_attrs": list(self.feature_attrs),
            "degree": self.degree,
            "max_degree": self.max_degree,
            "unknown": self.unknown,
            "vocab": self.vocab,
            "n_numeric": self.n_numeric,
            "use_degree": self.use_degree,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Featurizer:
        return cls(**d)


def _as_list(v: Any, attr: str, gid: Any) -> list[float]:
    if v is None:
        raise DataError(f"graph {gid!r}: a node lacks numeric feature attribute {attr!r}")
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            raise DataError(f"graph {gid!r}: feature {attr!r} is not numeric ({v!r})") from None
    vals = list(v) if isinstance(v, list | tuple | np.ndarray) else [v]
    try:
        return [float(x) for x in vals]
    except (TypeError, ValueError):
        raise DataError(f"graph {gid!r}: feature {attr!r} is not numeric ({v!r})") from None


class GraphStore:
    """A graph collection as concatenated tensors, with fast batching.

    Attributes:
        x: ``(N, F)`` node features of all graphs.
        edge_index: ``(2, E)`` edges with node indices local to each graph.
        node_ptr / edge_ptr: ``(n + 1,)`` offsets of each graph's nodes / edges.
        sizes: ``(n,)`` node counts.
    """

    def __init__(self, graphs: GraphSet, featurizer: Featurizer) -> None:
        xs, eis = [], []
        for gid, g in zip(graphs.ids, graphs.graphs, strict=True):
            x, ei = featurizer.transform_graph(g, gid)
            xs.append(x)
            eis.append(ei)
        self.ids = list(graphs.ids)
        self.x = torch.from_numpy(np.concatenate(xs)) if xs else torch.zeros(0, featurizer.dim)
        self.edge_index = (
            torch.from_numpy(np.concatenate(eis, axis=1)) if eis else torch.zeros(2, 0, dtype=torch.long)
        )
        self.sizes = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
        self.esizes = torch.tensor([e.shape[1] for e in eis], dtype=torch.long)
        self.node_ptr = torch.cat([torch.zeros(1, dtype=torch.long), self.sizes.cumsum(0)])
        self.edge_ptr = torch.cat([torch.zeros(1, dtype=torch.long), self.esizes.cumsum(0)])

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, idx: Sequence[int] | torch.Tensor) -> Any:
        """A PyG ``Batch`` of the graphs at positions `idx` (repeats allowed), in that order."""
        from torch_geometric.data import Batch

        idx = torch.as_tensor(idx, dtype=torch.long)
        n = self.sizes[idx]
        e = self.esizes[idx]
        new_nptr = torch.cat([torch.zeros(1, dtype=torch.long), n.cumsum(0)])
        new_eptr = torch.cat([torch.zeros(1, dtype=torch.long), e.cumsum(0)])
        tot_n, tot_e = int(new_nptr[-1]), int(new_eptr[-1])
        graph_of_node = torch.repeat_interleave(torch.arange(len(idx)), n, output_size=tot_n)
        node_src = self.node_ptr[idx][graph_of_node] + (torch.arange(tot_n) - new_nptr[:-1][graph_of_node])
        graph_of_edge = torch.repeat_interleave(torch.arange(len(idx)), e, output_size=tot_e)
        edge_src = self.edge_ptr[idx][graph_of_edge] + (torch.arange(tot_e) - new_eptr[:-1][graph_of_edge])
        ei = self.edge_index[:, edge_src] + new_nptr[:-1][graph_of_edge]
        return Batch(
            x=self.x[node_src],
            edge_index=ei,
            batch=graph_of_node,
            ptr=new_nptr,
            num_nodes=tot_n,
            num_graphs=len(idx),
        )
