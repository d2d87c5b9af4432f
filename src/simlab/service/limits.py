"""Request limits of the service and the checks that turn raw JSON items into model inputs.

Every raw item that reaches a model goes through :func:`decode_items`, which checks the limits (a limit breach
is :class:`LimitExceeded`, answered 413) and the item's shape (a malformed item is a
:class:`~simlab.errors.DataError`, answered 422).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.errors import DataError


class LimitExceeded(DataError):
    """A request is larger than the service's limits (answered with HTTP 413)."""


@dataclass(frozen=True)
class Limits:
    """Per-request limits.

    Attributes:
        max_items: items, queries, pairs or ids in one request.
        max_text_chars: characters of one text / word / id.
        max_series_len: time steps of one series (times its channels at most 64 x this many values).
        max_graph_nodes / max_graph_edges: size of one graph.
        max_k: neighbours per query.
        max_body_bytes: size of one request body.
        max_metadata_bytes: JSON size of one item's metadata.
        max_dim: dimension of a collection's vectors.
    """

    max_items: int = 1024
    max_text_chars: int = 10_000
    max_series_len: int = 10_000
    max_graph_nodes: int = 500
    max_graph_edges: int = 5_000
    max_k: int = 1000
    max_body_bytes: int = 64 * 1024 * 1024
    max_metadata_bytes: int = 16 * 1024
    max_dim: int = 4096

    def check_count(self, n: int, what: str = "items") -> None:
        """Raise :class:`LimitExceeded` when a request carries more than ``max_items`` things."""
        if n > self.max_items:
            raise LimitExceeded(f"{n} {what} in one request; the limit is {self.max_items}")

    def check_text(self, s: Any, what: str = "text") -> str:
        """A string within ``max_text_chars``."""
        if not isinstance(s, str):
            raise DataError(f"{what}: expected a string, got {type(s).__name__}")
        if len(s) > self.max_text_chars:
            raise LimitExceeded(f"{what} has {len(s)} characters; the limit is {self.max_text_chars}")
        return s


def _series(obj: Any, limits: Limits, where: str) -> np.ndarray:
    if not isinstance(obj, list) or not obj:
        raise DataError(f"{where}: a series is a non-empty list of numbers or of lists of numbers")
    if len(obj) > limits.max_series_len:
        raise LimitExceeded(f"{where}: series of length {len(obj)}; the limit is {limits.max_series_len}")
    flat = obj if not isinstance(obj[0], list) else [v for row in obj if isinstance(row, list) for v in row]
    if isinstance(obj[0], list) and (len(flat) > 64 * limits.max_series_len):
        raise LimitExceeded(
            f"{where}: series with {len(flat)} values; the limit is {64 * limits.max_series_len}"
        )
    for v in flat:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise DataError(f"{where}: series values must be numbers (null for a missing value)")
        if isinstance(v, float) and math.isinf(v):
            raise DataError(f"{where}: series values must be finite")
    try:
        arr = np.array(
            [[np.nan if v is None else v for v in row] for row in obj]
            if isinstance(obj[0], list)
            else [np.nan if v is None else v for v in obj],
            dtype=np.float32,
        )
    except ValueError:
        raise DataError(f"{where}: every time step needs the same number of channels") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise DataError(f"{where}: a series is (length,) or (length, channels)")
    if np.isnan(arr).all():
        raise DataError(f"{where}: every value of the series is missing")
    return arr


def _graph(obj: Any, limits: Limits, where: str) -> Any:
    from simlab.graph.io import node_link_to_graph, normalize_graph

    if not isinstance(obj, dict):
        raise DataError(f"{where}: a graph is a node-link object {{'nodes': [...], 'edges': [...]}}")
    nodes, edges = obj.get("nodes"), obj.get("edges", obj.get("links", []))
    if isinstance(nodes, list) and len(nodes) > limits.max_graph_nodes:
        raise LimitExceeded(f"{where}: graph with {len(nodes)} nodes; the limit is {limits.max_graph_nodes}")
    if isinstance(edges, list) and len(edges) > limits.max_graph_edges:
        raise LimitExceeded(f"{where}: graph with {len(edges)} edges; the limit is {limits.max_graph_edges}")
    if isinstance(nodes, list):
        for n in nodes:
            if isinstance(n, dict) and not isinstance(n.get("id"), str | int):
                raise DataError(f"{where}: node ids must be strings or integers")
    g = node_link_to_graph(obj, where)
    return normalize_graph(g, obj.get("id", where))


def decode_items(items: list[Any], item_type: str, limits: Limits) -> list[Any]:
    """Raw JSON items -> model inputs, checked against the limits.

    Args:
        items: JSON values (strings, series as nested lists, node-link graphs).
        item_type: ``word``, ``text``, ``key``, ``series`` or ``graph``.
        limits: the service's limits.

    Returns:
        strings, ``(len, C)`` float32 arrays, or networkx graphs.

    Raises:
        LimitExceeded: too many items or an item too large. DataError: a malformed item.
    """
    limits.check_count(len(items))
    if item_type == "series":
        return [_series(x, limits, f"item {i}") for i, x in enumerate(items)]
    if item_type == "graph":
        return [_graph(x, limits, f"item {i}") for i, x in enumerate(items)]
    if item_type == "key":
        return [
            x if isinstance(x, int) and not isinstance(x, bool) else limits.check_text(x, f"key {i}")
            for i, x in enumerate(items)
        ]
    return [limits.check_text(x, f"item {i}") for i, x in enumerate(items)]
