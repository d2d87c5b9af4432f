"""Fixtures of the service tests: small artifacts of every model family made in the test session, and a helper
that runs ``simlab serve`` as a real subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
os.environ.setdefault("OMP_NUM_THREADS", "1")

TOPICS = {
    "music": ["guitar", "plays", "song", "piano", "sings", "band", "drum", "music"],
    "food": ["cooks", "onion", "slices", "kitchen", "meat", "eats", "bread", "soup"],
    "sport": ["runs", "ball", "kicks", "field", "soccer", "jumps", "team", "goal"],
}


def topic_docs(n: int, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        words = TOPICS[list(TOPICS)[i % 3]]
        out.append(list(rng.choice(words, size=8)))
    return out


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Directory holding small artifacts: vecs (Vectors), w2v, d2v, seq (Siamese series), graph (bi-encoder),
    nodes (node embeddings); each is built on first use by :func:`artifact`."""
    return tmp_path_factory.mktemp("artifacts")


def _build(name: str, d: Path) -> Path:
    import simlab

    p = d / name
    if p.exists():
        return p
    if name == "vecs":
        rng = np.random.default_rng(0)
        centers = rng.normal(size=(4, 16))
        x = centers[np.arange(200) % 4] + 0.3 * rng.normal(size=(200, 16))
        simlab.Vectors([f"v{i}" for i in range(200)], x).save(p)
    elif name == "w2v":
        from simlab.text import Word2Vec

        Word2Vec(dim=16, epochs=5, min_count=1, workers=1, seed=1, window=3).fit(topic_docs(300)).save(p)
    elif name == "d2v":
        from simlab.text import Doc2Vec

        Doc2Vec(dim=16, epochs=10, min_count=1, workers=1, seed=1).fit(topic_docs(120)).save(p)
    elif name == "seq":
        from simlab.sequence.data import SeriesDataset
        from simlab.sequence.model import SiameseModel

        rng = np.random.default_rng(0)
        t = np.linspace(0, 6, 24)
        series = [np.sin(t * (1 + (i % 2))) + 0.1 * rng.normal(size=24) for i in range(40)]
        data = SeriesDataset(
            [s[:, None].astype(np.float32) for s in series], np.array([str(i % 2) for i in range(40)])
        )
        SiameseModel(
            encoder="gru", hidden=8, epochs=2, pairs_per_epoch=64, progress=False, device="cpu", threads=1
        ).fit(data).save(p)
    elif name == "seqtext":
        from simlab.sequence.model import SiameseModel

        docs = topic_docs(60)
        sents = ["a " + " ".join(d[:5]) for d in docs]
        labels = [list(TOPICS)[i % 3] for i in range(60)]
        SiameseModel(
            encoder="gru", hidden=8, epochs=2, pairs_per_epoch=64, progress=False, device="cpu", threads=1
        ).fit((sents, labels)).save(p)
    elif name == "graph":
        from simlab.demo.graph import make_graphs
        from simlab.graph.ged import compute_ged
        from simlab.graph.models import GraphBiEncoder

        gs, _ = make_graphs(4, 4, (4, 6), seed=1)
        table = compute_ged(gs, d / "ged.tsv", timeout=5.0, workers=1, progress=False)
        GraphBiEncoder(conv="gin", epochs=5, hidden=16, dim=16, progress=False, dev_share=0.0).fit(
            gs, table
        ).save(p)
    elif name == "nodes":
        import networkx as nx

        from simlab.graph.nodes import NodeEmbedder

        g = nx.planted_partition_graph(2, 20, 0.4, 0.02, seed=3)
        NodeEmbedder(conv="sage", epochs=5, progress=False, patience=None).fit(g, name="pp").save(p)
    return p


@pytest.fixture(scope="session")
def artifact(artifacts):
    """``artifact(name) -> path`` (built once per session)."""
    return lambda name: _build(name, artifacts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``simlab serve`` in a subprocess on 127.0.0.1 (a free port)."""

    def __init__(
        self, args: list[str], data: Path, api_key: str = "test-key", log: Path | None = None
    ) -> None:
        self.args, self.data, self.api_key = args, data, api_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or data.parent / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> Server:
        import httpx

        src = str(Path(__file__).resolve().parents[2] / "src")
        env = {
            **os.environ,
            "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OMP_NUM_THREADS": "1",
        }
        cmd = [
            sys.executable,
            "-m",
            "simlab",
            "serve",
            *self.args,
            "--port",
            str(self.port),
            "--data",
            str(self.data),
            "--api-key",
            self.api_key,
        ]
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in {timeout}s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
