"""Default Word2Vec / FastText settings by corpus size (the "recipe"), and checks for corpora too small for
them.

The rule below 10M tokens was chosen among skip-gram candidates run at 1M and 5M tokens of IMDB (seeds 1-3;
``benchmarks/bench_text_recipes.py``) on WS-353, SimLex-999 and the Google analogies: the candidate that is at
least as good as the better of gensim's CBOW and skip-gram defaults on each benchmark (within the seed spread)
at both sizes, with the best mean; 2.5M tokens was held out as a check. The CBOW rule from 10M tokens was
chosen at 23M tokens against gensim's CBOW defaults (``benchmarks/bench_text_quality.py``); beside gensim's
skip-gram at 23M (seeds 1-2) it loses WS-353 (0.512 vs 0.530) and wins the analogies and the mean: that branch
does not meet the target yet.
"""

from __future__ import annotations

import logging
import math
from typing import Any

log = logging.getLogger(__name__)

#: corpora with fewer tokens get the skip-gram recipe (Word2Vec and FastText), larger ones the CBOW recipe
#: measured at 23M tokens (Word2Vec; FastText keeps its defaults there).
SKIPGRAM_BELOW = 10_000_000

#: epochs at 5M tokens of the skip-gram rule (scaled by sqrt(5M / tokens) on other sizes)
EPOCHS_AT_5M = 7

RULE = (
    "below 10M tokens: skip-gram 100-d, window 5, negative 5, sample 1e-3 (gensim's skip-gram settings) with "
    "epochs = clip(round(7 * sqrt(5M / tokens)), 5, 30) (16 at 1M, 10 at 2.5M, 7 at 5M); from 10M tokens: "
    "CBOW 200-d, window 8, negative 10, sample 1e-4, 10 epochs (FastText: the skip-gram rule below 10M "
    "tokens, its own defaults from 10M)"
)


def scaled_epochs(tokens: int, at_5m: int = EPOCHS_AT_5M) -> int:
    """Epochs for a corpus of `tokens` tokens: `at_5m` at 5M tokens, scaled by ``sqrt(5M / tokens)`` (more on
    smaller corpora: 16 at 1M with the rule's 7 at 5M), clipped to 5..30."""
    return int(min(30, max(5, round(at_5m * math.sqrt(5_000_000 / max(tokens, 1))))))


def word2vec_recipe(tokens: int) -> dict[str, Any]:
    """The settings simlab's rule gives a corpus of `tokens` tokens (config keys of Word2VecConfig)."""
    if tokens < SKIPGRAM_BELOW:
        return {
            "architecture": "skipgram",
            "dim": 100,
            "window": 5,
            "negative": 5,
            "sample": 1e-3,
            "epochs": scaled_epochs(tokens),
        }
    return {"architecture": "cbow", "dim": 200, "window": 8, "negative": 10, "sample": 1e-4, "epochs": 10}


def recipe_for(kind: str, tokens: int) -> dict[str, Any]:
    """The size rule's settings for a model kind: ``word2vec`` the rule at every size; ``fasttext`` the
    Word2Vec rule below 10M tokens (measured at 1M and 5M tokens, ``bench_text_recipes.py``) and its own
    defaults from 10M (not measured there); other kinds keep their defaults (``{}``)."""
    if kind == "word2vec" or (kind == "fasttext" and tokens < SKIPGRAM_BELOW):
        return word2vec_recipe(tokens)
    return {}


#: at least this many training tokens (tokens x epochs) per trainable parameter (2 x vocabulary x dim).
MIN_TOKENS_PER_PARAMETER = 1.0
MIN_VOCAB = 100


def check_corpus_size(tokens: int, vocab: int, dim: int, epochs: int) -> list[str]:
    """Warnings (logged and returned) when a corpus is too small for the settings.

    Two checks: the vocabulary has fewer than 100 words, or the corpus gives less than one training token
    (tokens x epochs) per trainable parameter (input and output vectors, ``2 x vocabulary x dim``).
    """
    out = []
    if vocab < MIN_VOCAB:
        out.append(
            f"vocabulary of {vocab} words (< {MIN_VOCAB}): similarities will be noisy; give more text or "
            "lower min_count"
        )
    params = 2 * max(vocab, 1) * dim
    ratio = tokens * epochs / params
    if ratio < MIN_TOKENS_PER_PARAMETER:
        out.append(
            f"corpus too small for the settings: {tokens:,} tokens x {epochs} epochs for {params:,} "
            f"parameters ({ratio:.2f} training tokens per parameter, want >= "
            f"{MIN_TOKENS_PER_PARAMETER:g}); vectors may be degenerate: raise epochs, lower dim, or use "
            "the default recipe (recipe=auto)"
        )
    for w in out:
        log.warning(w)
    return out


def check_degenerate(vectors: Any, n: int = 500, threshold: float = 0.9) -> str | None:
    """A warning when the vectors collapsed: mean cosine between the `n` most frequent words above
    `threshold`.

    Healthy word vectors have a mean pairwise cosine around 0.1-0.4; an undertrained model (too few tokens or
    epochs) gives nearly parallel vectors (0.99 for every neighbour).
    """
    import numpy as np

    m = np.asarray(vectors.matrix[: min(n, len(vectors))], dtype=np.float64)
    if len(m) < 10:
        return None
    norms = np.linalg.norm(m, axis=1)
    m = m[norms > 0] / norms[norms > 0, None]
    sims = m @ m.T
    k = len(m)
    mean = float((sims.sum() - np.trace(sims)) / (k * (k - 1)))
    if mean <= threshold:
        return None
    msg = (
        f"degenerate vectors: the {k} most frequent words have mean pairwise cosine {mean:.3f} (> "
        f"{threshold}); the corpus is too small or the model undertrained (raise epochs or use recipe=auto)"
    )
    log.warning(msg)
    return msg
