"""Graph data sets: generated example graphs (:func:`make_graphs`) and the GED benchmarks of SimGNN
(AIDS700nef, LINUX) read from ``../shared/data`` without unpickling.

Benchmark graphs come from ``raw/<name>/{train,test}/<gid>.gexf`` (networkx), the GED matrix from
``processed/<name>_ged.pt`` with ``torch.load(..., weights_only=True)``. Index order of the matrix: training
gids sorted numerically, then test gids sorted numerically (as in PyG's ``GEDDataset``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError, UnknownNameError
from simlab.graph.ged import GEDTable, ged_similarity
from simlab.graph.io import GraphSet, read_graph_file

BENCHMARKS = ("AIDS700nef", "LINUX")


def make_graphs(
    n_families: int, per_family: int, n_nodes: tuple[int, int], seed: int = 0, labels: str = "CNO"
) -> tuple[GraphSet, list[int]]:
    """Families of random connected labelled graphs: a prototype and random edits of it.

    Each family's prototype is a connected G(n, 0.45) graph with ``n`` drawn from `n_nodes` (inclusive) and
    node labels drawn from `labels`; each member applies 0-2 random edits (relabel a node, delete an edge,
    add an edge). Graph ids are ``g0, g1, ...``.

    Returns:
        ``(GraphSet, family of each graph)``.
    """
    rng = np.random.default_rng(seed)
    graphs, fams = [], []
    for f in range(n_families):
        proto = _prototype(int(rng.integers(n_nodes[0], n_nodes[1] + 1)), labels, rng)
        for _ in range(per_family):
            g = proto.copy()
            for _e in range(int(rng.integers(0, 3))):
                _random_edit(g, labels, rng)
            graphs.append(g)
            fams.append(f)
    return GraphSet(graphs, [f"g{i}" for i in range(len(graphs))]), fams


def _prototype(n: int, labels: str, rng: np.random.Generator) -> Any:
    """A connected random graph of `n` nodes with random labels."""
    import networkx as nx

    while True:
        proto = nx.gnp_random_graph(n, 0.45, seed=int(rng.integers(1 << 30)))
        if nx.is_connected(proto):
            break
    for v in proto.nodes:
        proto.nodes[v]["label"] = labels[int(rng.integers(len(labels)))]
    return proto


def _random_edit(g: Any, labels: str, rng: np.random.Generator) -> None:
    """Relabel a node, delete an edge (keeping at least one) or add an edge, in place."""
    op = rng.integers(3)
    nodes = list(g.nodes)
    if op == 0:
        g.nodes[nodes[int(rng.integers(len(nodes)))]]["label"] = labels[int(rng.integers(len(labels)))]
    elif op == 1 and g.number_of_edges() > 1:
        edges = list(g.edges)
        g.remove_edge(*edges[int(rng.integers(len(edges)))])
    else:
        u, v = rng.choice(nodes, 2, replace=False)
        g.add_edge(int(u), int(v))


@dataclass
class GEDBenchmark:
    """A GED benchmark: all graphs, the split and the raw GED matrix.

    Attributes:
        name: ``AIDS700nef`` or ``LINUX``.
        graphs: all graphs (train then test), ids = gids as strings.
        train_ids / test_ids: the fixed split.
        ged: ``(n, n)`` raw GED in the order of `graphs` (test x test is inf).
    """

    name: str
    graphs: GraphSet
    train_ids: list[str]
    test_ids: list[str]
    ged: np.ndarray

    @property
    def n_train(self) -> int:
        return len(self.train_ids)

    def similarity(self) -> np.ndarray:
        """``(n, n)`` exp(-nGED) ground truth."""
        s = np.array(self.graphs.sizes(), np.float64)
        return ged_similarity(self.ged, s[:, None], s[None, :])

    def train_table(self) -> GEDTable:
        """All unordered training pairs ``i < j`` as a :class:`GEDTable`."""
        n = self.n_train
        iu, ju = np.triu_indices(n, 1)
        ids = self.graphs.ids
        return GEDTable(
            [ids[i] for i in iu],
            [ids[j] for j in ju],
            self.ged[iu, ju].astype(np.float64),
            np.ones(len(iu), bool),
        )


def load_ged_benchmark(name: str, root: str | Path | None = None) -> GEDBenchmark:
    """Load ``AIDS700nef`` or ``LINUX`` from the shared data folder (or `root`, the ``ged_<name>`` folder)."""
    canon = {b.lower(): b for b in BENCHMARKS}.get(name.lower())
    if canon is None:
        raise UnknownNameError("GED benchmark", name, BENCHMARKS)
    if root is None:
        from simlab.paths import shared_dataset

        root = shared_dataset(f"ged_{canon}")
    if root is None:  # shared_dataset raises when the folder is missing; kept for the type checker
        raise DataError(f"GED benchmark {canon} not found")
    root = Path(root)
    import torch

    ids: dict[str, list[str]] = {}
    graphs: list[Any] = []
    for split in ("train", "test"):
        d = root / "raw" / canon / split
        if not d.is_dir():
            raise DataError("split folder not found", d)
        files = sorted(d.glob("*.gexf"), key=lambda p: int(p.stem))
        ids[split] = [p.stem for p in files]
        graphs += [read_graph_file(p) for p in files]
    gpath = root / "processed" / f"{canon}_ged.pt"
    if not gpath.is_file():
        raise DataError("GED matrix not found", gpath)
    try:
        ged = torch.load(gpath, weights_only=True).double().numpy()
    except Exception as exc:  # refused by weights_only (pickled code), truncated or not a torch file
        raise DataError(
            f"not a plain tensor file ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})", gpath
        ) from None
    all_ids = ids["train"] + ids["test"]
    if ged.shape != (len(all_ids), len(all_ids)):
        raise DataError(f"GED matrix has shape {ged.shape}, expected {len(all_ids)} graphs", gpath)
    return GEDBenchmark(canon, GraphSet(graphs, all_ids, root), ids["train"], ids["test"], ged)
