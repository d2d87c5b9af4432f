"""Edit-path search: costs of real edit paths (checked by an independent count), bounds around exact GED,
batched == single, the scorer alone / refining a learned model / as a re-ranker, and bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from simlab.errors import ConfigError, NotFittedError
from simlab.graph.editpath import EditPathConfig, edit_path, edit_path_search, mapping_cost
from simlab.graph.ged import exact_ged
from simlab.graph.refine import EditPathScorer, refine_similarity

from .conftest import true_matrix


def _labelled(edges, labels):
    g = nx.Graph()
    g.add_nodes_from((i, {"label": lab}) for i, lab in enumerate(labels))
    g.add_edges_from(edges)
    return g


def _independent_cost(g1, g2, mapping):
    """Edit cost of a node mapping, counted from scratch: relabel/insert/delete nodes, then edges."""
    cost = 0
    lab1, lab2 = nx.get_node_attributes(g1, "label"), nx.get_node_attributes(g2, "label")
    used = set()
    for u in g1.nodes:
        v = mapping[u]
        if v is None:
            cost += 1
        else:
            used.add(v)
            cost += lab1[u] != lab2[v]
    cost += len(set(g2.nodes) - used)
    for u, w in g1.edges:
        mu, mw = mapping[u], mapping[w]
        cost += not (mu is not None and mw is not None and g2.has_edge(mu, mw))
    inv = {v: u for u, v in mapping.items() if v is not None}
    for v, x in g2.edges:
        cost += not (v in inv and x in inv and g1.has_edge(inv[v], inv[x]))
    return cost


def _random_graphs(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        g = nx.gnm_random_graph(
            int(rng.integers(3, 8)), int(rng.integers(2, 11)), seed=int(rng.integers(1 << 30))
        )
        for u in g:
            g.nodes[u]["label"] = "CNO"[int(rng.integers(3))]
        out.append(g)
    return out


def test_hand_computed_cases():
    tri = _labelled([(0, 1), (1, 2), (2, 0)], "CCC")
    path = _labelled([(0, 1), (1, 2)], "CCC")
    cost, mapping, proven = edit_path(tri, path)
    assert cost == 1 and proven  # delete one edge
    assert _independent_cost(tri, path, mapping) == 1
    cost, _, proven = edit_path(tri, tri.copy())
    assert cost == 0 and proven
    relabel = _labelled([(0, 1), (1, 2), (2, 0)], "CCN")
    assert edit_path(tri, relabel)[0] == 1
    single = _labelled([], "C")
    cost, mapping, _ = edit_path(tri, single)  # delete 2 nodes and 3 edges
    assert cost == 5 and _independent_cost(tri, single, mapping) == 5
    assert sum(v is None for v in mapping.values()) == 2


def test_costs_are_real_paths_and_bound_exact_ged():
    graphs = _random_graphs(40, seed=3)
    pairs = [(graphs[i], graphs[i + 1]) for i in range(0, 40, 2)]
    equal = 0
    for g1, g2 in pairs:
        cost, mapping, proven = edit_path(g1, g2, restarts=8)
        assert _independent_cost(g1, g2, mapping) == cost == mapping_cost(g1, g2, mapping)
        exact, is_exact = exact_ged(g1, g2, timeout=None)
        assert is_exact and cost >= exact
        lower = edit_path_search([g1], [g2], restarts=0).lower[0]
        assert lower <= exact
        if proven:
            assert cost == exact
        equal += cost == exact
    assert equal >= 18  # the search finds the optimum for (almost) all small pairs


def test_descent_and_restarts_only_improve():
    graphs = _random_graphs(60, seed=5)
    a, b = graphs[:30], graphs[30:]
    bip = edit_path_search(a, b, descent=False, restarts=0).cost
    d0 = edit_path_search(a, b, restarts=0).cost
    d8 = edit_path_search(a, b, restarts=8).cost
    assert (d0 <= bip).all() and (d8 <= d0).all() and d0.sum() < bip.sum()


def test_batched_equals_single_pair_and_mixed_sizes():
    graphs = _random_graphs(12, seed=7)
    graphs.append(nx.path_graph(14))  # unlabelled, larger than the others: padding to the chunk's size
    for u in graphs[-1]:
        graphs[-1].nodes[u]["label"] = "C"
    ia = np.arange(13)
    ib = np.roll(ia, 3)
    batched = edit_path_search(graphs, graphs, ia, ib, restarts=3)
    for k in range(13):
        one = edit_path_search([graphs[ia[k]]], [graphs[ib[k]]], restarts=3)
        assert one.cost[0] == batched.cost[k] and one.lower[0] == batched.lower[k]
    small = edit_path_search(graphs, graphs, ia, ib, restarts=3, chunk=3)
    np.testing.assert_array_equal(small.cost, batched.cost)


def test_unlabelled_graphs():
    c5, p5 = nx.cycle_graph(5), nx.path_graph(5)
    cost, _, proven = edit_path(c5, p5, label_attr=None)
    assert cost == 1 and proven
    assert edit_path(nx.complete_graph(4), nx.empty_graph(4))[0] == 6


def test_scorer_ranks_generated_graphs(ged_data):
    from simlab.graph.evaluate import matrix_metrics

    gs = ged_data["graphs"]
    test, train = gs.subset(ged_data["test_ids"]), gs.subset(ged_data["train_ids"])
    true = true_matrix(ged_data, ged_data["test_ids"], ged_data["train_ids"])
    scores = EditPathScorer(restarts=4, blend=0).score_matrix(test, train)
    m = matrix_metrics(scores, true)
    assert m["rho"] > 0.95 and m["mse_e3"] < 2.0
    assert (scores <= true + 1e-6).all()  # an upper bound on GED is a lower bound on the similarity


def test_scorer_refines_learned_model(trained, ged_data):
    from simlab.graph.evaluate import matrix_metrics

    gs = ged_data["graphs"]
    test, train = gs.subset(ged_data["test_ids"]), gs.subset(ged_data["train_ids"])
    true = true_matrix(ged_data, ged_data["test_ids"], ged_data["train_ids"])
    bi = trained["bi"]
    learned = bi.score_matrix(test, train)
    refined = EditPathScorer(bi, restarts=0, blend=0.5).score_matrix(test, train)
    alone = EditPathScorer(restarts=0, blend=0).score_matrix(test, train)
    # every refined score lies between the edit path's bound and the learned estimate clipped into the bounds
    assert (refined >= alone - 1e-6).all()
    assert matrix_metrics(refined, true)["mse_e3"] < matrix_metrics(learned, true)["mse_e3"]
    # score_matrix == score_id_pairs == the public formula
    ids_a = [q for q in ged_data["test_ids"] for _ in ged_data["train_ids"]]
    ids_b = [c for _ in ged_data["test_ids"] for c in ged_data["train_ids"]]
    by_ids = EditPathScorer(bi, restarts=0, blend=0.5).score_id_pairs(gs, ids_a, ids_b)
    np.testing.assert_allclose(by_ids, refined.ravel(), rtol=1e-5)
    qi, ci = np.meshgrid(np.arange(len(test)), np.arange(len(train)), indexing="ij")
    paths = EditPathScorer(bi, restarts=0).edit_paths(test, train, qi.ravel(), ci.ravel())  # guided search
    sizes_t, sizes_c = np.array(test.sizes(), float), np.array(train.sizes(), float)
    avg = ((sizes_t[:, None] + sizes_c[None, :]) / 2).ravel()
    np.testing.assert_allclose(
        refine_similarity(paths, avg, learned.ravel(), 0.5), refined.ravel(), rtol=1e-5
    )


def test_learned_start_only_adds_a_start(trained, ged_data):
    gs = ged_data["graphs"]
    test, train = gs.subset(ged_data["test_ids"]), gs.subset(ged_data["train_ids"])
    for model in (trained["bi"], trained["pair"]):
        emb = model.node_embeddings(train)
        assert emb.shape[:2] == (len(train), max(train.sizes())) and emb.dtype == np.float32
        assert not emb[0, train.sizes()[0] :].any()  # zero padding after the last node
        qi, ci = np.meshgrid(np.arange(len(test)), np.arange(len(train)), indexing="ij")
        plain = edit_path_search(test, train, qi.ravel(), ci.ravel(), restarts=1)
        guided = EditPathScorer(model, restarts=1).edit_paths(test, train, qi.ravel(), ci.ravel())
        assert (guided.cost <= plain.cost).all()  # a superset of the same starts
    with pytest.raises(ConfigError, match="node_vectors"):
        edit_path_search(test, train, [0], [0], node_vectors=(emb, emb[:, :, :3]))


def test_scorer_search_and_rerank(trained, ged_data):
    gs = ged_data["graphs"]
    train = gs.subset(ged_data["train_ids"])
    q = ged_data["test_ids"][0]
    scorer = EditPathScorer(restarts=2).fit(train)
    hits = scorer.most_similar(gs[q], k=5)
    true = true_matrix(ged_data, [q], ged_data["train_ids"])[0]
    assert hits.keys[0] in {ged_data["train_ids"][i] for i in np.flatnonzero(true == true.max())}
    assert list(hits.scores) == sorted(hits.scores, reverse=True)
    own = scorer.most_similar(ged_data["train_ids"][0], k=3)
    assert ged_data["train_ids"][0] not in own.keys
    bi = trained["bi"]
    reranked = bi.most_similar(gs[q], k=5, rerank=EditPathScorer(restarts=2), candidates=10)
    assert len(reranked.keys) == 5 and set(reranked.keys) <= set(ged_data["train_ids"])
    assert 0 < scorer.similarity(ged_data["train_ids"][0], ged_data["train_ids"][1]) <= 1


def test_evaluate_through_registry(ged_data):
    from simlab.evaluate import evaluate

    scorer = EditPathScorer(restarts=2)
    report = evaluate(scorer, f"ged:{ged_data['dir'] / 'ged.tsv'}", graphs=ged_data["graphs"])
    assert report.metrics["rho"] > 0.9
    bare = evaluate(
        scorer, str(ged_data["dir"] / "ged.tsv"), graphs=ged_data["graphs"]
    )  # a bare path: GED too
    assert bare.metrics == report.metrics


def test_bad_input():
    with pytest.raises(ConfigError, match="unknown edit-path init 'greedy'; valid: degree, neighbours"):
        EditPathConfig(inits=("greedy",))
    with pytest.raises(ConfigError, match="threads must be"):
        EditPathConfig(threads=0)
    import torch

    before = torch.get_num_threads()
    edit_path_search(_random_graphs(2, 0), _random_graphs(2, 1), threads=1)
    assert torch.get_num_threads() == before  # the search's own thread setting does not leak
    with pytest.raises(ConfigError, match="at least one start"):
        EditPathConfig(inits=(), restarts=0)
    with pytest.raises(ConfigError, match="blend"):
        EditPathScorer(blend=1.5)
    with pytest.raises(ConfigError, match="fitted graph model"):
        EditPathScorer(model="not a model")
    with pytest.raises(NotFittedError):
        EditPathScorer().most_similar("g1")
    with pytest.raises(ConfigError, match="equal lengths"):
        edit_path_search(_random_graphs(2, 0), _random_graphs(3, 0))
