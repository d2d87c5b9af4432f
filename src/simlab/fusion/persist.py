"""Saving and loading a :class:`~simlab.fusion.model.FusedModel` (artifact kind ``fusion``; no pickle).

Files: ``views.json`` (names, kinds, channel groups), ``view-I-vectors.safetensors`` + ``view-I-keys.json``
for each keyed view (the model is self-contained), ``state.json`` (weights, score fusion, history),
``pca.safetensors`` and ``net.safetensors`` (trained gate / towers) when present.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.fuse import ScoreFusion
from simlab.fusion.views import KeyedView, view_from_state
from simlab.vectors import Vectors


def write_model(m: Any, w: ArtifactWriter) -> None:
    """Write `m`'s files into an open artifact (the manifest's config is written by ``Model.save``)."""
    views = []
    for i, (name, v) in enumerate(m.views.items()):
        views.append({"name": name, **v.state()})
        if isinstance(v, KeyedView):
            v.vectors.to_artifact(w, prefix=f"view-{i}-")
    w.save_json("views.json", views)
    w.save_json(
        "state.json",
        {
            "weights": m.weights,
            "score": m.score.to_dict() if m.score else None,
            "history": m.history,
            "fitted": m.fitted,
            "net_dims": [v.dim for v in m.views.values()] if m.net is not None else None,
        },
    )
    if m.pca is not None:
        w.save_arrays("pca.safetensors", {"components": m.pca.components, "mean": m.pca.mean})
    if m.net is not None:
        state = {k: t.detach().cpu().contiguous() for k, t in m.net.state_dict().items()}
        w.save_arrays("net.safetensors", state)


def read_model(cls: Any, art: Artifact) -> Any:
    """Rebuild a fused model from its artifact (a flat config of an older version is routed too); a trained
    network's weights go on ``device="auto"`` of this machine."""
    specs = art.json("views.json")
    views = {}
    for i, spec in enumerate(specs):
        vecs = Vectors.from_artifact(art, prefix=f"view-{i}-") if spec.get("type") == "keyed" else None
        views[spec["name"]] = view_from_state(spec, vecs)
    m = cls(views, dict(art.config))
    state = art.json("state.json")
    m.weights, m.history, m.fitted = state["weights"], state.get("history", {}), state.get("fitted", True)
    m.score = ScoreFusion.from_dict(state["score"]) if state.get("score") else None
    if "pca.safetensors" in art.files:
        m.pca = _read_pca(art)
    if state.get("net_dims"):
        m.net = _read_net(art, m.config, state["net_dims"])
        m.to("auto")
    return m


def _read_pca(art: Artifact) -> Any:
    from simlab.index.reduce import PCA

    arr = art.arrays("pca.safetensors")
    pca = PCA(int(arr["components"].shape[0]))
    pca.components, pca.mean = arr["components"], arr["mean"]
    return pca


def _read_net(art: Artifact, cfg: Any, dims: list[int]) -> Any:
    import torch

    from simlab.fusion.learned import GatedFusion, Towers

    net = (
        GatedFusion(dims, cfg.dim, cfg.hidden, cfg.gate)
        if cfg.method == "learned"
        else Towers(dims, cfg.dim, cfg.hidden)
    )
    arrays = art.arrays("net.safetensors")
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
    net.eval()
    return net
