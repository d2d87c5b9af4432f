"""Readers and evaluators on the real SICK / STS-B files (skipped when ../shared/data is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.sequence import data as D

pytestmark = pytest.mark.shared_data


def test_sick_splits(shared_data):
    sizes = {
        f: len(D.read_sick(shared_data / "sick" / f))
        for f in ("SICK_train.txt", "SICK_trial.txt", "SICK_test_annotated.txt")
    }
    assert sizes == {"SICK_train.txt": 4500, "SICK_trial.txt": 500, "SICK_test_annotated.txt": 4927}
    test = D.read_sick(shared_data / "sick" / "SICK_test_annotated.txt")
    assert test.score.min() >= 1 and test.score.max() <= 5
    assert set(test.label) == {"ENTAILMENT", "NEUTRAL", "CONTRADICTION"}


def test_stsb_splits(shared_data):
    sizes = {s: len(D.read_stsb(shared_data / "stsb" / f"sts-{s}.csv")) for s in ("train", "dev", "test")}
    assert sizes == {"train": 5749, "dev": 1500, "test": 1379}
    test = D.read_any(shared_data / "stsb" / "sts-test.csv")
    assert test.score.min() >= 0 and test.score.max() <= 5 and all(isinstance(x, str) and x for x in test.b)


def test_sick_evaluator_on_word_overlap(shared_data):
    """A trivial word-overlap model must correlate positively with SICK relatedness (checks the wiring)."""
    from simlab.sequence.evaluation import eval_sick, eval_stsb

    class Overlap:
        def score_pairs(self, a, b):
            return np.array(
                [
                    len(set(D.tokenize(x)) & set(D.tokenize(y)))
                    / len(set(D.tokenize(x)) | set(D.tokenize(y)))
                    for x, y in zip(a, b, strict=True)
                ]
            )

    rep = eval_sick(Overlap())
    assert rep.counts["items_scored"] == 4927 and 0.4 < rep.metrics["pearson"] < 0.8
    rep = eval_stsb(Overlap())
    assert rep.primary == "spearman" and rep.counts["items_scored"] == 1379 and rep.value > 0.3


def test_sick_retrieval_and_evaluator_with_a_text_model(shared_data, sick_files, word_vectors):
    pytest.importorskip("torch")
    from simlab.evaluate import evaluate
    from simlab.sequence.model import SiameseModel

    m = SiameseModel(hidden=8, epochs=1, progress=False, device="cpu", vectors=word_vectors).fit(
        D.read_sick(sick_files / "SICK_train.txt")
    )
    rep = evaluate(m, "retrieval:sick")
    assert rep.counts["queries"] > 500 and 0 <= rep.metrics["recall@1"] <= rep.metrics["recall@10"] <= 1
    rep = evaluate(m, "sick")
    assert rep.counts["items_scored"] == 4927 and rep.counts["oov_share"] > 0.5  # toy vocabulary
