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

    def shuffled(self, seed: int = 0) -> tuple[Path, np.ndarray]:
        """The same reviews in one fixed random order, as a cached line file (``imdb_tokens_shuf<seed>.txt``).

        :attr:`path` is sorted by split and label (train pos, train neg, test pos, test neg, unsup). Fed in
        that order, Doc2Vec's model drifts within each epoch (the learning rate decays over the corpus and the
        shared word/output weights move with each block), so a document's trained vector also encodes *where*
        in the file it sits; with PV-DM the train and test vectors end up separable by position and a
        classifier fitted on train transfers poorly to test. Shuffle once before training, as gensim's IMDB
        tutorial does.

        Returns:
            ``(path, line_of)``: ``line_of[i]`` is the 0-based line of :attr:`path`'s row ``i`` in the
            shuffled file, so the :class:`~simlab.text.TextCorpus` tag of row ``i`` is
            ``f"{path.name}:{line_of[i] + 1}"``.
        """
        n = len(self.labels)
        order = np.random.default_rng(seed).permutation(n)  # shuffled line j holds row order[j]
        line_of = np.empty(n, dtype=np.int64)
        line_of[order] = np.arange(n)
        out = self.path.with_name(f"{self.path.stem}_shuf{seed}.txt")
        if not out.is_file():
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            if len(lines) != n:
                raise DataError(f"{self.path} has {len(lines)} lines, expected {n}; delete the IMDB cache")
            tmp = out.with_name(out.name + f".tmp{os.getpid()}")
            with tmp.open("w", encoding="utf-8") as f:
                f.writelines(lines[i] for i in order)
            tmp.replace(out)
        return out, line_of


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
        return ImdbCorpus(
            path, np.array(meta["labels"]), {k: tuple(v) for k, v in meta["splits"].items()}, meta["tokens"]
        )
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
