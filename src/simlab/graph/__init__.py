"""Graphs: I/O, exact GED ground truth, GNN encoders, a Siamese bi-encoder and a SimGNN-style pair model,
node embeddings, GED and link-prediction evaluation.

This module only registers components by ``"module:attr"`` strings: importing it does not import torch,
torch_geometric or networkx. ``from simlab.graph import GraphBiEncoder, EditPathScorer`` resolves lazily.
"""

from __future__ import annotations

from simlab._deps import lazy_attributes
from simlab.registry import ENCODERS, EVALUATORS, KINDS, MODELS

_LAZY = {
    "GraphSet": "simlab.graph.io:GraphSet",
    "read_graph_file": "simlab.graph.io:read_graph_file",
    "exact_ged": "simlab.graph.ged:exact_ged",
    "compute_ged": "simlab.graph.ged:compute_ged",
    "GEDTable": "simlab.graph.ged:GEDTable",
    "GraphBiEncoder": "simlab.graph.models:GraphBiEncoder",
    "GraphPairModel": "simlab.graph.models:GraphPairModel",
    "NodeEmbedder": "simlab.graph.nodes:NodeEmbedder",
    "edit_path": "simlab.graph.editpath:edit_path",
    "edit_path_search": "simlab.graph.editpath:edit_path_search",
    "edit_path_table": "simlab.graph.editpath:edit_path_table",
    "EditPathScorer": "simlab.graph.refine:EditPathScorer",
    "load_ged_benchmark": "simlab.graph.datasets:load_ged_benchmark",
    "make_graphs": "simlab.graph.datasets:make_graphs",
}

_E = "simlab.graph.encoders"
ENCODERS.register("gcn", f"{_E}:gcn", help="graph convolution (Kipf & Welling 2017), PyG GCNConv")
ENCODERS.register("gin", f"{_E}:gin", help="graph isomorphism network (Xu et al. 2019), PyG GINConv")
ENCODERS.register(
    "sage",
    f"{_E}:sage",
    aliases=("graphsage",),
    help="GraphSAGE mean aggregator (Hamilton et al. 2017), PyG SAGEConv",
)
ENCODERS.register("gat", f"{_E}:gat", help="multi-head graph attention (Velickovic et al. 2018), PyG GATConv")

KINDS.register(
    "graph-biencoder", "simlab.graph.models:GraphBiEncoder", help="Siamese GNN graph bi-encoder (GED)"
)
KINDS.register("graph-pair", "simlab.graph.models:GraphPairModel", help="SimGNN-style graph pair model (GED)")
KINDS.register("graph-nodes", "simlab.graph.nodes:NodeEmbedder", help="GNN node embeddings (link prediction)")
KINDS.register(
    "graph-editpath",
    "simlab.graph.refine:EditPathScorer",
    help="edit-path GED similarity (re-ranks a graph model)",
)

MODELS.register(
    "graph-biencoder",
    "simlab.graph.models:GraphBiEncoder",
    aliases=("biencoder",),
    help="Siamese GNN bi-encoder regressing exp(-nGED); vectors searchable by Euclidean distance",
)
MODELS.register(
    "graph-pair",
    "simlab.graph.models:GraphPairModel",
    aliases=("pair", "simgnn"),
    help="SimGNN-style pair model (NTN + node-similarity histogram) for re-ranking",
)
MODELS.register(
    "graph-nodes",
    "simlab.graph.nodes:NodeEmbedder",
    aliases=("nodes",),
    help="unsupervised GNN node embeddings trained by link prediction",
)

EVALUATORS.register(
    "ged",
    "simlab.graph.evaluate:evaluate_ged",
    help="GED ranking (MSE x1e-3, rho, tau, p@10, p@20): ged:AIDS700nef, ged:LINUX, ged:GED.tsv",
)
EVALUATORS.register(
    "linkpred",
    "simlab.graph.nodes:evaluate_link_prediction",
    help="link prediction AUC/AP on held-out edges: linkpred:Cora, linkpred:CiteSeer, linkpred:GRAPH",
)


__getattr__ = lazy_attributes("simlab.graph", _LAZY)


__all__ = sorted(_LAZY)
