"""Artifacts: manifest, checksums, atomic replace, refusal of corrupt or foreign directories."""

from __future__ import annotations

import json

import numpy as np
import pytest

import simlab
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ArtifactError, UnknownNameError


def _write(path, value=1.0):
    with ArtifactWriter(path, "vectors", {"dim": 2, "count": 1}) as w:
        w.save_arrays("vectors.safetensors", {"matrix": np.full((1, 2), value, np.float32)})
        w.save_json("keys.json", ["a"])
    return path


def test_manifest_lists_files_with_checksums(tmp_path):
    p = _write(tmp_path / "a")
    man = json.loads((p / "simlab.json").read_text())
    assert man["format"] == "simlab" and man["format_version"] == 1 and man["kind"] == "vectors"
    assert set(man["files"]) == {"vectors.safetensors", "keys.json"}
    assert all(len(f["sha256"]) == 64 for f in man["files"].values())
    assert simlab.info(p)["config"] == {"dim": 2, "count": 1}


def test_crash_during_save_keeps_old_artifact_and_leaves_no_temp(tmp_path):
    p = _write(tmp_path / "a", 1.0)
    with pytest.raises(RuntimeError), ArtifactWriter(p, "vectors") as w:
        w.save_json("keys.json", ["b"])
        raise RuntimeError("crash")
    assert simlab.load(p)["a"][0] == 1.0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a"]


def test_replace_is_whole(tmp_path):
    p = _write(tmp_path / "a", 1.0)
    _write(p, 2.0)
    assert simlab.load(p)["a"][0] == 2.0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a"]


def test_missing_manifest_and_missing_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="manifest missing"):
        simlab.load(tmp_path / "empty")
    with pytest.raises(ArtifactError, match="not a simlab artifact"):
        simlab.load(tmp_path / "nothing")
    p = _write(tmp_path / "a")
    (p / "keys.json").unlink()
    with pytest.raises(ArtifactError, match=r"keys\.json: file listed in the manifest is missing"):
        simlab.load(p)


def test_corrupt_manifest_and_unknown_kind(tmp_path):
    p = _write(tmp_path / "a")
    (p / "simlab.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt manifest"):
        simlab.load(p)
    p = _write(tmp_path / "b")
    man = json.loads((p / "simlab.json").read_text())
    man["kind"] = "os.system"  # kinds resolve through the registry, never as import paths
    (p / "simlab.json").write_text(json.dumps(man))
    with pytest.raises(UnknownNameError, match="artifact kind"):
        simlab.load(p)
    man["format_version"] = 99
    (p / "simlab.json").write_text(json.dumps(man))
    with pytest.raises(ArtifactError, match="newer"):
        simlab.load(p)


def test_expected_kind_is_checked(tmp_path):
    p = _write(tmp_path / "a")
    with pytest.raises(ArtifactError, match="expected word2vec"):
        Artifact(p, kind="word2vec")


def test_no_pickle_in_source():
    """No plain unpickling anywhere. The one reader of a third-party pickle format (Planetoid's raw files)
    must use an Unpickler subclass whose find_class is an allowlist."""
    import pathlib
    import re

    src = pathlib.Path(simlab.__file__).parent
    for f in src.rglob("*.py"):
        text = f.read_text()
        assert not re.search(r"pickle\.loads?\(", text), f
        if re.search(r"^\s*import pickle", text, re.M):
            assert re.search(r"class \w+\(pickle\.Unpickler\)", text) and "def find_class" in text, f
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, f


def test_renamed_kinds_keep_loading_under_their_old_names(tmp_path):
    """Kind names are hyphenated (sequence-siamese, sparse-vectors, random-projection); artifacts saved
    before the rename, with the underscore names, still load and count as the same kind for --out."""
    import json

    import numpy as np

    from simlab.artifacts import artifact_kind, check_out, load
    from simlab.index.reduce import RandomProjection

    rp = RandomProjection(4, seed=0).fit(np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32))
    rp.save(tmp_path / "rp")
    man = json.loads((tmp_path / "rp" / "simlab.json").read_text())
    assert man["kind"] == "random-projection"
    man["kind"] = "random_projection"
    (tmp_path / "rp" / "simlab.json").write_text(json.dumps(man))
    assert artifact_kind(tmp_path / "rp") == "random-projection"
    assert isinstance(load(tmp_path / "rp"), RandomProjection)
    check_out(tmp_path / "rp", "random-projection")  # same kind: may be replaced
