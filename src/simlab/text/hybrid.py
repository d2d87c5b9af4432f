"""Sparse + dense document similarity (:class:`Hybrid`) and the no-choices document model
(:class:`DocumentModel`).

A :class:`Hybrid` fits a sparse view (TF-IDF or BM25) and a dense view (Doc2Vec, LSI or SIF) on the same
documents and fuses their cosine similarities with :class:`simlab.fuse.ScoreFusion` (per-view standardised
scores, weight chosen on validation data); search can also use reciprocal-rank fusion
(:func:`simlab.fuse.reciprocal_rank_fusion`). The validation data is either a scored document-pairs file (the
objective is Pearson with the scores) or, with no labels, **pseudo-pairs**: each validation document is cut in
two halves of its words, and a good similarity scores the two halves of one document above halves of two
different documents (the objective is the separation d' of the two groups of scores, see :func:`separation`).
The chosen weights, the objective and each view's validation value are stored in the manifest.

:class:`DocumentModel` (``simlab train docs``) fits TF-IDF, LSI, Doc2Vec and their hybrid and keeps the best
by the same label-free pseudo-pair separation, recording the whole comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, NotFittedError, UnknownKeyError
from simlab.model import Model, capabilities
from simlab.text._pairs import PairsBySimilarity
from simlab.vectors import Hits

log = logging.getLogger(__name__)

SPARSE = {"tfidf": "simlab.text.sparse:Tfidf", "bm25": "simlab.text.sparse:BM25"}
DENSE = {"doc2vec": "simlab.text.doc2vec:Doc2Vec", "lsi": "simlab.text.lsi:LSI"}


def _cls(spec: str) -> Any:
    import importlib

    mod, _, attr = spec.partition(":")
    return getattr(importlib.import_module(mod), attr)


def read_texts(corpus: Any) -> tuple[list[Any], list[str]]:
    """``(keys, raw texts)`` of a path / TextCorpus (keys ``"file:line"``) or a list of strings (keys
    0..n-1)."""
    from simlab.text.corpus import TextCorpus

    if isinstance(corpus, str | Path):
        corpus = TextCorpus(corpus)
    if isinstance(corpus, TextCorpus):
        pairs = [(k, t) for k, t in corpus.texts() if t.strip()]
        return [k for k, _ in pairs], [t for _, t in pairs]
    texts = list(corpus)
    if not all(isinstance(t, str) for t in texts):
        raise DataError(
            "a hybrid / document model reads raw texts: give a path, a TextCorpus or a list of str"
        )
    return list(range(len(texts))), texts


def pseudo_pairs(
    texts: Sequence[str], n: int = 300, seed: int = 0, min_words: int = 10
) -> tuple[list[str], list[str], np.ndarray]:
    """Label-free validation pairs: the two halves of a document (label 1) and halves of two documents (0).

    Args:
        texts: raw documents; those with fewer than `min_words` whitespace words are not used.
        n: documents to sample (each gives one positive and one negative pair).

    Returns:
        ``(a_texts, b_texts, labels)`` with ``2 m`` pairs for the ``m <= n`` documents used.

    Raises:
        DataError: fewer than 4 usable documents.
    """
    rng = np.random.default_rng(seed)
    usable = [i for i, t in enumerate(texts) if len(t.split()) >= min_words]
    if len(usable) < 4:
        raise DataError(f"pseudo-pairs need >= 4 documents of >= {min_words} words, got {len(usable)}")
    pick = rng.permutation(usable)[:n]
    halves = []
    for i in pick:
        w = texts[i].split()
        h = len(w) // 2
        halves.append((" ".join(w[:h]), " ".join(w[h:])))
    m = len(halves)
    shift = rng.integers(1, m)
    a = [x for x, _ in halves] * 2
    b = [y for _, y in halves] + [halves[(j + shift) % m][1] for j in range(m)]
    labels = np.r_[np.ones(m), np.zeros(m)]
    return a, b, labels


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (probability a positive outscores a negative; ties count half)."""
    from scipy.stats import rankdata

    r = rankdata(scores)
    pos = labels == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def holdout(texts: Sequence[str], n: int, seed: int, min_words: int = 10) -> tuple[list[int], list[int]]:
    """``(fit_rows, held_rows)``: up to `n` documents of >= `min_words` words (at most a fifth) held out.

    Raises:
        DataError: fewer than 4 documents can be held out.
    """
    usable = [i for i, t in enumerate(texts) if len(t.split()) >= min_words]
    k = min(n, len(texts) // 5, len(usable))
    if k < 4:
        raise DataError(
            f"pseudo-pairs need >= 4 held-out documents of >= {min_words} words: give >= 20 "
            f"documents ({len(texts)} given, {len(usable)} long enough) or a validation pairs file"
        )
    held = sorted(np.random.default_rng(seed).permutation(usable)[:k].tolist())
    hs = set(held)
    return [i for i in range(len(texts)) if i not in hs], held


def separation(scores: np.ndarray, labels: np.ndarray) -> float:
    """Fisher's separation ``d' = (mean_pos - mean_neg) / sqrt((var_pos + var_neg) / 2)`` of two score groups.

    The pseudo-pair objective: unlike the AUC, it does not saturate at 1 when every positive already outscores
    every negative (two halves of a news story share names, so TF-IDF alone often reaches AUC 1.0 and every
    mixture would tie), and it rewards the similarity that separates the groups most.
    """
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) < 2 or len(neg) < 2:
        return float("nan")
    sd = np.sqrt((pos.var() + neg.var()) / 2)
    return float((pos.mean() - neg.mean()) / sd) if sd > 0 else float("nan")


def pair_cosines(model: Any, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Row-wise cosine of two lists of texts under one document model (NaN where a text has no known word)."""
    import scipy.sparse as sp

    ea, eb = _encode(model, a), _encode(model, b)
    if sp.issparse(ea):
        from simlab.text.sparse import l2_normalize

        ua, ub = l2_normalize(ea), l2_normalize(eb)
        out = np.asarray(ua.multiply(ub).sum(axis=1)).ravel()
        empty = (np.diff(ea.indptr) == 0) | (np.diff(eb.indptr) == 0)
    else:
        na, nb = np.linalg.norm(ea, axis=1), np.linalg.norm(eb, axis=1)
        empty = (na == 0) | (nb == 0) | np.isnan(na) | np.isnan(nb)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (ea * eb).sum(1) / (na * nb)
    out = out.astype(np.float64)
    out[empty] = np.nan
    return out


def _encode(model: Any, texts: Sequence[str]) -> Any:
    """Texts -> rows (every document model ``embeds``; Doc2Vec infers, a text with no known word gets a zero
    row)."""
    return model.encode(texts)


@dataclass(frozen=True)
class HybridConfig:
    """Hybrid settings.

    Attributes:
        sparse: ``"tfidf"`` or ``"bm25"``.
        dense: ``"lsi"`` (default; measured better than Doc2Vec on small corpora) or ``"doc2vec"``.
        sparse_config / dense_config: settings of each view's model.
        tokenizer: a tokenizer spec for both views (None: each view's default; TF-IDF drops English stop
            words).
        search: ``"score"`` (fused standardised scores) or ``"rrf"`` (reciprocal-rank fusion) for search.
        rrf_c: the RRF constant.
        validation_docs: documents sampled for pseudo-pairs.
        seed: seed of the dense view and of the pseudo-pair sample.
        workers: training threads of the dense view (0 = all cores, at most 8).
    """

    sparse: str = "tfidf"
    dense: str = "lsi"
    sparse_config: dict[str, Any] = field(default_factory=dict)
    dense_config: dict[str, Any] = field(default_factory=dict)
    tokenizer: Any = None
    search: str = "score"
    rrf_c: float = 60.0
    validation_docs: int = 300
    seed: int = 1
    workers: int = 0

    def __post_init__(self) -> None:
        if self.sparse not in SPARSE:
            raise ConfigError(f"sparse view must be one of {', '.join(SPARSE)}, got {self.sparse!r}")
        if self.dense not in DENSE:
            raise ConfigError(f"dense view must be one of {', '.join(DENSE)}, got {self.dense!r}")
        if self.search not in ("score", "rrf"):
            raise ConfigError(f"search must be 'score' or 'rrf', got {self.search!r}")
        if self.validation_docs < 4:
            raise ConfigError("validation_docs must be >= 4")


class Hybrid(PairsBySimilarity, Model):
    """Sparse + dense document similarity with a fusion weight learned on validation data.

    Example:
        >>> from simlab.text import Hybrid  # doctest: +SKIP
        >>> h = Hybrid(dense="lsi").fit(texts)  # doctest: +SKIP
        >>> h.fusion.weights  # [w_sparse, w_dense], chosen on label-free pseudo-pairs  # doctest: +SKIP
    """

    KIND = "hybrid"
    Config = HybridConfig
    CAPABILITIES = frozenset({"scores_pairs", "searches", "texts"})

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.views: dict[str, Any] = {}
        self.fusion: Any = None
        self.keys: list[Any] = []

    @property
    def tokenizer(self) -> Any:
        from simlab.text.tokenizers import make_tokenizer

        return make_tokenizer(self.config.tokenizer)

    def _make_views(self) -> dict[str, Any]:
        c = self.config
        sc, dc = dict(c.sparse_config), dict(c.dense_config)
        if c.tokenizer is not None:
            sc.setdefault("tokenizer", c.tokenizer)
            if c.dense == "lsi":
                dc["tfidf"] = {**dc.get("tfidf", {}), "tokenizer": c.tokenizer}
            else:
                dc.setdefault("tokenizer", c.tokenizer)
        if c.dense == "doc2vec":
            dc.setdefault("seed", c.seed)
            dc.setdefault("workers", c.workers)
        return {"sparse": _cls(SPARSE[c.sparse])(sc), "dense": _cls(DENSE[c.dense])(dc)}

    def fit(
        self, corpus: Any, validation: str | Path | None = None, views: dict[str, Any] | None = None
    ) -> Hybrid:
        """Fit both views on `corpus` (or take fitted `views`) and choose the fusion weight.

        With no `validation` file, up to ``validation_docs`` documents (at most a fifth of the corpus) are
        held out: the views are fitted on the rest, the weight is chosen on the held-out documents'
        pseudo-pairs
        (documents a view was fitted on are not fair pseudo-pairs: LSI and Doc2Vec have learned them), then
        the views are refitted on every document with that weight.

        Args:
            corpus: a path / TextCorpus / list of raw texts.
            validation: ``None`` (label-free pseudo-pairs) or a ``doc_a<TAB>doc_b<TAB>score`` file (the weight
                maximises Pearson with the scores; the views are fitted once, on every document).
            views: ``{"sparse": model, "dense": model}`` already fitted on these documents (nothing is fitted;
                pseudo-pairs then come from the corpus itself).
        """
        keys, texts = read_texts(corpus)
        if not texts:
            raise DataError("empty corpus")
        self.keys = keys
        if views is not None:
            self.views = views
            self.fit_fusion(texts, validation)
            return self
        if validation is None:
            train, held = holdout(texts, self.config.validation_docs, self.config.seed)
            self.views = self._fit_views([keys[i] for i in train], [texts[i] for i in train])
            self.fit_fusion([texts[i] for i in held])
        self.views = self._fit_views(keys, texts)
        if validation is not None:
            self.fit_fusion(texts, validation)
        return self

    def _fit_views(self, keys: list[Any], texts: list[str]) -> dict[str, Any]:
        views = self._make_views()
        for v in views.values():
            tok = _view_tokenizer(v)
            v.fit(list(zip(keys, (tok(t) for t in texts), strict=True)))
        return views

    def fit_fusion(self, texts: Sequence[str], validation: str | Path | None = None) -> Any:
        """Choose the fusion weight on pseudo-pairs of `texts` or on a scored pairs file; returns the
        fusion."""
        from simlab.evaluate import pearson
        from simlab.fuse import ScoreFusion

        if validation is None:
            a, b, labels = pseudo_pairs(texts, self.config.validation_docs, self.config.seed)
            target, name = labels, "pseudo-pair separation (d')"
        else:
            from simlab.text.evaluation import read_pairs

            pairs = read_pairs(validation)
            a, b = [p[0] for p in pairs], [p[1] for p in pairs]
            target, name = np.array([p[2] for p in pairs]), f"Pearson on {Path(validation).name}"
        scores = np.stack(
            [pair_cosines(self.views["sparse"], a, b), pair_cosines(self.views["dense"], a, b)], 1
        )
        keep = ScoreFusion.complete_rows(scores)
        tgt = target[keep]
        fn = (lambda s: separation(s, tgt)) if validation is None else (lambda s: pearson(s, tgt))
        self.fusion = ScoreFusion(["sparse", "dense"]).fit(scores, fn, objective_name=name)
        log.info("hybrid: weights %s on %s (%s)", self.fusion.weights, name, self.fusion.validation)
        return self.fusion

    # -- scoring ---------------------------------------------------------------------------------------------
    def check_fitted(self) -> None:
        self._check()

    def _check(self) -> None:
        if self.fusion is None:
            raise NotFittedError("this Hybrid is not fitted; call fit(corpus) or simlab.load(path)")

    def similarity_text(self, a: str, b: str) -> float:
        """Fused similarity of two texts (standardised scale: higher = more similar, not bounded to [-1,
        1])."""
        self._check()
        s = [pair_cosines(self.views[v], [a], [b])[0] for v in ("sparse", "dense")]
        return float(self.fusion.combine(np.array([s]))[0])

    def similarity(self, a: Any, b: Any) -> float:
        """Fused similarity of two fitted documents (by key) or texts."""
        self._check()
        s = [self.views[v].similarity(a, b) for v in ("sparse", "dense")]
        return float(self.fusion.combine(np.array([s], dtype=np.float64))[0])

    def _all_scores(self, text: str) -> np.ndarray:
        """``(n_docs, 2)`` cosine of a text with every fitted document under each view."""
        sp_, de = self.views["sparse"], self.views["dense"]
        s1 = _cos_all_sparse(sp_, text)
        v = _encode(de, [text])[0]
        m = de.vectors
        n = np.linalg.norm(v)
        s2 = (m.matrix @ v) / (np.where(m.norms == 0, 1, m.norms) * (n or 1))
        order = [m.key_to_index[k] for k in sp_.vectors.keys]
        return np.stack([s1, s2[order]], 1).astype(np.float64)

    def most_similar_text(self, text: str, k: int = 10) -> Hits:
        """Fitted documents most similar to a text (fused scores, or RRF with ``search="rrf"``)."""
        return self.search([text], k)[0]

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """Fitted documents most similar to a document key (itself excluded) or a text."""
        self._check()
        sp_ = self.views["sparse"]
        if query not in sp_.vectors:
            if isinstance(query, str):
                return self.most_similar_text(query, k)
            raise UnknownKeyError(f"unknown document {query!r}")
        i = sp_.vectors.key_to_index[query]
        unit = sp_._corpus_unit()
        s1 = np.asarray((unit[i] @ unit.T).todense()).ravel()
        dv = self.views["dense"].vectors
        from simlab import metrics as M

        s2_all = M.pairwise(dv.matrix[[dv.key_to_index[query]]], dv.matrix, "cosine")[0]
        s2 = s2_all[[dv.key_to_index[kk] for kk in sp_.vectors.keys]]
        fused = self.fusion.combine(np.stack([s1, s2], 1))
        fused[i] = -np.inf
        top = np.argsort(-fused, kind="stable")[:k]
        return Hits([sp_.vectors.keys[j] for j in top], fused[top].astype(np.float32))

    def search(self, queries: Sequence[str], k: int = 10) -> Hits:
        """Top-k fitted documents for each text: fused scores, or reciprocal-rank fusion
        (``search="rrf"``)."""
        from simlab.fuse import reciprocal_rank_fusion

        self._check()
        keys = self.views["sparse"].vectors.keys
        all_keys, all_scores = [], []
        for q in queries:
            s = self._all_scores(q)
            if self.config.search == "rrf":
                depth = min(len(keys), max(100, 3 * k))
                lists = [
                    [keys[j] for j in np.argsort(-np.nan_to_num(s[:, v], nan=-np.inf), kind="stable")[:depth]]
                    for v in range(2)
                ]
                res = reciprocal_rank_fusion(lists, k=k, weights=self.fusion.weights, c=self.config.rrf_c)
                all_keys.append([r[0] for r in res])
                all_scores.append([r[1] for r in res])
            else:
                fused = self.fusion.combine(s)
                top = np.argsort(-np.nan_to_num(fused, nan=-np.inf), kind="stable")[:k]
                all_keys.append([keys[j] for j in top])
                all_scores.append(fused[top].tolist())
        return Hits(all_keys, np.array(all_scores, dtype=np.float32))

    def summary(self) -> dict[str, Any]:
        self._check()
        return {
            "documents": len(self.keys),
            "views": f"{self.config.sparse} + {self.config.dense}",
            "weights": [round(w, 3) for w in self.fusion.weights],
            "objective": self.fusion.objective,
            "validation": {k: round(v, 4) for k, v in self.fusion.validation.items()},
        }

    # -- persistence ---------------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The config as saved, with the fusion state (weights, objective, validation values)."""
        return {**super().get_params(), "fusion": self.fusion.to_dict()}

    def to_artifact(self, w: ArtifactWriter) -> None:
        """Both views (nested artifacts ``sparse/`` and ``dense/``) and the documents' keys."""
        for name, v in self.views.items():
            v.save(w.dir / name)
        w.save_json("keys.json", self.keys)
        w.metrics = {"documents": len(self.keys), **dict(self.fusion.validation.items())}

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> Hybrid:
        from simlab.artifacts import load
        from simlab.fuse import ScoreFusion

        cfg = dict(artifact.config)
        fusion = cfg.pop("fusion")
        self = cls(cfg)
        self.fusion = ScoreFusion.from_dict(fusion)
        self.views = {name: load(artifact.path / name) for name in ("sparse", "dense")}
        self.keys = list(artifact.json("keys.json"))
        return self


def _view_tokenizer(model: Any) -> Any:
    """The tokenizer a view's model reads texts with (every document model has one)."""
    return model.tokenizer


def _cos_all_sparse(model: Any, text: str) -> np.ndarray:
    """Cosine of a text with every fitted document (BM25's symmetric similarity, not its query score)."""
    from simlab.text.sparse import l2_normalize

    q = l2_normalize(model.encode([text]))
    return np.asarray((q @ model._corpus_unit().T).todense(), dtype=np.float64).ravel()


@dataclass(frozen=True)
class DocumentModelConfig:
    """Settings of :class:`DocumentModel`.

    Attributes:
        candidates: models compared (``tfidf``, ``lsi``, ``doc2vec``, ``hybrid``; the hybrid fuses TF-IDF with
            the better dense candidate).
        tokenizer: a tokenizer spec for every candidate (None: each one's default).
        validation_docs: documents sampled for the pseudo-pairs.
        seed / workers: as in :class:`HybridConfig`.
    """

    candidates: tuple[str, ...] = ("tfidf", "lsi", "doc2vec", "hybrid")
    tokenizer: Any = None
    validation_docs: int = 300
    seed: int = 1
    workers: int = 0

    def __post_init__(self) -> None:
        cands = tuple(self.candidates)
        object.__setattr__(self, "candidates", cands)
        bad = [c for c in cands if c not in ("tfidf", "lsi", "doc2vec", "hybrid")]
        if bad or not cands:
            raise ConfigError(f"unknown candidate(s) {bad}; valid: tfidf, lsi, doc2vec, hybrid")


class DocumentModel(PairsBySimilarity, Model):
    """Document similarity with no choices to make (``simlab train docs``).

    Fits each candidate on the corpus, scores it on label-free pseudo-pairs (separation d' of "two halves of
    one document" vs "halves of two documents" similarities), and keeps the best; ties go to the simpler model
    (TF-IDF first). The chosen model answers every verb (``similarity``, ``most_similar``, ``search``, ...);
    the comparison is in :attr:`selection` and in the manifest.
    """

    KIND = "docs"
    Config = DocumentModelConfig
    CAPABILITIES = frozenset({"scores_pairs", "searches", "texts"})

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.model: Any = None
        self.choice: str | None = None
        self.selection: dict[str, float] = {}

    @property
    def tokenizer(self) -> Any:
        from simlab.text.tokenizers import make_tokenizer

        return make_tokenizer(self.config.tokenizer)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name == "model":  # it can do what the chosen model can do
            chosen = frozenset() if value is None else capabilities(value)
            super().__setattr__("CAPABILITIES", type(self).CAPABILITIES | chosen)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("model", "choice", "selection", "config", "CAPABILITIES"):
            raise AttributeError(name)
        if self.__dict__.get("model") is None:
            raise NotFittedError("this DocumentModel is not fitted; call fit(corpus) or simlab.load(path)")
        return getattr(self.__dict__["model"], name)

    @property
    def collection(self) -> Any:  # type: ignore[override]
        """The chosen model's searchable items (None before fitting)."""
        return None if self.model is None else self.model.collection

    def most_similar(self, query: Any, k: int = 10) -> Hits:
        """The chosen model's :meth:`most_similar` (a document key or a text)."""
        self.check_fitted()
        return self.model.most_similar(query, k)

    def fit(self, corpus: Any) -> DocumentModel:
        """Fit the candidates on most of `corpus`, score them on pseudo-pairs of held-out documents, keep the
        best and refit it on every document."""
        c = self.config
        keys, texts = read_texts(corpus)
        try:
            train, held = holdout(texts, c.validation_docs, c.seed)
        except DataError as exc:  # too few / too short documents to validate anything: the safe baseline
            log.warning("docs: %s; keeping TF-IDF", exc)
            m = self._make("tfidf")
            self.model = m.fit(list(zip(keys, (_view_tokenizer(m)(t) for t in texts), strict=True)))
            self.choice, self.selection = "tfidf (no pseudo-pairs: too few or too short documents)", {}
            return self
        held_texts = [texts[i] for i in held]
        a, b, labels = pseudo_pairs(held_texts, c.validation_docs, c.seed)
        need = set(c.candidates) | ({"tfidf", "lsi", "doc2vec"} if "hybrid" in c.candidates else set())
        tk, tt = [keys[i] for i in train], [texts[i] for i in train]
        fitted = {
            name: self._make(name).fit(
                list(zip(tk, (_view_tokenizer(self._make(name))(t) for t in tt), strict=True))
            )
            for name in ("tfidf", "lsi", "doc2vec")
            if name in need
        }
        scores = {name: separation(pair_cosines(m, a, b), labels) for name, m in fitted.items()}
        self.selection = {k: v for k, v in scores.items() if k in c.candidates}
        dense = None
        if "hybrid" in c.candidates:
            dense = max(("lsi", "doc2vec"), key=lambda d: scores[d])
            h = self._hybrid(dense)
            h.views = {"sparse": fitted["tfidf"], "dense": fitted[dense]}
            h.fit_fusion(held_texts)
            self.selection["hybrid"] = float(h.fusion.validation["fused"])
        order = [n for n in ("tfidf", "lsi", "doc2vec", "hybrid") if n in self.selection]
        best = max(order, key=lambda n: (round(self.selection[n], 3), -order.index(n)))
        log.info("docs: pseudo-pair separation %s -> %s", self.selection, best)
        if best == "hybrid":
            final = self._hybrid(dense)  # type: ignore[arg-type]
            final.keys, final.fusion = keys, h.fusion
            final.views = final._fit_views(keys, texts)
            self.model = final
        else:
            m = self._make(best)
            self.model = m.fit(list(zip(keys, (_view_tokenizer(m)(t) for t in texts), strict=True)))
        self.choice = best if best != "hybrid" else f"hybrid (tfidf + {dense})"
        return self

    def _hybrid(self, dense: str) -> Hybrid:
        c = self.config
        return Hybrid(
            tokenizer=c.tokenizer,
            dense=dense,
            seed=c.seed,
            workers=c.workers,
            validation_docs=c.validation_docs,
        )

    def _make(self, name: str) -> Any:
        """An unfitted candidate view (TF-IDF, LSI or Doc2Vec) with this model's tokenizer and seed."""
        views = self._hybrid("lsi" if name == "lsi" else "doc2vec")._make_views()
        return views["sparse"] if name == "tfidf" else views["dense"]

    def summary(self) -> dict[str, Any]:
        if self.model is None:
            raise NotFittedError("DocumentModel is not fitted")
        return {
            "choice": self.choice,
            "selection (pseudo-pair d')": {k: round(v, 4) for k, v in self.selection.items()},
        }

    def check_fitted(self) -> None:
        if self.model is None:
            raise NotFittedError("DocumentModel is not fitted")

    def get_params(self) -> dict[str, Any]:
        """The config as saved, with the choice and the comparison of the candidates."""
        return {
            **super().get_params(),
            "choice": self.choice,
            "selection": self.selection,
            "selection_objective": "pseudo-pair separation (d')",
        }

    def to_artifact(self, w: ArtifactWriter) -> None:
        """The chosen model, nested as ``model/``."""
        self.model.save(w.dir / "model")
        w.metrics = {f"pseudo_pair_separation:{k}": v for k, v in self.selection.items()}

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> DocumentModel:
        from simlab.artifacts import load

        cfg = dict(artifact.config)
        choice, selection = cfg.pop("choice"), cfg.pop("selection")
        cfg.pop("selection_objective", None)
        self = cls(cfg)
        self.choice, self.selection = choice, dict(selection)
        self.model = load(artifact.nested("model"))
        return self
