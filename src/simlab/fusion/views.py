"""Views of a fused model: what turns an item into one view's vector.

Every view has ``encode(items) -> (matrix (n, d) float32, present (n,) bool)``; an absent view is a zero row
with ``present=False``. Two kinds:

- :class:`KeyedView` -- a :class:`~simlab.Vectors` (or any simlab model with ``.vectors``) keyed by item ids;
  an id it lacks is a missing view.
- :class:`SeriesChannels` -- a group of channels of multivariate series (e.g. the accelerometer of a motion
  recording): the channels are resampled to a fixed length, z-normalised per channel and flattened; a series
  whose group is all NaN is a missing view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError
from simlab.vectors import Vectors


class KeyedView:
    """A view given as vectors keyed by item ids.

    Args:
        vectors: a :class:`Vectors`, or a model with a ``vectors`` attribute (node embedders, word models).
    """

    keyed = True

    def __init__(self, vectors: Any) -> None:
        vecs = vectors if isinstance(vectors, Vectors) else getattr(vectors, "vectors", None)
        if not isinstance(vecs, Vectors):
            raise ConfigError(
                f"a {type(vectors).__name__} is not a view: give Vectors or a model with .vectors"
            )
        self.vectors = vecs

    @property
    def dim(self) -> int:
        return self.vectors.dim

    @property
    def keys(self) -> list[Any]:
        return self.vectors.keys

    def lookup(self, key: Any) -> Any:
        """`key`, or its int/str twin when only that one is a key; None when absent."""
        from simlab.fusion.nodes import _key

        k = _key(key, self.vectors)
        return k if k in self.vectors else None

    def encode(self, items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """``(n, dim)`` vectors of the item ids and the ``(n,)`` mask of ids this view has."""
        out = np.zeros((len(items), self.dim), np.float32)
        present = np.zeros(len(items), bool)
        for i, item in enumerate(items):
            k = self.lookup(item)
            if k is not None:
                out[i] = self.vectors.matrix[self.vectors.key_to_index[k]]
                present[i] = True
        return out, present

    def without(self, keys: set[Any]) -> KeyedView:
        """A copy lacking `keys` (to simulate missing views)."""
        keep = [k for k in self.vectors.keys if k not in keys]
        return KeyedView(self.vectors.subset(keep))

    def state(self) -> dict[str, Any]:
        return {"type": "keyed", "dim": self.dim, "count": len(self.vectors)}


class SeriesChannels:
    """A group of channels of multivariate series as one view.

    Args:
        channels: channel indices (0-based) of the group.
        length: steps every series is resampled to.
    """

    keyed = False

    def __init__(self, channels: Sequence[int], length: int = 100) -> None:
        self.channels = [int(c) for c in channels]
        if not self.channels or min(self.channels) < 0 or length < 2:
            raise ConfigError(
                f"a channel group needs channels >= 0 and length >= 2, got {channels}, {length}"
            )
        self.length = int(length)

    @property
    def dim(self) -> int:
        return self.length * len(self.channels)

    def encode(self, items: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Items are ``(length_i, C)`` series; returns ``(n, length * |group|)`` and the present mask."""
        from simlab.sequence.evaluation import impute, resample

        out = np.zeros((len(items), self.dim), np.float32)
        present = np.zeros(len(items), bool)
        for i, s in enumerate(items):
            s = np.asarray(s, np.float64)
            s = s[:, None] if s.ndim == 1 else s
            if s.shape[1] <= max(self.channels):
                raise DataError(
                    f"series {i} has {s.shape[1]} channels; the view needs channel {max(self.channels)}"
                )
            g = s[:, self.channels]
            if np.isnan(g).all():
                continue
            g = resample(impute(g), self.length)
            g = (g - g.mean(0)) / np.where(g.std(0) > 1e-8, g.std(0), 1.0)
            out[i] = g.ravel()
            present[i] = True
        return out, present

    def state(self) -> dict[str, Any]:
        return {"type": "series", "channels": self.channels, "length": self.length}


def view_from_state(state: dict[str, Any], vectors: Vectors | None = None) -> KeyedView | SeriesChannels:
    """Rebuild a view from :meth:`state` (and its vectors for a keyed view)."""
    if state.get("type") == "keyed" and vectors is not None:
        return KeyedView(vectors)
    if state.get("type") == "series":
        return SeriesChannels(state["channels"], state["length"])
    raise ConfigError(f"unknown view state {state!r}")


def coerce_view(obj: Any) -> KeyedView | SeriesChannels:
    """A view from a view, Vectors, a model with ``.vectors``, or an artifact path."""
    if isinstance(obj, KeyedView | SeriesChannels):
        return obj
    if isinstance(obj, str) or hasattr(obj, "__fspath__"):
        from simlab.artifacts import load

        obj = load(obj)
    return KeyedView(obj)
