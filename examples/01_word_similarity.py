"""The snippet simlab grew from: gensim Word2Vec on four short sentences, then the similarity of two words.

The original computed ``sklearn.metrics.jaccard_score`` on the two float vectors, which is not a similarity of
embeddings at all (it treats them as label arrays) and printed a meaningless number. The similarity of two
word vectors is the cosine ``u·v / (|u| |v|)``; simlab computes it from gensim's own vectors.

Run: ``python examples/01_word_similarity.py``
"""

from __future__ import annotations

from gensim.models import Word2Vec as GensimWord2Vec

import simlab

SENTENCES = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat", "on", "the", "log"],
    ["cats", "and", "dogs", "are", "pets"],
    ["the", "cat", "chased", "the", "dog"],
]


def main() -> float:
    # 1. the original: gensim Word2Vec on four sentences (single thread + seed: reproducible)
    model = GensimWord2Vec(SENTENCES, vector_size=50, window=3, min_count=1, workers=1, seed=42, epochs=50)
    # 2. the fix: cosine similarity of the two word vectors, computed by simlab on gensim's own matrix
    vectors = simlab.Vectors(model.wv.index_to_key, model.wv.vectors)
    score = vectors.similarity("cat", "dog")  # cosine
    print(f"cosine similarity(cat, dog) = {score:.4f}")
    # the same with simlab's own Word2Vec wrapper
    from simlab.text import Word2Vec

    ours = Word2Vec(dim=50, window=3, min_count=1, workers=1, seed=42, epochs=50, sample=1e-3, negative=5)
    ours.fit(SENTENCES)
    print(f"simlab Word2Vec: similarity(cat, dog) = {ours.similarity('cat', 'dog'):.4f}")
    return score


if __name__ == "__main__":
    main()
