"""kill -9 and Ctrl-C at random points of ``save`` leave the destination loadable, old or new, for every
artifact kind; the next save cleans what the dead writer left (issue 9, item 7).

A "point" is a line executed in ``simlab/artifacts.py`` during the save (the writer, the lock, the atomic
exchange). kill -9 is exact: the save runs in a forked child that SIGKILLs itself at line k (no cleanup, no
``finally``). Ctrl-C raises KeyboardInterrupt at line k in this process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fuzzlib import Tally

import simlab
import simlab.artifacts as A

ARTIFACTS_PY = A.__file__
KILL_POINTS = int(os.environ.get("SIMLAB_FUZZ_KILL_POINTS", "4"))


def _tracer(k: int, action: Callable[[], None]) -> Callable[..., Any]:
    count = [0]

    def local(frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            count[0] += 1
            if count[0] == k:
                action()
        return local

    def glob(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == ARTIFACTS_PY else None

    glob.count = count  # type: ignore[attr-defined]
    return glob


def _points(obj: Any, old_dir: Path, scratch: Path) -> int:
    """Lines of artifacts.py executed by replacing an artifact with `obj`."""
    shutil.copytree(old_dir, scratch)
    t = _tracer(-1, lambda: None)
    sys.settrace(t)
    try:
        obj.save(scratch)
    finally:
        sys.settrace(None)
    shutil.rmtree(scratch)
    return t.count[0]  # type: ignore[attr-defined]


def _files(path: Path) -> dict[str, Any]:
    return json.loads((path / "simlab.json").read_text())["files"]


def _kill_during_save(obj: Any, dest: Path, k: int) -> int:
    pid = os.fork()
    if pid == 0:  # child: SIGKILL itself at line k of the save
        try:
            sys.settrace(_tracer(k, lambda: os.kill(os.getpid(), signal.SIGKILL)))
            obj.save(dest)
            sys.settrace(None)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _interrupt_during_save(obj: Any, dest: Path, k: int) -> bool:
    def stop() -> None:
        raise KeyboardInterrupt

    sys.settrace(_tracer(k, stop))
    try:
        obj.save(dest)
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)
    return False


def _check(dest: Path, old: dict[str, Any], new: dict[str, Any], what: str) -> None:
    Tally.cases += 1
    try:
        simlab.load(dest)
        got = _files(dest)
    except Exception as exc:
        Tally.failures.append(f"{what}: {exc}")
        raise AssertionError(f"{what}: destination not loadable: {exc}") from exc
    assert got in (old, new), f"{what}: destination is neither the old nor the new artifact"


# -- the objects of every kind (two versions each) -----------------------------------------------------------
def _vectors(v: float) -> Any:
    return simlab.Vectors([f"w{i}" for i in range(50)], np.full((50, 8), v, np.float32) + np.eye(50, 8))


def _index(v: float) -> Any:
    from simlab.index import Index

    return Index.from_vectors(_vectors(v))


def _pca(v: float) -> Any:
    from simlab.index.reduce import PCA

    return PCA(2).fit(np.random.default_rng(int(v)).normal(size=(30, 6)))


CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 10


def _word2vec(v: float) -> Any:
    pytest.importorskip("gensim")
    from simlab.text import Word2Vec

    return Word2Vec(dim=8, epochs=1, min_count=1, seed=int(v), workers=1).fit(CORPUS, progress=False)


def _doc2vec(v: float) -> Any:
    pytest.importorskip("gensim")
    from simlab.text import Doc2Vec

    return Doc2Vec(dim=8, epochs=1, min_count=1, seed=int(v), workers=1).fit(CORPUS, progress=False)


def _siamese(v: float) -> Any:
    pytest.importorskip("torch")
    from simlab.sequence.model import SiameseModel

    rng = np.random.default_rng(int(v))
    x = rng.normal(size=(16, 10, 1)).astype(np.float32)
    y = np.array([0, 1] * 8)
    return SiameseModel(encoder="gru", hidden=4, epochs=1, device="cpu", progress=False).fit((x, y))


def _nodes(v: float) -> Any:
    pytest.importorskip("torch_geometric")
    import networkx as nx

    from simlab.graph.nodes import NodeEmbedder

    return NodeEmbedder(epochs=1, seed=int(v), device="cpu", progress=False).fit(nx.karate_club_graph())


def _graph(v: float) -> Any:
    pytest.importorskip("torch_geometric")
    from simlab.demo.graph import make_graphs
    from simlab.graph.models import GraphBiEncoder

    gs, _ = make_graphs(2, 4, (4, 5), seed=1)
    rows = [(gs.ids[i], gs.ids[j], float(abs(i - j))) for i in range(len(gs)) for j in range(i + 1, len(gs))]
    return GraphBiEncoder(
        epochs=1, hidden=8, dim=8, seed=int(v), device="cpu", progress=False, dev_share=0.0
    ).fit(gs, rows)


def _projection(v: float) -> Any:
    from simlab.index.reduce import RandomProjection

    return RandomProjection(4, seed=int(v)).fit(np.random.default_rng(0).normal(size=(10, 8)))


def _faiss_index(v: float) -> Any:
    pytest.importorskip("faiss")
    from simlab.index import Index

    return Index.from_vectors(_vectors(v), "faiss", factory="Flat")


def _fasttext(v: float) -> Any:
    pytest.importorskip("gensim")
    from simlab.text import FastText

    return FastText(dim=8, epochs=1, min_count=1, seed=int(v), workers=1).fit(CORPUS, progress=False)


def _sif(v: float) -> Any:
    from simlab.text.sif import SIF

    words = simlab.Vectors(["the", "cat", "sat", "dog"], np.random.default_rng(int(v)).normal(size=(4, 6)))
    return SIF(words).fit(["the cat sat", "the dog sat", "a cat"])


def _graph_pair(v: float) -> Any:
    pytest.importorskip("torch_geometric")
    from simlab.demo.graph import make_graphs
    from simlab.graph.models import GraphPairModel

    gs, _ = make_graphs(2, 4, (4, 5), seed=1)
    rows = [(gs.ids[i], gs.ids[j], float(abs(i - j))) for i in range(len(gs)) for j in range(i + 1, len(gs))]
    return GraphPairModel(
        epochs=1, hidden=8, dim=8, seed=int(v), device="cpu", progress=False, dev_share=0.0
    ).fit(gs, rows)


KINDS = {
    "vectors": _vectors,
    "index": _index,
    "pca": _pca,
    "word2vec": _word2vec,
    "doc2vec": _doc2vec,
    "siamese": _siamese,
    "graph-nodes": _nodes,
    "graph-biencoder": _graph,
    "random-projection": _projection,
    "faiss-index": _faiss_index,
    "fasttext": _fasttext,
    "sif": _sif,
    "graph-pair": _graph_pair,
}
FAST_KINDS = ("vectors", "index", "pca", "word2vec", "doc2vec", "graph-nodes")  # the default run's budget


def _run(kind: str, tmp_path: Path, n_points: int, seed: int) -> None:
    make = KINDS[kind]
    old_obj, new_obj = make(1.0), make(2.0)
    ref_old, ref_new = tmp_path / "ref_old", tmp_path / "ref_new"
    old_obj.save(ref_old)
    new_obj.save(ref_new)
    old, new = _files(ref_old), _files(ref_new)
    total = _points(new_obj, ref_old, tmp_path / "scratch")
    rng = random.Random(seed)
    ks = sorted(rng.sample(range(1, total + 1), min(n_points, total)))
    work = tmp_path / "work"
    work.mkdir()
    dest = work / "model"
    for k in ks:
        shutil.copytree(ref_old, dest, dirs_exist_ok=False) if not dest.exists() else None
        _kill_during_save(new_obj, dest, k)
        _check(dest, old, new, f"{kind}: kill -9 at line {k}/{total}")
        _interrupt_during_save(new_obj, dest, k)
        _check(dest, old, new, f"{kind}: Ctrl-C at line {k}/{total}")
        old_obj.save(dest)  # the next save cleans up after the dead / interrupted writer
        assert sorted(p.name for p in work.iterdir()) == ["model"], f"{kind}: leftovers after the next save"
        _check(dest, old, old, f"{kind}: save after kill at line {k}")


@pytest.mark.parametrize("kind", FAST_KINDS)
def test_kill_and_interrupt_during_save(kind, tmp_path):
    _run(kind, tmp_path, KILL_POINTS, seed=hash(kind) % 1000)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kill_and_interrupt_at_every_point_of_save(kind, tmp_path):
    _run(kind, tmp_path, 10_000, seed=0)


def test_real_sigkill_of_a_saving_process(tmp_path):
    """A real `kill -9` at random moments of a process that saves in a loop: the path always loads."""
    dest = tmp_path / "v"
    _vectors(0.0).save(dest)
    prog = (
        "import sys, numpy as np, simlab\n"
        "v = [simlab.Vectors([f'w{i}' for i in range(2000)], np.full((2000, 64), x, np.float32))\n"
        "     for x in (1, 2)]\n"
        "print('ready', flush=True)\n"
        "i = 0\n"
        "while True:\n"
        "    v[i % 2].save(sys.argv[1]); i += 1\n"
    )
    rng = random.Random(0)
    for _ in range(3):
        p = subprocess.Popen([sys.executable, "-c", prog, str(dest)], stdout=subprocess.PIPE, text=True)
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.5))
        p.kill()
        p.wait()
        Tally.cases += 1
        assert len(simlab.load(dest)) in (50, 2000)
    _vectors(0.0).save(dest)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["v"]
