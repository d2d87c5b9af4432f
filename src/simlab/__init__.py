"""simlab: learn, measure and search similarity between words, documents, sequences and graphs.

``import simlab`` is light: it loads numpy and simlab's core only. torch, gensim, faiss and PyTorch Geometric
are imported by the features that need them.

Example:
    >>> import numpy as np, simlab
    >>> v = simlab.Vectors(["a", "b", "c"], np.eye(3, dtype="float32"))
    >>> v.most_similar("a", k=1).keys
    ['b']
"""

from __future__ import annotations

import logging
from typing import Any

from simlab.artifacts import info, load
from simlab.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    DimensionError,
    MissingDependency,
    NotFittedError,
    SimlabError,
    UnknownKeyError,
    UnknownNameError,
)
from simlab.metrics import distance, pairwise, pairwise_distance, rowwise, similarity, topk
from simlab.vectors import Hits, Vectors

__version__ = "0.1.0"

logging.getLogger("simlab").addHandler(logging.NullHandler())

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DimensionError",
    "Hits",
    "Index",
    "MissingDependency",
    "NotFittedError",
    "SimlabError",
    "UnknownKeyError",
    "UnknownNameError",
    "Vectors",
    "__version__",
    "distance",
    "info",
    "load",
    "pairwise",
    "pairwise_distance",
    "rowwise",
    "similarity",
    "topk",
]


def __getattr__(name: str) -> Any:
    # Index lives in an L1 module (it may load faiss lazily); resolve it on first access.
    if name == "Index":
        from simlab.index import Index

        return Index
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")
