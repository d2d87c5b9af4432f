"""Benchmark corpora: IMDB (``shared/data/imdb``) tokenized once into a cached line file.

The cache holds derived data only (lowercased tokens), outside the repository (default: the system temp dir).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simlab.errors import DataError

SPLITS = ("train", "test", "unsup")


@dataclass
class ImdbCorpus:
    """The 100,000 IMDB reviews as one tokenized line file.

    Attributes:
        path: ``imdb_tokens.txt``: one review per line, space-separated tokens from
            :func:`simlab.text.corpus.tokenize`; lines in the order train (25k), test (25k), unsup (50k).
        labels: ``(100000,)`` 1 = pos, 0 = neg, -1 = unsup.
        splits: split name -> ``(first_line, last_line_exclusive)`` 0-based.
        tokens: total tokens.
    """

    path: Path
    labels: np.ndarray
    splits: dict[str, tuple[int, int]]
    tokens: int

    def rows(self, split: str) -> np.ndarray:
        a, b = self.splits[split]
        return np.arange(a, b)


def imdb_corpus(cache_dir: str | Path | None = None, root: str | Path | None = None) -> ImdbCorpus:
    """Tokenize ``shared/data/imdb/{train,test,unsup}.tsv.gz`` once into a cached line file.

    Raises:
        DataError: the shared IMDB data is absent (tests and benchmarks skip on it).
    """
    from simlab.text.corpus import tokenize
    from simlab.text.evaluation import read_imdb

    cache = Path(cache_dir or os.environ.get("SIMLAB_CACHE") or Path(tempfile.gettempdir()) / "simlab-cache")
    cache = cache / "imdb"
    path, meta_path = cache / "imdb_tokens.txt", cache / "imdb_meta.json"
    if path.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return ImdbCorpus(path, np.array(meta["labels"]), {k: tuple(v) for k, v in meta["splits"].items()},
                          meta["tokens"])
    cache.mkdir(parents=True, exist_ok=True)
    labels: list[int] = []
    splits: dict[str, tuple[int, int]] = {}
    tokens = 0
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as f:
        for split in SPLITS:
            texts, lab = read_imdb(split, root)
            start = len(labels)
            for t in texts:
                toks = tokenize(t)
                if not toks:
                    raise DataError(f"IMDB {split} review {len(labels) - start + 1} has no token")
                tokens += len(toks)
                f.write(" ".join(toks) + "\n")
            labels += lab.tolist()
            splits[split] = (start, len(labels))
    tmp.replace(path)
    meta_path.write_text(json.dumps({"labels": labels, "splits": splits, "tokens": tokens}))
    return ImdbCorpus(path, np.array(labels), splits, tokens)
