"""The GED benchmarks of SimGNN (AIDS700nef, LINUX) read from ``../shared/data`` without unpickling.

Graphs come from ``raw/<name>/{train,test}/<gid>.gexf`` (networkx), the GED matrix from
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
    root = Path(root)  # type: ignore[arg-type]
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
