"""Recipe: FastText vectors for unseen words, Doc2Vec document search, SIF sentence similarity; save all
three.

Runs in a few seconds on gensim's Lee corpus. Run: ``python examples/12_fasttext_doc2vec_sif.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import simlab
from simlab.paths import gensim_test_data
from simlab.text import SIF, Doc2Vec, FastText, TextCorpus


def main(out: Path) -> None:
    corpus = TextCorpus(gensim_test_data() / "lee_background.cor")
    ft = FastText(dim=30, epochs=3, min_count=2, buckets=50_000, workers=2).fit(corpus)
    print("FastText, unseen 'policemen':", ft.most_similar("policemen", k=3).to_list())
    d2v = Doc2Vec(dim=30, epochs=10, min_count=2, workers=2).fit(corpus)
    query = "Israeli troops and Palestinian militants clashed in the West Bank"
    print("Doc2Vec, documents like the query:", d2v.most_similar_text(query, k=3).to_list())
    sif = SIF(ft).fit(corpus)
    print("SIF similarity:", round(sif.similarity_text("the fire spread", "bushfires burned homes"), 3))
    for name, model in (("fasttext", ft), ("doc2vec", d2v), ("sif", sif)):
        model.save(out / name)
        print(name, "->", simlab.info(out / name)["kind"])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
