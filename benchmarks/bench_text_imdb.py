"""IMDB sentiment with document vectors (Le & Mikolov 2014 protocol): PV-DBOW, PV-DM, their concatenation,
SIF.

Doc2Vec trains on all 100,000 reviews (train + test + unsup text, no labels, shuffled once with seed 0); a
logistic regression is fitted on the 25k train vectors and the error rate measured on the 25k test vectors.
Anchors: Le & Mikolov claim 7.42% (not reproduced by anyone since, see Mesnil et al. 2014); gensim's IMDB
tutorial reaches ~10.5% with PV-DBOW.

Run: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_text_imdb.py [DM_EPOCHS]
[--step=dbow|dm|final]`` (default 5: PV-DM costs ~1.5-4x PV-DBOW per epoch; 20 epochs did not fit the time
budget on 2 shared cores; the committed results use 10. Feature caches are per mode, not per epoch count:
move d2v_dm_shuf_features.npz aside to rerun).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = 2
SMOKE = bool(os.environ.get("SIMLAB_BENCH_SMOKE"))  # 1 epoch, nothing written: checks the script runs
STEP = next((a.removeprefix("--step=") for a in sys.argv if a.startswith("--step=")), "all")


def main(dm_epochs: int) -> None:
    pin_threads(1)
    import simlab
    from simlab.text import SIF, Doc2Vec, TextCorpus, Word2Vec
    from simlab.text.datasets import imdb_corpus
    from simlab.text.evaluation import sentiment_error

    imdb = imdb_corpus()
    # Doc2Vec reads the reviews in one fixed random order: the cached file is sorted by split and label, and
    # fed in that order PV-DM's vectors encode the position in the file (train/test separable, 52% error).
    shuf_path, line_of = imdb.shuffled(seed=0)
    corpus = TextCorpus(shuf_path, tokenizer=str.split)
    name = shuf_path.name
    tr, te = imdb.rows("train"), imdb.rows("test")
    ytr, yte = imdb.labels[tr], imdb.labels[te]

    def doc_matrix(model, rows):  # rows of imdb.path -> their tags in the shuffled file
        return model.vectors[[f"{name}:{line_of[i] + 1}" for i in rows]]

    cache = imdb.path.parent
    step = STEP
    rows, feats = [], {}
    specs = [
        (
            "PV-DBOW 100-d (gensim tutorial settings)",
            dict(mode="dbow", dim=100, negative=5, hs=False, min_count=2, sample=0, epochs=20),
        ),
        (
            f"PV-DM mean 100-d, window 10, alpha 0.05, {dm_epochs} epochs",
            dict(
                mode="dm",
                dm_mean=True,
                dim=100,
                window=10,
                alpha=0.05,
                negative=5,
                hs=False,
                min_count=2,
                sample=0,
                epochs=dm_epochs,
            ),
        ),
    ]
    for label, cfg in specs:
        if SMOKE:
            cfg["epochs"] = 1
        npz = (
            cache / f"d2v_{cfg['mode']}_shuf{'_smoke' if SMOKE else ''}_features.npz"
        )  # each model can run in its own invocation (lock slot)
        if step in ("all", cfg["mode"]) and not npz.is_file():
            t0 = time.perf_counter()
            m = Doc2Vec(workers=THREADS, seed=1, **cfg).fit(corpus, progress=False)
            secs = time.perf_counter() - t0
            np.savez(npz, xtr=doc_matrix(m, tr), xte=doc_matrix(m, te), secs=secs, label=label)
            del m
        if not npz.is_file():
            print(f"{label}: not run yet (step {cfg['mode']})")
            continue
        z = np.load(npz)
        xtr, xte, secs = z["xtr"], z["xte"], float(z["secs"])
        feats[cfg["mode"]] = (xtr, xte)
        err = sentiment_error(xtr, ytr, xte, yte)
        rows.append({"model": str(z["label"]), "error rate": err, "train s": round(secs, 1)})
        print(rows[-1], flush=True)
    if step in ("dbow", "dm"):
        return
    if len(feats) < 2:
        raise SystemExit("run the dbow and dm steps first")
    xtr = np.hstack([feats["dbow"][0], feats["dm"][0]])
    xte = np.hstack([feats["dbow"][1], feats["dm"][1]])
    rows.append(
        {
            "model": "PV-DBOW + PV-DM concatenated (200-d)",
            "error rate": sentiment_error(xtr, ytr, xte, yte),
            "train s": rows[0]["train s"] + rows[1]["train s"],
        }
    )
    print(rows[-1], flush=True)

    w2v_dir = imdb.path.parent / "w2v_simlab_default"
    t0 = time.perf_counter()
    if w2v_dir.is_dir():
        w2v = simlab.load(w2v_dir)
        src = "simlab's default Word2Vec (seed 1) trained on IMDB by bench_text_quality.py"
    else:
        w2v = Word2Vec(dim=100, epochs=5, sample=1e-3, negative=5, window=5, workers=THREADS, seed=1).fit(
            corpus_file=imdb.path, progress=False
        )
        src = "a Word2Vec with gensim's default hyper-parameters trained on IMDB here"
    texts = [line.split() for line in imdb.path.open()]
    sif = SIF(w2v).fit(texts[50000:])  # principal component from the unlabelled reviews
    xtr, xte = sif.encode([texts[i] for i in tr]), sif.encode([texts[i] for i in te])
    rows.append(
        {
            "model": f"SIF (a=1e-3, 1 PC) over {w2v.config.dim}-d Word2Vec",
            "error rate": sentiment_error(xtr, ytr, xte, yte),
            "train s": round(time.perf_counter() - t0, 1),
        }
    )
    print(rows[-1], flush=True)
    for r in rows:
        r["target <= 10.5%"] = "met" if r["error rate"] <= 0.105 else "not met"
    rows += [
        {
            "model": "anchor: Le & Mikolov 2014 (claimed, PV-DM+PV-DBOW)",
            "error rate": 0.0742,
            "train s": "",
            "target <= 10.5%": "",
        },
        {
            "model": "anchor: gensim doc2vec-IMDB tutorial, PV-DBOW",
            "error rate": 0.105,
            "train s": "",
            "target <= 10.5%": "",
        },
    ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    md = (
        f"All 100,000 IMDB reviews ({imdb.tokens:,} tokens) for Doc2Vec training, {THREADS} worker threads, "
        "iterable mode over a pre-tokenized file. Logistic regression (standardised features, C=1) on the "
        "25k train reviews' trained vectors, error on the 25k test reviews' trained vectors. SIF uses "
        f"{src}; its principal component comes from the 50k unlabelled reviews. Peak RSS of the run: "
        f"{peak:,.0f} MB.\n\n"
        + md_table(rows)
        + "\n\nDoc2Vec reads the reviews shuffled once (fixed seed 0, `ImdbCorpus.shuffled`), as the "
        "tutorial does. Fed in the cached file's order (sorted: train pos, train neg, test pos, test neg, "
        "unsup) the same settings gave PV-DBOW 14.36% and PV-DM 5 epochs 51.92% (chance): the model drifts "
        "within each epoch, so a document's vector also encodes its position in the file (PV-DM train vs "
        "test vectors were 82% separable by a linear classifier, and the train pos-neg mean difference "
        "pointed against the test one, cosine -0.35). Remaining differences from gensim's tutorial: simlab's "
        "tokenizer drops punctuation (the tutorial keeps '!', '?' as tokens; measured separately on "
        "2026-11-28 with the same PV-DBOW settings and file order, seeds 1 / 2 / 3: 10.56% / 10.24% / 10.34% "
        "(mean 10.38%) with simlab's tokenizer, 10.52% / 10.38% / 10.54% (mean 10.48%) with '!' and '?' "
        "kept: no effect beyond the seed-to-seed spread of about 0.3 points, which is also the uncertainty "
        "of the single-run figure above; 2 worker threads make even a fixed seed non-repeatable: seed 1 "
        f"rerun gave 10.56%); PV-DM runs {dm_epochs} epochs (the tutorial 20)."
    )
    if SMOKE:
        print(md)
        return
    write_result(
        "text_imdb",
        "Text: IMDB sentiment with document vectors (Doc2Vec, SIF)",
        md,
        {"rows": rows, "dm_epochs": dm_epochs, "peak_rss_mb": peak},
        THREADS,
        order=32,
    )
    print(md)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 5)
