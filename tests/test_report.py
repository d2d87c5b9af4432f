"""The demo report: figures a person can read (labels, palette, order), versions in the header, and the page
rendered by a real headless Chromium (screenshot kept under the test's output)."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from simlab.demo import Section
from simlab.demo.report import (
    class_styles,
    format_cell,
    line_plot,
    natural_key,
    pca_2d,
    scatter_2d,
    training_curve,
    write_report,
)


def test_natural_order_distinct_styles_and_numbers():
    assert sorted(["c10", "c2", "c1"], key=natural_key) == ["c1", "c2", "c10"]
    styles = class_styles([f"c{i}" for i in range(12)])
    assert len(set(styles.values())) == 12  # c0 and c10 no longer share a colour
    many = class_styles([f"c{i}" for i in range(45)])
    assert len(set(many.values())) == 45
    assert format_cell(2124781.1439) == "2,124,781"
    assert format_cell(0.7676574336246125) == "0.768"
    assert format_cell(None) == "-" and format_cell("") == "-"
    assert format_cell(-0.0) == "0"
    assert format_cell(12.3456) == "12.35"


def test_pca_axis_labels_name_the_variance():
    rng = np.random.default_rng(0)
    pts, xl, yl = pca_2d(rng.normal(size=(50, 5)) * [10, 1, 1, 1, 1])
    assert pts.shape == (50, 2) and xl.startswith("PC 1 (") and "variance" in yl


def _report(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(240, 2))
    labels = [f"c{i % 12}" for i in range(240)]
    words = [f"word{i}" for i in range(240)]
    hist = {
        "epochs": [
            {"epoch": e, "loss": 1 / (e + 1), "dev": 0.5 + e / 20, "items_per_s": 1.0, "seconds": 1.0}
            for e in range(8)
        ]
    }
    figs = [
        ("scatter", scatter_2d(pts, labels, "twelve classes", annotate=words, xlabel="PC 1", ylabel="PC 2")),
        ("curve", training_curve(hist, "training")),
        (
            "recall vs QPS",
            line_plot({"hnsw": ([1e4, 5e3, 2e3], [0.8, 0.95, 0.99])}, "t", "QPS", "recall", logx=True),
        ),
    ]
    sec = Section("A section", [{"method": "x", "rate": 2124781.1439, "train_s": None}], "text", figs, 1.0)
    return write_report([sec], tmp_path / "report.html")


def test_report_header_names_versions_and_machine(tmp_path):
    page = _report(tmp_path).read_text()
    assert "numpy " in page and "cores visible" in page and "simlab " in page
    assert "2,124,781" in page and "2124781.1439" not in page
    assert page.count("data:image/png;base64,") == 3


def test_report_renders_in_headless_chromium(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("headless Chromium not installed (Debian package 'chromium'); .ci/run installs it")
    path = _report(tmp_path)
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1100,2600",
            path.as_uri(),
        ],
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert shot.exists(), proc.stderr.decode(errors="replace")[-2000:]
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    # the page drew its figures: many distinct colours, not a blank white page
    assert img.shape[0] >= 2000 and len(np.unique(img.reshape(-1, 3)[::97], axis=0)) > 50
