"""Node classification on frozen embeddings (evaluator ``nodeclass``) and same-class retrieval.

``nodeclass:Cora`` / ``nodeclass:CiteSeer`` use the standard Planetoid split (20 labelled nodes per class for
training, 500 for validation, 1,000 for testing); ``nodeclass:FILE`` reads a node graph (see
:mod:`simlab.fusion.data`) with ``label`` per node and its ``split`` (without one: 20 nodes per class for
training, 500 (at most a quarter) for validation, the rest for testing, drawn with seed 0).

Protocol (as in DGI, Velickovic et al., ICLR 2019): embeddings are frozen and L2-normalised; a logistic
regression is trained on the training nodes for each ``C`` in a grid, ``C`` is **chosen on the validation
nodes** and the test accuracy of that choice is reported. Same-class retrieval ``p@10``: for every test node,
the share of its 10 nearest nodes (cosine, over all labelled nodes, itself excluded) with its label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.evaluate import Report

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _target_data(target: str) -> tuple[list[Any], np.ndarray, dict[str, np.ndarray], str]:
    """(keys, labels, split, name) of a ``nodeclass`` target."""
    if not target:
        raise ConfigError("nodeclass needs a target: nodeclass:Cora, nodeclass:CiteSeer or nodeclass:FILE")
    if target.lower() in ("cora", "citeseer") and not Path(target).exists():
        from simlab.graph.planetoid import NAMES, load_planetoid, planetoid_split

        _, _, y = load_planetoid(target)
        return list(range(len(y))), y.astype(str), planetoid_split(target), NAMES[target.lower()]
    from simlab.fusion.data import read_node_graph

    g = read_node_graph(target)
    if g.labels is None:
        raise ConfigError(f"{target}: nodeclass needs a 'label' on every node")
    split = g.split_index() if g.split is not None else default_split(g.labels)
    return g.keys, g.labels, split, g.name


def default_split(
    labels: np.ndarray, per_class: int = 20, val: int = 500, seed: int = 0
) -> dict[str, np.ndarray]:
    """Planetoid-style split of labelled nodes: `per_class` per class for training, `val` (at most a quarter
    of the rest) for validation, the rest for testing."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    train = np.concatenate([order[labels[order] == c][:per_class] for c in np.unique(labels)])
    rest = np.setdiff1d(order, train, assume_unique=True)
    rest = rest[rng.permutation(len(rest))]
    n_val = min(val, len(rest) // 4)
    return {"train": np.sort(train), "val": np.sort(rest[:n_val]), "test": np.sort(rest[n_val:])}


def node_matrix(model: Any, keys: list[Any]) -> np.ndarray:
    """``(n, d)`` embeddings of `keys` from Vectors, a model with ``.vectors``, or a model with
    ``encode(keys)``."""
    from simlab.fusion.nodes import _key
    from simlab.vectors import Vectors

    vecs = model if isinstance(model, Vectors) else getattr(model, "vectors", None)
    if isinstance(vecs, Vectors):
        missing = [k for k in keys if _key(k, vecs) not in vecs]
        if missing:
            raise ConfigError(
                f"{len(missing)} evaluation nodes have no embedding (e.g. {missing[0]!r}); was the "
                "model trained on this graph?"
            )
        return vecs[[_key(k, vecs) for k in keys]]
    from simlab.model import can

    if can(model, "embeds"):
        return np.asarray(model.encode(keys), np.float32)
    raise ConfigError(f"a {type(model).__name__} has no node embeddings to evaluate")


def classify(
    z: np.ndarray,
    y: np.ndarray,
    split: dict[str, np.ndarray],
    grid: tuple[float, ...] = C_GRID,
    threads: int = 1,
) -> dict[str, float]:
    """Logistic regression on frozen, L2-normalised embeddings; ``C`` chosen on the validation nodes.

    Args:
        threads: BLAS threads during the fits (1 by default: several threads on a busy machine were ~10x
            slower on CiteSeer).

    Returns:
        ``{"accuracy": test, "val_accuracy": val, "C": chosen}``.
    """
    from simlab._deps import require

    require("sklearn")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        return _classify(z, y, split, grid)


def _classify(
    z: np.ndarray, y: np.ndarray, split: dict[str, np.ndarray], grid: tuple[float, ...]
) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression

    z = np.asarray(z, np.float64)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    tr, va, te = split["train"], split["val"], split["test"]
    if len(np.unique(y[tr])) < 2:
        raise ConfigError("the training nodes need at least two classes")
    best: tuple[float, float, float] | None = None
    for c in grid:
        clf = LogisticRegression(C=c, max_iter=3000).fit(z[tr], y[tr])
        v = float(clf.score(z[va], y[va])) if len(va) else 0.0
        if best is None or v > best[0]:
            best = (v, float(clf.score(z[te], y[te])), c)
    assert best is not None
    return {"accuracy": best[1], "val_accuracy": best[0], "C": best[2]}


def same_class_precision(z: np.ndarray, y: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Mean share of the `k` nearest rows (cosine, query excluded) of each query row that share its label."""
    from simlab.metrics import topk

    idx, _ = topk(z[queries], z, k + 1, "cosine")
    hits = []
    for q, row in zip(queries, idx, strict=True):
        row = [j for j in row if j != q][:k]
        hits.append(np.mean(y[row] == y[q]))
    return float(np.mean(hits))


def evaluate_nodeclass(model: Any, target: str = "", k: int = 10, **_: Any) -> Report:
    """Evaluator ``nodeclass``: test accuracy of a logistic regression on frozen node embeddings (``C`` chosen
    on validation nodes), validation accuracy, and same-class retrieval p@k of the test nodes."""
    keys, y, split, name = _target_data(target)
    z = node_matrix(model, keys)
    m = classify(z, y, split)
    labelled = np.concatenate([split["train"], split["val"], split["test"]])
    zl, yl = z[labelled], y[labelled]
    q = np.arange(len(split["train"]) + len(split["val"]), len(labelled))
    m[f"p@{k}"] = same_class_precision(zl, yl, q, k)
    counts = {
        "nodes": len(keys),
        "train": len(split["train"]),
        "val": len(split["val"]),
        "test": len(split["test"]),
        "classes": len(np.unique(y)),
        "dim": int(z.shape[1]),
    }
    return Report(
        f"nodeclass:{name}",
        "accuracy",
        m,
        counts,
        {"protocol": "logistic regression on frozen L2-normalised embeddings; C chosen on validation"},
    )
