"""The fusion demo section: one view vs the fused view."""

from __future__ import annotations


def test_demo_section_quick(tmp_path):
    from simlab.demo import DemoContext, available_sections
    from simlab.demo.fusion import TITLE, run

    assert "fusion" in available_sections()
    sec = run(DemoContext(out=tmp_path, quick=True, threads=1))
    assert sec.title == TITLE and "missing" in sec.text
    csbm = {r["view"]: r["accuracy"] for r in sec.rows if r["data"] == "CSBM nodes"}
    single = max(csbm["features only"], csbm["structure only"])
    assert csbm["fused: features propagated over the graph (Â²X)"] > single
    assert csbm["fused: early (features + structure)"] > single
    assert {r["view"] for r in sec.rows if r["data"] == "BasicMotions"} >= {
        "accelerometer only",
        "gyroscope only",
    }
    assert (tmp_path / "fusion_csbm_early" / "simlab.json").is_file()
