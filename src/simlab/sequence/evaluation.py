"""Evaluators of sequence models: sentence relatedness (SICK, STS-B, pairs files), UCR/UEA 1-NN accuracy
(learned similarity next to 1-NN Euclidean and 1-NN DTW), and retrieval (recall@k, MRR).

Each is ``fn(model, target, **options) -> Report`` and registered in ``EVALUATORS``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from simlab.config import parse_spec
from simlab.errors import ConfigError, DataError
from simlab.evaluate import Report, pearson, spearman
from simlab.sequence import data as D

log = logging.getLogger(__name__)


# -- sentence relatedness ------------------------------------------------------------------------------------


def pair_scores(model: Any, a: list[Any], b: list[Any]) -> np.ndarray:
    """Scores of pairs by any model: ``predict_score`` (on the data's scale), ``score_pairs`` or
    ``similarity`` one pair at a time."""
    for name in ("predict_score", "score_pairs"):
        fn = getattr(model, name, None)
        if fn is not None:
            return np.asarray(fn(a, b), dtype=np.float64)
    if hasattr(model, "similarity"):
        return np.array([model.similarity(x, y) for x, y in zip(a, b, strict=True)], dtype=np.float64)
    raise ConfigError(
        f"a {type(model).__name__} cannot score pairs (needs predict_score, score_pairs or similarity)"
    )


def _need(model: Any, modality: str, bench: str) -> None:
    have = getattr(model, "modality", None)
    if have is not None and have != modality:
        raise ConfigError(f"{bench} needs a {modality} model; this {type(model).__name__} embeds {have}")


def relatedness_report(model: Any, pairs: D.PairDataset, name: str, primary: str = "pearson") -> Report:
    """Pearson, Spearman and MSE of a model's pair scores against the gold scores."""
    if pairs.a and isinstance(pairs.a[0], str):
        _need(model, "text", name)
    if pairs.score is None:
        raise DataError(f"{pairs.name}: no score column to evaluate against")
    t0 = time.perf_counter()
    pred = pair_scores(model, pairs.a, pairs.b)
    gold = pairs.score.astype(np.float64)
    metrics = {
        "pearson": pearson(pred, gold),
        "spearman": spearman(pred, gold),
        "mse": float(np.mean((pred - gold) ** 2)),
    }
    counts: dict[str, float] = {"items_scored": len(gold), "seconds": round(time.perf_counter() - t0, 3)}
    if hasattr(model, "oov_share") and getattr(model, "modality", "text") == "text":
        counts["oov_share"] = round(float(model.oov_share(list(pairs.a) + list(pairs.b))), 4)
    return Report(name, primary, metrics, counts)


def _shared_file(dataset: str, filename: str, path: Any) -> Path:
    if path is not None:
        return Path(path)
    from simlab.paths import shared_dataset

    return shared_dataset(dataset) / filename  # type: ignore[operator]


def eval_sick(model: Any, target: str = "", path: Any = None, split: str = "test", **_: Any) -> Report:
    """SICK relatedness (SemEval-2014 Task 1) on the test split (4,927 pairs) by default.

    Pearson (primary), Spearman and MSE on the [1, 5] scale (a model trained on SICK maps its head back to
    it).
    `target` or `split` may be ``train``, ``trial`` or ``test``; `path` points to a SICK file directly.
    """
    split = target or split
    files = {
        "train": "SICK_train.txt",
        "trial": "SICK_trial.txt",
        "dev": "SICK_trial.txt",
        "test": "SICK_test_annotated.txt",
    }
    if split not in files:
        raise ConfigError(f"unknown SICK split {split!r}; valid: {', '.join(files)}")
    return relatedness_report(model, D.read_sick(_shared_file("sick", files[split], path)), f"sick:{split}")


def eval_stsb(model: Any, target: str = "", path: Any = None, split: str = "test", **_: Any) -> Report:
    """STS Benchmark (1,379 test pairs by default): Spearman (primary, as in SentEval/SBERT), Pearson, MSE."""
    split = target or split
    if split not in ("train", "dev", "test"):
        raise ConfigError(f"unknown STS-B split {split!r}; valid: train, dev, test")
    pairs = D.read_stsb(_shared_file("stsb", f"sts-{split}.csv", path))
    return relatedness_report(model, pairs, f"stsb:{split}", primary="spearman")


def eval_pairs(model: Any, target: str, **_: Any) -> Report:
    """Any scored pairs file (SICK, STS-B or a TSV/CSV with a, b, score): Pearson, Spearman, MSE."""
    if not target:
        raise ConfigError("pairs evaluator needs a file: pairs:PATH")
    return relatedness_report(model, D.read_any(target), f"pairs:{target}")


# -- series: 1-NN classification -----------------------------------------------------------------------------


def impute(s: np.ndarray) -> np.ndarray:
    """Linear interpolation of NaN per channel (see :func:`simlab.sequence.classical.impute`)."""
    from simlab.sequence.classical import impute as _impute

    return _impute(s)


def resample(s: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling of a ``(len, C)`` series to `length` steps."""
    from simlab.sequence.classical import resample as _resample

    return _resample(s, length)


def euclidean_1nn(train: D.SeriesDataset, test: D.SeriesDataset) -> np.ndarray:
    """1-NN predictions with the Euclidean distance of z-normalised series (unequal lengths resampled to the
    longest training one)."""
    from simlab.sequence import classical

    return classical.nn_predict(classical.distances(test.series, train.series, "euclidean"), train.labels)


def dtw_distances(
    train: D.SeriesDataset, test: D.SeriesDataset, window: float | int | None = None
) -> np.ndarray:
    """``(n_test, n_train)`` DTW distances of z-normalised series (dtaidistance's C implementation, full
    window by default; `window` in steps or as a share of the length)."""
    from simlab.metrics import dtw_distance_matrix
    from simlab.sequence.classical import prepare

    return dtw_distance_matrix(prepare(test.series), prepare(train.series), window)


def dtw_1nn(train: D.SeriesDataset, test: D.SeriesDataset, window: float | int | None = None) -> np.ndarray:
    """1-NN predictions with DTW."""
    return train.labels[np.argmin(dtw_distances(train, test, window), axis=1)]


def learned_1nn(model: Any, train: D.SeriesDataset, test: D.SeriesDataset) -> np.ndarray:
    """1-NN predictions with the model's similarity: the one it ships (``knn_predict``: learned, classical or
    blended, see :mod:`simlab.sequence.fallback`), else its head over its embeddings."""
    from simlab.vectors import Vectors

    if hasattr(model, "knn_predict"):
        return model.knn_predict(train, test)
    ce = model.encode(train.series)
    qe = model.encode(test.series)
    hits = model.search(qe, Vectors(list(range(len(ce))), ce), 1)
    return train.labels[[row[0] for row in hits.keys]]


def knn_report(
    model: Any,
    train: D.SeriesDataset,
    test: D.SeriesDataset,
    name: str,
    dtw: bool = True,
    euclidean: bool = True,
) -> Report:
    """1-NN accuracy of the model's similarity on a labelled split, beside 1-NN Euclidean (z-normalised) and
    1-NN DTW (full window and 10% band) on the same split; the model's fallback choice and validation scores
    (when it has them) go into the counts."""
    from simlab.sequence import classical

    _need(model, "series", name)
    if train.labels is None or test.labels is None:
        raise DataError(f"{name}: 1-NN evaluation needs labelled train and test series")
    t0 = time.perf_counter()
    acc = float(np.mean(learned_1nn(model, train, test) == test.labels))
    metrics = {"accuracy": acc}
    counts: dict[str, Any] = {
        "train": len(train),
        "test": len(test),
        "classes": len(train.classes),
        "seconds_model": round(time.perf_counter() - t0, 3),
    }
    sel = getattr(model, "selection", None)
    if sel is not None:
        counts["similarity"] = sel.name
        if sel.choice != "learned":  # what the encoder alone would give
            keep, model.selection = sel, None
            try:
                metrics["accuracy_learned"] = float(np.mean(learned_1nn(model, train, test) == test.labels))
            finally:
                model.selection = keep
        counts.update(
            {
                f"validation_{k}": round(v, 4)
                for k, v in sel.validation.items()
                if v is not None and not k.startswith("blend_")
            }
        )
        counts["validation"] = sel.protocol
    if euclidean:
        d = classical.distances(test.series, train.series, "euclidean")
        metrics["accuracy_euclidean"] = float(np.mean(classical.nn_predict(d, train.labels) == test.labels))
    if dtw:
        for kind, key in (("dtw", "accuracy_dtw"), ("dtw10", "accuracy_dtw10")):
            t0 = time.perf_counter()
            try:
                d = classical.distances(test.series, train.series, kind)
            except ConfigError as exc:  # over the DTW cost limit: the baseline is skipped and says why
                log.warning("%s baseline skipped: %s", kind, exc)
                counts[f"skipped_{kind}"] = "over the DTW cost limit (SIMLAB_DTW_MAX_CELLS)"
                continue
            metrics[key] = float(np.mean(classical.nn_predict(d, train.labels) == test.labels))
            counts[f"seconds_{kind}"] = round(time.perf_counter() - t0, 3)
    return Report(name, "accuracy", metrics, counts)


def eval_ucr(model: Any, target: str, dtw: bool = True, euclidean: bool = True, **_: Any) -> Report:
    """1-NN classification accuracy on a bundled UCR/UEA dataset (``ucr:GunPoint``): the model's similarity
    (primary), next to 1-NN Euclidean (z-normalised) and 1-NN DTW (full, 10% band) on the same split."""
    if not target:
        raise ConfigError(f"ucr evaluator needs a dataset: ucr:NAME with NAME in {', '.join(D.ucr_names())}")
    _need(model, "series", f"ucr:{target}")
    train, test = D.load_ucr(target, "train"), D.load_ucr(target, "test")
    return knn_report(model, train, test, f"ucr:{train.name.split(':')[1].split('/')[0]}", dtw, euclidean)


def eval_knn(
    model: Any, target: str, train: Any = None, dtw: bool = True, euclidean: bool = True, **_: Any
) -> Report:
    """``knn:TEST_FILE`` with ``train=TRAIN_FILE`` (CLI: ``--train``): 1-NN accuracy on any labelled split
    (UCR TSV, ``.ts``, or ``.npy`` with ``NAME_labels.npy`` beside it; uni- or multivariate), beside 1-NN
    Euclidean and DTW, like ``ucr:``."""
    if not target:
        raise ConfigError("knn evaluator needs a labelled test file: knn:TEST_FILE (and train=TRAIN_FILE)")
    if train is None:
        raise ConfigError("knn:TEST_FILE needs the labelled training split: --train TRAIN_FILE")
    tr = train if isinstance(train, D.SeriesDataset) else D.read_series(str(train))
    te = D.read_series(target)
    return knn_report(model, tr, te, f"knn:{Path(target).name}", dtw, euclidean)


# -- retrieval -----------------------------------------------------------------------------------------------


def retrieval_metrics(ranked_relevance: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """recall@k (share of queries with a relevant item in the top k) and MRR from a ``(q, K)`` 0/1 matrix."""
    out = {}
    for k in ks:
        out[f"recall@{k}"] = float(ranked_relevance[:, :k].any(1).mean())
    first = np.argmax(ranked_relevance, axis=1)
    rr = np.where(ranked_relevance.any(1), 1.0 / (first + 1), 0.0)
    out["mrr"] = float(rr.mean())
    return out


def _search(model: Any, queries: np.ndarray, keys: list[Any], corpus: np.ndarray, k: int) -> list[list[Any]]:
    """Top-k with the core Index when the head has a core metric, else with the model's head."""
    import scipy.sparse as sp

    if sp.issparse(corpus):  # sparse text models (TF-IDF, BM25): exact blocked cosine top-k, kept sparse
        from simlab.text.sparse import l2_normalize, sparse_topk

        idx, _ = sparse_topk(l2_normalize(queries), l2_normalize(corpus), k)
        return [[keys[j] for j in row] for row in idx]
    metric = getattr(model, "metric", "cosine")
    if metric is not None:
        try:
            from simlab.index import Index
        except ImportError:
            Index = None
        if Index is not None:
            idx = Index(backend="exact", metric=metric, dim=corpus.shape[1]).add(keys, corpus)
            return idx.search(queries, k=k).keys
    from simlab.vectors import Vectors

    return model.search(queries, Vectors(keys, corpus), k).keys


def eval_retrieval(model: Any, target: str, k: int = 10, **_: Any) -> Report:
    """Retrieval with the encoder + an index on held-out data.

    ``retrieval:ucr:NAME``: test series query the training series; relevant = same class.
    ``retrieval:sick`` / ``retrieval:stsb``: test pairs with score >= 4 (of 5); sentence A queries all
    B sentences of the test split; relevant = its own partner.
    """
    scheme, name = parse_spec(target, ("ucr",))
    if scheme == "ucr":
        _need(model, "series", f"retrieval:{target}")
        train, test = D.load_ucr(name, "train"), D.load_ucr(name, "test")
        ce, qe = model.encode(train.series), model.encode(test.series)
        keys = list(range(len(train)))
        res = _search(model, qe, keys, ce, k)
        rel = np.array([[train.labels[j] == test.labels[i] for j in row] for i, row in enumerate(res)])
        n_q = len(test)
    elif target.lower() in ("sick", "stsb"):
        _need(model, "text", f"retrieval:{target}")
        if target.lower() == "sick":
            pairs = D.read_sick(_shared_file("sick", "SICK_test_annotated.txt", None))
        else:
            pairs = D.read_stsb(_shared_file("stsb", "sts-test.csv", None))
        keep = np.flatnonzero(pairs.score >= 4.0)
        corpus_sents = D.unique(pairs.b)
        pos = {s: i for i, s in enumerate(corpus_sents)}
        ce = model.encode(corpus_sents)
        qa = [pairs.a[i] for i in keep]
        qe = model.encode(qa)
        res = _search(model, qe, list(range(len(corpus_sents))), ce, k)
        rel = np.array([[j == pos[pairs.b[i]] for j in row] for i, row in zip(keep, res, strict=True)])
        n_q = len(keep)
    else:
        raise ConfigError(f"unknown retrieval target {target!r}; valid: ucr:NAME, sick, stsb")
    ks = tuple(x for x in (1, 5, 10) if x <= k)
    return Report(f"retrieval:{target}", "mrr", retrieval_metrics(rel, ks), {"queries": n_q, "k": k})


# -- several seeds -------------------------------------------------------------------------------------------


def ucr_seeds(name: str, config: dict[str, Any], seeds: tuple[int, ...] = (0, 1, 2)) -> dict[str, Any]:
    """Train one model per seed on a UCR/UEA training split and report 1-NN test accuracy mean and spread."""
    from simlab.registry import MODELS

    SiameseModel = MODELS.get("siamese")  # through the registry: the model module imports this one
    if len(seeds) < 1:
        raise DataError("need at least one seed")
    train, test = D.load_ucr(name, "train"), D.load_ucr(name, "test")
    accs, secs = [], []
    for s in seeds:
        t0 = time.perf_counter()
        m = SiameseModel({**config, "seed": s}).fit(train)
        secs.append(time.perf_counter() - t0)
        accs.append(float(np.mean(learned_1nn(m, train, test) == test.labels)))
    return {
        "accuracies": accs,
        "mean": float(np.mean(accs)),
        "std": float(np.std(accs)),
        "train_seconds": secs,
    }
