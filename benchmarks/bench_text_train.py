"""Word2Vec training throughput and peak memory: simlab vs raw gensim with identical parameters.

Both train on the same re-iterable corpus object (IMDB reviews, pre-tokenized line file read with str.split),
and in gensim's corpus_file mode on the same file. Runs alternate (gensim first, then simlab first, ...);
words/s is raw corpus tokens x epochs / wall time of vocabulary scan + training, best of the repeats.
Peak RSS: each trainer in its own subprocess on the full IMDB corpus (1 epoch), ru_maxrss of the child.

Run: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_text_train.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = 2
SUBSET_DOCS = 20_000
EPOCHS = 1
REPEATS = 3
PARAMS = dict(vector_size=100, window=5, min_count=5, negative=5, sample=1e-3, epochs=EPOCHS, sg=0)

MEM_SCRIPT = r"""
import resource, sys, json
which, path = sys.argv[1], sys.argv[2]
from simlab.text.corpus import TextCorpus
corpus = TextCorpus(path, tokenizer=str.split)
if which == "gensim":
    from gensim.models import Word2Vec
    m = Word2Vec(sentences=corpus, vector_size=100, window=5, min_count=5, negative=5, sample=1e-3, epochs=1,
                 workers=2, seed=1)
    m.wv.most_similar("movie", topn=10)
else:
    from simlab.text import Word2Vec
    m = Word2Vec(dim=100, window=5, min_count=5, negative=5, sample=1e-3, epochs=1, workers=2, seed=1,
                 compute_loss=False).fit(corpus, progress=False)
    m.most_similar("movie", k=10)
print(json.dumps({"maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    pin_threads(1)  # BLAS; gensim's own worker threads are set below
    from gensim.models import Word2Vec as GW

    from simlab.text import TextCorpus, Word2Vec
    from simlab.text.datasets import imdb_corpus

    imdb = imdb_corpus()
    subset = imdb.path.with_name(f"imdb_tokens_{SUBSET_DOCS}.txt")
    if not subset.is_file():
        with imdb.path.open() as f, subset.open("w") as out:
            for i, line in enumerate(f):
                if i >= SUBSET_DOCS:
                    break
                out.write(line)
    corpus = TextCorpus(subset, tokenizer=str.split)
    n_tokens = sum(len(d) for d in corpus)
    words = n_tokens * EPOCHS
    ours = dict(
        dim=PARAMS["vector_size"],
        window=PARAMS["window"],
        min_count=PARAMS["min_count"],
        negative=PARAMS["negative"],
        sample=PARAMS["sample"],
        epochs=EPOCHS,
        architecture="cbow",
    )
    runs: dict[str, list[float]] = {}

    def timed(name: str, fn) -> None:
        t0 = time.perf_counter()
        fn()
        runs.setdefault(name, []).append(words / (time.perf_counter() - t0))
        print(name, f"{runs[name][-1]:,.0f} words/s", flush=True)

    pairs_fn = [
        (
            ("gensim iterable", lambda: GW(sentences=corpus, workers=THREADS, seed=1, **PARAMS)),
            (
                "simlab iterable",
                lambda: Word2Vec(workers=THREADS, seed=1, compute_loss=False, **ours).fit(
                    corpus, progress=False
                ),
            ),
        ),
        (
            (
                "gensim iterable + compute_loss",
                lambda: GW(sentences=corpus, workers=THREADS, seed=1, compute_loss=True, **PARAMS),
            ),
            (
                "simlab iterable + exact per-epoch loss",
                lambda: Word2Vec(workers=THREADS, seed=1, **ours).fit(corpus, progress=False),
            ),
        ),
        (
            ("gensim corpus_file", lambda: GW(corpus_file=str(subset), workers=THREADS, seed=1, **PARAMS)),
            (
                "simlab corpus_file",
                lambda: Word2Vec(workers=THREADS, seed=1, compute_loss=False, **ours).fit(
                    corpus_file=subset, progress=False
                ),
            ),
        ),
    ]
    for rep in range(REPEATS):
        for a, b in pairs_fn:
            for name, fn in (a, b) if rep % 2 == 0 else (b, a):  # alternate who goes first
                timed(name, fn)
    best = {k: max(v) for k, v in runs.items()}
    pairs = [
        ("iterable", "gensim iterable", "simlab iterable"),
        ("iterable, loss on", "gensim iterable + compute_loss", "simlab iterable + exact per-epoch loss"),
        ("corpus_file", "gensim corpus_file", "simlab corpus_file"),
    ]
    rows = [
        {
            "mode": m,
            "gensim words/s": best[g],
            "simlab words/s": best[s],
            "simlab / gensim": best[s] / best[g],
            "target >= 0.95": "met" if best[s] / best[g] >= 0.95 else "NOT met",
        }
        for m, g, s in pairs
    ]

    mem = []
    for which in ("gensim", "simlab"):
        out = subprocess.run(
            [sys.executable, "-c", MEM_SCRIPT, which, str(imdb.path)],
            capture_output=True,
            text=True,
            check=True,
        )
        mem.append(
            {
                "trainer": which,
                "peak RSS MB (IMDB 23M tokens, 1 epoch, 100-d)": json.loads(
                    out.stdout.strip().splitlines()[-1]
                )["maxrss_mb"],
            }
        )
        print(mem[-1], flush=True)
    md = (
        f"Word2Vec CBOW 100-d, window 5, negative 5, sample 1e-3, min_count 5, {EPOCHS} epochs, {THREADS} "
        f"worker threads, on the first {SUBSET_DOCS:,} IMDB reviews ({n_tokens:,} tokens; pre-tokenized, "
        f"read with str.split by the same corpus object). Best of {REPEATS} interleaved runs (other "
        "engineers' jobs share the 2 cores, so single runs are noisy); vocabulary scan included. 'loss on': "
        "gensim's compute_loss (cumulative float32 counter) vs simlab's exact per-epoch loss.\n\n"
        + md_table(rows)
        + "\n\nPeak resident memory, each trainer alone in a fresh process, full IMDB corpus (all 100k "
        "reviews), iterable mode, 1 epoch, followed by one most_similar query:\n\n" + md_table(mem)
    )
    write_result(
        "text_train",
        "Text: Word2Vec training throughput and memory vs gensim",
        md,
        {"runs": runs, "best": best, "rows": rows, "memory": mem, "tokens": n_tokens},
        THREADS,
        order=30,
    )
    print(md)


if __name__ == "__main__":
    main()
