from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")


def test_demo_section_quick(tmp_path):
    from simlab.demo import DemoContext
    from simlab.demo.sequence import TITLE, run

    sec = run(DemoContext(out=tmp_path, quick=True, threads=1))
    assert sec.title == TITLE
    methods = [r["method"] for r in sec.rows]
    assert any("DTW" in m for m in methods) and any("Euclidean" in m for m in methods)
    dtw = next(r for r in sec.rows if "DTW" in r["method"])
    assert abs(dtw["accuracy"] - 0.9067) < 0.01  # published 1-NN DTW (full window) on GunPoint: 0.907
    assert sec.figures and sec.figures[0][1][:4] == b"\x89PNG"
    assert (tmp_path / "sequence_gunpoint_gru" / "simlab.json").is_file()
