"""Baseline-aware choice of a series similarity: learned, classical (Euclidean, DTW) or a blend of the two.

At fit time (``fallback="auto"``) a :class:`~simlab.sequence.model.SiameseModel` measures 1-NN accuracy of
candidate similarities on its *training* split only and keeps the best (:func:`choose`):

* the classical distance, among ``euclidean`` (z-normalised), ``dtw`` (full window) and ``dtw10`` (10%
  Sakoe-Chiba band), by leave-one-out 1-NN over the whole training split. Accuracies at most one series below
  the best are a tie (:func:`within_noise`), settled by :data:`CLASSICAL_PRIOR`, the order of the three by
  mean rank of test accuracy over the sequence suite (``benchmarks/bench_sequence_suite.py``; the same order
  with any one dataset left out), not by the split's noise: on 20 training series, 0.95 against 0.90 is one
  series;
* then that classical distance, ``learned`` (the Siamese encoder's head, trained without a stratified
  hold-out of the training split) and ``blend``: ``w * d_learned / s_learned + (1 - w) * d_classical /
  s_classical`` for w in 0.25, 0.5, 0.75 (each distance divided by its median on the hold-out, so the two
  are on one scale), measured on the hold-out. A tiny training split (fewer than 30 series or a class with
  fewer than 5) ships the leave-one-out classical choice: too few series to validate a learned similarity.

Candidates are ranked by validation accuracy, ties by the mean nearest-neighbour margin
``(d_other - d_same) / (d_other + d_same)`` (same-class vs other-class nearest distance; scale free), then by
the order above (classical before learned). So the shipped similarity never validates worse than the best
classical one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from simlab.errors import DataError

#: candidate order for ties (cheapest and most conservative first)
ORDER = ("euclidean", "dtw10", "dtw", "learned")
#: classical distances by mean rank of 1-NN test accuracy over the 16 sets of the sequence suite (dtw10 1.66,
#: dtw 1.78, euclidean 2.56; the same order with any one set left out): how a leave-one-out tie is settled
CLASSICAL_PRIOR = ("dtw10", "dtw", "euclidean")
WEIGHTS = (0.25, 0.5, 0.75)
#: a training split is "tiny" (leave-one-out over it, no learned candidate) below these sizes
MIN_ITEMS, MIN_PER_CLASS = 30, 5
#: leave-one-out over the training split for the classical choice up to this many DTW cells (a few seconds in
#: C on an idle core); the hold-out skips a DTW above it
MAX_LOO_CELLS = 2e9


@dataclass
class Selection:
    """The similarity a model ships, and the validation evidence for it.

    Attributes:
        choice: ``learned``, ``euclidean``, ``dtw``, ``dtw10`` or ``blend``.
        classical: the classical part of a blend (None otherwise).
        weight: weight of the learned distance in a blend (1.0 for ``learned``, 0.0 for a classical choice).
        scales: median validation distance of each blended component.
        validation: 1-NN accuracy on the validation split of every candidate (None: not measured).
        margins: mean nearest-neighbour margin of every candidate.
        protocol: how the validation split was made.
        n_val: validation queries.
        length: resampling length of the Euclidean distance (the longest training series).
    """

    choice: str
    classical: str | None = None
    weight: float = 1.0
    scales: dict[str, float] = field(default_factory=dict)
    validation: dict[str, float | None] = field(default_factory=dict)
    margins: dict[str, float] = field(default_factory=dict)
    protocol: str = ""
    n_val: int = 0
    length: int = 0

    @property
    def name(self) -> str:
        """A short name: ``dtw``, ``learned`` or ``blend(learned 0.50 + dtw)``."""
        if self.choice == "blend":
            return f"blend(learned {self.weight:.2f} + {self.classical})"
        return self.choice

    @property
    def uses_learned(self) -> bool:
        return self.choice in ("learned", "blend")

    @property
    def components(self) -> list[str]:
        """The distances this similarity needs (``learned`` and/or one classical)."""
        if self.choice == "blend":
            return ["learned", str(self.classical)]
        return [self.choice]

    def describe(self) -> str:
        """One line: the choice and the validation accuracies it was chosen from."""
        vals = ", ".join(
            f"{k} {v:.3f}" for k, v in self.validation.items() if v is not None and not k.startswith("blend")
        )
        return f"similarity {self.name}: best 1-NN accuracy on {self.protocol} ({vals})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selection:
        return cls(**d)

    def distances(self, queries: list[np.ndarray], corpus: list[np.ndarray], learned: Any) -> np.ndarray:
        """``(q, n)`` distances of this similarity; `learned` is ``(queries, corpus) -> distances`` of the
        encoder (called only when the similarity uses it)."""
        from simlab.sequence import classical

        parts = {
            k: learned(queries, corpus)
            if k == "learned"
            else classical.distances(queries, corpus, k, self.length)
            for k in self.components
        }
        return self.combine(parts)

    def combine(self, dists: dict[str, np.ndarray]) -> np.ndarray:
        """The shipped distance from its components' distances (any equal shapes)."""
        if self.choice != "blend":
            return dists[self.choice]
        c = str(self.classical)
        return (
            self.weight * dists["learned"] / self.scales["learned"]
            + (1 - self.weight) * dists[c] / self.scales[c]
        )


def holdout_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Stratified ``(fit_rows, val_rows)``: `fraction` of every class (at least 1) held out; None when the
    split is tiny (fewer than 30 items or a class with fewer than 5), where leave-one-out is used instead."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(labels) < MIN_ITEMS or counts.min() < MIN_PER_CLASS:
        return None
    rng = np.random.default_rng(seed)
    val: list[int] = []
    for lab in classes:
        rows = rng.permutation(np.flatnonzero(labels == lab))
        val += list(rows[: max(1, round(len(rows) * fraction))])
    val_rows = np.array(sorted(val), dtype=np.int64)
    return np.setdiff1d(np.arange(len(labels)), val_rows), val_rows


def knn_scores(dist: np.ndarray, q_labels: np.ndarray, c_labels: np.ndarray) -> tuple[float, float]:
    """1-NN accuracy and mean nearest-neighbour margin of a ``(q, n)`` distance matrix (inf = excluded)."""
    q_labels, c_labels = np.asarray(q_labels), np.asarray(c_labels)
    acc = float(np.mean(c_labels[np.argmin(dist, axis=1)] == q_labels))
    same = q_labels[:, None] == c_labels[None, :]
    d_same = np.where(same, dist, np.inf).min(1)
    d_other = np.where(~same, dist, np.inf).min(1)
    ok = np.isfinite(d_same) & np.isfinite(d_other)
    if not ok.any():
        return acc, 0.0
    m = (d_other[ok] - d_same[ok]) / np.maximum(d_other[ok] + d_same[ok], 1e-12)
    return acc, float(m.mean())


def _scale(d: np.ndarray) -> float:
    fin = d[np.isfinite(d)]
    med = float(np.median(fin)) if fin.size else 1.0
    return med if med > 1e-12 else 1.0


def select(
    dists: dict[str, np.ndarray],
    q_labels: Any,
    c_labels: Any,
    protocol: str,
    length: int,
    weights: tuple[float, ...] = WEIGHTS,
) -> Selection:
    """Choose the similarity with the best validation 1-NN accuracy (ties: margin, then :data:`ORDER`).

    Args:
        dists: candidate name -> ``(q, n)`` validation distances (``learned`` may be absent); inf excludes a
            pair (the query itself under leave-one-out).
        q_labels: ``(q,)`` labels of the validation queries.
        c_labels: ``(n,)`` labels of the corpus they are matched against.
        protocol / length: recorded in the :class:`Selection`.
        weights: learned weights tried for blends.
    """
    if not dists:
        raise DataError("no candidate similarity to choose from")
    cands: list[tuple[str, str | None, float, np.ndarray]] = []
    for name in ORDER:
        if name in dists:
            cands.append((name, None, 1.0 if name == "learned" else 0.0, dists[name]))
    scales = {k: _scale(v) for k, v in dists.items()}
    if "learned" in dists:
        for c in ORDER[:-1]:
            if c in dists:
                for w in weights:
                    d = w * dists["learned"] / scales["learned"] + (1 - w) * dists[c] / scales[c]
                    cands.append(("blend", c, w, d))
    scored = []
    for rank, (name, c, w, d) in enumerate(cands):
        acc, margin = knn_scores(d, q_labels, c_labels)
        scored.append((acc, round(margin, 6), -rank, name, c, w))
    validation = {s[3] if s[3] != "blend" else f"blend_{s[4]}_{s[5]:.2f}": s[0] for s in scored}
    margins = {s[3] if s[3] != "blend" else f"blend_{s[4]}_{s[5]:.2f}": s[1] for s in scored}
    best = max(scored)
    _, _, _, name, c, w = best
    used = {k: scales[k] for k in (["learned", c] if name == "blend" else [])}
    return Selection(name, c, w, used, validation, margins, protocol, len(np.asarray(q_labels)), length)


def within_noise(acc: dict[str, float], n: int) -> list[str]:
    """The candidates whose accuracy on `n` validation queries is at most one query below the best: a tie.

    One query, not one standard error (``sqrt(p (1 - p) / n)``): both were run on the sequence suite and
    differ on one set (Covid3Month, 140 series: Euclidean 0.507 against DTW 10% 0.479 in leave-one-out,
    four series apart, within one standard error), where the wider tie shipped DTW 10% and lost (test 1-NN
    0.525 against Euclidean 0.590); every other set chooses the same either way."""
    best = max(acc.values())
    tol = 1.0 / max(n, 1)
    return [k for k, v in acc.items() if v >= best - tol - 1e-9]


def classical_loo(full: Any, max_cells: float = MAX_LOO_CELLS) -> tuple[str, dict[str, float]] | None:
    """The best classical distance by leave-one-out 1-NN over the whole training split, with the accuracy of
    every classical distance it measured: those whose cost stays within `max_cells` DTW cells
    (:func:`affordable`: a 10% band costs a fifth of the full window). None when only Euclidean is
    affordable (a choice without DTW is left to the hold-out).

    Accuracies at most one series below the best are a tie (:func:`within_noise`), settled by
    :data:`CLASSICAL_PRIOR`."""
    from simlab.sequence import classical

    kinds = affordable(full.series, full.series, max_cells)
    if kinds == ["euclidean"]:
        return None
    length = int(full.lengths.max())
    acc = {}
    for k in kinds:
        d = classical.distances(full.series, full.series, k, length)
        np.fill_diagonal(d, np.inf)
        acc[k] = knn_scores(d, full.labels, full.labels)[0]
    tied = within_noise(acc, len(full))
    best = next(k for k in CLASSICAL_PRIOR if k in tied)
    return best, acc


def affordable(
    queries: list[np.ndarray], corpus: list[np.ndarray], max_cells: float = MAX_LOO_CELLS
) -> list[str]:
    """The classical distances whose cost on ``queries x corpus`` stays within `max_cells` DTW cells (a 10%
    band costs about a fifth of the full window; Euclidean is always affordable)."""
    cells = float(sum(len(s) for s in queries)) * float(sum(len(s) for s in corpus))
    return (
        ["euclidean"]
        + (["dtw10"] if 0.2 * cells <= max_cells else [])
        + (["dtw"] if cells <= max_cells else [])
    )


def choose(model: Any, plan: tuple[str, Any, Any], full: Any) -> Selection:
    """Measure the candidates on the validation split of `plan` (see
    :func:`simlab.sequence.training.fallback_plan`) and return the :class:`Selection`.

    Two stages, both on training data only: (1) the classical distance (Euclidean, DTW full, DTW 10%) by
    leave-one-out 1-NN over the whole training split (more queries, less noise; the hold-out instead when
    full DTW over the split would be too costly); (2) that classical distance, the learned one and their
    blends on the hold-out (the encoder trained without it). Ties go to the classical distance.

    Args:
        model: the fitted :class:`~simlab.sequence.model.SiameseModel` (its encoder trained on the fit part).
        plan: ``("holdout", fit, val)``, ``("loo", data, None)`` or ``("dev", data, dev)``.
        full: the whole training collection (its longest series sets the Euclidean resampling length).
    """
    from simlab.sequence import classical

    kind, fit_data, val_data = plan
    length = int(full.lengths.max())
    loo = classical_loo(full, np.inf if kind == "loo" else MAX_LOO_CELLS)
    if kind == "loo":
        assert loo is not None
        sel = Selection(
            loo[0],
            None,
            0.0,
            {},
            {"learned": None, **loo[1]},
            {},
            f"leave-one-out 1-NN over the {len(full)} training series (tiny split: too few to validate "
            "a learned similarity, so it is not a candidate)",
            len(full),
            length,
        )
        return sel
    q, c = val_data.series, fit_data.series
    kinds = [loo[0]] if loo is not None else affordable(q, c)
    dists = {k: classical.distances(q, c, k, length) for k in kinds}
    dists["learned"] = model.learned_distances(q, c)
    where = (
        "stratified hold-out of {} of {} training series (encoder trained on the other {})"
        if kind == "holdout"
        else "a dev collection of {} series against the {} training series{}"
    )
    proto = where.format(len(q), len(full), len(c) if kind == "holdout" else "")
    if loo is not None:
        proto += f"; classical distance {loo[0]} chosen by leave-one-out over the training split"
        skipped = [k for k in classical.CLASSICAL if k not in loo[1]]
        if skipped:
            proto += f" ({', '.join(skipped)} skipped there: DTW cost)"
    elif len(kinds) < len(classical.CLASSICAL):
        proto += f"; {', '.join(k for k in classical.CLASSICAL if k not in kinds)} skipped (DTW cost)"
    sel = select(dists, val_data.labels, fit_data.labels, proto, length)
    if loo is not None:
        sel.validation.update({f"{k}_loo": v for k, v in loo[1].items()})
    return sel
