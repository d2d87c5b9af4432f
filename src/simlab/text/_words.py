"""The out-of-vocabulary rules of the word models: which policy applies, looking words up under it, and
resolving the words of a ``most_similar`` query."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError, UnknownKeyError

log = logging.getLogger(__name__)

OOV_POLICIES = ("error", "skip", "subword")


def policy(model: Any, oov: str | None) -> str:
    """The OOV policy of one call (`oov` or the model's), checked against what the model can do."""
    pol = model.config.oov if oov is None else oov
    if pol not in OOV_POLICIES:
        raise ConfigError(f"unknown oov policy {pol!r}; valid: {', '.join(OOV_POLICIES)}")
    if pol == "subword" and not model.has_subwords:
        raise ConfigError(f"oov='subword' needs a model with character n-grams (FastText), not {model.KIND}")
    return pol


def lookup(model: Any, words: Sequence[str], oov: str | None) -> tuple[list[str], np.ndarray, list[str]]:
    """``(kept_words, (len(kept), dim) matrix, skipped_words)`` under the OOV policy (see
    WordModel.lookup)."""
    pol = policy(model, oov)
    vecs = model.vectors
    kept, rows, skipped = [], [], []
    for w in words:
        v = vecs.get(w)
        if v is None:
            if pol == "error":
                raise UnknownKeyError(
                    f"unknown word {w!r} (not among the {len(model)} words of this "
                    f"{model.KIND}; use oov='skip' to leave unknown words out)"
                )
            if pol == "skip":
                skipped.append(w)
                continue
            v = model._oov_vector(w)
        kept.append(w)
        rows.append(v)
    mat = np.asarray(rows, dtype=np.float32).reshape(len(rows), model.config.dim)
    if skipped:
        log.info("skipped %d unknown word(s): %s", len(skipped), ", ".join(map(repr, skipped[:10])))
    return kept, mat, skipped


def resolve(model: Any, items: Sequence[Any], oov: str | None) -> list[Any]:
    """Query items with unknown words replaced by their subword vectors or left out (per the policy)."""
    vecs = model.vectors
    words = [x for x in items if isinstance(x, str)]
    known = {w for w in words if w in vecs}
    unknown = [w for w in words if w not in known]
    if not unknown:
        return list(items)
    _, mat, _ = lookup(model, unknown, oov)  # raises for "error"
    sub = dict(zip([w for w in unknown if policy(model, oov) == "subword"], mat, strict=False))
    out = []
    for x in items:
        if isinstance(x, str) and x not in known:
            if x in sub:
                out.append(sub[x])
        else:
            out.append(x)
    return out


def resolve_query(
    model: Any, query: Any, positive: Sequence[str], negative: Sequence[str], oov: str | None
) -> tuple[Any, list[Any], list[Any]]:
    """``(query, positive, negative)`` of a ``most_similar`` call with unknown words resolved."""
    if isinstance(query, str):
        q = resolve(model, [query], oov)
        if not q:
            raise UnknownKeyError(f"unknown word {query!r}; nothing left to query (oov='skip')")
        query = q[0]
    elif isinstance(query, list):
        query = resolve(model, query, oov)
        if not query:
            raise UnknownKeyError("every query word is unknown; nothing left to query (oov='skip')")
    return query, resolve(model, list(positive), oov), resolve(model, list(negative), oov)


def read_word_list(path: str | Path) -> list[str]:
    """The distinct words of a file, one per line (blank lines ignored), in order."""
    from simlab.text.corpus import _lines

    words: dict[str, None] = {}
    for _n, line in _lines(Path(path)):
        w = line.strip()
        if w:
            words.setdefault(w)
    return list(words)


def embed_word_file(model: Any, path: str | Path, oov: str | None) -> Any:
    """Vectors of the words listed in a file, under the OOV policy (skipped words are logged)."""
    from simlab.errors import DataError
    from simlab.vectors import Vectors

    words = read_word_list(path)
    if not words:
        raise DataError("no words in file", Path(path))
    kept, mat, skipped = lookup(model, words, oov)
    if skipped:
        log.warning("%s: skipped %d unknown word(s)", path, len(skipped))
    return Vectors(kept, mat)
