"""Sequence benchmark (sentences): Siamese LSTM/GRU (MaLSTM head) on SICK relatedness and STS-B, next to the
mean-word-vector and SIF baselines on the same word vectors, plus training throughput per cell type.

Word vectors: ``simlab.text.Word2Vec`` (CBOW, 300 d; gensim underneath) trained here on IMDB train+unsup
reviews plus the SICK train/trial and STS-B train/dev sentences (no test sentences) and cached in
``benchmarks/.cache/sequence_w2v_simlab``.

Run: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_sequence_text.py`` (about 12 minutes).
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import SHARED, md_table, pin_threads, write_result

THREADS = pin_threads(1)

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(THREADS)

import simlab  # noqa: E402
from simlab.evaluate import pearson, spearman  # noqa: E402
from simlab.sequence import data as D  # noqa: E402
from simlab.sequence.model import SiameseModel  # noqa: E402

CACHE = Path(__file__).parent / ".cache" / "sequence_w2v_simlab"
# gensim's defaults except 300-d, min_count 3, sample 1e-4 (simlab names; simlab's own recipe is not used
# here)
W2V = dict(dim=300, window=5, min_count=3, architecture="cbow", negative=5, epochs=5, sample=1e-4, seed=0)
MALSTM = dict(
    encoder="lstm",
    hidden=50,
    head="malstm",
    loss="mse",
    batch_size=64,
    lr=1e-3,
    epochs=40,
    patience=8,
    progress=False,
    device="cpu",
    threads=THREADS,
)
VARIANTS = {
    "MaLSTM (LSTM 50, exp(-L1), MSE, frozen vectors)": MALSTM,
    "Siamese biGRU 64, max pooling + learned head on [abs(a-b), a*b] (MSE)": {
        **MALSTM,
        "encoder": "gru",
        "hidden": 64,
        "bidirectional": True,
        "head": "learned",
        "pooling": "max",
        "dropout": 0.1,
    },
}
SMOKE = bool(os.environ.get("SIMLAB_BENCH_SMOKE"))
if SMOKE:
    MALSTM = {**MALSTM, "epochs": 1}
    VARIANTS = {k: {**v, "epochs": 1} for k, v in VARIANTS.items()}
PUBLISHED = "SICK test Pearson, published: MaLSTM 0.8822, Tree-LSTM 0.8676, LSTM baselines ~0.85"


def write_corpus(path: Path) -> None:
    """One tokenised sentence/review per line (streamed, so memory stays small)."""
    br = re.compile(r"<br\s*/?>")
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for f in ("train.tsv.gz", "unsup.tsv.gz"):
            with gzip.open(SHARED / "imdb" / f, "rt", encoding="utf-8") as fh:
                next(fh)
                for line in fh:
                    text = line.rstrip("\n").split("\t", 3)[-1]
                    out.write(" ".join(D.tokenize(br.sub(" ", text))) + "\n")
        for p in (
            D.read_sick(SHARED / "sick" / "SICK_train.txt"),
            D.read_sick(SHARED / "sick" / "SICK_trial.txt"),
            D.read_stsb(SHARED / "stsb" / "sts-train.csv"),
            D.read_stsb(SHARED / "stsb" / "sts-dev.csv"),
        ):
            for s in p.a + p.b:
                out.write(" ".join(D.tokenize(s)) + "\n")
    tmp.replace(path)


def word_vectors() -> simlab.Vectors:
    from simlab.text import Word2Vec

    if SMOKE:  # a quick end-to-end check of this script: tiny vectors from the SICK training sentences
        tr = D.read_sick(SHARED / "sick" / "SICK_train.txt")
        small = Word2Vec(dim=20, min_count=1, epochs=1, workers=1)
        return small.fit([D.tokenize(s) for s in tr.a + tr.b], progress=False).vectors
    if (CACHE / "simlab.json").is_file():
        return simlab.Vectors.load(CACHE)
    t0 = time.perf_counter()
    corpus = CACHE.parent / "sequence_corpus.txt"
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    if not corpus.is_file():
        write_corpus(corpus)
    vec = Word2Vec(workers=2, **W2V).fit(corpus_file=corpus, progress=False).vectors
    vec.save(CACHE)
    print(f"trained word vectors: {len(vec)} words in {time.perf_counter() - t0:.0f}s", flush=True)
    return vec


def mean_vec(vec: simlab.Vectors, texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), vec.dim), np.float32)
    for i, t in enumerate(texts):
        rows = [vec.key_to_index[w] for w in D.tokenize(t) if w in vec.key_to_index]
        if rows:
            out[i] = vec.matrix[rows].mean(0)
    return out


def sif_vec(vec: simlab.Vectors, texts: list[str], ref: list[str], a: float = 1e-3) -> np.ndarray:
    """SIF (Arora et al. 2017) with simlab.text.SIF when it is available, else the same formula here."""
    try:
        from simlab.text import SIF

        sif = SIF(vec, a=a, n_components=1, tokenizer=D.tokenize).fit(ref)
        x = np.asarray(sif.encode(texts), np.float32)
        return np.nan_to_num(x)
    except Exception as exc:
        print(f"simlab.text.SIF unavailable ({exc}); using the formula in this script", flush=True)
    p = vec.counts / vec.counts.sum()

    def avg(ts: list[str]) -> np.ndarray:
        out = np.zeros((len(ts), vec.dim), np.float32)
        for i, t in enumerate(ts):
            rows = [vec.key_to_index[w] for w in D.tokenize(t) if w in vec.key_to_index]
            if rows:
                out[i] = (vec.matrix[rows] * (a / (a + p[rows]))[:, None]).mean(0)
        return out

    r = avg(ref)
    u = np.linalg.svd(r, full_matrices=False)[2][0]
    x = avg(texts)
    return x - (x @ u)[:, None] * u[None, :]


def cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(na * nb, 1e-12)


def metrics(pred: np.ndarray, gold: np.ndarray, mse: bool = True) -> dict[str, float | str]:
    out = {"pearson": pearson(pred, gold), "spearman": spearman(pred, gold)}
    out["mse"] = float(np.mean((pred - gold) ** 2)) if mse else "n/a (cosine, not on the score scale)"
    return out


def main() -> None:
    vec = word_vectors()
    sets = {
        "SICK": (
            D.read_sick(SHARED / "sick" / "SICK_train.txt"),
            D.read_sick(SHARED / "sick" / "SICK_trial.txt"),
            D.read_sick(SHARED / "sick" / "SICK_test_annotated.txt"),
        ),
        "STS-B": (
            D.read_stsb(SHARED / "stsb" / "sts-train.csv"),
            D.read_stsb(SHARED / "stsb" / "sts-dev.csv"),
            D.read_stsb(SHARED / "stsb" / "sts-test.csv"),
        ),
    }
    rows, data, tp_rows = [], {"vectors": {"words": len(vec), "dim": vec.dim, "w2v": W2V}}, []
    for bench, (train, dev, test) in sets.items():
        ref = D.unique(train.a + train.b)
        for name, fn in (
            ("mean word vector (cosine)", lambda t: mean_vec(vec, t)),
            ("SIF (a=1e-3, 1 PC removed; cosine)", lambda t, ref=ref: sif_vec(vec, t, ref)),
        ):
            m = metrics(cos_rows(fn(test.a), fn(test.b)), test.score, mse=False)
            rows.append({"benchmark": bench, "model": name, **m, "train s": 0.0})
            data[f"{bench}/{name}"] = m
        for name, cfg in VARIANTS.items():
            t0 = time.perf_counter()
            model = SiameseModel(cfg, vectors=vec).fit(train, dev=dev)
            secs = time.perf_counter() - t0
            m = metrics(model.predict_score(test.a, test.b), test.score)
            rows.append({"benchmark": bench, "model": name, **m, "train s": secs})
            data[f"{bench}/{name}"] = {
                **m,
                "seconds": secs,
                "best_epoch": model.history.get("best_epoch"),
                "epochs": len(model.history.get("epochs", [])),
                "dev_pearson": model.history.get("best_dev"),
                "pairs_per_s": float(np.median([e["items_per_s"] for e in model.history["epochs"]])),
                "oov_share_test": model.oov_share(test.a + test.b),
            }
            print(rows[-1], flush=True)
    # throughput per cell: SICK train pairs, hidden 50, frozen 300-d vectors, 2 epochs
    train = sets["SICK"][0]
    for cell in ("rnn", "lstm", "gru"):
        model = SiameseModel(
            {**MALSTM, "encoder": cell, "epochs": 2, "patience": None, "keep_collection": False}, vectors=vec
        ).fit(train)
        rate = float(model.history["epochs"][-1]["items_per_s"])
        tp_rows.append(
            {
                "cell": cell,
                "data": "SICK train pairs (hidden 50, 300-d frozen vectors, batch 64)",
                "pairs/s (CPU)": rate,
            }
        )
        data[f"throughput_{cell}"] = rate
    sick_best = max(r["pearson"] for r in rows if r["benchmark"] == "SICK" and r["train s"] > 0)
    md = (
        f"Word vectors: simlab.text.Word2Vec CBOW 300-d (gensim engine, 2 workers) ({len(vec):,} words) "
        "trained on IMDB train+unsup plus the SICK train/trial and STS-B train/dev sentences (no test text), "
        "as a `simlab.Vectors`; the same vectors feed every row. Siamese models train on the train split "
        "with early stopping on the dev split (SICK trial / STS-B dev); scores are mapped back to the 1-5 "
        f"(SICK) / 0-5 (STS-B) scale for MSE. Threads: {THREADS}. {PUBLISHED}. Target SICK Pearson >= 0.82: "
        f"{'met' if sick_best >= 0.82 else 'NOT met'} (best {sick_best:.4f}).\n\n"
        + md_table(rows)
        + "\n\nTraining throughput:\n\n"
        + md_table(tp_rows)
    )
    if SMOKE:
        print(md)
        return
    write_result("sequence_text", "Sequences: Siamese LSTM on SICK and STS-B", md, data, THREADS, order=41)
    print(md)


if __name__ == "__main__":
    main()
