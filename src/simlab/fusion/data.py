"""Node-attributed graphs for fusion: the JSON-lines node-link reader/writer and a contextual SBM generator.

Input format (one graph on the first non-empty line of a ``.jsonl`` file, or a ``.json`` file)::

    {"id": "cites", "nodes": [{"id": "p1", "x": [0.1, 0.0, 2.0], "label": "ml", "split": "train"},
                              {"id": "p2", "text": "graph neural networks", "label": "db"}],
     "edges": [{"source": "p1", "target": "p2"}]}

Per node: ``x`` (a list of floats, every node the same length) or ``text`` (turned into a binary bag of
words over the graph's vocabulary), an optional ``label`` and an optional ``split`` (``train`` / ``val`` /
``test``). Edges are undirected; self-loops and duplicates are dropped. Core-layer module (numpy only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError

SPLITS = ("train", "val", "test")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass
class NodeGraph:
    """One graph with per-node features, labels and split.

    Attributes:
        keys: node ids, in row order.
        edge_index: ``(2, E)`` int64, both directions, no self-loops.
        x: ``(n, F)`` float32 node features (from ``x``, or a bag of words of ``text``), or None.
        labels: ``(n,)`` str labels, or None.
        split: ``(n,)`` str in ``train``/``val``/``test``/``""`` (unassigned), or None.
        name: the graph's id or file stem.
    """

    keys: list[Any]
    edge_index: np.ndarray
    x: np.ndarray | None = None
    labels: np.ndarray | None = None
    split: np.ndarray | None = None
    name: str = ""

    def __len__(self) -> int:
        return len(self.keys)

    def split_index(self) -> dict[str, np.ndarray]:
        """``{"train": idx, "val": idx, "test": idx}`` of the labelled nodes."""
        if self.labels is None:
            raise DataError(f"graph {self.name!r} has no node labels")
        if self.split is None or not (self.split == "train").any():
            raise DataError(f"graph {self.name!r} has no node 'split' (train/val/test)")
        return {s: np.flatnonzero(self.split == s) for s in SPLITS}

    def to_jsonl(self, path: str | Path) -> Path:
        """Write the graph as one JSON line in the node-link form."""
        nodes = []
        for i, k in enumerate(self.keys):
            rec: dict[str, Any] = {"id": k}
            if self.x is not None:
                rec["x"] = [round(float(v), 6) for v in self.x[i]]
            if self.labels is not None:
                rec["label"] = str(self.labels[i])
            if self.split is not None and self.split[i]:
                rec["split"] = str(self.split[i])
            nodes.append(rec)
        und = self.edge_index[:, self.edge_index[0] < self.edge_index[1]]
        edges = [{"source": self.keys[a], "target": self.keys[b]} for a, b in und.T.tolist()]
        p = Path(path)
        p.write_text(json.dumps({"id": self.name or "graph", "nodes": nodes, "edges": edges}) + "\n", "utf-8")
        return p


def bag_of_words(texts: list[str], min_count: int = 1, max_share: float = 0.5) -> np.ndarray:
    """Binary bag of words ``(n, V)``: lower-cased alphanumeric tokens seen in at least `min_count` texts and
    in at most `max_share` of them (stop words out), vocabulary in sorted order."""
    docs = [set(_TOKEN.findall(t.lower())) for t in texts]
    df: dict[str, int] = {}
    for d in docs:
        for w in d:
            df[w] = df.get(w, 0) + 1
    cap = max(1, int(max_share * len(docs))) if len(docs) > 2 else len(docs)
    vocab = sorted(w for w, c in df.items() if min_count <= c <= cap)
    pos = {w: i for i, w in enumerate(vocab)}
    x = np.zeros((len(docs), max(1, len(vocab))), np.float32)
    for i, d in enumerate(docs):
        for w in d:
            j = pos.get(w)
            if j is not None:
                x[i, j] = 1.0
    return x


def _node_features(nodes: list[dict[str, Any]], path: Any) -> np.ndarray | None:
    if all("x" in n for n in nodes):
        try:
            x = np.array([np.ravel(np.asarray(n["x"], np.float32)) for n in nodes], np.float32)
        except ValueError:
            raise DataError("node 'x' vectors must all have the same length", path) from None
        if x.ndim != 2 or not np.isfinite(x).all():
            raise DataError("node 'x' must be finite numbers of one length", path)
        return x
    if all("text" in n for n in nodes):
        return bag_of_words([str(n["text"]) for n in nodes])
    if any("x" in n or "text" in n for n in nodes):
        missing = next(n["id"] for n in nodes if "x" not in n and "text" not in n)
        raise DataError(f"node {missing!r} has neither 'x' nor 'text' (give every node one of them)", path)
    return None


def node_graph_from_dict(obj: dict[str, Any], path: Any = None) -> NodeGraph:
    """A :class:`NodeGraph` from a node-link dict (see the module docstring)."""
    nodes, edges = obj.get("nodes"), obj.get("edges", obj.get("links", []))
    if not isinstance(nodes, list) or not nodes or not isinstance(edges, list):
        raise DataError("a node graph needs a non-empty 'nodes' list and an 'edges' list", path)
    if any(not isinstance(n, dict) or "id" not in n for n in nodes):
        raise DataError("every node needs an 'id'", path)
    keys = [n["id"] for n in nodes]
    pos = {k: i for i, k in enumerate(keys)}
    if len(pos) != len(keys):
        raise DataError("duplicate node id", path)
    pairs = []
    for j, e in enumerate(edges):
        try:
            a, b = pos[e["source"]], pos[e["target"]]
        except (KeyError, TypeError):
            raise DataError(f"edge #{j} needs 'source' and 'target' among the node ids", path) from None
        if a != b:
            pairs += [(a, b), (b, a)]
    ei = (
        np.unique(np.array(pairs, np.int64).reshape(-1, 2), axis=0).T if pairs else np.zeros((2, 0), np.int64)
    )
    labels = np.array([str(n["label"]) for n in nodes]) if all("label" in n for n in nodes) else None
    split = None
    if any("split" in n for n in nodes):
        split = np.array([str(n.get("split", "")) for n in nodes])
        bad = sorted(set(split) - {*SPLITS, ""})
        if bad:
            raise DataError(f"node 'split' must be train, val or test, got {bad[0]!r}", path)
    return NodeGraph(
        keys,
        np.ascontiguousarray(ei),
        _node_features(nodes, path),
        labels,
        split,
        str(obj.get("id", Path(str(path)).stem if path else "graph")),
    )


def read_node_graph(path: str | Path) -> NodeGraph:
    """Read a node-attributed graph: the first line of a ``.jsonl`` file, or a ``.json`` file."""
    p = Path(path)
    if not p.is_file():
        raise DataError("node graph file not found", p)
    text = p.read_text("utf-8")
    line = next((ln for ln in text.splitlines() if ln.strip()), "") if p.suffix.lower() != ".json" else text
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON at column {exc.colno}: {exc.msg}", p, 1) from None
    if not isinstance(obj, dict):
        raise DataError("a node graph must be a JSON object", p, 1)
    return node_graph_from_dict(obj, p)


def contextual_sbm(
    n: int = 600,
    classes: int = 3,
    degree: float = 8.0,
    homophily: float = 0.62,
    dim: int = 16,
    signal: float = 1.2,
    seed: int = 0,
    split: tuple[int, int] = (20, 100),
) -> NodeGraph:
    """A contextual stochastic block model (Deshpande et al., NeurIPS 2018): neither view alone suffices.

    Nodes get a class uniformly; an edge joins two nodes with probability ``p_in`` (same class) or ``p_out``
    so that the mean degree is `degree` and a share `homophily` of the edges are within-class. Features are
    ``x = signal * mu_class + N(0, I)`` with random unit class means ``mu`` in ``R^dim``, so features alone
    classify poorly at a small `signal`, the structure alone is noisy at a low `homophily`, and the two
    together (e.g. feature propagation) classify well.

    Args:
        split: ``(train per class, validation nodes)``; the rest is test.

    Returns:
        A :class:`NodeGraph` with integer keys, labels ``"c0".."c{k-1}"`` and a split.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    n_same = sum(int((y == c).sum()) ** 2 for c in range(classes)) / 2
    n_diff = n * (n - 1) / 2 - n_same
    m = degree * n / 2
    p_in, p_out = min(1.0, homophily * m / n_same), min(1.0, (1 - homophily) * m / max(n_diff, 1))
    iu = np.triu_indices(n, 1)
    prob = np.where(y[iu[0]] == y[iu[1]], p_in, p_out)
    keep = rng.random(len(prob)) < prob
    a, b = iu[0][keep], iu[1][keep]
    ei = np.concatenate([np.stack([a, b]), np.stack([b, a])], 1).astype(np.int64)
    mu = rng.normal(size=(classes, dim))
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    x = (signal * mu[y] + rng.normal(size=(n, dim))).astype(np.float32)
    sp = np.full(n, "test", dtype=object)
    order = rng.permutation(n)
    for c in range(classes):
        sp[[i for i in order if y[i] == c][: split[0]]] = "train"
    rest = [i for i in order if sp[i] == "test"]
    sp[rest[: split[1]]] = "val"
    return NodeGraph(list(range(n)), ei, x, np.array([f"c{c}" for c in y]), sp.astype(str), "csbm")
