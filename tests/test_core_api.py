"""Registry, config, errors, import lightness, and the core CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
from typer.testing import CliRunner

import simlab
from simlab.cli import app
from simlab.config import from_dict, parse_overrides
from simlab.errors import ConfigError, SimlabError, UnknownNameError
from simlab.registry import ALL, Registry

HEAVY = (
    "torch",
    "gensim",
    "faiss",
    "torch_geometric",
    "sktime",
    "sklearn",
    "networkx",
    "dtaidistance",
    "matplotlib",
)


def _loaded_after(code: str) -> list[str]:
    out = (
        subprocess.run(
            [sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return [m for m in json.loads(out) if m.split(".")[0] in HEAVY]


def test_import_simlab_is_light():
    assert _loaded_after("import simlab; simlab.Vectors; simlab.pairwise") == []


def test_cli_help_and_list_are_light():
    code = (
        "import sys\nfrom simlab.cli import main\n"
        "for argv in (['--help'], ['list', 'losses'], ['list', 'encoders'], ['list', 'evaluators'],\n"
        "             ['list', 'kinds']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
    )
    assert _loaded_after(code) == []


def test_registry_by_name_or_object_and_errors():
    r: Registry[object] = Registry("widget")
    r.register("alpha", 1, aliases=("a",))
    r.register("beta", "json:dumps")
    assert r.get("ALPHA") == 1 and r.get("a") == 1 and r.get("beta") is json.dumps
    obj = object()
    assert r.get(obj) is obj
    with pytest.raises(UnknownNameError, match="unknown widget 'gamma'; valid names: alpha, beta"):
        r.get("gamma")
    assert str(UnknownNameError("widget", "x", ["b", "a"])) == "unknown widget 'x'; valid names: a, b"


def test_error_tree():
    for cls in (
        ConfigError,
        UnknownNameError,
        simlab.DataError,
        simlab.DimensionError,
        simlab.ArtifactError,
        simlab.MissingDependency,
        simlab.NotFittedError,
        simlab.UnknownKeyError,
    ):
        assert issubclass(cls, SimlabError)
    e = simlab.DataError("bad value", "f.txt", 3)
    assert str(e) == "f.txt:3: bad value"


@dataclass(frozen=True)
class _Cfg:
    dim: int = 10
    name: str = "x"


def test_config_rejects_unknown_keys_by_name():
    assert from_dict(_Cfg, {"dim": 3}) == _Cfg(3)
    with pytest.raises(ConfigError, match=r"unknown _Cfg key.*dimm.*valid keys: dim, name"):
        from_dict(_Cfg, {"dimm": 3})
    assert parse_overrides(["dim=3", "name=abc", "flag=true", "xs=[1,2]"]) == {
        "dim": 3,
        "name": "abc",
        "flag": True,
        "xs": [1, 2],
    }
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["novalue"])


runner = CliRunner()


def test_cli_list_info_similar(tmp_path):
    for what in ALL:
        res = runner.invoke(app, ["list", what])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["list", "metrics", "--json"])
    assert "cosine" in json.loads(res.output)["result"]
    v = simlab.Vectors(["a", "b", "c"], np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32))
    p = v.save(tmp_path / "v")
    res = runner.invoke(app, ["info", str(p)])
    assert res.exit_code == 0 and "kind=vectors" in res.output
    res = runner.invoke(app, ["similar", str(p), "a", "-k", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["result"]["hits"][0]["key"] == "b"
    res = runner.invoke(app, ["similar", str(p), "a", "c"])
    assert float(res.output) == pytest.approx(0.0, abs=1e-6)


def test_cli_errors_exit_codes(tmp_path):
    def run(*argv):
        return subprocess.run([sys.executable, "-m", "simlab", *argv], capture_output=True, text=True)

    r = run("info", str(tmp_path / "missing"))
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    r = run("list", "nothing")
    assert r.returncode == 1 and "valid names" in r.stderr
    r = run("--no-such-flag")
    assert r.returncode == 2
    r = run("info", str(tmp_path / "missing"), "--json")
    assert r.returncode == 1
