"""Demo section "Words and documents": Word2Vec / FastText / Doc2Vec / SIF on gensim's Lee corpus."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from simlab.demo import DemoContext, Section

TITLE = "Words and documents (Word2Vec, FastText, Doc2Vec, SIF)"

_GROUPS = {
    "places": ["afghanistan", "pakistan", "israel", "australia", "sydney", "kabul", "jerusalem", "america"],
    "people": ["president", "minister", "police", "officials", "leader", "man", "people", "troops"],
    "time": ["monday", "tuesday", "wednesday", "thursday", "friday", "week", "year", "today"],
    "numbers": ["two", "three", "four", "five", "six", "ten", "hundred", "000"],
}


def run(ctx: DemoContext) -> Section:
    from simlab.evaluate import evaluate
    from simlab.paths import gensim_test_data
    from simlab.text import SIF, Doc2Vec, FastText, TextCorpus, Word2Vec

    corpus = TextCorpus(gensim_test_data() / "lee_background.cor")
    ep = 3 if ctx.quick else 15
    rows: list[dict[str, Any]] = []
    models: dict[str, Any] = {}

    def word_row(name: str, model: Any, secs: float) -> None:
        ws = evaluate(model, "wordsim353")
        an = evaluate(model, "analogies")
        rows.append(
            {
                "model": name,
                "train_s": round(secs, 1),
                "vocab": len(model.vectors),
                "wordsim353_spearman": ws.value,
                "ws_pairs_scored": int(ws.counts["pairs_scored"]),
                "analogy_acc": an.value,
                "analogies_scored": int(an.counts["scored"]),
            }
        )

    t0 = time.perf_counter()
    w2v = Word2Vec(
        dim=50,
        architecture="skipgram",
        window=5,
        sample=1e-3,
        negative=5,
        epochs=ep,
        min_count=2,
        workers=ctx.threads,
        seed=ctx.seed + 1,
    ).fit(corpus, progress=False)
    word_row("Word2Vec skip-gram 50d", w2v, time.perf_counter() - t0)
    models["word2vec"] = w2v
    t0 = time.perf_counter()
    ft = FastText(
        dim=50,
        architecture="skipgram",
        epochs=max(2, ep // 2),
        min_count=2,
        buckets=100_000,
        workers=ctx.threads,
        seed=ctx.seed + 1,
    ).fit(corpus, progress=False)
    word_row("FastText skip-gram 50d", ft, time.perf_counter() - t0)
    models["fasttext"] = ft
    t0 = time.perf_counter()
    d2v = Doc2Vec(
        dim=50,
        mode="dbow",
        dbow_words=not ctx.quick,
        epochs=ep,
        min_count=2,
        workers=ctx.threads,
        seed=ctx.seed + 1,
    ).fit(corpus, progress=False)
    d2v_s = time.perf_counter() - t0
    sif = SIF(w2v).fit(corpus)
    # document retrieval sanity check: each of 20 training documents, inferred again, should find itself
    docs = list(corpus.documents())[:20]
    self_hits_d2v = sum(d2v.most_similar_text(" ".join(t), k=1).keys[0] == i for i, t in docs) / len(docs)
    self_hits_sif = sum(sif.most_similar_text(" ".join(t), k=1).keys[0] == i for i, t in docs) / len(docs)
    rows.append(
        {
            "model": "Doc2Vec PV-DBOW 50d",
            "train_s": round(d2v_s, 1),
            "vocab": len(d2v.word_vectors),
            "doc_self_retrieval@1": self_hits_d2v,
        }
    )
    rows.append(
        {
            "model": "SIF over Word2Vec",
            "train_s": None,
            "vocab": len(sif.words or []),
            "doc_self_retrieval@1": self_hits_sif,
        }
    )
    for r in rows:
        for key in (
            "wordsim353_spearman",
            "ws_pairs_scored",
            "analogy_acc",
            "analogies_scored",
            "doc_self_retrieval@1",
        ):
            r.setdefault(key, None)

    # nearest words + 2-D PCA of a few word groups
    probes = [w for w in ("police", "afghanistan", "fire", "government") if w in w2v]
    near = "; ".join(f"{w}: " + ", ".join(w2v.most_similar(w, k=5).keys) for w in probes)
    figures = []
    words = [(g, w) for g, ws in _GROUPS.items() for w in ws if w in w2v]
    if len(words) >= 3:
        from simlab.demo.report import pca_2d, scatter_2d

        x = w2v.vectors[[w for _, w in words]].astype(np.float64)
        pts, xl, yl = pca_2d(x / np.linalg.norm(x, axis=1, keepdims=True))
        figures.append(
            (
                "PCA of Word2Vec vectors (Lee corpus), coloured by word group; words are labelled where "
                "the labels do not overlap",
                scatter_2d(
                    pts,
                    [g for g, _ in words],
                    "Word2Vec on the Lee corpus: 2-D PCA",
                    annotate=[w for _, w in words],
                    xlabel=xl,
                    ylabel=yl,
                ),
            )
        )
    w2v.save(ctx.out / "text-word2vec")
    text = (
        f"Trained on gensim's Lee background corpus (300 news documents, ~60k tokens; {ep} epochs). "
        f"The corpus is tiny, so WordSim-353 covers only the pairs whose words occur in it and analogy "
        f"accuracy is near zero; benchmarks/bench_text_*.py measure the same models on IMDB (22M tokens). "
        f"Nearest words: {near}. Doc rows: share of 20 training documents whose re-embedded text retrieves "
        f"itself first."
    )
    return Section(title=TITLE, rows=rows, text=text, figures=figures)
