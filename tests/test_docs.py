"""Every ```python block in README.md and docs/*.md runs (offline, in a temp dir), top to bottom per file."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("doc", [d for d in DOCS if d.exists()], ids=lambda p: p.name)
def test_python_blocks_run(doc, tmp_path, monkeypatch):
    blocks = BLOCK.findall(doc.read_text())
    if not blocks:
        pytest.skip(f"{doc.name} has no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))
    ns: dict = {"__name__": "__doc__"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{doc.name}[block {i + 1}]", "exec"), ns)
        except Exception as exc:  # pragma: no cover - reported with the block number
            raise AssertionError(f"{doc.name} block {i + 1} failed: {type(exc).__name__}: {exc}") from exc
