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


_COLUMNS = (
    "wordsim353_spearman",
    "ws_pairs_scored",
    "analogy_acc",
    "analogies_scored",
    "doc_self_retrieval@1",
)


def run(ctx: DemoContext) -> Section:
    from simlab.paths import gensim_test_data
    from simlab.text import TextCorpus

    corpus = TextCorpus(gensim_test_data() / "lee_background.cor")
    ep = 3 if ctx.quick else 15
    rows, w2v = _word_rows(ctx, corpus, ep)
    rows += _doc_rows(ctx, corpus, ep, w2v)
    for r in rows:
        for key in _COLUMNS:
            r.setdefault(key, None)
    # nearest words + 2-D PCA of a few word groups
    probes = [w for w in ("police", "afghanistan", "fire", "government") if w in w2v]
    near = "; ".join(f"{w}: " + ", ".join(w2v.most_similar(w, k=5).keys) for w in probes)
    figures = _figures(w2v)
    w2v.save(ctx.out / "text-word2vec")
    text = (
        f"Trained on gensim's Lee background corpus (300 news documents, ~60k tokens; {ep} epochs). "
        f"The corpus is tiny, so WordSim-353 covers only the pairs whose words occur in it and analogy "
        f"accuracy is near zero; benchmarks/bench_text_*.py measure the same models on IMDB (22M tokens). "
        f"Nearest words: {near}. Doc rows: share of 20 training documents whose re-embedded text retrieves "
        f"itself first."
    )
    return Section(title=TITLE, rows=rows, text=text, figures=figures)


def _word_row(name: str, model: Any, secs: float) -> dict[str, Any]:
    from simlab.evaluate import evaluate

    ws = evaluate(model, "wordsim353")
    an = evaluate(model, "analogies")
    return {
        "model": name,
        "train_s": round(secs, 1),
        "vocab": len(model.vectors),
        "wordsim353_spearman": ws.value,
        "ws_pairs_scored": int(ws.counts["pairs_scored"]),
        "analogy_acc": an.value,
        "analogies_scored": int(an.counts["scored"]),
    }


def _word_rows(ctx: DemoContext, corpus: Any, ep: int) -> tuple[list[dict[str, Any]], Any]:
    """Word2Vec and FastText skip-gram rows (WordSim-353, analogies); returns the Word2Vec model too."""
    from simlab.text import FastText, Word2Vec

    common = {"dim": 50, "architecture": "skipgram", "min_count": 2, "workers": ctx.threads}
    common["seed"] = ctx.seed + 1
    t0 = time.perf_counter()
    w2v = Word2Vec(window=5, sample=1e-3, negative=5, epochs=ep, **common).fit(corpus, progress=False)
    rows = [_word_row("Word2Vec skip-gram 50d", w2v, time.perf_counter() - t0)]
    t0 = time.perf_counter()
    ft = FastText(epochs=max(2, ep // 2), buckets=100_000, **common).fit(corpus, progress=False)
    rows.append(_word_row("FastText skip-gram 50d", ft, time.perf_counter() - t0))
    return rows, w2v


def _doc_rows(ctx: DemoContext, corpus: Any, ep: int, w2v: Any) -> list[dict[str, Any]]:
    """Doc2Vec PV-DBOW and SIF rows: each of 20 training documents, inferred again, should find itself."""
    from simlab.text import SIF, Doc2Vec

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
    docs = list(corpus.documents())[:20]
    self_hits_d2v = sum(d2v.most_similar_text(" ".join(t), k=1).keys[0] == i for i, t in docs) / len(docs)
    self_hits_sif = sum(sif.most_similar_text(" ".join(t), k=1).keys[0] == i for i, t in docs) / len(docs)
    d2v_row = {"model": "Doc2Vec PV-DBOW 50d", "train_s": round(d2v_s, 1), "vocab": len(d2v.word_vectors)}
    sif_row = {"model": "SIF over Word2Vec", "train_s": None, "vocab": len(sif.words or [])}
    return [
        {**d2v_row, "doc_self_retrieval@1": self_hits_d2v},
        {**sif_row, "doc_self_retrieval@1": self_hits_sif},
    ]


def _figures(w2v: Any) -> list[Any]:
    """A 2-D PCA of a few word groups' vectors (none when too few of their words are known)."""
    words = [(g, w) for g, ws in _GROUPS.items() for w in ws if w in w2v]
    if len(words) < 3:
        return []
    from simlab.demo.report import pca_2d, scatter_2d

    x = w2v.vectors[[w for _, w in words]].astype(np.float64)
    pts, xl, yl = pca_2d(x / np.linalg.norm(x, axis=1, keepdims=True))
    fig = scatter_2d(
        pts,
        [g for g, _ in words],
        "Word2Vec on the Lee corpus: 2-D PCA",
        annotate=[w for _, w in words],
        xlabel=xl,
        ylabel=yl,
    )
    caption = (
        "PCA of Word2Vec vectors (Lee corpus), coloured by word group; words are labelled where "
        "the labels do not overlap"
    )
    return [(caption, fig)]
