"""Recipe: sentence pairs (SICK format) + word vectors -> MaLSTM (Siamese LSTM, exp(-||a-b||_1), MSE) ->
Pearson / Spearman / MSE -> save and reload.

A small SICK-format file and topic-clustered word vectors are generated here, so the recipe runs offline in a
few seconds; point `train_file` at ``shared/data/sick/SICK_train.txt`` and `vectors` at real word vectors for
the real benchmark (see benchmarks/bench_sequence_text.py).
Run: ``python examples/22_sentence_pairs_malstm.py [OUT_DIR]``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

import simlab
from simlab.sequence import SiameseModel, read_sick
from simlab.sequence.evaluation import relatedness_report

TOPICS = {
    "music": "man guitar plays song piano sings band",
    "food": "woman cooks onion slices kitchen meat",
    "sport": "boy runs ball kicks field soccer",
    "animals": "dog cat barks grass horse sleeps",
}


def make_data(out: Path, seed: int = 0) -> tuple[Path, Path, simlab.Vectors]:
    rng = np.random.default_rng(seed)
    words = {t: ws.split() for t, ws in TOPICS.items()}
    centers = {t: rng.normal(size=16) for t in TOPICS}
    keys = ["a", "."] + [w for ws in words.values() for w in ws]
    topic_of = {w: t for t, ws in words.items() for w in ws}
    mat = np.array(
        [
            centers[topic_of[k]] + 0.4 * rng.normal(size=16) if k in topic_of else 0.1 * rng.normal(size=16)
            for k in keys
        ],
        np.float32,
    )

    def sentence(t: str) -> str:
        return "A " + " ".join(rng.choice(words[t], size=int(rng.integers(3, 7)))) + "."

    files = []
    for name, n in (("train", 400), ("test", 200)):
        lines = ["pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment"]
        for i in range(n):
            ta = rng.choice(list(TOPICS))
            tb = ta if i % 2 == 0 else rng.choice(list(TOPICS))
            score = np.clip((4.3 if ta == tb else 1.5) + rng.uniform(-0.5, 0.5), 1, 5)
            lines.append(f"{i}\t{sentence(ta)}\t{sentence(tb)}\t{score:.2f}\tNEUTRAL")
        files.append(out / f"SICK_{name}.txt")
        files[-1].write_text("\n".join(lines) + "\n", "utf-8")
    return files[0], files[1], simlab.Vectors(keys, mat)


def main(out: Path) -> dict[str, float]:
    train_file, test_file, vectors = make_data(out)
    train, test = read_sick(train_file), read_sick(test_file)
    model = SiameseModel(
        encoder="lstm",
        hidden=16,
        head="malstm",
        loss="mse",
        lr=5e-3,
        epochs=8,
        batch_size=32,
        freeze_embeddings=True,
        word_dropout=0.1,
        seed=0,
        threads=1,
        progress=False,
        vectors=vectors,
    )
    model.fit(train)
    report = relatedness_report(model, test, "generated SICK-format test")
    print(report.to_table())
    print(
        "similarity:",
        round(model.similarity("A man plays the guitar.", "A man sings a song."), 3),
        "vs",
        round(model.similarity("A man plays the guitar.", "A dog barks."), 3),
    )
    model.save(out / "malstm")
    again = simlab.load(out / "malstm")
    assert np.allclose(again.predict_score(test.a, test.b), model.predict_score(test.a, test.b))
    print("most similar training sentences:", again.most_similar("a woman slices an onion", k=3).to_list())
    return report.metrics


if __name__ == "__main__":
    out = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(os.environ.get("SIMLAB_EXAMPLE_OUT") or tempfile.mkdtemp())
    )
    main(out)
