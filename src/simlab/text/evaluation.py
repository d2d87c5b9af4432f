"""Word and document evaluation: WS-353 / SimLex / any word-pair file, Google analogies, document-pair files
and IMDB sentiment with document vectors.

Evaluators take a model (anything with ``.vectors``, or a :class:`simlab.Vectors`) and return a
:class:`simlab.evaluate.Report`. Word-pair scores are cosine similarities; pairs with an unknown word are
skipped and counted (``oov_share``), never scored 0. FastText models score unknown words from their
character n-grams (the pairs then count as scored, ``oov_share`` still reports how many were unseen).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError
from simlab.evaluate import Report, pearson, spearman
from simlab.vectors import Vectors

log = logging.getLogger(__name__)

#: gensim's convention: analogy candidates are the 300,000 most frequent words.
RESTRICT_VOCAB = 300_000


def _vectors(model: Any) -> Vectors:
    if isinstance(model, Vectors):
        return model
    vecs = getattr(model, "vectors", None)
    if not isinstance(vecs, Vectors):
        raise DataError(f"a {type(model).__name__} has no word vectors to evaluate")
    return vecs


def read_pairs(path: str | Path, min_fields: int = 3) -> list[tuple[str, str, float, int]]:
    """Read ``a<TAB>b<TAB>score`` lines (whitespace-separated also accepted; ``#`` comments and a non-numeric
    header line are skipped).

    Returns:
        ``[(a, b, score, line_number), ...]``.

    Raises:
        DataError: naming the file and line of a malformed line; empty file.
    """
    from simlab.text.corpus import _lines

    p = Path(path)
    out: list[tuple[str, str, float, int]] = []
    for n, line in _lines(p):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split("\t") if "\t" in s else s.split()
        if len(parts) < min_fields:
            raise DataError(f"expected 'a<TAB>b<TAB>score', got {len(parts)} field(s)", p, n)
        try:
            score = float(parts[2])
        except ValueError:
            if not out and n <= 2:  # a header line
                continue
            raise DataError(f"score {parts[2]!r} is not a number", p, n) from None
        if not np.isfinite(score):
            raise DataError(f"score {parts[2]!r} is not finite", p, n)
        out.append((parts[0].strip(), parts[1].strip(), score, n))
    if not out:
        raise DataError("no scored pairs in file", p)
    return out


def evaluate_word_pairs(
    model: Any, path: str | Path, *, lowercase: bool = True, name: str | None = None
) -> Report:
    """Correlation of cosine similarities with human scores for the word pairs of a file.

    Args:
        model: a word model (Word2Vec, FastText, Doc2Vec's word vectors) or :class:`simlab.Vectors`.
        path: a ``word1<TAB>word2<TAB>score`` file.
        lowercase: lowercase the words (simlab's tokenizer lowercases).

    Returns:
        Report with ``spearman`` (primary) and ``pearson``; counts ``pairs``, ``pairs_scored``, ``oov_pairs``,
        ``oov_share``.
    """
    pairs = read_pairs(path)
    vecs = _vectors(model)
    from simlab.model import can

    sub = can(model, "words") and model.has_subwords and model.config.oov == "subword"
    sims, gold = [], []
    oov = 0
    for a, b, score, _n in pairs:
        if lowercase:
            a, b = a.lower(), b.lower()
        unseen = a not in vecs or b not in vecs
        oov += unseen
        if unseen and not sub:
            continue
        if unseen:
            try:
                va, vb = model.vector(a), model.vector(b)
            except DataError:
                continue
            sims.append(vecs.similarity(va, vb))
        else:
            sims.append(vecs.similarity(a, b))
        gold.append(score)
    if len(sims) < 2:
        raise DataError(f"only {len(sims)} of {len(pairs)} pairs have both words in the vocabulary", path)
    return Report(
        name=name or f"word-pairs:{Path(path).name}",
        primary="spearman",
        metrics={"spearman": spearman(sims, gold), "pearson": pearson(sims, gold)},
        counts={
            "pairs": len(pairs),
            "pairs_scored": len(sims),
            "oov_pairs": oov,
            "oov_share": round(oov / len(pairs), 4),
        },
    )


def pairs_file(model: Any, target: str, **options: Any) -> Report:
    """Any ``a<TAB>b<TAB>score`` file given as a path, for any model with ``similarity(a, b)``.

    Dispatches on the model: word models and :class:`simlab.Vectors` -> :func:`evaluate_word_pairs`
    (lowercased words, OOV pairs skipped and counted); document models (``similarity_text``) ->
    :func:`doc_pairs`; any other model -> ``model.similarity(a, b)`` per pair, pairs raising UnknownKeyError
    skipped and counted.
    """
    from simlab.errors import UnknownKeyError
    from simlab.model import can

    if isinstance(model, Vectors) or can(model, "words"):
        return evaluate_word_pairs(model, target, **options)
    if can(model, "texts"):
        return doc_pairs(model, target, **options)
    if not can(model, "scores_pairs"):
        raise DataError(f"a {type(model).__name__} has no similarity(a, b) to evaluate on pairs")
    pairs = read_pairs(target)
    sims, gold, skipped = [], [], 0
    for a, b, score, _n in pairs:
        try:
            s = float(model.similarity(a, b))
        except UnknownKeyError:
            skipped += 1
            continue
        if np.isfinite(s):
            sims.append(s)
            gold.append(score)
        else:
            skipped += 1
    if len(sims) < 2:
        raise DataError(f"only {len(sims)} of {len(pairs)} pairs could be scored", target)
    return Report(
        name=f"pairs-file:{Path(target).name}",
        primary="spearman",
        metrics={"spearman": spearman(sims, gold), "pearson": pearson(sims, gold)},
        counts={
            "pairs": len(pairs),
            "pairs_scored": len(sims),
            "skipped": skipped,
            "oov_share": round(skipped / len(pairs), 4),
        },
    )


def wordsim353(model: Any, target: str = "", **options: Any) -> Report:
    """WordSim-353 (Finkelstein et al. 2002), gensim's ``wordsim353.tsv``: Spearman of cosine vs human
    scores."""
    from simlab.paths import gensim_test_data

    return evaluate_word_pairs(model, gensim_test_data() / "wordsim353.tsv", name="wordsim353", **options)


def simlex999(model: Any, target: str = "", **options: Any) -> Report:
    """SimLex-999 (Hill et al. 2015), gensim's ``simlex999.txt``."""
    from simlab.paths import gensim_test_data

    return evaluate_word_pairs(model, gensim_test_data() / "simlex999.txt", name="simlex999", **options)


def word_pairs(model: Any, target: str, **options: Any) -> Report:
    """``word-pairs:FILE``: any ``word1 word2 score`` file."""
    if not target:
        raise DataError("word-pairs needs a file: word-pairs:PATH")
    return evaluate_word_pairs(model, target, **options)


def read_analogies(path: str | Path) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Sections of a questions-words file: ``[(section, [(a, b, c, expected), ...]), ...]``.

    Raises:
        DataError: naming the line of a question without 4 words or one before any ``:`` section.
    """
    from simlab.text.corpus import _lines

    p = Path(path)
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    for n, line in _lines(p):
        s = line.strip()
        if not s:
            continue
        if s.startswith(":"):
            sections.append((s[1:].strip(), []))
            continue
        parts = s.split()
        if len(parts) != 4:
            raise DataError(f"an analogy question needs 4 words, got {len(parts)}", p, n)
        if not sections:
            raise DataError("question before the first ': section' line", p, n)
        sections[-1][1].append(tuple(parts))  # type: ignore[arg-type]
    if not sections:
        raise DataError("no analogy sections in file", p)
    return sections


def evaluate_analogies(
    model: Any,
    path: str | Path | None = None,
    *,
    restrict: int = RESTRICT_VOCAB,
    method: str = "3cosadd",
    lowercase: bool = True,
) -> Report:
    """Accuracy on analogy questions "a : b :: c : ?" (3CosAdd over unit vectors, question words excluded).

    gensim's convention: candidate answers and question words are restricted to the `restrict` most frequent
    words; a question with a word outside them is skipped (counted, not scored as wrong). Sections whose name
    starts with ``gram`` are syntactic, the others semantic.

    Returns:
        Report with ``accuracy`` (primary, over all scored questions), ``semantic``, ``syntactic`` and
        per-section accuracies in `details`; counts ``questions``, ``scored``, ``skipped``.
    """
    from simlab.paths import gensim_test_data

    p = Path(path) if path else gensim_test_data() / "questions-words.txt"
    sections = read_analogies(p)
    vecs = _vectors(model)
    limit = min(restrict, len(vecs))
    details: dict[str, Any] = {}
    tot = {"accuracy": [0, 0], "semantic": [0, 0], "syntactic": [0, 0]}  # [correct, scored]
    n_questions = n_skipped = 0
    for name, qs in sections:
        n_questions += len(qs)
        correct, scored = _score_analogies(vecs, qs, limit, method, lowercase)
        n_skipped += len(qs) - scored
        kind = "syntactic" if name.startswith("gram") else "semantic"
        for key in ("accuracy", kind):
            tot[key][0] += correct
            tot[key][1] += scored
        details[name] = {
            "accuracy": correct / scored if scored else float("nan"),
            "scored": scored,
            "skipped": len(qs) - scored,
        }

    if tot["accuracy"][1] == 0:
        raise DataError(
            f"none of the {n_questions} analogy questions has all four words in the vocabulary", p
        )
    return Report(
        name="analogies" if path is None else f"analogies:{p.name}",
        primary="accuracy",
        metrics={k: c / n if n else float("nan") for k, (c, n) in tot.items()},
        counts={
            "questions": n_questions,
            "scored": tot["accuracy"][1],
            "skipped": n_skipped,
            "oov_share": round(n_skipped / max(1, n_questions), 4),
        },
        details={"sections": details, "restrict": limit, "method": method},
    )


def _score_analogies(
    vecs: Vectors, questions: Any, limit: int, method: str, lowercase: bool
) -> tuple[int, int]:
    """``(correct, scored)`` of one section's questions (those with a word outside the `limit` most frequent
    words are not scored)."""
    k2i = vecs.key_to_index
    rows, expected = [], []
    for q in questions:
        w = [x.lower() for x in q] if lowercase else list(q)
        ids = [k2i.get(x, -1) for x in w]
        if any(i < 0 or i >= limit for i in ids):
            continue
        rows.append(ids[:3])
        expected.append(ids[3])
    if not rows:
        return 0, 0
    pred = vecs.analogy_batch(np.array(rows), method=method, restrict=limit)
    return int((pred == np.array(expected)).sum()), len(rows)


def analogies(model: Any, target: str = "", **options: Any) -> Report:
    """Google analogies (``questions-words.txt``); ``analogies:FILE`` for another file in that format."""
    return evaluate_analogies(model, target or None, **options)


# -- documents -----------------------------------------------------------------------------------------------
def doc_pairs(model: Any, target: str, **options: Any) -> Report:
    """``doc-pairs:FILE``: Pearson (primary) and Spearman of ``model.similarity_text(a, b)`` vs human scores.

    The file has ``doc_a<TAB>doc_b<TAB>score`` lines (raw texts). Works with Doc2Vec (inferred vectors) and
    SIF.
    """
    if not target:
        raise DataError("doc-pairs needs a file: doc-pairs:PATH")
    from simlab.model import can

    if not can(model, "texts"):
        raise DataError(f"a {type(model).__name__} cannot score texts; use a Doc2Vec or SIF model")
    fn = model.similarity_text
    pairs = read_pairs(target)
    sims, gold = [], []
    for a, b, score, _n in pairs:
        s = fn(a, b)
        if np.isfinite(s):
            sims.append(s)
            gold.append(score)
    if len(sims) < 2:
        raise DataError(f"only {len(sims)} document pairs could be scored", target)
    return Report(
        name=f"doc-pairs:{Path(target).name}",
        primary="pearson",
        metrics={"pearson": pearson(sims, gold), "spearman": spearman(sims, gold)},
        counts={
            "pairs": len(pairs),
            "pairs_scored": len(sims),
            "unscored_share": round(1 - len(sims) / len(pairs), 4),
        },
    )


def read_imdb(split: str, root: str | Path | None = None) -> tuple[list[str], np.ndarray]:
    """Texts and labels (1 = pos, 0 = neg, -1 = unsup) of one IMDB split from ``shared/data/imdb``."""
    import csv
    import gzip
    import sys

    from simlab.paths import shared_dataset

    base = Path(root) if root else shared_dataset("imdb")
    p = base / f"{split}.tsv.gz"  # type: ignore[operator]
    if not p.is_file():
        raise DataError("IMDB split not found", p)
    csv.field_size_limit(sys.maxsize)
    texts, labels = [], []
    with gzip.open(p, "rt", encoding="utf-8", newline="") as f:
        r = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(r)
        if header[:4] != ["id", "label", "rating", "text"]:
            raise DataError(f"unexpected header {header}", p, 1)
        for row in r:
            texts.append(row[3])
            labels.append({"pos": 1, "neg": 0}.get(row[1], -1))
    return texts, np.array(labels)


def sentiment_error(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, C: float = 1.0
) -> float:
    """Test error rate of a logistic regression fitted on the train vectors (Le & Mikolov 2014 protocol).

    Sparse inputs (TF-IDF, BM25 rows) are not scaled; their C is chosen among (1, 3, 10, 30, 100) on a
    held-out fifth of the train split, then the model is refitted on the whole train split (the test split is
    never seen).
    """
    import scipy.sparse as sp

    from simlab._deps import require

    require("sklearn")
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if sp.issparse(train_x):
        rng = np.random.default_rng(0)
        val = rng.random(train_x.shape[0]) < 0.2
        best = max(
            (1.0, 3.0, 10.0, 30.0, 100.0),
            key=lambda c: np.mean(
                LogisticRegression(C=c, max_iter=2000).fit(train_x[~val], train_y[~val]).predict(train_x[val])
                == train_y[val]
            ),
        )
        clf = LogisticRegression(C=best, max_iter=2000).fit(train_x, train_y)
        return float(np.mean(clf.predict(test_x) != test_y))

    sc = StandardScaler().fit(train_x)
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(sc.transform(train_x), train_y)
    return float(np.mean(clf.predict(sc.transform(test_x)) != test_y))


def imdb(model: Any, target: str = "", **options: Any) -> Report:
    """IMDB sentiment error rate of document vectors: logistic regression on the 25k train vectors, error on
    the 25k test vectors (Le & Mikolov 2014; gensim's doc2vec-IMDB tutorial reaches ~10.5% with PV-DBOW).

    The model embeds the texts with ``model.encode_texts(texts)`` (Doc2Vec: the trained vectors of documents
    it has seen, tagged ``train_<i>`` / ``test_<i>``, else inferred; SIF: weighted averages).
    """
    tr_x, tr_y = read_imdb("train", options.get("root"))
    te_x, te_y = read_imdb("test", options.get("root"))
    enc = getattr(model, "encode_imdb", None) or getattr(model, "encode_texts", None)
    if enc is None:
        raise DataError(f"a {type(model).__name__} cannot embed documents; use Doc2Vec or SIF")
    xtr = enc(tr_x, prefix="train") if enc.__name__ == "encode_imdb" else enc(tr_x)
    xte = enc(te_x, prefix="test") if enc.__name__ == "encode_imdb" else enc(te_x)
    err = sentiment_error(xtr, tr_y, xte, te_y)
    return Report(
        name="imdb",
        primary="error_rate",
        metrics={"error_rate": err, "accuracy": 1 - err},
        counts={"train_docs": len(tr_y), "test_docs": len(te_y)},
        details={"anchors": {"le_mikolov_2014_claimed": 0.0742, "gensim_tutorial_pv_dbow": 0.105}},
    )
