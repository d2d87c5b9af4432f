"""Every ```python block in README.md and docs/*.md runs (offline, in a temp dir), top to bottom per file."""

from __future__ import annotations

import os
import re
import sys
import types
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
    # the blocks of one file share a real module (as a reader's script would: dataclasses and type hints
    # resolve through sys.modules) and do not inherit this file's `from __future__` imports
    module = types.ModuleType(f"simlab_docs_{doc.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{doc.name}[block {i + 1}]", "exec", dont_inherit=True), module.__dict__)
        except Exception as exc:  # pragma: no cover - reported with the block number
            raise AssertionError(f"{doc.name} block {i + 1} failed: {type(exc).__name__}: {exc}") from exc
