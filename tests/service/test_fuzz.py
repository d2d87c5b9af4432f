"""Schemathesis fuzzing of every operation of the OpenAPI schema (slow suite): no input reaches a 500.

Every model family is served (vectors, word2vec, doc2vec, Siamese series, graph bi-encoder, node embeddings)
with two collections (given vectors; bound to word2vec) and no API key, so that writes are fuzzed too.
Hypothesis draws cases from schemathesis' strategy of each operation (positive and negative data); the number
of requests sent per status is printed (``-s``).
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

EXAMPLES = 60  # per operation


def fuzz(op, valid, counts, failures):
    turn = {"i": 0}

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=op.as_strategy())
    def run(case):
        if valid and "name" in (case.path_parameters or {}):
            case.path_parameters["name"] = valid[turn["i"] % len(valid)]
            turn["i"] += 1
        r = case.call()
        counts[r.status_code] = counts.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            failures.append((case.method, case.formatted_path, case.body, r.text[:300]))

    return run


@pytest.mark.slow
def test_no_input_reaches_a_500(artifact, tmp_path):
    from simlab.service import create_app

    names = ("vecs", "w2v", "d2v", "seq", "graph", "nodes")
    app = create_app({n: artifact(n) for n in names}, data_dir=tmp_path / "fuzz", background=False)
    cols = app.state.simlab.collections
    cols.create("c", dim=4)
    cols.create("w", model="w2v")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    counts: dict[int, int] = {}
    failures: list[tuple] = []
    ops = [r.ok() for r in schema.get_all_operations()]
    for op in ops:
        # path names cycle over the real models / collections (random names would only test the 404 path);
        # the drop operation keeps its random names so the collections stay
        valid = (
            names
            if op.path.startswith("/v1/models/")
            else ("c", "w")
            if op.method.upper() != "DELETE"
            else ()
        )
        fuzz(op, valid, counts, failures)()
    total = sum(counts.values())
    print(f"schemathesis: {len(ops)} operations, {total} requests, by status {dict(sorted(counts.items()))}")
    assert not failures, failures[:5]
    assert total >= 10 * len(ops)
