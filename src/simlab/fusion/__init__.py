"""Fusion: one similarity over several views of the same items (early, late, learned, contrastive), node
embeddings that fuse features with structure, series channel groups as views.

This module only registers components by ``"module:attr"`` strings; importing it never imports torch.
``from simlab.fusion import FusedModel`` resolves lazily. The combiners themselves live in :mod:`simlab.fuse`.
"""

from __future__ import annotations

from simlab._deps import lazy_attributes
from simlab.registry import EVALUATORS, KINDS, MODELS

_LAZY = {
    "FusedModel": "simlab.fusion.model:FusedModel",
    "FusionConfig": "simlab.fusion.model:FusionConfig",
    "KeyedView": "simlab.fusion.views:KeyedView",
    "SeriesChannels": "simlab.fusion.views:SeriesChannels",
    "PropagatedNodes": "simlab.fusion.nodes:PropagatedNodes",
    "NodeGraph": "simlab.fusion.data:NodeGraph",
    "read_node_graph": "simlab.fusion.data:read_node_graph",
    "contextual_sbm": "simlab.fusion.data:contextual_sbm",
    "evaluate_nodeclass": "simlab.fusion.evaluate:evaluate_nodeclass",
    "missing_view_curve": "simlab.fusion.missing:missing_view_curve",
    "drop_views": "simlab.fusion.missing:drop_views",
}

KINDS.register("fusion", "simlab.fusion.model:FusedModel", help="fused similarity over named views")
KINDS.register(
    "fusion-nodes",
    "simlab.fusion.nodes:PropagatedNodes",
    help="node embeddings fusing features and structure (feature propagation)",
)
MODELS.register(
    "fusion",
    "simlab.fusion.model:FusedModel",
    aliases=("fused",),
    help="fused model over named views: early, late, learned (gating) or contrastive (two towers)",
)
MODELS.register(
    "fusion-nodes",
    "simlab.fusion.nodes:PropagatedNodes",
    aliases=("propagated-nodes", "sgc"),
    help="unsupervised node embeddings: features propagated over the graph (SGC / APPNP)",
)
EVALUATORS.register(
    "nodeclass",
    "simlab.fusion.evaluate:evaluate_nodeclass",
    help="nodeclass:Cora / nodeclass:CiteSeer / nodeclass:FILE: logistic regression on frozen "
    "node embeddings (C chosen on validation) + same-class p@10",
)

__getattr__ = lazy_attributes("simlab.fusion", _LAZY)

__all__ = sorted(_LAZY)
