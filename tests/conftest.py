"""Shared fixtures. Data comes from installed wheels, is generated in code, or from ../shared/data (skipped
cleanly when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared/data folder, or skip the test when it is absent."""
    from simlab.paths import shared_data_dir

    p = shared_data_dir()
    if p is None:
        pytest.skip("../shared/data not present")
    return p


def clustered(n: int, dim: int, n_clusters: int = 20, seed: int = 0, spread: float = 0.3) -> np.ndarray:
    """Clustered float32 data with a decaying spectrum (realistic for ANN tests)."""
    r = np.random.default_rng(seed)
    scales = (1.0 / np.sqrt(np.arange(1, dim + 1))).astype(np.float32)
    centers = r.normal(size=(n_clusters, dim)).astype(np.float32) * scales
    labels = r.integers(0, n_clusters, n)
    x = centers[labels] + spread * r.normal(size=(n, dim)).astype(np.float32) * scales
    return x.astype(np.float32)


@pytest.fixture
def clustered_data():
    return clustered


@pytest.fixture
def cli():
    """Run the CLI in-process: ``cli(argv, capsys) -> (exit code, stdout, stderr)``."""
    from simlab.cli.main import main

    def run(argv, capsys):
        try:
            main([str(a) for a in argv])
            code = 0
        except SystemExit as exc:
            code = exc.code or 0
        out, err = capsys.readouterr()
        return code, out, err

    return run
