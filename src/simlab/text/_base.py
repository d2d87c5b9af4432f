"""Shared machinery of the gensim-backed word models (Word2Vec, FastText): fit, resume, OOV policy, persistence.

Not imported by ``simlab.text``; gensim is imported lazily inside methods.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict, to_dict
from simlab.errors import ArtifactError, ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.vectors import Hits, Vectors

log = logging.getLogger(__name__)

OOV_POLICIES = ("error", "skip", "subword")


def auto_workers(workers: int) -> int:
    """`workers` or, when 0, the visible CPU count capped at 8."""
    return workers if workers > 0 else max(1, min(8, os.cpu_count() or 1))


def check_common(cfg: Any) -> None:
    """Validate the fields word and document models share (raises ConfigError naming the field)."""
    for name in ("dim", "epochs", "window"):
        if hasattr(cfg, name) and getattr(cfg, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(cfg, name)}")
    if hasattr(cfg, "min_count") and cfg.min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {cfg.min_count}")
    if getattr(cfg, "negative", 0) < 0:
        raise ConfigError("negative must be >= 0")
    if hasattr(cfg, "negative") and cfg.negative == 0 and not cfg.hs:
        raise ConfigError("negative=0 and hs=false: choose negative sampling (negative>0) or hs=true")
    if hasattr(cfg, "sample") and cfg.sample < 0:
        raise ConfigError("sample must be >= 0")
    if getattr(cfg, "workers", 0) < 0:
        raise ConfigError("workers must be >= 0 (0 = all cores, at most 8)")


def build_config(cls: type, config: Any, params: dict[str, Any]) -> Any:
    """A config of type `cls` from a config object or dict plus keyword overrides (unknown keys fail by name)."""
    base: dict[str, Any] = {}
    if config is not None:
        if isinstance(config, dict):
            base = dict(config)
        elif dataclasses.is_dataclass(config):
            base = dataclasses.asdict(config)  # type: ignore[arg-type]
        else:
            raise ConfigError(f"config must be a {cls.__name__} or a dict, got {type(config).__name__}")
    return from_dict(cls, base, **params)


class WordModel:
    """Base class of the gensim-backed word-vector models.

    Subclasses define ``Config``, ``KIND``, ``_gensim_class()`` and ``_gensim_kwargs()``.
    """

    Config: type = object
    KIND = ""

    def __init__(self, config: Any = None, **params: Any) -> None:
        self.config = build_config(self.Config, config, params)
        # settings the caller chose (never replaced by the size recipe); a config object counts as all chosen
        self._explicit: set[str] = set(params) | (set(config) if isinstance(config, dict) else set())
        if config is not None and not isinstance(config, dict):
            self._explicit |= {f.name for f in dataclasses.fields(self.Config)}
        self._g: Any = None  # the gensim model
        self._vectors: Vectors | None = None
        self.history: list[dict[str, Any]] = []  # one entry per fit() call
        self._index: Any = None

    # -- gensim plumbing -------------------------------------------------------------------------------------
    def _gensim_class(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _gensim_kwargs(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        state = f"vocab={len(self._g.wv)}" if self._g is not None else "not fitted"
        return f"{type(self).__name__}({state}, dim={self.config.dim})"

    @property
    def gensim_model(self) -> Any:
        """The underlying gensim model (for advanced use; simlab never pickles it)."""
        self._check_fitted()
        return self._g

    def _check_fitted(self) -> None:
        if self._g is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted; call fit(corpus) or load(path)")

    @property
    def is_fitted(self) -> bool:
        return self._g is not None

    # -- training --------------------------------------------------------------------------------------------
    def fit(
        self,
        corpus: Any = None,
        *,
        corpus_file: str | Path | None = None,
        epochs: int | None = None,
        progress: bool | None = None,
    ) -> WordModel:
        """Train on `corpus` (or continue training a fitted / loaded model, adding new words).

        Args:
            corpus: a path, a :class:`~simlab.text.TextCorpus`, or a re-iterable of token lists / strings
                (iterated once for the vocabulary and once per epoch; a generator raises DataError).
            corpus_file: instead of `corpus`, a plain-text file of space-separated tokens, one document per
                line, trained with gensim's faster ``corpus_file`` mode (no Python iteration; no loss reported).
                Make one with :func:`simlab.text.corpus.write_line_corpus`.
            epochs: epochs for this call (default: ``config.epochs``).
            progress: show the tqdm bar (None: only on a terminal).

        Returns:
            self.

        Raises:
            DataError: empty corpus, no word with at least ``min_count`` occurrences, unreadable file.
        """
        from simlab.text.corpus import as_corpus

        cfg = self.config
        if (corpus is None) == (corpus_file is None):
            raise ConfigError("give exactly one of corpus or corpus_file")
        it = None
        cf = None
        if corpus_file is not None:
            cf = Path(corpus_file)
            if not cf.is_file():
                raise DataError("file not found", cf)
            from simlab.text.corpus import _lines

            for _n, _line in _lines(cf):  # validate UTF-8 / binary before gensim's C++ reader sees it
                pass
            cf = str(cf)
        else:
            it = as_corpus(corpus, tokenizer=getattr(cfg, "tokenizer", None), max_tokens=cfg.max_tokens)
        update = self._g is not None
        g = self._g if update else self._gensim_class()(**self._gensim_kwargs())
        n_before = len(g.wv) if update else 0
        total_words, corpus_count = g.scan_vocab(
            corpus_iterable=it, corpus_file=cf, progress_per=10**9, trim_rule=None
        )
        if corpus_count == 0 or total_words == 0:
            raise DataError("empty corpus: no document contains a token", cf or _describe(corpus))
        recipe = None
        if not update:
            g, recipe = self._apply_recipe(g, total_words)
            cfg = self.config
        n_raw = len(g.raw_vocab)
        g.corpus_count, g.corpus_total_words = corpus_count, total_words
        g.prepare_vocab(update=update, keep_raw_vocab=False, trim_rule=None)
        if len(g.wv) == 0:
            raise DataError(
                f"no word occurs at least min_count={cfg.min_count} times ({n_raw} distinct words, "
                f"{total_words} tokens); lower min_count or give more text",
                cf or _describe(corpus),
            )
        g.prepare_weights(update=update)
        n_ep = cfg.epochs if epochs is None else epochs
        if n_ep < 1:
            raise ConfigError("epochs must be >= 1")
        from simlab.text.recipes import check_corpus_size

        size_warnings = check_corpus_size(total_words, len(g.wv), cfg.dim, n_ep)
        from simlab.text._engine import run_training

        prog = run_training(
            g,
            corpus=it,
            corpus_file=cf,
            total_words=total_words,
            total_examples=corpus_count,
            epochs=n_ep,
            desc=f"{self.KIND} {'resume' if update else 'train'}",
            progress=progress,
        )
        self._after_train(g)
        self._g = g
        self._vectors = None
        self._index = None
        if prog.interrupted:  # stopped at an epoch end by Ctrl-C / SIGTERM: the model of the epochs done
            n_ep = prog.done_epochs
        self.history.append(
            {
                **({"interrupted": prog.interrupted} if prog.interrupted else {}),
                "epochs": n_ep,
                "documents": int(corpus_count),
                "tokens": int(total_words),
                "new_words": len(g.wv) - n_before,
                "vocab": len(g.wv),
                "epoch_loss": prog.losses,
                "seconds": round(sum(prog.epoch_seconds), 3),
                "words_per_second": round(total_words * n_ep / max(1e-9, sum(prog.epoch_seconds)), 1),
                **({"recipe": recipe} if recipe else {}),
                **({"warnings": size_warnings} if size_warnings else {}),
            }
        )
        from simlab.text.recipes import check_degenerate

        degenerate = check_degenerate(self.vectors)
        if degenerate:
            self.history[-1].setdefault("warnings", []).append(degenerate)
        log.info(
            "%s: trained %d epochs on %d documents / %d tokens, vocabulary %d",
            self.KIND,
            n_ep,
            corpus_count,
            total_words,
            len(g.wv),
        )
        return self

    def _apply_recipe(self, g: Any, tokens: int) -> tuple[Any, dict[str, Any] | None]:
        """With ``recipe="auto"``, replace the settings the caller did not choose by the size rule's
        (:mod:`simlab.text.recipes`) and rebuild the gensim model around the scanned vocabulary."""
        from simlab.text.recipes import RULE, recipe_for

        if getattr(self.config, "recipe", "fixed") != "auto":
            return g, None
        rec = recipe_for(self.KIND, tokens)
        if self._explicit & {"architecture", "sg"}:
            rec.pop("architecture", None)
        rec = {k: v for k, v in rec.items() if k not in self._explicit}
        info = {
            "rule": RULE,
            "tokens": int(tokens),
            "applied": dict(rec),
            "kept": sorted(self._explicit & set(recipe_for(self.KIND, tokens))),
        }
        if not rec:
            return g, info
        if "architecture" in rec:
            rec["sg"] = None
        self.config = dataclasses.replace(self.config, **rec)
        g2 = self._gensim_class()(**self._gensim_kwargs())
        g2.raw_vocab = g.raw_vocab
        log.info("%s: %d tokens, recipe sets %s", self.KIND, tokens, rec)
        return g2, info

    def _after_train(self, g: Any) -> None:
        """Hook for subclasses (FastText recomputes nothing: gensim keeps wv.vectors current)."""

    @property
    def epoch_loss(self) -> list[float | None]:
        """Per-epoch training loss of the last fit call (None where gensim computes none)."""
        return list(self.history[-1]["epoch_loss"]) if self.history else []

    # -- vectors ---------------------------------------------------------------------------------------------
    @property
    def vectors(self) -> Vectors:
        """The word vectors as :class:`simlab.Vectors` sharing gensim's float32 array (no copy, no normalised
        copy: gensim's ``fill_norms`` / ``get_normed_vectors`` are never called)."""
        self._check_fitted()
        if self._vectors is None:
            wv = self._g.wv
            counts = wv.expandos.get("count")
            self._vectors = Vectors(list(wv.index_to_key), wv.vectors, counts)
        return self._vectors

    @property
    def vocab(self) -> list[str]:
        """Words in the vocabulary, most frequent first."""
        return self.vectors.keys

    def __contains__(self, word: object) -> bool:
        return self._g is not None and word in self.vectors

    def __len__(self) -> int:
        return 0 if self._g is None else len(self._g.wv)

    def _oov(self, oov: str | None) -> str:
        pol = self.config.oov if oov is None else oov
        if pol not in OOV_POLICIES:
            raise ConfigError(f"unknown oov policy {pol!r}; valid: {', '.join(OOV_POLICIES)}")
        if pol == "subword" and not self.has_subwords:
            raise ConfigError(
                f"oov='subword' needs a model with character n-grams (FastText), not {self.KIND}"
            )
        return pol

    has_subwords = False

    def _oov_vector(self, word: str) -> np.ndarray:  # pragma: no cover - overridden by FastText
        raise UnknownKeyError(f"unknown word {word!r}")

    def vector(self, word: str, oov: str | None = None) -> np.ndarray:
        """The ``(dim,)`` vector of `word`.

        Raises:
            UnknownKeyError: naming the word, when it is not in the vocabulary and the policy is not "subword"
                (a single word cannot be skipped).
        """
        v = self.vectors.get(word)
        if v is not None:
            return v
        if self._oov(oov) == "subword":
            return self._oov_vector(word)
        raise UnknownKeyError(f"unknown word {word!r} (not among the {len(self)} words of this {self.KIND})")

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vector(word)

    def lookup(self, words: Sequence[str], oov: str | None = None) -> tuple[list[str], np.ndarray, list[str]]:
        """Vectors of several words under the OOV policy.

        Returns:
            ``(kept_words, (len(kept), dim) matrix, skipped_words)``. With ``"error"`` an unknown word raises
            UnknownKeyError naming it; with ``"skip"`` it is left out and listed; with ``"subword"`` it gets a
            vector from its character n-grams.
        """
        pol = self._oov(oov)
        vecs = self.vectors
        kept, rows, skipped = [], [], []
        for w in words:
            v = vecs.get(w)
            if v is None:
                if pol == "error":
                    raise UnknownKeyError(
                        f"unknown word {w!r} (not among the {len(self)} words of this "
                        f"{self.KIND}; use oov='skip' to leave unknown words out)"
                    )
                if pol == "skip":
                    skipped.append(w)
                    continue
                v = self._oov_vector(w)
            kept.append(w)
            rows.append(v)
        mat = np.asarray(rows, dtype=np.float32).reshape(len(rows), self.config.dim)
        if skipped:
            log.info("skipped %d unknown word(s): %s", len(skipped), ", ".join(map(repr, skipped[:10])))
        return kept, mat, skipped

    def similarity(self, a: str, b: str, oov: str | None = None) -> float:
        """Cosine similarity of two words.

        With ``oov="skip"`` a pair with an unknown word returns NaN (it cannot be scored), never 0.
        """
        _kept, mat, skipped = self.lookup([a, b], oov)
        if skipped:
            return float("nan")
        return (
            self.vectors.similarity(mat[0], mat[1])
            if a not in self.vectors or b not in self.vectors
            else self.vectors.similarity(a, b)
        )

    def use_index(self, backend: str = "faiss", **options: Any) -> Any:
        """Build an :class:`simlab.Index` over the vocabulary (e.g. FAISS HNSW for big vocabularies) that
        :meth:`most_similar` then searches instead of scanning; ``use_index(None)`` goes back to exact."""
        from simlab.index import Index

        self._check_fitted()
        self._index = (
            None if backend is None else Index.from_vectors(self.vectors, backend=backend, **options)
        )
        return self._index

    def most_similar(
        self,
        query: Any = None,
        k: int = 10,
        *,
        positive: Sequence[str] = (),
        negative: Sequence[str] = (),
        restrict: int | None = None,
        oov: str | None = None,
    ) -> Hits:
        """The k words most similar (cosine) to a word, a vector, or a list of words (their mean).

        Uses the FAISS/exact :class:`simlab.Index` set by :meth:`use_index` if any, else an exact chunked scan
        of the one float32 matrix. Unknown query words follow the OOV policy.
        """
        vecs = self.vectors

        def resolve(items: Sequence[Any]) -> list[Any]:
            words = [x for x in items if isinstance(x, str)]
            known = {w for w in words if w in vecs}
            unknown = [w for w in words if w not in known]
            if not unknown:
                return list(items)
            _, mat, _ = self.lookup(unknown, oov)  # raises for "error"
            sub = dict(zip([w for w in unknown if self._oov(oov) == "subword"], mat, strict=False))
            out = []
            for x in items:
                if isinstance(x, str) and x not in known:
                    if x in sub:
                        out.append(sub[x])
                else:
                    out.append(x)
            return out

        if isinstance(query, str):
            q = resolve([query])
            if not q:
                raise UnknownKeyError(f"unknown word {query!r}; nothing left to query (oov='skip')")
            query = q[0]
        elif isinstance(query, list):
            query = resolve(query)
            if not query:
                raise UnknownKeyError("every query word is unknown; nothing left to query (oov='skip')")
        pos, neg = resolve(list(positive)), resolve(list(negative))
        return vecs.most_similar(
            query,
            k,
            positive=pos,
            negative=neg,
            restrict=restrict,
            index=self._index if restrict is None else None,
        )

    def analogy(self, a: str, b: str, c: str, k: int = 1, method: str = "3cosadd") -> Hits:
        """ "a is to b as c is to ?" (see :meth:`simlab.Vectors.analogy`)."""
        return self.vectors.analogy(a, b, c, k=k, method=method)

    def embed_file(self, path: str | Path, oov: str | None = None) -> Vectors:
        """Vectors of the words in a file (one word per line, blank lines ignored), under the OOV policy."""
        from simlab.text.corpus import _lines

        p = Path(path)
        words: list[str] = []
        seen: set[str] = set()
        for _n, line in _lines(p):
            w = line.strip()
            if w and w not in seen:
                seen.add(w)
                words.append(w)
        if not words:
            raise DataError("no words in file", p)
        kept, mat, skipped = self.lookup(words, oov)
        if skipped:
            log.warning("%s: skipped %d unknown word(s)", p, len(skipped))
        return Vectors(kept, mat)

    # -- persistence -----------------------------------------------------------------------------------------
    def _train_arrays(self, g: Any) -> dict[str, np.ndarray]:
        out = {}
        if getattr(g, "negative", 0) and getattr(g, "syn1neg", None) is not None:
            out["syn1neg"] = g.syn1neg
        if getattr(g, "hs", 0) and getattr(g, "syn1", None) is not None:
            out["syn1"] = g.syn1
        return out

    def save(self, path: str | Path) -> Path:
        """Save atomically: vectors, counts, output weights (syn1neg/syn1) and training state, no pickle.

        The directory is enough to continue training (:meth:`fit` after :meth:`load`).
        """
        self._check_fitted()
        g = self._g
        with ArtifactWriter(path, self.KIND, to_dict(self.config)) as w:
            self.vectors.to_artifact(w)
            w.save_arrays("train.safetensors", self._train_arrays(g))
            self._save_extra(w, g)
            w.save_json(
                "state.json",
                {
                    "corpus_count": int(g.corpus_count),
                    "corpus_total_words": int(g.corpus_total_words),
                    "effective_min_count": int(getattr(g, "effective_min_count", self.config.min_count)),
                    "history": self.history,
                },
            )
            w.metrics = {"vocab": len(g.wv)}
            recipes = [h["recipe"] for h in self.history if h.get("recipe")]
            if recipes:  # the size rule and what it set, visible in the manifest
                w.extra = {"recipe": recipes[0]}
        return Path(path)

    def _save_extra(self, w: ArtifactWriter, g: Any) -> None:
        """Subclass hook (FastText n-gram buckets)."""

    @classmethod
    def load(cls, path: str | Path) -> WordModel:
        """Load a model saved with :meth:`save` (checksums verified; the gensim model is rebuilt from the arrays,
        nothing is unpickled)."""
        return cls.from_artifact(Artifact(path, kind=cls.KIND))

    @classmethod
    def from_artifact(cls, art: Artifact) -> WordModel:
        self = cls(art.config)
        vecs = Vectors.from_artifact(art)
        arrays = art.arrays("train.safetensors")
        state = art.json("state.json")
        if vecs.counts is None:
            raise ArtifactError(f"{art.path}: word counts missing; cannot rebuild the vocabulary")
        g = _rebuild_vocab(self._gensim_class(), self._gensim_kwargs(), vecs, state, art)
        _assign(g.wv.vectors, vecs.matrix, "vectors", art)
        for name in ("syn1neg", "syn1"):
            if name in arrays:
                _assign(getattr(g, name), arrays[name], name, art)
        self._load_extra(art, g)
        self._g = g
        self.history = list(state.get("history", []))
        return self

    def _load_extra(self, art: Artifact, g: Any) -> None:
        """Subclass hook."""


def _rebuild_vocab(
    cls: Any, kwargs: dict[str, Any], words: Vectors, state: dict[str, Any], art: Artifact
) -> Any:
    """A gensim model of class `cls` whose vocabulary is rebuilt from saved word counts, in the saved order."""
    g = cls(**{**kwargs, "sorted_vocab": 0})
    g.build_vocab_from_freq(
        dict(zip(words.keys, (int(c) for c in words.counts), strict=True)),
        corpus_count=int(state["corpus_count"]),
    )
    if list(g.wv.index_to_key) != words.keys:
        raise ArtifactError(f"{art.path}: vocabulary could not be rebuilt in the saved order")
    g.sorted_vocab = 1
    g.corpus_total_words = int(state["corpus_total_words"])
    return g


def _assign(dst: np.ndarray, src: np.ndarray, name: str, art: Artifact) -> None:
    if dst.shape != src.shape:
        raise ArtifactError(
            f"{art.path}: {name} has shape {src.shape}, the rebuilt model expects {dst.shape}"
        )
    dst[...] = src


def _describe(corpus: Any) -> str | None:
    if isinstance(corpus, str | Path):
        return str(corpus)
    paths = getattr(corpus, "paths", None)
    if paths:
        return ", ".join(str(p) for p in paths)
    return None


def sample_words(model: Any, n: int) -> Iterable[str]:
    """The n most frequent words (for demos)."""
    return model.vectors.keys[:n]
