"""``simlab train nodes GRAPH --features``: feature-propagation node embeddings (kept out of the CLI
module)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def train_propagated(graph: str, out: Path, opts: dict[str, Any]) -> None:
    """Embed the nodes of Cora / CiteSeer or of a node-graph file and save a ``fusion-nodes`` artifact."""
    from simlab.fusion.nodes import PropagatedNodes

    m = PropagatedNodes(opts)
    if graph.lower() in ("cora", "citeseer") and not Path(graph).exists():
        from simlab.graph.planetoid import NAMES, load_planetoid

        x, ei, _ = load_planetoid(graph)
        m.fit(ei, features=x, name=NAMES[graph.lower()])
    else:
        m.fit(graph)
    m.save(out)
    c = m.config
    how = {
        "fused": f"features propagated over {c.k} hops" + (f" (alpha={c.alpha})" if c.alpha else ""),
        "features": "features only",
        "structure": f"structure only (spectral, dim {c.dim})",
        "dgi": f"Deep Graph Infomax, {len(m.history.get('epochs', []))} epochs",
    }[c.view]
    typer.echo(f"embedded {len(m.keys)} nodes ({how}; dim {m.vectors.dim}); saved to {out}")
