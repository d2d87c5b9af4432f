"""The CLI run on mutated and random inputs exits 0, 1 or 2 with one line and no traceback (issue 9, item
7)."""

from __future__ import annotations

import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

sys.path.insert(0, str(Path(__file__).parent))
from fuzzlib import FUZZ_EXAMPLES, FUZZ_SLOW, Tally, inputs
from test_fuzz_readers import SEEDS

import simlab
from simlab.cli.main import main

CLI_FUZZ = settings(
    max_examples=max(4, FUZZ_EXAMPLES // 4),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(__import__("hypothesis").HealthCheck),
)
CATCH_ALL = "--debug shows the traceback"


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, err.getvalue()


def _commands(name: str, f: Path, d: Path) -> list[list[str]]:
    """The CLI commands that read a file of kind `name`."""
    stem = name.partition(".")[0]
    vec = d / "vec"
    if stem in ("pairs", "sick", "sts", "wordsim"):
        return [["evaluate", str(vec), str(f)]]
    if stem in ("corpus",):
        return [
            [
                "train",
                "word2vec",
                str(f),
                "--out",
                str(d / "m"),
                "--set",
                "epochs=1",
                "--set",
                "min_count=1",
                "--set",
                "dim=4",
                "--threads",
                "1",
            ]
        ]
    if stem == "config":
        corpus = d / "c.txt"
        corpus.write_text("a b c\nb c d\n" * 5)
        return [["train", "word2vec", str(corpus), "--out", str(d / "m"), "--config", str(f)]]
    if stem in ("vectors", "glove"):
        return [["index", "build", str(f), "--out", str(d / "i")]]
    if stem in ("graphs", "graph"):
        return [["ged", str(f), "--out", str(d / "g.tsv"), "--workers", "1", "--timeout", "1"]]
    if stem == "ged":
        g = d / "g.jsonl"
        g.write_text(
            '{"id": "g1", "nodes": [{"id": 0}], "links": []}\n'
            '{"id": "g2", "nodes": [{"id": 0}], "links": []}\n'
        )
        return [["ged", str(g), "--out", str(f), "--workers", "1", "--timeout", "1"]]
    if stem in ("ucr", "series"):
        return [["evaluate", str(vec), str(f)]]
    raise AssertionError(name)


def check_cli(name: str, data: bytes) -> None:
    suffix = "." + name.partition(".")[2]
    with tempfile.TemporaryDirectory(prefix="simlab-fuzz-cli-") as tmp:
        d = Path(tmp)
        simlab.Vectors(["cat", "dog", "the"], np.eye(3)).save(d / "vec")
        f = d / f"input{suffix}"
        f.write_bytes(data)
        for argv in _commands(name, f, d):
            Tally.cases += 1
            code, err = run_cli(argv)
            ok = code in (0, 1, 2) and "Traceback" not in err and CATCH_ALL not in err
            if code == 1:
                ok = ok and err.count("\n") == 1
            if not ok:
                Tally.failures.append(f"cli {argv[0]} on {name}: {err.strip()[:200]}")
            assert ok, (
                f"simlab {' '.join(argv[:2])} on mutated {name}: exit {code}\n{err}\ninput={data[:300]!r}"
            )


NAMES = [n for n in sorted(SEEDS) if not n.startswith("wordsim")]


@pytest.mark.parametrize("name", NAMES)
def test_cli_fuzz(name):
    if name.split(".")[0] in ("graphs", "graph", "ged"):
        pytest.importorskip("networkx")
    if name.startswith(("corpus", "config")):
        pytest.importorskip("gensim")
    seed = SEEDS[name][1]

    @CLI_FUZZ
    @given(inputs(seed))
    def run(data: bytes) -> None:
        check_cli(name, data)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_cli_fuzz_long(name):
    seed = SEEDS[name][1]

    @FUZZ_SLOW
    @given(inputs(seed))
    def run(data: bytes) -> None:
        check_cli(name, data)

    run()


def test_cli_on_mutated_artifacts():
    """`info` and `similar` on artifacts with a mutated manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        seed_dir = simlab.Vectors(["a", "b"], np.eye(2)).save(Path(tmp) / "seed")
        seed = (seed_dir / "simlab.json").read_bytes()

        @CLI_FUZZ
        @given(inputs(seed))
        def run(data: bytes) -> None:
            art = Path(tmp) / "a"
            shutil.rmtree(art, ignore_errors=True)
            shutil.copytree(seed_dir, art)
            (art / "simlab.json").write_bytes(data)
            for argv in (["info", str(art)], ["similar", str(art), "a"]):
                Tally.cases += 1
                code, err = run_cli(argv)
                assert code in (0, 1) and "Traceback" not in err and CATCH_ALL not in err, err

        run()
