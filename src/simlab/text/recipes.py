"""Default Word2Vec / FastText settings by corpus size (the "recipe"), and checks for corpora too small for them.

The rule was chosen by measurement on IMDB at 1M and 5M tokens (``benchmarks/bench_text_recipes.py``) and at
23M tokens (``benchmarks/bench_text_quality.py``) on WS-353, SimLex-999 and the Google analogies.
"""

from __future__ import annotations

import math
from typing import Any

#: corpora with fewer tokens get the skip-gram recipe, larger ones the CBOW recipe measured at 23M tokens.
SKIPGRAM_BELOW = 10_000_000

RULE = ("below 10M tokens: skip-gram 200-d, window 8, negative 10, sample 1e-4, epochs = "
        "clip(round(10 * sqrt(5M / tokens)), 5, 30); from 10M tokens: CBOW 200-d, window 8, negative 10, "
        "sample 1e-4, 10 epochs")


def scaled_epochs(tokens: int) -> int:
    """Epochs for a corpus of `tokens` tokens: 10 at 5M, more on smaller corpora (22 at 1M), at least 5."""
    return int(min(30, max(5, round(10 * math.sqrt(5_000_000 / max(tokens, 1))))))


def word2vec_recipe(tokens: int) -> dict[str, Any]:
    """The settings simlab's rule gives a corpus of `tokens` tokens (config keys of Word2VecConfig)."""
    if tokens < SKIPGRAM_BELOW:
        return {"architecture": "skipgram", "dim": 200, "window": 8, "negative": 10, "sample": 1e-4,
                "epochs": scaled_epochs(tokens)}
    return {"architecture": "cbow", "dim": 200, "window": 8, "negative": 10, "sample": 1e-4, "epochs": 10}
