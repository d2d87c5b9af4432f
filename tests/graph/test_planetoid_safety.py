"""Reading Planetoid's raw (pickled) files never runs code: any global outside the allow-list is refused
with a DataError, and a truncated file is a DataError too."""

from __future__ import annotations

import pickle

import pytest

from simlab.errors import DataError
from simlab.graph.planetoid import _load


class _Evil:
    def __reduce__(self):  # unpickling with the plain unpickler would call os.system
        import os

        return (os.system, ("touch PWNED",))


def test_a_file_with_a_foreign_global_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "ind.cora.x"
    bad.write_bytes(pickle.dumps(_Evil(), protocol=2))
    with pytest.raises(DataError, match="not allowed"):
        _load(bad)
    assert not (tmp_path / "PWNED").exists()
    short = tmp_path / "ind.cora.y"
    short.write_bytes(pickle.dumps([1, 2, 3], protocol=2)[:5])
    with pytest.raises(DataError, match="unreadable"):
        _load(short)
    with pytest.raises(DataError, match="not found"):
        _load(tmp_path / "missing")
