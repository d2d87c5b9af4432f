"""Read the Planetoid citation graphs (Cora, CiteSeer) from their raw files with a restricted unpickler.

The raw files (Yang et al., ICML 2016) are python-2 pickles of numpy arrays, scipy CSR matrices and a
``defaultdict(list)``. simlab never unpickles untrusted data with the plain unpickler: :class:`_SafeUnpickler`
only resolves the handful of globals these files use, and maps the scipy / collections ones to inert
placeholders that merely collect their state (numpy's own array reconstruction is the only real code path).
Any other global raises :class:`~simlab.errors.DataError`.

Feature and edge processing follows PyG's ``read_planetoid_data`` (test rows re-ordered by ``test.index``,
CiteSeer's isolated test nodes padded with zero features, self-loops and duplicate edges removed).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError, UnknownNameError

NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}


def _raw_folder(root: str | Path | None, canon: str) -> Path:
    """``ROOT/<name>/raw`` (default ROOT: the shared ``planetoid`` folder)."""
    if root is None:
        from simlab.paths import shared_dataset

        root = shared_dataset("planetoid")
    if root is None:  # shared_dataset raises when the folder is missing; kept for the type checker
        raise DataError("Planetoid data not found")
    return Path(root) / canon / "raw"


class _CSRState:
    """Placeholder for ``scipy.sparse.csr_matrix``: keeps the pickled attributes only."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


class _DefaultDict(dict[Any, Any]):
    """Placeholder for ``collections.defaultdict`` (the factory argument is ignored)."""

    def __init__(self, *args: Any) -> None:
        super().__init__()


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed: dict[tuple[str, str], Any] = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): np.dtype,
            ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct(),
            ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct(),
            ("scipy.sparse.csr", "csr_matrix"): _CSRState,
            ("scipy.sparse._csr", "csr_matrix"): _CSRState,
            ("collections", "defaultdict"): _DefaultDict,
            ("__builtin__", "list"): list,
            ("builtins", "list"): list,
        }
        try:
            return allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global {module}.{name} is not allowed in a Planetoid file"
            ) from None


def _np_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _load(path: Path) -> Any:
    try:
        with path.open("rb") as f:
            obj = _SafeUnpickler(f, encoding="latin1").load()
    except FileNotFoundError:
        raise DataError("Planetoid raw file not found", path) from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise DataError(f"unreadable Planetoid file ({exc})", path) from None
    if isinstance(obj, _CSRState):
        from scipy.sparse import csr_matrix

        st = obj.state
        return csr_matrix((st["data"], st["indices"], st["indptr"]), shape=st["_shape"]).toarray()
    return obj


def load_planetoid(name: str, root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load Cora or CiteSeer.

    Args:
        name: ``Cora`` or ``CiteSeer`` (case-insensitive).
        root: the ``planetoid`` folder (default: ``shared/data/planetoid``).

    Returns:
        ``(x (n, F) float32, edge_index (2, E) int64 with both directions, y (n,) int64)``.
    """
    canon = NAMES.get(name.lower())
    if canon is None:
        raise UnknownNameError("Planetoid dataset", name, NAMES.values())
    raw = _raw_folder(root, canon)
    pre = f"ind.{canon.lower()}"
    tx, allx, ty, ally = (np.asarray(_load(raw / f"{pre}.{k}")) for k in ("tx", "allx", "ty", "ally"))
    graph = _load(raw / f"{pre}.graph")
    test_index = np.array([int(v) for v in (raw / f"{pre}.test.index").read_text().split()], np.int64)
    test_range = np.sort(test_index)
    if canon == "CiteSeer":
        full = np.arange(test_range.min(), test_range.max() + 1)
        tx_ext = np.zeros((len(full), tx.shape[1]), tx.dtype)
        tx_ext[test_range - test_range.min()] = tx
        ty_ext = np.zeros((len(full), ty.shape[1]), ty.dtype)
        ty_ext[test_range - test_range.min()] = ty
        tx, ty = tx_ext, ty_ext
    feats = np.vstack([allx, tx]).astype(np.float32)
    labels = np.vstack([ally, ty]).argmax(1)
    feats[test_index] = feats[test_range]
    labels[test_index] = labels[test_range]
    rows, cols = [], []
    for u, nbrs in graph.items():
        for v in nbrs:
            rows.append(int(u))
            cols.append(int(v))
    e = np.array([rows + cols, cols + rows], np.int64)
    e = e[:, e[0] != e[1]]
    e = np.unique(e, axis=1)
    return feats, e, labels.astype(np.int64)


def planetoid_split(name: str, root: str | Path | None = None) -> dict[str, np.ndarray]:
    """The standard Planetoid split (Yang et al., ICML 2016; Kipf & Welling 2017) of Cora or CiteSeer.

    Train: the first ``len(ind.NAME.y)`` nodes (20 per class); validation: the next 500; test: the 1,000
    nodes of ``ind.NAME.test.index``. Node order matches :func:`load_planetoid`.

    Returns:
        ``{"train": idx, "val": idx, "test": idx}`` int64 node indices.
    """
    canon = NAMES.get(name.lower())
    if canon is None:
        raise UnknownNameError("Planetoid dataset", name, NAMES.values())
    raw = _raw_folder(root, canon)
    n_train = int(np.asarray(_load(raw / f"ind.{canon.lower()}.y")).shape[0])
    test = np.array(
        sorted(int(v) for v in (raw / f"ind.{canon.lower()}.test.index").read_text().split()), np.int64
    )
    return {
        "train": np.arange(n_train, dtype=np.int64),
        "val": np.arange(n_train, n_train + 500, dtype=np.int64),
        "test": test,
    }
