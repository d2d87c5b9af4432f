"""Recipe: load a corpus, build a Word2Vec model, fit, evaluate (WS-353 + analogies), save and reload.

Runs in a few seconds on gensim's bundled Lee corpus. Run: ``python examples/11_train_word2vec.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import simlab
from simlab.evaluate import evaluate
from simlab.paths import gensim_test_data
from simlab.text import TextCorpus, Word2Vec


def main(out: Path) -> dict[str, float]:
    corpus = TextCorpus(gensim_test_data() / "lee_background.cor")  # streamed, one document per line
    model = Word2Vec(
        dim=50,
        architecture="skipgram",
        window=5,
        sample=1e-3,
        negative=5,
        epochs=10,
        min_count=2,
        workers=2,
        seed=1,
    )
    model.fit(corpus)
    print("loss per epoch:", [round(x) for x in model.epoch_loss])
    print("nearest to 'police':", model.most_similar("police", k=5).to_list())
    ws = evaluate(model, "wordsim353")
    an = evaluate(model, "analogies")
    print(ws.to_table())
    print(an.to_table())
    model.save(out / "w2v-lee")
    again = simlab.load(out / "w2v-lee")
    assert again.most_similar("police", k=5).keys == model.most_similar("police", k=5).keys
    return {"wordsim353": ws.value, "analogies": an.value}


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
