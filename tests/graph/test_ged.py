"""Exact GED against hand-computed cases, the GED file format, resumable computation."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from simlab.errors import DataError, UnknownKeyError
from simlab.graph.ged import GEDTable, compute_ged, exact_ged, ged_lower_bound, ged_similarity, nged
from simlab.graph.io import GraphSet


def lab(g, labels):
    for v, lab_ in zip(g.nodes, labels, strict=True):
        g.nodes[v]["label"] = lab_
    return g


@pytest.mark.parametrize(
    ("g1", "g2", "expected"),
    [
        # identical graphs
        (nx.path_graph(3), nx.path_graph(3), 0),
        # path of 3 -> triangle: insert one edge
        (nx.path_graph(3), nx.cycle_graph(3), 1),
        # one edge vs two isolated nodes: delete an edge
        (nx.path_graph(2), nx.empty_graph(2), 1),
        # single node vs path of 3: insert 2 nodes + 2 edges
        (nx.empty_graph(1), nx.path_graph(3), 4),
        # star K1,3 vs path P4: delete one edge and insert one edge
        (nx.star_graph(3), nx.path_graph(4), 2),
        # C4 vs K4: insert the two diagonals
        (nx.cycle_graph(4), nx.complete_graph(4), 2),
    ],
)
def test_unlabelled_hand_computed(g1, g2, expected):
    ged, exact = exact_ged(g1, g2, timeout=10)
    assert ged == expected and exact
    assert exact_ged(g2, g1, timeout=10)[0] == expected  # symmetric


def test_labelled_hand_computed():
    # C-O vs C-N: relabel one node
    assert exact_ged(lab(nx.path_graph(2), "CO"), lab(nx.path_graph(2), "CN"))[0] == 1
    # C-O-C vs C-C-O (same path, labels permuted): relabel two nodes, or re-wire two edges -> 2
    assert exact_ged(lab(nx.path_graph(3), "COC"), lab(nx.path_graph(3), "CCO"))[0] == 2
    # labels matter only with labels: the same structures unlabelled are isomorphic
    assert exact_ged(nx.path_graph(3), nx.path_graph(3))[0] == 0
    # triangle CCC vs path C-C-N: relabel one node and delete one edge
    assert exact_ged(lab(nx.cycle_graph(3), "CCC"), lab(nx.path_graph(3), "CCN"))[0] == 2
    # label_attr=None ignores labels
    assert exact_ged(lab(nx.path_graph(2), "CO"), lab(nx.path_graph(2), "CN"), label_attr=None)[0] == 0


def test_lower_bound_is_a_bound():
    g1, g2 = lab(nx.cycle_graph(5), "CCNOC"), lab(nx.star_graph(4), "NCCCO")
    assert ged_lower_bound(g1, g2) <= exact_ged(g1, g2)[0]


def test_timeout_gives_marked_upper_bound():
    g1 = nx.gnp_random_graph(11, 0.5, seed=1)
    g2 = nx.gnp_random_graph(11, 0.5, seed=2)
    ub, exact = exact_ged(g1, g2, timeout=0.02)
    if not exact:  # the search was cut: an upper bound, at least the exact value
        assert ub >= ged_lower_bound(g1, g2)
    assert ub <= g1.number_of_nodes() + g2.number_of_nodes() + g1.number_of_edges() + g2.number_of_edges()


def test_nged_and_similarity():
    assert nged(3, 4, 2) == pytest.approx(1.0)
    assert ged_similarity(3, 4, 2) == pytest.approx(math.exp(-1.0))
    assert ged_similarity(0, 5, 5) == 1.0


def test_compute_ged_file_and_resume(tmp_path):
    gs = GraphSet(
        [nx.path_graph(3), nx.cycle_graph(3), nx.star_graph(3), nx.path_graph(4)], ["a", "b", "c", "d"]
    )
    out = tmp_path / "ged.tsv"
    t = compute_ged(gs, out, workers=1, progress=False)
    assert len(t) == 6 and t.exact.all()
    lines = out.read_text().splitlines()
    assert lines[0] == "id_a\tid_b\tged\texact"
    assert "a\tb\t1\t1" in lines
    # simulate an interrupted run: keep 3 rows and a truncated line, then resume
    out.write_text("\n".join(lines[:4]) + "\nc\td\t")
    t2 = compute_ged(gs, out, workers=1, progress=False)
    assert len(t2) == 6
    assert sorted(zip(t2.a, t2.b, t2.ged, strict=True)) == sorted(zip(t.a, t.b, t.ged, strict=True))
    # parallel processes give the same table
    t3 = compute_ged(gs, tmp_path / "par.tsv", workers=2, progress=False)
    assert sorted(zip(t3.a, t3.b, t3.ged, strict=True)) == sorted(zip(t.a, t.b, t.ged, strict=True))


def test_ged_file_errors(tmp_path):
    gs = GraphSet([nx.path_graph(3), nx.cycle_graph(3)], ["a", "b"])
    p = tmp_path / "g.tsv"
    p.write_text("id_a\tid_b\tged\na\tzzz\t1\n")
    with pytest.raises(UnknownKeyError, match=r"g.tsv:2: unknown graph id 'zzz'"):
        GEDTable.read(p, gs)
    p.write_text("x\ty\n")
    with pytest.raises(DataError, match="header lacks column"):
        GEDTable.read(p, gs)
    p.write_text("id_a\tid_b\tged\na\tb\tnope\n")
    with pytest.raises(DataError, match=r":2: ged is not a number"):
        GEDTable.read(p, gs)


def test_parallel_ged_under_the_cli_sigterm_handler_prints_no_traceback(tmp_path):
    """The pool's processes are ended with SIGTERM; they must not inherit the CLI's handler (which raises)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        import signal
        import networkx as nx
        from simlab.cli.main import _on_sigterm
        from simlab.graph.ged import compute_ged
        from simlab.graph.io import GraphSet

        signal.signal(signal.SIGTERM, _on_sigterm)
        gs = GraphSet([nx.path_graph(n) for n in range(2, 9)], [str(n) for n in range(2, 9)])
        t = compute_ged(gs, {str(tmp_path / "g.tsv")!r}, workers=2, progress=False)
        print(len(t))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "21"
    assert "Traceback" not in out.stderr, out.stderr
