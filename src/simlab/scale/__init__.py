"""Scale out: batch embedding, k-NN joins and all-pairs graph similarity on one process or a Ray cluster.

The same functions run on either engine and write the same output::

    simlab.scale.embed("runs/d2v", "corpus.jsonl", "runs/emb", engine="ray", cpus=2)
    simlab.scale.join("runs/emb", "runs/emb", k=10, out="runs/knn", engine="ray", address="auto")
    simlab.scale.pairs("graphs.jsonl", "runs/ged.tsv", method="editpath", engine="ray")

Importing this package imports neither Ray nor pyarrow (``pip install 'simlab[ray]'`` for them). See
docs/scale.md.
"""

from __future__ import annotations

from simlab._deps import lazy_attributes

_LAZY = {
    "Engine": "simlab.scale.engine:Engine",
    "embed": "simlab.scale.batch_embed:embed",
    "EmbedResult": "simlab.scale.batch_embed:EmbedResult",
    "read_vectors": "simlab.scale.batch_embed:read_vectors",
    "join": "simlab.scale.knn_join:join",
    "JoinResult": "simlab.scale.knn_join:JoinResult",
    "read_join": "simlab.scale.knn_join:read_join",
    "pairs": "simlab.scale.all_pairs:pairs",
    "PairsResult": "simlab.scale.all_pairs:PairsResult",
    "VectorSource": "simlab.scale.sources:VectorSource",
}

__getattr__ = lazy_attributes("simlab.scale", _LAZY)

__all__ = sorted(_LAZY)
