"""Fixtures of the scale tests: a small Doc2Vec model, vector sets and graphs (generated in code)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'simlab[ray]'")


@pytest.fixture(scope="session")
def lee():
    pytest.importorskip("gensim")
    from simlab.paths import gensim_test_data

    return gensim_test_data() / "lee_background.cor"


@pytest.fixture(scope="session")
def d2v(lee, tmp_path_factory):
    """A small Doc2Vec on the Lee corpus, saved (the scale jobs load models from artifacts)."""
    from simlab.text import Doc2Vec

    m = Doc2Vec(dim=16, epochs=5, min_count=2, workers=1, seed=4).fit(lee)
    path = tmp_path_factory.mktemp("model") / "d2v"
    m.save(path)
    return m, path


@pytest.fixture(scope="session")
def corpus_files(lee, tmp_path_factory):
    """The Lee documents as JSONL (with ids), TSV (with a header) and Parquet, plus one unknown-word row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path_factory.mktemp("corpus")
    texts = [*lee.read_text(encoding="utf-8").splitlines(), "zzzqx qqqzx"]
    with (d / "docs.jsonl").open("w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"d{i}", "text": t}) + "\n")
    with (d / "docs.tsv").open("w") as f:
        f.write("id\ttext\n" + "".join(f"d{i}\t{t}\n" for i, t in enumerate(texts)))
    pq.write_table(
        pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts}),
        d / "docs.parquet",
        row_group_size=40,
    )
    return {"dir": d, "texts": texts}


@pytest.fixture(scope="session")
def vector_sets(tmp_path_factory):
    """A (700, 24) and B (1100, 24) clustered vector sets as .npy and Parquet (ids a0.. / b0..)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path_factory.mktemp("vectors")
    r = np.random.default_rng(0)
    centres = r.normal(size=(12, 24)).astype(np.float32)
    a = (centres[r.integers(0, 12, 700)] + 0.4 * r.normal(size=(700, 24))).astype(np.float32)
    b = (centres[r.integers(0, 12, 1100)] + 0.4 * r.normal(size=(1100, 24))).astype(np.float32)
    np.save(d / "a.npy", a)
    np.save(d / "b.npy", b)
    for name, x in (("a", a), ("b", b)):
        vec = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), x.shape[1])
        pq.write_table(
            pa.table({"id": [f"{name}{i}" for i in range(len(x))], "vector": vec}),
            d / f"{name}.parquet",
            row_group_size=256,
        )
    return {"dir": d, "a": a, "b": b}


@pytest.fixture(scope="session")
def graphs():
    pytest.importorskip("networkx")
    pytest.importorskip("torch")
    from simlab.demo.graph import make_graphs

    gs, _ = make_graphs(6, 5, (4, 6), seed=1)
    return gs
