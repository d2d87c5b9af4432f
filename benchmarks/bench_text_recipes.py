"""Word2Vec (and FastText) recipes by corpus size: simlab's size rule vs gensim's CBOW and skip-gram defaults.

Corpora: the first 1M, 2.5M and 5M tokens of the IMDB reviews shuffled once (seed 0; train, test and unsup
mixed), tokenized with simlab's tokenizer. Benchmarks: WS-353 (relatedness, Spearman), SimLex-999 (similarity,
Spearman) and the Google analogies (3CosAdd accuracy, questions with an unknown word skipped). Every model
trains in gensim's corpus_file mode with 2 worker threads; seeds 1, 2 and 3.

Recipes:
- ``gensim cbow``: gensim 4 defaults (CBOW 100-d, window 5, negative 5, sample 1e-3, 5 epochs, min_count 5).
- ``gensim sg``: the same with ``sg=1``.
- ``simlab cbow-23M``: simlab's large-corpus recipe (CBOW 200-d, window 8, negative 10, sample 1e-4,
  10 epochs), chosen earlier on the full 23M-token IMDB corpus (``text_quality``); seeds 1-2 at 1M, 1 at 5M.
- candidates for corpora below 10M tokens, all skip-gram with epochs scaled by ``sqrt(5M / tokens)``
  (``simlab.text.recipes.scaled_epochs(tokens, at_5m)``, clipped to 5..30):
  ``sg-a`` gensim's skip-gram settings (100-d, window 5, negative 5, sample 1e-3), 10 epochs at 5M (22 at 1M;
  the previous rule); ``sg-7`` the same with 7 epochs at 5M (16 at 1M); ``sg-b`` 200-d, window 8, negative 10,
  sample 1e-4, 7 epochs at 5M (5M, seed 1 only: about 3x ``sg-a``'s time per epoch); ``sg-c``
  100-d, window 5, negative 10, sample 1e-4, 7 epochs at 5M.
- ``simlab auto``: what ``Word2Vec()`` does now with no settings (the rule in ``simlab.text.recipes``).
- ``ft cbow`` / ``ft sg``: gensim FastText defaults (5 epochs, n-grams 3-6, 2M buckets), CBOW / skip-gram;
  ``ft rule``: simlab's FastText (500k buckets) with the Word2Vec rule's settings.

How the rule was chosen: the candidates ran at 1M and 5M tokens (the choice sizes); the rule is the candidate
that meets the target (on each benchmark at least the better gensim default's mean minus the larger seed
spread, and a higher mean of the three) at both choice sizes, with the best mean over the two sizes. Those
rows are tuned (chosen on the benchmarks they report). 2.5M tokens was not used for the choice: its rows
(gensim's defaults and the rule only) are the held-out check. Per-run results are cached (``recipe_runs.json``
next to the IMDB token cache), so the script can be run in several pieces: ``bench_text_recipes.py [SEEDS]
[--sizes 1000000,2500000,5000000] [--only NAME,...] [--render-only]``; runs with identical settings are reused
(``simlab auto`` reuses the candidate it equals). Training times are the fastest seed's, on a shared 2-core
machine (the early seed-1/2 runs of the gensim, sg-a and cbow-23M rows were timed at load ~20: inflated).
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
SIZES = (1_000_000, 2_500_000, 5_000_000)
#: not used to choose the rule: the held-out check
HELD_OUT = 2_500_000
#: the whole corpus, where the CBOW branch of the rule (10M tokens and more) applies: gensim defaults, rule
#: (``--sizes 23000000 --only "gensim cbow,gensim sg,simlab auto"``, seeds 1-2: each run is minutes);
#: rendered with the others
LARGE = 23_000_000
BENCHES = ("wordsim353", "simlex999", "analogies")


def subset(src: Path, tokens: int) -> Path:
    """The first lines of `src` holding about `tokens` tokens (cached next to it)."""
    out = src.with_name(f"{src.stem}_{tokens // 1000}k.txt")
    if out.is_file():
        return out
    tmp = out.with_name(out.name + ".tmp")
    n = 0
    with src.open(encoding="utf-8") as f, tmp.open("w", encoding="utf-8") as g:
        for line in f:
            g.write(line)
            n += len(line.split())
            if n >= tokens:
                break
    tmp.replace(out)
    return out


def recipes(tokens: int) -> dict[str, dict]:
    """name -> gensim Word2Vec kwargs (without corpus, workers, seed)."""
    from simlab.text.recipes import scaled_epochs, word2vec_recipe
    from simlab.text.word2vec import Word2VecConfig, gensim_kwargs

    def sim(**cfg: object) -> dict:
        kw = gensim_kwargs(Word2VecConfig(**cfg))
        kw.pop("workers")
        kw.pop("seed")
        return kw

    def ft(**cfg: object) -> dict:
        from simlab.text.fasttext import FastTextConfig

        c = FastTextConfig(**cfg)
        kw = {**gensim_kwargs(c), "min_n": c.min_n, "max_n": c.max_n, "bucket": c.buckets}
        kw.pop("workers")
        kw.pop("seed")
        return kw

    ep, ep7 = scaled_epochs(tokens, 10), scaled_epochs(tokens, 7)
    auto = word2vec_recipe(tokens)
    return {
        "gensim cbow": {},
        "gensim sg": {"sg": 1},
        "simlab cbow-23M": sim(),
        "sg-a": sim(architecture="skipgram", dim=100, window=5, negative=5, sample=1e-3, epochs=ep),
        "sg-7": sim(architecture="skipgram", dim=100, window=5, negative=5, sample=1e-3, epochs=ep7),
        "sg-b": sim(architecture="skipgram", dim=200, window=8, negative=10, sample=1e-4, epochs=ep7),
        "sg-c": sim(architecture="skipgram", dim=100, window=5, negative=10, sample=1e-4, epochs=ep7),
        "simlab auto": sim(**auto),
        # FastText (gensim's FastText class; "model" is popped before the call)
        "ft cbow": {"model": "fasttext"},
        "ft sg": {"model": "fasttext", "sg": 1},
        "ft rule": {"model": "fasttext", **ft(**word2vec_recipe(tokens))},
    }


def main(seeds: list[int], sizes: tuple[int, ...], only: set[str] | None, render_only: bool) -> None:
    pin_threads(1)
    from gensim.models import FastText as GFT
    from gensim.models import Word2Vec as GW

    import simlab
    from simlab.text.datasets import imdb_corpus
    from simlab.text.evaluation import analogies, simlex999, wordsim353
    from simlab.text.recipes import RULE

    imdb = imdb_corpus()
    shuf, _ = imdb.shuffled(0)
    cache_file = imdb.path.parent / "recipe_runs.json"
    cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
    for size in sizes:
        cf = subset(shuf, size)
        real = sum(len(line.split()) for line in cf.open(encoding="utf-8"))
        for seed in seeds:
            for name, kw in recipes(real).items():
                key = f"{size}:{name}:{seed}"
                if key in cache or render_only or (only and name not in only):
                    continue
                same = [
                    n
                    for n, k2 in recipes(real).items()
                    if n != name and k2 == kw and f"{size}:{n}:{seed}" in cache
                ]
                if same:  # identical settings already trained: reuse that run
                    cache[key] = {**cache[f"{size}:{same[0]}:{seed}"], "recipe": name, "same_as": same[0]}
                    cache_file.write_text(json.dumps(cache))
                    continue
                t0 = time.perf_counter()
                cls = GFT if kw.get("model") == "fasttext" else GW
                g = cls(
                    corpus_file=str(cf), workers=THREADS, seed=seed, **{k: kw[k] for k in kw if k != "model"}
                )
                secs = time.perf_counter() - t0
                v = simlab.Vectors(g.wv.index_to_key, g.wv.vectors)
                an = analogies(v)
                row = {
                    "size": size,
                    "tokens": real,
                    "recipe": name,
                    "seed": seed,
                    "wordsim353": wordsim353(v).value,
                    "simlex999": simlex999(v).value,
                    "analogies": an.value,
                    "analogies_scored": int(an.counts["scored"]),
                    "vocab": len(v),
                    "train_s": round(secs, 1),
                    "settings": {k: kw[k] for k in sorted(kw)},
                }
                print(json.dumps(row), flush=True)
                cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
                cache[key] = row
                cache_file.write_text(json.dumps(cache))
                del g, v
    render(cache, tuple(sorted(set(sizes) | set(SIZES) | {LARGE})), RULE)


LABELS = {
    "gensim cbow": "gensim defaults",
    "gensim sg": "gensim defaults",
    "simlab cbow-23M": "chosen at 23M tokens",
    "sg-a": "candidate: gensim sg settings, epochs 10 x sqrt(5M / tokens) (the previous rule)",
    "sg-7": "candidate: gensim sg settings, epochs 7 x sqrt(5M / tokens)",
    "sg-b": "candidate: 200-d, window 8, negative 10, sample 1e-4, epochs 7 x sqrt(5M / tokens)",
    "sg-c": "candidate: 100-d, window 5, negative 10, sample 1e-4, epochs 7 x sqrt(5M / tokens)",
    "ft cbow": "gensim FastText defaults",
    "ft sg": "gensim FastText defaults, sg=1",
    "ft rule": "simlab FastText with the Word2Vec rule's settings",
}


def target(stats: dict, name: str, pair: tuple[str, str]) -> dict | None:
    """The issue's target for one recipe against the better of two baselines: on each benchmark at least the
    better baseline's mean minus the larger of the two seed spreads, and a higher mean of the three."""
    if name not in stats or any(p not in stats for p in pair):
        return None
    a = stats[name]
    per = {}
    for b in BENCHES:
        best = max(pair, key=lambda n, b=b: stats[n][b][0])
        tol = max(a[b][1], stats[best][b][1])
        per[b] = {
            "simlab": a[b][0],
            "better_gensim": best,
            "gensim": stats[best][b][0],
            "tolerance": tol,
            "met": a[b][0] >= stats[best][b][0] - tol,
        }
    best_mean = max(stats[p]["mean"][0] for p in pair)
    return {
        "recipe": name,
        "per_benchmark": per,
        "mean": a["mean"][0],
        "gensim_best_mean": best_mean,
        "mean_met": a["mean"][0] > best_mean,
        "met": all(p["met"] for p in per.values()) and a["mean"][0] > best_mean,
    }


def describe(c: dict) -> str:
    """One line of a target check."""
    return (
        f"{c['recipe']}: "
        + ", ".join(
            f"{b} {p['simlab']:.4f} vs {p['better_gensim']} {p['gensim']:.4f} "
            f"({'met' if p['met'] else 'NOT met'})"
            for b, p in c["per_benchmark"].items()
        )
        + f"; mean {c['mean']:.4f} vs {c['gensim_best_mean']:.4f} ({'met' if c['mean_met'] else 'NOT met'})"
    )


def render(cache: dict, sizes: tuple[int, ...], rule: str) -> None:
    """Summary table (mean and spread over seeds) and the target check per size and recipe."""
    rows, checks, candidates = [], [], []
    for size in sizes:
        by: dict[str, list[dict]] = {}
        for r in cache.values():
            if r["size"] == size:
                by.setdefault(r["recipe"], []).append(r)
        if not by:
            continue
        stats: dict[str, dict[str, tuple[float, float]]] = {}
        for name in sorted(by, key=lambda n: list(LABELS).index(n) if n in LABELS else 99):
            runs = sorted(by[name], key=lambda r: r["seed"])
            st = {}
            for b in BENCHES:
                vals = [r[b] for r in runs]
                st[b] = (statistics.mean(vals), max(vals) - min(vals))
            st["mean"] = (statistics.mean(st[b][0] for b in BENCHES), 0.0)
            stats[name] = st
            label = LABELS.get(name, "")
            if name == "simlab auto":
                label = f"rule; same runs as {runs[0]['same_as']}" if runs[0].get("same_as") else "rule"
            rows.append(
                {
                    "tokens": f"{runs[0]['tokens'] / 1e6:.1f}M" + (" (held out)" if size == HELD_OUT else ""),
                    "recipe": name,
                    "seeds": ",".join(str(r["seed"]) for r in runs),
                    "epochs": runs[0]["settings"].get("epochs", 5),
                    **{f"{b} (spread)": f"{st[b][0]:.4f} ({st[b][1]:.3f})" for b in BENCHES},
                    "mean of 3": round(st["mean"][0], 4),
                    "train s (fastest seed)": min(r["train_s"] for r in runs),
                    "settings": label,
                }
            )
        for name in stats:
            if name.startswith("sg-") and size != HELD_OUT:
                c = target(stats, name, ("gensim cbow", "gensim sg"))
                if c:
                    candidates.append({"size": size, "seeds": len(by[name]), **c})
        c = target(stats, "simlab auto", ("gensim cbow", "gensim sg"))
        if c:
            checks.append({"size": size, "held_out": size == HELD_OUT, **c})
        c = target(stats, "ft rule", ("ft cbow", "ft sg"))
        if c:
            checks.append({"size": size, "held_out": size == HELD_OUT, "fasttext": True, **c})
    md = (
        "Corpora: the first 1M / 2.5M / 5M tokens of the 100k IMDB reviews shuffled once (seed 0), "
        f"simlab tokenizer; gensim corpus_file mode, {THREADS} threads; seeds 1-3 unless the row says "
        "otherwise. Spearman for WS-353 (relatedness) and SimLex-999 (similarity), 3CosAdd accuracy for "
        "the Google analogies; spread = max - min over seeds. How the rule was chosen: the candidates "
        "`sg-*` were run at 1M and 5M tokens on these same benchmarks (so those rows are tuned); the "
        "rule is the candidate that meets the target (each benchmark at least the better gensim default "
        "within the larger seed spread, and a higher mean) at both sizes with the best mean over the two "
        "sizes. 2.5M tokens was not used for the choice: its rows are the held-out check. gensim's rows "
        "are its defaults. `sg-b` (about 3x `sg-a`'s time per epoch) ran at 5M with seed 1 only, as a "
        "screen: it misses the analogies there by far more than any spread. FastText rows (`ft *`): the "
        "Word2Vec rule as chosen, not re-tuned, against gensim's FastText defaults. 23M tokens (the whole "
        "corpus, seeds 1-2): the rule's CBOW branch for 10M tokens and more, chosen in an earlier session on "
        "this corpus for WS-353 and analogies against gensim's CBOW defaults only (`text_quality`), here "
        "beside gensim skip-gram and SimLex-999 for the first time.\n\nsimlab's "
        f"rule (`simlab.text.recipes`): {rule}\n\n"
        + md_table(rows)
        + "\n\nTarget, simlab's rule (`simlab auto`; FastText: `ft rule` vs gensim FastText):\n\n"
        + "\n".join(
            f"- {c['size'] / 1e6:g}M tokens{' (held out)' if c['held_out'] else ''}: {describe(c)}"
            for c in checks
        )
        + "\n\nTarget, each candidate (choice sizes only):\n\n"
        + "\n".join(
            f"- {c['size'] / 1e6:g}M tokens, {c['seeds']} seeds: {describe(c)}"
            f" -> {'met' if c['met'] else 'NOT met'}"
            for c in candidates
        )
    )
    write_result(
        "text_recipes",
        "Text: Word2Vec recipes by corpus size (WS-353, SimLex-999, analogies)",
        md,
        {"runs": list(cache.values()), "checks": checks, "candidates": candidates, "rule": rule},
        THREADS,
        order=32,
    )
    print(md)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    sz = SIZES
    only = None
    for i, a in enumerate(sys.argv):
        if a == "--sizes":
            sz = tuple(int(x) for x in sys.argv[i + 1].split(","))
        if a == "--only":
            only = set(sys.argv[i + 1].split(","))
    args = [a for a in args if a not in (",".join(map(str, sz)), ",".join(only or []))]
    main([int(s) for s in args[0].split(",")] if args else [1, 2, 3], sz, only, "--render-only" in sys.argv)
