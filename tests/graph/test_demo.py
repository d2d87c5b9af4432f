"""The graph demo section runs quickly and reports rho / p@10 / speed-up."""

from __future__ import annotations


def test_demo_section_quick(tmp_path):
    from simlab.demo import DemoContext
    from simlab.demo.graph import TITLE, run

    sec = run(DemoContext(out=tmp_path, quick=True, threads=1))
    assert sec.title == TITLE
    bi = sec.rows[0]
    assert set(bi) >= {"model", "rho", "p@10", "pairs_per_s", "speedup_vs_exact_ged"}
    assert bi["speedup_vs_exact_ged"] > 1
    assert (tmp_path / "graph" / "biencoder" / "simlab.json").is_file()
