"""Nearest-neighbour indexes over keyed vectors: an exact BLAS backend (the reference) and FAISS.

Usage::

    idx = Index("faiss", metric="cosine", factory="HNSW32", efSearch=64).add(keys, matrix)
    hits = idx.search(queries, k=10)              # Hits: keys (q lists of k), scores (q, k)
    hits = idx.search(queries, k=10, efSearch=256) # per-call override of a recall setting
    idx.save("runs/idx"); idx2 = Index.load("runs/idx")

Metrics: ``cosine`` (vectors and queries are L2-normalised, then inner product), ``dot`` (inner product),
``euclidean`` and ``sqeuclidean``. Scores follow simlab's convention "higher = more similar": Euclidean scores
are *negated* distances.

Backends are registered in :data:`simlab.registry.INDEXES` (``exact``, ``faiss``). A backend is a class with a
nested frozen dataclass ``Config`` (its options) and the small interface of :class:`ExactBackend`.

FAISS is imported lazily (``simlab._deps.require("faiss")``); importing this module never loads it. When
simlab loads FAISS it lowers ``faiss.cvar.distance_compute_blas_threshold`` to :data:`FAISS_BLAS_THRESHOLD`:
with the default of faiss-cpu 1.15, any batch smaller than the threshold takes a non-BLAS path that rescans
the database once per query (about 19x slower for batches of a few hundred queries on a flat index or an IVF
coarse quantizer). This is a process-wide FAISS setting.
"""

from __future__ import annotations

from simlab.index.common import INDEX_METRICS, resolve_metric
from simlab.index.core import Index, recall_at_k
from simlab.index.exact import ExactBackend, ExactConfig
from simlab.index.faiss_backend import FAISS_BLAS_THRESHOLD, FaissBackend, FaissConfig
from simlab.registry import INDEXES, KINDS

__all__ = [
    "FAISS_BLAS_THRESHOLD",
    "INDEX_METRICS",
    "ExactBackend",
    "ExactConfig",
    "FaissBackend",
    "FaissConfig",
    "Index",
    "recall_at_k",
    "resolve_metric",
]

INDEXES.register(
    "exact",
    "simlab.index.exact:ExactBackend",
    help="exact search: BLAS inner products + chunked top-k, exact group pruning",
)
INDEXES.register(
    "faiss",
    "simlab.index.faiss_backend:FaissBackend",
    help="FAISS index from a factory string (HNSW32, IVF256,Flat, IVF256,PQ16, Flat ...)",
)
INDEXES.register(
    "hnswlib",
    "simlab.index.graphs:HnswlibBackend",
    help="hnswlib HNSW graph (M, efConstruction, efSearch; pip install 'simlab[ann]')",
)
INDEXES.register(
    "usearch",
    "simlab.index.graphs:UsearchBackend",
    help="usearch HNSW graph (M, efConstruction, efSearch; pip install 'simlab[ann]')",
)
INDEXES.register(
    "scann",
    "simlab.index.scann_backend:ScannBackend",
    help="Google ScaNN: k-means tree + anisotropic quantisation + re-ranking (pip install 'simlab[scann]')",
)
INDEXES.register(
    "auto",
    "simlab.index.auto:AutoBackend",
    help="measure the installed backends on the data, keep the fastest at target_recall (default 0.95)",
)
KINDS.register(
    "index",
    "simlab.index:Index",
    help="nearest-neighbour index (exact, faiss, hnswlib, usearch, scann, auto)",
)
KINDS.register("pca", "simlab.index.reduce:PCA", help="PCA dimensionality reduction")
KINDS.register(
    "random-projection",
    "simlab.index.reduce:RandomProjection",
    aliases=("random_projection",),
    help="Gaussian random projection",
)
