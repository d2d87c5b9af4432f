"""Benchmark data from ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.shared_data


def test_aids_benchmark_loads_and_matches_exact_ged(shared_data):
    from simlab.graph.datasets import load_ged_benchmark
    from simlab.graph.ged import exact_ged

    b = load_ged_benchmark("AIDS700nef", shared_data / "ged_AIDS700nef")
    assert len(b.train_ids) == 560 and len(b.test_ids) == 140 and b.ged.shape == (700, 700)
    assert np.isinf(b.ged[600, 650]) and np.isfinite(b.ged[600, 10])
    sim = b.similarity()
    assert 0.3 < sim[560:, :560].mean() < 0.45  # SOURCE.md: mean exp(-nGED) 0.380 (train x train)
    # the matrix order is the numeric gid order: recompute the smallest pairs exactly
    sizes = np.array(b.graphs.sizes())
    small = np.argsort(sizes[:560], kind="stable")[:3]
    for i in small:
        for j in small:
            if i < j:
                ged, exact = exact_ged(b.graphs.graphs[i], b.graphs.graphs[j], timeout=30)
                if exact:
                    assert ged == b.ged[i, j]
    assert len(b.train_table()) == 560 * 559 // 2


def test_linux_benchmark_is_unlabelled(shared_data):
    from simlab.graph.datasets import load_ged_benchmark
    from simlab.graph.features import Featurizer

    b = load_ged_benchmark("linux", shared_data / "ged_LINUX")
    assert len(b.train_ids) == 800 and len(b.test_ids) == 200
    f = Featurizer().fit(b.graphs)
    assert f.vocab == [] and f.use_degree


def test_planetoid_restricted_unpickler(shared_data):
    from simlab.graph.planetoid import load_planetoid

    x, ei, y = load_planetoid("Cora", shared_data / "planetoid")
    assert x.shape == (2708, 1433) and ei.shape == (2, 10556) and y.max() == 6
    x, ei, _ = load_planetoid("CiteSeer", shared_data / "planetoid")
    assert x.shape == (3327, 3703) and ei.shape == (2, 9104)


def test_restricted_unpickler_refuses_other_globals(tmp_path):
    import pickle

    from simlab.errors import DataError
    from simlab.graph.planetoid import _load

    p = tmp_path / "evil"
    p.write_bytes(pickle.dumps(print, protocol=2))
    with pytest.raises(DataError, match="not allowed"):
        _load(p)


@pytest.mark.slow
def test_aids_biencoder_learns(shared_data):
    from simlab.evaluate import evaluate
    from simlab.graph.datasets import load_ged_benchmark
    from simlab.graph.models import GraphBiEncoder

    b = load_ged_benchmark("AIDS700nef", shared_data / "ged_AIDS700nef")
    m = GraphBiEncoder(epochs=5, pairs_per_epoch=20000, progress=False, threads=1).fit(
        b.graphs, b.train_table()
    )
    rep = evaluate(m, "ged:AIDS700nef")
    assert rep.metrics["rho"] > 0.75 and rep.metrics["mse_e3"] < 6


def test_imdb_partial_ged_file_reads_with_its_graphs(shared_data):
    from simlab.graph.ged import GEDTable
    from simlab.graph.io import GraphSet

    root = shared_data / "ged_IMDBMulti"
    gs = GraphSet.read(root / "raw" / "IMDBMulti")
    table = GEDTable.read(root / "partial_ged_tagsim" / "ged_pairs.tsv", gs)  # header gid_a, gid_b, ged
    assert len(gs) == 1500 and len(table) == 48783 and table.exact.all()


def test_edit_path_quality_floor_on_aids(shared_data):
    """Edit path alone (4 restarts) on the AIDS700nef protocol: a real edit path never beats the exact GED,
    and the ranking quality stays above a floor well under the benchmark (rho 0.930, p@10 0.928)."""
    import numpy as np

    from simlab.graph.datasets import load_ged_benchmark
    from simlab.graph.editpath import edit_path_search
    from simlab.graph.evaluate import matrix_metrics

    b = load_ged_benchmark("AIDS700nef", shared_data / "ged_AIDS700nef")
    test, train = b.graphs.subset(b.test_ids), b.graphs.subset(b.train_ids)
    qi, ci = np.meshgrid(np.arange(len(test)), np.arange(len(train)), indexing="ij")
    res = edit_path_search(test, train, qi.ravel(), ci.ravel(), restarts=4)
    true_ged = b.ged[b.n_train :, : b.n_train].ravel()
    assert (res.cost >= true_ged).all() and (res.lower <= true_ged).all()
    sizes = np.array(b.graphs.sizes(), float)
    avg = ((sizes[b.n_train :, None] + sizes[None, : b.n_train]) / 2).ravel()
    m = matrix_metrics(np.exp(-res.cost / avg).reshape(qi.shape), b.similarity()[b.n_train :, : b.n_train])
    assert m["rho"] > 0.92 and m["p@10"] > 0.90 and m["mse_e3"] < 1.6


def test_edit_path_is_exact_on_imdb_small_graphs(shared_data):
    import numpy as np

    from simlab.graph.editpath import edit_path_search
    from simlab.graph.ged import GEDTable
    from simlab.graph.io import GraphSet

    root = shared_data / "ged_IMDBMulti"
    gs = GraphSet.read(root / "raw" / "IMDBMulti")
    table = GEDTable.read(root / "partial_ged_tagsim" / "ged_pairs.tsv", gs)
    ia = np.array([gs.position(x) for x in table.a])
    ib = np.array([gs.position(x) for x in table.b])
    res = edit_path_search(gs, gs, ia, ib, restarts=0, label_attr=None)
    assert (res.cost == table.ged).all()
