"""Word-vector quality on IMDB (all 100k reviews, 23M tokens): simlab's default Word2Vec recipe vs gensim's
defaults (WS-353 Spearman, Google analogy accuracy; mean and spread over seeds), and FastText vs Word2Vec with
the same hyper-parameters on the syntactic analogies.

All models train in gensim's corpus_file mode on the same tokenized file with 2 worker threads.
Run: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_text_quality.py [SEEDS]
[--no-fasttext]`` (per-seed results are cached next to the IMDB token file, so seeds can be run in several
invocations).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = 2


def main(seeds: list[int]) -> None:
    pin_threads(1)
    from gensim.models import Word2Vec as GW

    import simlab
    from simlab.text import FastText, Word2Vec
    from simlab.text.datasets import imdb_corpus
    from simlab.text.evaluation import analogies, wordsim353

    imdb = imdb_corpus()
    cf = str(imdb.path)
    cache_file = imdb.path.parent / "quality_runs.json"  # per-seed results survive between invocations
    cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
    raw: dict[str, list[dict]] = {"gensim_defaults": [], "simlab_defaults": []}

    def remember(key: str, row: dict) -> dict:
        cache[key] = row
        cache_file.write_text(json.dumps(cache))
        return row

    def score(name: str, seed: int, vecs: simlab.Vectors, secs: float) -> dict:
        ws, an = wordsim353(vecs), analogies(vecs)
        r = {
            "recipe": name,
            "seed": seed,
            "wordsim353": ws.value,
            "ws_pairs": int(ws.counts["pairs_scored"]),
            "analogies": an.value,
            "semantic": an.metrics["semantic"],
            "syntactic": an.metrics["syntactic"],
            "scored": int(an.counts["scored"]),
            "train_s": round(secs, 1),
        }
        print(r, flush=True)
        return r

    render_only = "--render-only" in sys.argv  # write the result from the cached seeds, train nothing
    if render_only:
        seeds = [sd for sd in seeds if f"gensim:{sd}" in cache and f"simlab:{sd}" in cache]
    for seed in seeds:
        if f"gensim:{seed}" not in cache:
            t0 = time.perf_counter()
            g = GW(corpus_file=cf, workers=THREADS, seed=seed)
            remember(
                f"gensim:{seed}",
                score(
                    "gensim defaults",
                    seed,
                    simlab.Vectors(g.wv.index_to_key, g.wv.vectors),
                    time.perf_counter() - t0,
                ),
            )
            del g
        raw["gensim_defaults"].append(cache[f"gensim:{seed}"])
        if f"simlab:{seed}" not in cache:
            t0 = time.perf_counter()
            m = Word2Vec(workers=THREADS, seed=seed).fit(corpus_file=cf, progress=False)
            remember(f"simlab:{seed}", score("simlab defaults", seed, m.vectors, time.perf_counter() - t0))
            if seed == 1:
                m.save(imdb.path.parent / "w2v_simlab_default")  # reused by bench_text_imdb.py (SIF)
            del m
        raw["simlab_defaults"].append(cache[f"simlab:{seed}"])
    if "--no-fasttext" in sys.argv:
        print(json.dumps(raw, indent=1))
        return

    def agg(name: str, key: str) -> tuple[float, float]:
        vals = [r[key] for r in raw[name]]
        return statistics.mean(vals), (max(vals) - min(vals))

    summary = []
    for name in raw:
        ws_m, ws_s = agg(name, "wordsim353")
        an_m, an_s = agg(name, "analogies")
        summary.append(
            {
                "recipe": name.replace("_", " "),
                "WS-353 mean": ws_m,
                "WS-353 spread": ws_s,
                "analogies mean": an_m,
                "analogies spread": an_s,
                "train s (mean)": statistics.mean(r["train_s"] for r in raw[name]),
            }
        )
    g_, s_ = summary
    beats_ws = s_["WS-353 mean"] - g_["WS-353 mean"] > max(s_["WS-353 spread"], g_["WS-353 spread"])
    beats_an = s_["analogies mean"] - g_["analogies mean"] > max(
        s_["analogies spread"], g_["analogies spread"]
    )

    # FastText vs Word2Vec, same hyper-parameters (gensim's defaults: CBOW 100-d, window 5, negative 5,
    # sample 1e-3, 5 epochs, min_count 5), seed of the first run
    if f"fasttext:{seeds[0]}" not in cache and not render_only:
        t0 = time.perf_counter()
        ft = FastText(workers=THREADS, seed=seeds[0]).fit(corpus_file=cf, progress=False)
        remember(
            f"fasttext:{seeds[0]}",
            score(
                "FastText (same hyper-parameters as gensim defaults)",
                seeds[0],
                ft.vectors,
                time.perf_counter() - t0,
            ),
        )
    ft_row = cache.get(f"fasttext:{seeds[0]}", {"recipe": "FastText: not run (time budget)"})
    w2v_row = raw["gensim_defaults"][0]
    cfg = Word2Vec().config
    short_note = " (fewer than the 3 planned: the rest did not fit the time budget)"
    md = (
        f"Corpus: all 100,000 IMDB reviews ({imdb.tokens:,} tokens, simlab tokenizer), corpus_file mode, "
        f"{THREADS} worker threads, seeds {seeds}{short_note if len(seeds) < 3 else ''}. "
        "Evaluation: WS-353 Spearman (pairs with both words in the vocabulary), Google analogies accuracy "
        "(3CosAdd, 300k most frequent words, questions with an unknown word skipped). Spread = max - min "
        f"over seeds.\n\nsimlab's default recipe: {cfg.architecture.upper()} {cfg.dim}-d, window "
        f"{cfg.window}, negative {cfg.negative}, sample {cfg.sample:g}, {cfg.epochs} epochs, min_count "
        f"{cfg.min_count}. gensim's defaults: CBOW 100-d, window 5, negative 5, sample 1e-3, 5 epochs, "
        "min_count 5.\n\n"
        + md_table(summary)
        + "\n\nTarget (simlab beats gensim by more than the spread): WS-353 "
        f"**{'met' if beats_ws else 'NOT met'}**, analogies **{'met' if beats_an else 'NOT met'}**. "
        "Reference points on this corpus: gensim defaults about 0.39 / 23%.\n\nPer seed:\n\n"
        + md_table(raw["gensim_defaults"] + raw["simlab_defaults"])
        + "\n\nFastText vs Word2Vec with identical hyper-parameters (seed "
        f"{seeds[0]}), analogies by part:\n\n"
        + md_table([w2v_row | {"recipe": "Word2Vec (gensim defaults)"}, ft_row])
    )
    write_result(
        "text_quality",
        "Text: Word2Vec quality on IMDB, simlab recipe vs gensim defaults; FastText",
        md,
        {
            "runs": raw,
            "summary": summary,
            "fasttext": ft_row,
            "beats_ws": beats_ws,
            "beats_analogies": beats_an,
            "seeds": seeds,
        },
        THREADS,
        order=31,
    )
    print(md)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main([int(s) for s in args[0].split(",")] if args else [1, 2, 3])
