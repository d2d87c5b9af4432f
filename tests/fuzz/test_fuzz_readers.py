"""Every reader fed mutated and random bytes either succeeds or raises a SimlabError (issue 9, item 7)."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

sys.path.insert(0, str(Path(__file__).parent))
from fuzzlib import FUZZ, FUZZ_SLOW, check_reader, inputs

import simlab
from simlab.config import load_config_file
from simlab.vectors import Vectors


def _corpus(p: Path) -> None:
    from simlab.text.corpus import TextCorpus

    for _ in TextCorpus(p, format="auto"):
        pass


def _w2v_bytes(binary: bool) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / ("v.bin" if binary else "v.txt")
        Vectors(
            ["cat", "dog", "fish"], np.arange(12, dtype=np.float32).reshape(3, 4) / 7
        ).save_word2vec_format(p, binary=binary)
        return p.read_bytes()


def _graph_bytes(fmt: str) -> bytes:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from([(0, {"label": "C"}), (1, {"label": "O"}), (2, {"label": "C"})])
    g.add_edges_from([(0, 1), (1, 2)])
    buf = io.BytesIO()
    (nx.write_gexf if fmt == "gexf" else nx.write_graphml)(g, buf)
    return buf.getvalue()


def _series(p: Path) -> None:
    from simlab.sequence.data import read_series

    read_series(p)


def _pairs(p: Path) -> None:
    from simlab.sequence.data import read_any

    read_any(p)


def _graphs(p: Path) -> None:
    from simlab.graph.io import GraphSet

    GraphSet.read(p)


def _ged(p: Path) -> None:
    from simlab.graph.ged import GEDTable

    GEDTable.read(p)


def _vectors_any(p: Path) -> None:
    from simlab.text.io import load_vectors

    load_vectors(p)


def _word_pairs(p: Path) -> None:
    from simlab.text.evaluation import read_analogies, read_pairs

    read_pairs(p)
    read_analogies(p)


SEEDS = {
    "corpus.txt": (_corpus, b"The cat sat on the mat.\nA dog <br /> barked!\n\nthird line\n"),
    "corpus.jsonl": (_corpus, b'{"text": "the cat sat"}\n{"text": "a dog", "id": 2}\n'),
    "corpus.tsv": (_corpus, b"id\ttext\n1\tthe cat sat\n2\ta dog barked\n"),
    "corpus.csv": (_corpus, b'id,text\n1,"the cat, sat"\n2,a dog\n'),
    "corpus.txt.gz": (_corpus, gzip.compress(b"the cat sat\na dog barked\n")),
    "pairs.tsv": (_pairs, b"a\tb\tscore\nthe cat\ta cat\t4.5\na dog\tthe sun\t1.0\n"),
    "pairs.csv": (_pairs, b'sentence1,sentence2,label\n"a, cat",the cat,1\nx,y,0\n'),
    "sick.txt": (
        _pairs,
        b"pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n"
        b"1\tA cat sits\tA cat is sitting\t4.5\tENTAILMENT\n",
    ),
    "sts.csv": (_pairs, b"main-captions\tMSRvid\t2012test\t0001\t5.000\tA plane.\tAn airplane.\n"),
    "ucr.tsv": (_series, b"1\t0.1\t0.2\t0.3\n2\t1.0\t0.5\tNaN\n1\t0.0\t0.1\t0.2\n"),
    "series.ts": (
        _series,
        b"@problemName x\n@univariate true\n@classLabel true 1 2\n@data\n0.1,0.2,0.3:1\n1.0,?,0.5:2\n",
    ),
    "series.npy": (
        _series,
        (lambda: (lambda b: (np.save(b, np.arange(12.0).reshape(3, 4)), b.getvalue())[1])(io.BytesIO()))(),
    ),
    "graphs.jsonl": (
        _graphs,
        b'{"id": "g1", "nodes": [{"id": 0, "label": "C"}, {"id": 1, "label": "O"}], '
        b'"links": [{"source": 0, "target": 1}]}\n'
        b'{"id": "g2", "nodes": [{"id": 0}], "links": []}\n',
    ),
    "graph.gexf": (_graphs, _graph_bytes("gexf")),
    "graph.graphml": (_graphs, _graph_bytes("graphml")),
    "graph.edgelist": (_graphs, b"# comment\n0 1\n1 2\n2 0 3.5\n4\n"),
    "graph.json": (
        _graphs,
        b'{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b"}]}',
    ),
    "ged.tsv": (_ged, b"id_a\tid_b\tged\texact\ng1\tg2\t3\t1\ng1\tg3\t2.5\t0\n"),
    "vectors.txt": (_vectors_any, _w2v_bytes(False)),
    "vectors.bin": (_vectors_any, _w2v_bytes(True)),
    "glove.txt": (_vectors_any, b"the 0.1 0.2 0.3\ncat -0.5 0.25 1e-3\n"),
    "config.json": (lambda p: load_config_file(p), b'{"dim": 50, "epochs": 3, "window": [1, 2]}'),
    "wordsim.tsv": (_word_pairs, b"# word pairs\ncat\tdog\t7.5\nsun\tmoon\t6.1\n"),
}
NEEDS = {
    "corpus": None,
    "pairs": None,
    "sick": None,
    "sts": None,
    "ucr": None,
    "series": None,
    "graphs": "networkx",
    "graph": "networkx",
    "ged": "networkx",
    "vectors": None,
    "glove": None,
    "config": None,
    "wordsim": None,
}


def _case(name: str):
    read, seed = SEEDS[name]
    stem, _, suffix = name.partition(".")
    need = NEEDS.get(stem)
    if need:
        pytest.importorskip(need)
    return read, seed, stem, "." + suffix


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_is_valid(name):
    """The unmutated seed of each reader reads cleanly (so mutations start from real input)."""
    read, seed, stem, suffix = _case(name)
    check_reader(read, seed, suffix, stem)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_reader_fuzz(name):
    read, seed, stem, suffix = _case(name)

    @FUZZ
    @given(inputs(seed))
    def run(data: bytes) -> None:
        check_reader(read, data, suffix, stem)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SEEDS))
def test_reader_fuzz_long(name):
    read, seed, stem, suffix = _case(name)

    @FUZZ_SLOW
    @given(inputs(seed))
    def run(data: bytes) -> None:
        check_reader(read, data, suffix, stem)

    run()


def _artifact_seed(tmp: Path) -> Path:
    return simlab.Vectors(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2)).save(tmp / "art")


def _refresh_checksum(art: Path, name: str) -> None:
    """Record a mutated file's real checksum, so the loader's parsing (not only the checksum) is exercised."""
    import hashlib

    man = json.loads((art / "simlab.json").read_text())
    data = (art / name).read_bytes()
    man["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (art / "simlab.json").write_text(json.dumps(man))


@pytest.mark.parametrize("target", ["simlab.json", "keys.json", "vectors.safetensors"])
def test_artifact_fuzz(target, tmp_path):
    """Mutated manifests, key lists and tensors files (with their real checksums recorded) load or raise a
    SimlabError."""
    seed_dir = _artifact_seed(tmp_path)
    seed = (seed_dir / target).read_bytes()

    def load(p: Path) -> None:
        import shutil

        art = p.parent / "a"
        shutil.copytree(seed_dir, art)
        (art / target).write_bytes(p.read_bytes())
        if target != "simlab.json":
            _refresh_checksum(art, target)
        simlab.load(art)

    @FUZZ
    @given(inputs(seed))
    def run(data: bytes) -> None:
        check_reader(load, data, ".bin", "mutant")

    run()
