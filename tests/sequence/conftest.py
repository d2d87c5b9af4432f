"""Fixtures of the sequence tests: small SICK-format files and word vectors generated in code."""

from __future__ import annotations

import numpy as np
import pytest

TOPICS = {
    "music": ["man", "guitar", "plays", "song", "piano", "sings", "band", "drum"],
    "food": ["woman", "cooks", "onion", "slices", "kitchen", "meat", "eats", "bread"],
    "sport": ["boy", "runs", "ball", "kicks", "field", "soccer", "jumps", "team"],
    "animals": ["dog", "cat", "barks", "grass", "runs", "horse", "rides", "sleeps"],
}


def make_sentences(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    topics = list(TOPICS)
    out, labs = [], []
    for _ in range(n):
        t = topics[rng.integers(len(topics))]
        words = rng.choice(TOPICS[t], size=int(rng.integers(3, 8)))
        out.append("A " + " ".join(words) + ".")
        labs.append(t)
    return out, labs


def make_pairs(seed: int, n: int) -> tuple[list[str], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    a, la = make_sentences(rng, n)
    b, lb = make_sentences(rng, n)
    # half the pairs share the topic
    for i in range(0, n, 2):
        s, lab = make_sentences(rng, 1)
        while lab[0] != la[i]:
            s, lab = make_sentences(rng, 1)
        b[i], lb[i] = s[0], lab[0]
    score = np.where(np.array(la) == np.array(lb), 4.2, 1.6) + rng.uniform(-0.6, 0.6, n)
    return a, b, np.clip(score, 1, 5).round(2)


def write_sick(path, a, b, score) -> None:
    lines = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
    for i, (x, y, s) in enumerate(zip(a, b, score, strict=True)):
        lines.append(f"{i + 1}\t{x}\t{y}\t{s}\tNEUTRAL")
    path.write_text("\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="session")
def sick_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("sick")
    write_sick(d / "SICK_train.txt", *make_pairs(0, 300))
    write_sick(d / "SICK_trial.txt", *make_pairs(1, 60))
    write_sick(d / "SICK_test_annotated.txt", *make_pairs(2, 200))
    return d


@pytest.fixture(scope="session")
def word_vectors():
    """Topic-clustered random word vectors (dim 16) as a simlab Vectors."""
    import simlab

    rng = np.random.default_rng(0)
    words, rows = [".", "a"], [rng.normal(size=16) * 0.1, rng.normal(size=16) * 0.1]
    centers = {t: rng.normal(size=16) for t in TOPICS}
    for t, ws in TOPICS.items():
        for w in ws:
            if w not in words:
                words.append(w)
                rows.append(centers[t] + 0.4 * rng.normal(size=16))
    return simlab.Vectors(words, np.array(rows, np.float32))


@pytest.fixture(scope="session")
def italy():
    from simlab.sequence.data import load_ucr

    return load_ucr("ItalyPowerDemand", "train"), load_ucr("ItalyPowerDemand", "test")


#: a fast series config used by several tests
FAST_SERIES = dict(
    encoder="gru",
    hidden=16,
    bidirectional=True,
    pooling="mean",
    loss="contrastive",
    lr=5e-3,
    epochs=8,
    pairs_per_epoch=512,
    progress=False,
    device="cpu",
    threads=1,
)
