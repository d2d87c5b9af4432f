"""``Index("auto", target_recall=0.95)``: measure the candidate backends on the data, keep the fastest one
that reaches the target recall.

At the first search (or save) the auto backend holds out a few hundred of its rows as probe queries and
compares its candidates on a sample of the others: each is built on the sample and its search setting
(``efSearch``, ``nprobe``, ``leaves_to_search``) is swept upward until recall@k against the exact search
reaches the target. The fastest candidate at the target (batch queries per second, 1 thread) is built on all
rows but the probe queries, its setting is raised until the target holds there on the same held-out queries
(a candidate that cannot reach it on all rows gives way to the next fastest, exact last),
and the probe rows are added last.
The choice, the measured curves and the final recall are saved with the index (``simlab info`` shows them).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict
from simlab.errors import ConfigError, NotFittedError
from simlab.index.common import Backend
from simlab.registry import INDEXES

log = logging.getLogger(__name__)

_EF = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def candidate_specs(dim: int, n: int) -> dict[str, tuple[str, dict[str, Any], str | None, tuple[int, ...]]]:
    """name -> (backend, options, swept setting, values): every candidate the auto backend may measure."""
    nlist = int(max(16, min(4096, 4 * np.sqrt(n))))
    m = dim // 2 if dim % 2 == 0 else dim
    leaves = int(min(2000, max(1, round(np.sqrt(n)))))
    return {
        "exact": ("exact", {}, None, (0,)),
        "hnswlib M16": ("hnswlib", {"M": 16}, "efSearch", _EF),
        "usearch M16": ("usearch", {"M": 16}, "efSearch", _EF),
        "faiss HNSW32": ("faiss", {"factory": "HNSW32"}, "efSearch", _EF),
        "scann": (
            "scann",
            {},
            "leaves_to_search",
            tuple(sorted({max(1, min(leaves, v)) for v in (2, 4, 8, 16, 32, 64, 128, 256, 512, leaves)})),
        ),
        "faiss IVF-PQ fast-scan + re-rank": (
            "faiss",
            {"factory": f"IVF{nlist},PQ{m}x4fs,RFlat", "k_factor": 16},
            "nprobe",
            tuple(v for v in (1, 2, 4, 8, 16, 32, 64, 128, 256) if v <= nlist),
        ),
    }


def _installed(backend: str) -> bool:
    import importlib.util

    mod = {"faiss": "faiss", "hnswlib": "hnswlib", "usearch": "usearch", "scann": "scann"}.get(backend)
    return mod is None or importlib.util.find_spec(mod) is not None


@dataclasses.dataclass(frozen=True)
class AutoConfig:
    """Options of the auto backend.

    Attributes:
        target_recall: recall@k the chosen backend must reach (0 < target <= 1).
        k: neighbours the recall is measured at.
        candidates: names from :func:`candidate_specs` to measure (default: every installed one).
        sample: rows the candidates are compared on (a seeded random sample; all rows when fewer).
        probe_queries: rows held out as probe queries (at most a fifth of the rows).
        seed: seed of the sample and of the queries.
    """

    target_recall: float = 0.95
    k: int = 10
    candidates: tuple[str, ...] | list[str] | None = None
    sample: int = 20_000
    probe_queries: int = 300
    seed: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.target_recall, float | int) and 0 < self.target_recall <= 1):
            raise ValueError(f"target_recall must be in (0, 1], got {self.target_recall!r}")
        for name in ("k", "sample", "probe_queries"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")


def _make(backend: str, dim: int, metric: str, options: Mapping[str, Any]) -> Any:
    cls = INDEXES.get(backend)
    opts = {**cls.candidate_options, **options}
    return cls(dim, metric, from_dict(cls.Config, opts))


def _loo_recall(got: np.ndarray, truth: np.ndarray, self_ids: np.ndarray, k: int) -> float:
    """Mean |got ∩ truth| / k with each query's own id dropped from both (first k others)."""
    hits = 0.0
    for g, t, me in zip(got, truth, self_ids, strict=True):
        tt = [i for i in t if i != me][:k]
        gg = [i for i in g if i != me][:k]
        hits += len(set(gg) & set(tt)) / max(1, len(tt))
    return hits / max(1, len(got))


def _qps(fn: Any, nq: int, min_seconds: float = 0.2, max_runs: int = 15) -> float:
    """Queries per second: the fastest of several runs (at least 3, until ``min_seconds`` have passed)."""
    fn()
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or (spent < min_seconds and runs < max_runs):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, runs = min(best, dt), spent + dt, runs + 1
    return nq / best


def sweep(
    backend: Any,
    q: np.ndarray,
    truth: np.ndarray,
    self_ids: np.ndarray,
    k: int,
    setting: str | None,
    values: tuple[int, ...],
    target: float,
) -> list[dict[str, Any]]:
    """Recall and QPS at increasing setting values, until the target is reached (inclusive)."""
    points = []
    for v in values:
        ov = {} if setting is None else {setting: v}
        ids, _ = backend.search(q, k + 1, ov)
        rec = _loo_recall(ids, truth, self_ids, k)
        qps = _qps(lambda o=ov: backend.search(q, k + 1, o), len(q))
        points.append(
            {"setting": None if setting is None else int(v), "recall": round(rec, 4), "qps": round(qps, 1)}
        )
        if rec >= target:
            break
    return points


def _truth(metric: str, q: np.ndarray, x: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids (rows already normalised by the Index for a normalizing metric)."""
    from simlab import metrics as M

    pos, _ = M.topk(q, x, k, metric, corpus_prepared=True, normalized=True)
    return ids[pos]


class AutoBackend(Backend):
    """Measures candidate backends on the data and delegates to the fastest one that meets the target
    recall."""

    Config = AutoConfig
    name = "auto"

    compactable = False

    def __init__(self, dim: int, metric: str, config: AutoConfig) -> None:
        super().__init__(dim, metric, config)
        self._x: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self.inner: Any = None
        self.plan: dict[str, Any] | None = None

    # -- rows before the choice ------------------------------------------------------------------------
    def add(self, x: np.ndarray, ids: np.ndarray) -> None:
        if self.inner is not None:
            self.inner.add(x, ids)
        else:
            self._x.append(np.array(x, np.float32))
            self._ids.append(np.asarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if self.inner is not None:
            self.inner.remove(ids)
            return
        for i, (x, own) in enumerate(zip(self._x, self._ids, strict=True)):
            keep = ~np.isin(own, ids)
            self._x[i], self._ids[i] = x[keep], own[keep]

    # -- the choice ----------------------------------------------------------------------------------------
    def tune(self) -> dict[str, Any]:
        """Measure the candidates, build the fastest that meets the target on all rows; returns the plan."""
        if not self._x:
            raise NotFittedError("the auto index has no rows to choose a backend for")
        x, ids = np.concatenate(self._x), np.concatenate(self._ids)
        cfg, n = self.config, len(x)
        rng = np.random.default_rng(cfg.seed)
        # probe queries are held out of every index they measure (stored rows would find themselves:
        # optimistic)
        n_q = min(cfg.probe_queries, max(1, n // 5))
        held = np.zeros(n, bool)
        held[rng.choice(n, n_q, replace=False)] = True
        q, rest = x[held], np.flatnonzero(~held)
        samp = rest if len(rest) <= cfg.sample else np.sort(rng.choice(rest, cfg.sample, replace=False))
        xs, ids_s = x[samp], ids[samp]
        k = max(1, min(cfg.k, len(xs)))
        me = np.full(len(q), -1, np.int64)  # no query is in the measured index
        truth = _truth(self.metric, q, xs, ids_s, k + 1)
        specs = candidate_specs(self.dim, len(xs))
        names = list(cfg.candidates or [nm for nm, s in specs.items() if _installed(s[0])])
        unknown = [nm for nm in names if nm not in specs]
        if unknown:
            raise ConfigError(f"unknown auto candidate(s) {unknown}; valid: {', '.join(specs)}")
        curves: dict[str, list[dict[str, Any]]] = {}
        builds: dict[str, float] = {}
        ranked: list[tuple[float, str]] = []  # (QPS at the target on the sample, candidate)
        for nm in names:
            backend, opts, setting, values = specs[nm]
            t0 = time.perf_counter()
            try:
                inst = _make(backend, self.dim, self.metric, opts)
                inst.add(xs, ids_s)
                inst.search(q[:1], k, {})  # backends that build lazily (scann) build here
                builds[nm] = round(time.perf_counter() - t0, 3)
                curves[nm] = sweep(inst, q, truth, me, k, setting, values, cfg.target_recall)
            except Exception as exc:  # a candidate that cannot handle this data is skipped, and said so
                log.warning("auto index: candidate %s failed (%s)", nm, exc)
                curves[nm] = [{"error": str(exc)[:200]}]
                continue
            del inst
            met = [p for p in curves[nm] if p["recall"] >= cfg.target_recall]
            if met:
                qps = met[0]["qps"] * (len(xs) / n if backend == "exact" else 1.0)  # exact cost grows with n
                ranked.append((qps, nm))
        # the fastest on the sample first; one that misses the target on all rows (a recall that plateaus
        # with more rows, e.g. ScaNN's fixed re-ranking depth) gives way to the next; exact always meets it
        order = [nm for _, nm in sorted(ranked, key=lambda t: -t[0])]
        order += ["exact"] if "exact" not in order else []
        rejected: list[dict[str, Any]] = []
        for choice in order:
            self._build_choice(choice, specs[choice], x, ids, held, curves, builds, len(xs))
            if self.plan["met"]:
                break
            rejected.append(
                {k: self.plan[k] for k in ("choice", "setting", "recall", "qps", "build_seconds")}
            )
            log.info(
                "auto index: %s reaches recall %.3f < target on all rows; next candidate",
                choice,
                self.plan["recall"],
            )
        self.plan["rejected_on_all_rows"] = rejected
        if not self.plan["met"]:
            log.warning(
                "auto index: %s reaches recall %.3f < target %.3f on all rows",
                self.plan["choice"],
                self.plan["recall"],
                cfg.target_recall,
            )
        self._x, self._ids = [], []
        return self.plan  # type: ignore[return-value]

    def _build_choice(
        self,
        choice: str,
        spec: tuple[str, dict[str, Any], str | None, tuple[int, ...]],
        x: np.ndarray,
        ids: np.ndarray,
        held: np.ndarray,
        curves: dict[str, Any],
        builds: dict[str, float],
        sample_rows: int,
    ) -> None:
        """Build the choice on the rows but the held-out queries, raise its setting to the target on those
        queries, then add them too."""
        backend, opts, setting, values = spec
        cfg = self.config
        t0 = time.perf_counter()
        self.inner = _make(backend, self.dim, self.metric, opts)
        self.inner.add(x[~held], ids[~held])
        self.inner.search(x[:1], 1, {})
        build_s = time.perf_counter() - t0
        k = max(1, min(cfg.k, int((~held).sum())))
        q, me = x[held], np.full(int(held.sum()), -1, np.int64)
        truth = _truth(self.metric, q, x[~held], ids[~held], k + 1)
        start = next(
            (p["setting"] for p in curves.get(choice, []) if p.get("recall", 0) >= cfg.target_recall),
            values[0],
        )
        rest = tuple(v for v in values if setting is None or v >= (start or 0))
        final = sweep(self.inner, q, truth, me, k, setting, rest or values[-1:], cfg.target_recall)
        if setting is not None:
            self.inner._apply(setting, final[-1]["setting"])
        self.inner.add(x[held], ids[held])
        self.plan = {
            "choice": choice,
            "backend": backend,
            "options": opts,
            "target_recall": cfg.target_recall,
            "k": cfg.k,
            "recall": final[-1]["recall"],
            "qps": final[-1]["qps"],
            "setting": None if setting is None else {setting: final[-1]["setting"]},
            "met": final[-1]["recall"] >= cfg.target_recall,
            "rows": len(x),
            "sample_rows": sample_rows,
            "build_seconds": round(build_s, 3),
            "candidate_build_seconds": builds,
            "curves": curves,
            "full_curve": final,
            "threads": 1,
        }

    def _ready(self) -> Any:
        if self.inner is None:
            self.tune()
        return self.inner

    # -- delegation ------------------------------------------------------------------------------------------
    def search(self, q: np.ndarray, k: int, overrides: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        return self._ready().search(q, k, overrides)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.inner.settings) if self.inner is not None else {}

    @property  # type: ignore[override]
    def overridable(self) -> tuple[str, ...]:
        return tuple(self._ready().overridable)

    def _apply(self, name: str, value: Any) -> None:
        self._ready()._apply(name, value)

    @property  # type: ignore[override]
    def dead(self) -> int:
        return int(self.inner.dead) if self.inner is not None else 0

    def id_bound(self) -> int:
        return self.inner.id_bound() if self.inner is not None else 0

    def reconstruct(self, ident: int) -> np.ndarray:
        if self.inner is None:
            for x, own in zip(self._x, self._ids, strict=True):
                hit = np.flatnonzero(own == ident)
                if len(hit):
                    return x[hit[0]].copy()
        return self._ready().reconstruct(ident)

    def reconstruct_many(self, ids: np.ndarray) -> np.ndarray:
        return self._ready().reconstruct_many(ids)

    @property
    def nbytes(self) -> int:
        if self.inner is None:
            return int(sum(x.nbytes for x in self._x))
        return int(self.inner.nbytes)

    def to_files(self, w: ArtifactWriter) -> None:
        if self.inner is None and not self._x:
            return
        self._ready().to_files(w)
        w.save_json("auto_plan.json", self.plan)

    @classmethod
    def from_files(
        cls,
        art: Artifact,
        dim: int,
        metric: str,
        config: AutoConfig,
        settings: Mapping[str, Any] | None = None,
    ) -> AutoBackend:
        b = cls(dim, metric, config)
        if "auto_plan.json" not in art.files:
            return b
        b.plan = art.json("auto_plan.json")
        inner_cls = INDEXES.get(b.plan["backend"])
        opts = {**inner_cls.candidate_options, **b.plan["options"]}
        b.inner = inner_cls.from_files(art, dim, metric, from_dict(inner_cls.Config, opts), settings)
        return b
