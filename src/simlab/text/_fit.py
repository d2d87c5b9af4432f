"""The steps of fitting a gensim-backed model (shared by Word2Vec / FastText and Doc2Vec): reading the input,
scanning and preparing the vocabulary, the size recipe, the history entry of one fit call."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def describe(corpus: Any) -> str | None:
    """A corpus' path(s) for error messages (None when it has none)."""
    if isinstance(corpus, str | Path):
        return str(corpus)
    paths = getattr(corpus, "paths", None)
    if paths:
        return ", ".join(str(p) for p in paths)
    return None


def training_input(corpus: Any, corpus_file: Any, cfg: Any) -> tuple[Any, str | None]:
    """``(iterable, None)`` for a corpus or ``(None, file)`` for gensim's ``corpus_file`` mode (checked)."""
    from simlab.text.corpus import _lines, as_corpus

    if (corpus is None) == (corpus_file is None):
        raise ConfigError("give exactly one of corpus or corpus_file")
    if corpus_file is None:
        return as_corpus(corpus, tokenizer=cfg.tokenizer, max_tokens=cfg.max_tokens), None
    cf = Path(corpus_file)
    if not cf.is_file():
        raise DataError("file not found", cf)
    for _n, _line in _lines(cf):  # validate UTF-8 / binary before gensim's C++ reader sees it
        pass
    return None, str(cf)


def check_epochs(epochs: int) -> int:
    if epochs < 1:
        raise ConfigError("epochs must be >= 1")
    return epochs


def scan(g: Any, it: Any, cf: str | None, source: str | None) -> tuple[int, int]:
    """``(tokens, documents)`` of a first pass over the corpus (gensim's ``scan_vocab``)."""
    tokens, docs = g.scan_vocab(corpus_iterable=it, corpus_file=cf, progress_per=10**9, trim_rule=None)
    if docs == 0 or tokens == 0:
        raise DataError("empty corpus: no document contains a token", source)
    return tokens, docs


def prepare(g: Any, min_count: int, tokens: int, docs: int, update: bool, source: str | None) -> None:
    """Trim the scanned vocabulary by ``min_count`` and allocate the weights (raises when nothing is left)."""
    n_raw = len(g.raw_vocab)
    g.corpus_count, g.corpus_total_words = docs, tokens
    g.prepare_vocab(update=update, keep_raw_vocab=False, trim_rule=None)
    if len(g.wv) == 0:
        raise DataError(
            f"no word occurs at least min_count={min_count} times ({n_raw} distinct words, "
            f"{tokens} tokens); lower min_count or give more text",
            source,
        )
    g.prepare_weights(update=update)


def explicit_keys(config: Any, overrides: dict[str, Any], config_cls: type) -> set[str]:
    """The settings a caller chose (never replaced by the size recipe); a config object counts as all."""
    from collections.abc import Mapping

    keys = set(overrides)
    if isinstance(config, Mapping):
        keys |= set(config)
    elif config is not None:
        keys |= {f.name for f in dataclasses.fields(config_cls)}
    return keys


def apply_recipe(model: Any, g: Any, tokens: int) -> tuple[Any, dict[str, Any] | None]:
    """With ``recipe="auto"``, replace the settings the caller did not choose by the size rule's
    (:mod:`simlab.text.recipes`) and rebuild the gensim model around the scanned vocabulary.

    Returns:
        ``(gensim model, recipe record or None)``; ``model.config`` is replaced when the rule sets something.
    """
    from simlab.text.recipes import RULE, recipe_for

    if model.config.recipe != "auto":
        return g, None
    explicit = model._explicit
    rec = recipe_for(model.KIND, tokens)
    if explicit & {"architecture", "sg"}:
        rec.pop("architecture", None)
    rec = {k: v for k, v in rec.items() if k not in explicit}
    info = {
        "rule": RULE,
        "tokens": int(tokens),
        "applied": dict(rec),
        "kept": sorted(explicit & set(recipe_for(model.KIND, tokens))),
    }
    if not rec:
        return g, info
    if "architecture" in rec:
        rec["sg"] = None
    model.config = dataclasses.replace(model.config, **rec)
    g2 = model._new_gensim()
    g2.raw_vocab = g.raw_vocab
    log.info("%s: %d tokens, recipe sets %s", model.KIND, tokens, rec)
    return g2, info


def train(
    g: Any, it: Any, cf: str | None, tokens: int, docs: int, epochs: int, desc: str, progress: Any
) -> Any:
    """Run gensim's training with simlab's progress bar and exact loss; returns the filled Progress."""
    from simlab.text._engine import run_training

    return run_training(
        g,
        corpus=it,
        corpus_file=cf,
        total_words=tokens,
        total_examples=docs,
        epochs=epochs,
        desc=desc,
        progress=progress,
    )


def check_collapse(entry: dict[str, Any], vectors: Any) -> None:
    """Add a warning to a fit's history entry when its word vectors collapsed (recipes.check_degenerate)."""
    from simlab.text.recipes import check_degenerate

    degenerate = check_degenerate(vectors)
    if degenerate:
        entry.setdefault("warnings", []).append(degenerate)


def history_entry(prog: Any, epochs: int, docs: int, tokens: int, /, **extra: Any) -> dict[str, Any]:
    """One fit call's record: epochs (those done when interrupted), corpus size, losses, time, `extra`."""
    n_ep = prog.done_epochs if prog.interrupted else epochs
    seconds = sum(prog.epoch_seconds)
    return {
        **({"interrupted": prog.interrupted} if prog.interrupted else {}),
        "epochs": n_ep,
        "documents": int(docs),
        "tokens": int(tokens),
        **{k: v for k, v in extra.items() if k not in ("recipe", "warnings", "speed")},
        "epoch_loss": prog.losses,
        "seconds": round(seconds, 3),
        **({"words_per_second": round(tokens * n_ep / max(1e-9, seconds), 1)} if extra.get("speed") else {}),
        **({"recipe": extra["recipe"]} if extra.get("recipe") else {}),
        **({"warnings": extra["warnings"]} if extra.get("warnings") else {}),
    }
