"""The derived search index of a collection: a compacted simlab :class:`~simlab.index.Index` + a delta buffer.

* ``main``: an :class:`~simlab.index.Index` (exact, or FAISS HNSW) holding the store's state at sequence
  number ``watermark``; it is never changed in place.
* the delta buffer: vectors written after ``watermark``, searched exactly (one GEMV over at most a few
  thousand rows), appended in place.
* tombstones: ids of ``main`` deleted or overwritten after ``watermark``, filtered out of its results.

Readers and writers share a readers-writer lock: a writer holds it only to apply an already committed batch to
memory (no I/O), so a reader never waits longer than that. :meth:`LiveIndex.compact` (run by a background
thread) builds a new ``main`` from a consistent read of the store without any lock, then swaps it in and keeps
the delta rows and tombstones written meanwhile; :func:`save_snapshot` writes it to a new directory and flips
a pointer file atomically, so a restart loads the last snapshot and replays only the rows written after it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Callable
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from simlab import metrics as M
from simlab.index import Index
from simlab.index.common import to_score

log = logging.getLogger(__name__)


class RWLock:
    """Many readers or one writer; a waiting writer goes before new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextmanager
    def read(self) -> Any:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Any:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def make_index(metric: str, index: str, dim: int, options: dict[str, Any]) -> Index:
    """An empty Index: ``exact`` or ``hnsw`` (FAISS ``HNSW32``; `options` e.g. ``{"efSearch": 128}``)."""
    if index == "hnsw":
        return Index("faiss", metric=metric, dim=dim, **{"factory": "HNSW32", **options})
    return Index("exact", metric=metric, dim=dim, **options)


class LiveIndex:
    """Searchable state of one collection (see the module docstring).

    Args:
        dim / metric: vectors' dimension and the metric to rank by.
        index: ``exact`` or ``hnsw``. options: Index options.
    """

    def __init__(
        self, dim: int, metric: str, index: str = "exact", options: dict[str, Any] | None = None
    ) -> None:
        self.dim, self.metric, self.index_name = dim, metric, index
        self.options = dict(options or {})
        self.lock = RWLock()
        self.main: Index = make_index(metric, index, dim, self.options)
        self.watermark = 0
        self.tomb: dict[str, int] = {}  # id of main -> seq of its delete/overwrite
        self.meta: dict[str, dict[str, Any]] = {}  # metadata of every live id
        self._reset_delta(16)

    def _reset_delta(self, capacity: int) -> None:
        self.dmat = np.zeros((max(16, capacity), self.dim), np.float32)
        self.dkeys: list[str] = []
        self.dseq: list[int] = []
        self.dlive: dict[str, int] = {}  # id -> its live row in the delta

    # -- writes (the caller has committed them to the store) -------------------------------------------------
    def _append(self, ids: list[str], x: np.ndarray, seq: int | list[int]) -> None:
        n, add = len(self.dkeys), len(ids)
        if n + add > len(self.dmat):
            grown = np.zeros((max(2 * len(self.dmat), n + add), self.dim), np.float32)
            grown[:n] = self.dmat[:n]
            self.dmat = grown
        self.dmat[n : n + add] = self._prep(x)
        self.dkeys.extend(ids)
        self.dseq.extend([seq] * add if isinstance(seq, int) else seq)
        for j, i in enumerate(ids):
            self.dlive[i] = n + j

    def _prep(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        return M.l2_normalize(x).astype(np.float32) if M.get_metric(self.metric).normalizes else x

    def apply_upsert(self, ids: list[str], x: np.ndarray, metadata: list[dict[str, Any]], seq: int) -> None:
        """Make a committed upsert batch searchable."""
        with self.lock.write():
            self._append(ids, x, seq)
            for i, md in zip(ids, metadata, strict=True):
                if i in self.main:
                    self.tomb[i] = seq
                self.meta[i] = md

    def apply_delete(self, ids: list[str], seq: int) -> None:
        """Make a committed delete searchable."""
        with self.lock.write():
            for i in ids:
                self.dlive.pop(i, None)
                if i in self.main:
                    self.tomb[i] = seq
                self.meta.pop(i, None)

    # -- reads -----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.meta)

    @property
    def pending(self) -> int:
        """Delta rows + tombstones waiting for compaction."""
        return len(self.dkeys) + len(self.tomb)

    def vector(self, key: str) -> np.ndarray | None:
        """The stored vector of an id (unit length for cosine) or None."""
        with self.lock.read():
            row = self.dlive.get(key)
            if row is not None:
                return self.dmat[row].copy()
            if key in self.main and key not in self.tomb:
                return self.main.vector(key)
        return None

    def search(
        self, q: np.ndarray, k: int, keep: Callable[[str], bool] | None = None
    ) -> list[list[tuple[str, float]]]:
        """Top-k ``(id, score)`` lists of queries ``(nq, dim)``; `keep`: a metadata filter on ids."""
        with self.lock.read():
            main_hits = self._search_main(q, k, keep)
            if not self.dlive:  # no delta rows: the main index's hits, already best first
                return main_hits
            delta_hits = self._search_delta(q, k, keep)
        # best first; stable (reverse=True keeps it so): ties keep the main index's order, then the delta's
        return [
            sorted(a + b if b else a, key=itemgetter(1), reverse=True)[:k]
            for a, b in zip(main_hits, delta_hits, strict=True)
        ]

    def _search_main(
        self, q: np.ndarray, k: int, keep: Callable[[str], bool] | None
    ) -> list[list[tuple[str, float]]]:
        n = len(self.main)
        if n == 0:
            return [[] for _ in range(len(q))]
        tomb = self.tomb
        want = min(n, k + len(tomb)) if keep is None else min(n, 4 * k + len(tomb))
        while True:
            hits = self.main.search(q, want)
            out, short = [], False
            for keys, scores in zip(hits.keys, np.asarray(hits.scores).tolist(), strict=True):
                row = [
                    (kk, s)
                    for kk, s in zip(keys, scores, strict=True)
                    if kk is not None and kk not in tomb and (keep is None or keep(kk))
                ][:k]
                short |= len(row) < k
                out.append(row)
            if not short or want >= n:
                return out
            want = min(n, want * 4)

    def _search_delta(
        self, q: np.ndarray, k: int, keep: Callable[[str], bool] | None
    ) -> list[list[tuple[str, float]]]:
        rows = np.fromiter(self.dlive.values(), np.int64, len(self.dlive))
        if keep is not None:
            rows = rows[[keep(self.dkeys[r]) for r in rows]] if len(rows) else rows
        if len(rows) == 0:
            return [[] for _ in range(len(q))]
        x = self.dmat[rows]
        qq = self._prep(q)
        if self.metric in ("euclidean", "sqeuclidean"):
            raw = (qq * qq).sum(1)[:, None] - 2 * qq @ x.T + (x * x).sum(1)[None, :]
        else:
            raw = qq @ x.T
        scores = to_score(self.metric, raw)
        kk = min(k, len(rows))
        top = np.argsort(-scores, axis=1, kind="stable")[:, :kk]
        return [[(self.dkeys[rows[j]], float(scores[i, j])) for j in top[i]] for i in range(len(q))]

    # -- compaction ------------------------------------------------------------------------------------------
    def swap(self, main: Index, watermark: int) -> None:
        """Install a `main` built from the store at `watermark`; keep the newer delta rows and tombstones."""
        with self.lock.write():
            keep = [r for i, r in self.dlive.items() if self.dseq[r] > watermark]
            keep.sort()
            old_mat, old_keys, old_seq = self.dmat, self.dkeys, self.dseq
            self._reset_delta(max(16, 2 * len(keep)))
            if keep:
                self.dmat[: len(keep)] = old_mat[keep]  # already prepared (normalised) rows
                self.dkeys = [old_keys[r] for r in keep]
                self.dseq = [old_seq[r] for r in keep]
                self.dlive = {k: j for j, k in enumerate(self.dkeys)}
            tomb = {i: s for i, s in self.tomb.items() if s > watermark}
            tomb.update({i: self.dseq[r] for i, r in self.dlive.items()})
            self.tomb = {i: s for i, s in tomb.items() if i in main}
            self.main, self.watermark = main, watermark

    def build(self, batches: Any) -> Index:
        """A new main Index from ``(ids, seqs, metadata, vectors)`` batches (no lock is held)."""
        idx = make_index(self.metric, self.index_name, self.dim, self.options)
        for ids, _seqs, _md, x in batches:
            idx.add(ids, x)
        return idx


# -- snapshots -----------------------------------------------------------------------------------------------


def save_snapshot(root: Path, main: Index, watermark: int) -> None:
    """Write `main` to ``root/snap-<watermark>`` and point ``root/snapshot.json`` at it (atomic rename)."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"snap-{watermark}"
    ptr = root / "snapshot.json"
    if ptr.is_file() and (root / name).is_dir():
        try:
            if json.loads(ptr.read_text()).get("dir") == name:
                return  # this state is already the current snapshot (never rewrite the live one)
        except ValueError:
            pass
    main.save(root / name)
    tmp = root / "snapshot.json.tmp"
    with open(tmp, "w") as f:
        json.dump({"dir": name, "seq": watermark}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, root / "snapshot.json")
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    for p in root.glob("snap-*"):
        if p.name != name:
            shutil.rmtree(p, ignore_errors=True)


def clean_snapshots(root: Path) -> None:
    """Remove what a save cut short by a crash left behind (call only when no save can be running)."""
    for tmp in root.glob(".snap-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def load_snapshot(root: Path) -> tuple[Index, int] | None:
    """The last snapshot ``(main, watermark)``, or None when there is none or it is unreadable."""
    ptr = root / "snapshot.json"
    if not ptr.is_file():
        return None
    try:
        info = json.loads(ptr.read_text())
        return Index.load(root / info["dir"]), int(info["seq"])
    except Exception as exc:  # a damaged snapshot is rebuilt from the store, never trusted
        log.warning("%s: snapshot unreadable (%s); rebuilding from the store", root, exc)
        return None
