"""Named, durable, updatable collections: a :class:`~simlab.service.store.Store` + a :class:`LiveIndex`.

A collection is bound either to a served model (raw items are embedded on write and on query) or to a
dimension + metric (vectors are given). Its files live in ``DATA/collections/<name>/``: ``store.sqlite`` (the
source of truth) and ``snapshots/`` (the derived index, rebuilt from the store when missing or damaged).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, DimensionError, SimlabError, UnknownKeyError
from simlab.index.common import INDEX_METRICS, resolve_metric
from simlab.metrics import get_metric
from simlab.service.adapters import ServedModel
from simlab.service.live_index import LiveIndex, clean_snapshots, load_snapshot, save_snapshot
from simlab.service.store import Store

log = logging.getLogger(__name__)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
INDEX_KINDS = ("exact", "hnsw")


class Conflict(SimlabError):
    """The request conflicts with the current state (e.g. a collection that already exists): HTTP 409."""


def check_filter(flt: dict[str, Any] | None) -> Any:
    """A metadata filter -> a predicate on metadata dicts.

    ``{"field": value}`` is equality, ``{"field": {"in": [v1, v2]}}`` set membership; fields are ANDed.
    """
    if not flt:
        return None
    tests = []
    for name, cond in flt.items():
        if isinstance(cond, dict):
            if set(cond) != {"in"} or not isinstance(cond["in"], list):
                raise DataError(f"filter on {name!r}: use a value (equality) or {{'in': [values]}}")
            vals = cond["in"]
            tests.append((name, True, vals))
        else:
            tests.append((name, False, cond))

    def ok(md: dict[str, Any] | None) -> bool:
        if md is None:
            return False
        for name, member, val in tests:
            if name not in md:
                return False
            v = md[name]
            if member:
                if not any(type(v) is type(x) and v == x for x in val):
                    return False
            elif not (type(v) is type(val) and v == val):
                return False
        return True

    return ok


class Collection:
    """One collection (see the module docstring). Use :meth:`Collections.create` / ``.open``."""

    def __init__(self, root: Path, store: Store, model: ServedModel | None, compact_min: int = 2000) -> None:
        s = store.settings
        self.root, self.store, self.model = root, store, model
        self.name: str = s["name"]
        self.live = LiveIndex(store.dim, s["metric"], s["index"], s.get("options") or {})
        self.compact_min = compact_min
        self._write_lock = threading.Lock()  # commit + apply, in sequence order
        self._compact_lock = threading.Lock()
        self._last_write = time.monotonic()
        self.closed = False
        self._unsaved = False  # the last compaction's snapshot could not be written: redo it
        self._load()

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.store.settings)

    def describe(self) -> dict[str, Any]:
        s = self.store.settings
        return {
            "name": self.name,
            "dim": s["dim"],
            "metric": s["metric"],
            "index": s["index"],
            "model": s.get("model"),
            "count": len(self.live),
            "pending": self.live.pending,
            "watermark": self.live.watermark,
            "seq": self.store.seq,
        }

    # -- start-up --------------------------------------------------------------------------------------------
    def _load(self) -> None:
        clean_snapshots(self.root / "snapshots")
        snap = load_snapshot(self.root / "snapshots")
        con = self.store.reader()
        try:
            con.execute("BEGIN")
            stored = self.store.ids_and_seqs(con)
            live = self.live
            if snap is not None and snap[0].dim == self.store.dim:
                live.main, live.watermark = snap
                for key in live.main.keys:
                    if stored.get(key, -1) != -1 and stored[key] <= live.watermark:
                        continue
                    live.tomb[key] = stored.get(key, live.watermark + 1)
                batches = self.store.rows(con, 0)
                for ids, seqs, md, x in batches:
                    live.meta.update(zip(ids, md, strict=True))
                    new = [j for j, s in enumerate(seqs) if s > live.watermark]
                    if new:
                        live._append([ids[j] for j in new], x[new], [seqs[j] for j in new])
            else:
                wm = max(stored.values(), default=0)
                rows = list(self.store.rows(con, 0))
                for ids, _s, md, _x in rows:
                    live.meta.update(zip(ids, md, strict=True))
                live.main, live.watermark = live.build(rows), wm
            con.execute("COMMIT")
        finally:
            con.close()
        log.info(
            "collection %s: %d items (%d in the delta buffer)",
            self.name,
            len(self.live),
            len(self.live.dlive),
        )

    # -- writes ----------------------------------------------------------------------------------------------
    def vectors_of(self, items: list[dict[str, Any]], decode: Any) -> np.ndarray:
        """Vectors of upsert items: given (``vector``) or embedded by the bound model (``item``)."""
        if self.model is not None:
            raw = [it.get("item") for it in items]
            if any(r is None for r in raw):
                raise DataError(
                    f"collection {self.name!r} is bound to model {self.model.name!r}: give 'item'"
                )
            x = self.model.embeds(decode(raw, self.model.item_type))  # type: ignore[misc]
        else:
            vecs = [it.get("vector") for it in items]
            if any(v is None for v in vecs):
                raise DataError(f"collection {self.name!r} takes vectors: give 'vector' for every item")
            with np.errstate(over="ignore"):  # huge values become inf and are rejected below
                x = np.asarray(vecs, np.float32) if vecs else np.zeros((0, self.store.dim), np.float32)
        x = np.asarray(x, np.float32).reshape(len(items), -1)
        if x.shape[1] != self.store.dim:
            raise DimensionError(
                f"vectors of dimension {x.shape[1]}; collection {self.name!r} has {self.store.dim}"
            )
        if not np.isfinite(x).all():
            raise DataError("vectors must be finite")
        if get_metric(self.live.metric).normalizes and (np.linalg.norm(x, axis=1) == 0).any():
            raise DataError("a zero vector has no cosine similarity")
        return x

    def _check_open(self) -> None:
        if self.closed:
            raise UnknownKeyError(f"collection {self.name!r} was dropped")

    def upsert(self, ids: list[str], x: np.ndarray, metadata: list[dict[str, Any]]) -> int:
        """Write a batch (one transaction) and make it searchable; returns its sequence number."""
        if len(set(ids)) != len(ids):
            raise DataError("duplicate ids in one batch")
        with self._write_lock:
            self._check_open()
            seq = self.store.upsert(ids, x, metadata)
            self.live.apply_upsert(ids, x, metadata, seq)
            self._last_write = time.monotonic()
        return seq

    def delete(self, ids: list[str]) -> tuple[int, int]:
        """Delete ids (unknown ones are ignored); returns ``(sequence number, number deleted)``."""
        with self._write_lock:
            self._check_open()
            seq, found = self.store.delete(ids)
            self.live.apply_delete(found, seq)
            self._last_write = time.monotonic()
        return seq, len(found)

    # -- reads -----------------------------------------------------------------------------------------------
    def query_vectors(self, queries: list[dict[str, Any]], decode: Any) -> np.ndarray:
        """``(nq, dim)`` vectors of queries given as ``vector``, ``item`` (bound model) or ``id``."""
        out = np.zeros((len(queries), self.store.dim), np.float32)
        raw_rows, raw = [], []
        for i, q in enumerate(queries):
            if q.get("vector") is not None:
                with np.errstate(over="ignore"):  # huge values become inf and are rejected below
                    v = np.asarray(q["vector"], np.float32)
                if v.shape != (self.store.dim,):
                    raise DimensionError(
                        f"query {i}: dimension {v.size}, the collection has {self.store.dim}"
                    )
                out[i] = v
            elif q.get("id") is not None:
                v = self.live.vector(q["id"])
                if v is None:
                    raise UnknownKeyError(f"query {i}: unknown id {q['id']!r} in collection {self.name!r}")
                out[i] = v
            elif q.get("item") is not None:
                if self.model is None or self.model.embeds is None:
                    raise DataError(
                        f"query {i}: collection {self.name!r} has no model to embed items; give a vector"
                    )
                raw_rows.append(i)
                raw.append(q["item"])
            else:
                raise DataError(f"query {i}: give one of 'vector', 'item' or 'id'")
        if raw:
            model: Any = self.model
            out[raw_rows] = model.embeds(decode(raw, model.item_type))
        if not np.isfinite(out).all():
            raise DataError("query vectors must be finite")
        return out

    def fetch(self, key: str) -> dict[str, Any] | None:
        """``{id, metadata, vector}`` of a stored id, or None."""
        md = self.live.meta.get(key)
        v = self.live.vector(key)
        if md is None or v is None:
            return None
        return {"id": key, "metadata": md, "vector": v.tolist()}

    def search(
        self,
        q: np.ndarray,
        k: int,
        flt: dict[str, Any] | None = None,
        exclude: list[str | None] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Top-k hits ``{id, score, metadata}`` of each query row; `exclude`: an id to leave out per query."""
        test = check_filter(flt)
        meta = self.live.meta
        keep = None if test is None else (lambda i: test(meta.get(i)))
        extra = 1 if exclude and any(e is not None for e in exclude) else 0
        hits = self.live.search(q, k + extra, keep)
        out = []
        for i, row in enumerate(hits):
            ex = exclude[i] if exclude else None
            out.append([{"id": h, "score": s, "metadata": meta.get(h, {})} for h, s in row if h != ex][:k])
        return out

    # -- compaction ------------------------------------------------------------------------------------------
    def compact(self, force: bool = False) -> bool:
        """Rebuild the main index from the store and snapshot it when enough has changed (or `force`)."""
        live = self.live
        if self.closed:
            return False
        idle = time.monotonic() - self._last_write > 2.0
        if (
            not force
            and not (self._unsaved and idle)
            and live.pending < self.compact_min
            and not (live.pending and idle)
        ):
            return False
        with self._compact_lock:
            if self.closed:
                return False
            con = self.store.reader()
            try:
                with self._write_lock:  # a consistent read of the store at a known sequence number
                    con.execute("BEGIN")
                    wm = int(con.execute("SELECT value FROM meta WHERE key='seq'").fetchone()[0])
                main = live.build(self.store.rows(con, 0))
                con.execute("COMMIT")
            finally:
                con.close()
            live.swap(main, wm)
            self._unsaved = True
            save_snapshot(
                self.root / "snapshots", main, wm
            )  # an error here is retried by the next compaction
            self._unsaved = False
        return True

    def close(self) -> None:
        """Close the store (a compaction in progress finishes first)."""
        with self._compact_lock, self._write_lock:
            self.closed = True
            self.store.close()


class Collections:
    """The collections of a data directory, with a background compaction thread.

    Args:
        data_dir: where ``collections/<name>/`` live (created when absent).
        models: served models by name (for model-bound collections).
        compact_min: delta rows + tombstones that trigger a compaction.
    """

    def __init__(
        self,
        data_dir: str | Path,
        models: dict[str, ServedModel],
        compact_min: int = 2000,
        background: bool = True,
    ) -> None:
        self.root = Path(data_dir) / "collections"
        self.root.mkdir(parents=True, exist_ok=True)
        self.models = models
        self.compact_min = compact_min
        self._lock = threading.Lock()
        self._items: dict[str, Collection] = {}
        for p in sorted(self.root.iterdir()):
            if p.is_dir() and NAME.match(p.name) and (p / "store.sqlite").is_file():
                try:
                    self._items[p.name] = self._open(p)
                except SimlabError as exc:
                    log.error("collection %s not loaded: %s", p.name, exc)
        self._stop = threading.Event()
        self._thread = None
        if background:
            self._thread = threading.Thread(target=self._compactor, name="simlab-compactor", daemon=True)
            self._thread.start()

    def _open(self, path: Path) -> Collection:
        store = Store(path / "store.sqlite")
        mname = store.settings.get("model")
        model = None
        if mname is not None:
            model = self.models.get(mname)
            if model is None:
                store.close()
                raise ConfigError(
                    f"collection {path.name!r} is bound to model {mname!r}, which is not served"
                )
        return Collection(path, store, model, self.compact_min)

    def _compactor(self) -> None:
        while not self._stop.wait(0.5):
            for c in list(self._items.values()):
                try:
                    c.compact()
                except Exception:  # keep serving; the store stays the truth
                    log.exception("compaction of %s failed", c.name)

    def close(self) -> None:
        """Stop the compactor and close every store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for c in self._items.values():
            c.close()

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str) -> Collection:
        c = self._items.get(name)
        if c is None:
            raise UnknownKeyError(
                f"unknown collection {name!r}; collections: {', '.join(sorted(self._items)) or '(none)'}"
            )
        return c

    def list(self) -> list[dict[str, Any]]:
        return [c.describe() for _, c in sorted(self._items.items())]

    def create(
        self,
        name: str,
        *,
        dim: int | None = None,
        metric: str = "cosine",
        index: str = "exact",
        model: str | None = None,
        options: dict[str, Any] | None = None,
        max_dim: int = 4096,
    ) -> Collection:
        """Create a collection bound to a served `model`, or to `dim` + `metric`."""
        if not NAME.match(name):
            raise DataError(f"collection names are 1-64 letters, digits, '_', '.' or '-' (got {name!r})")
        if index not in INDEX_KINDS:
            raise ConfigError(f"unknown index {index!r}; valid: {', '.join(INDEX_KINDS)}")
        if model is not None:
            m = self.models.get(model)
            if m is None:
                raise UnknownKeyError(
                    f"unknown model {model!r}; served: {', '.join(self.models) or '(none)'}"
                )
            if m.embeds is None or not m.dim:
                raise ConfigError(
                    f"model {model!r} cannot embed raw items; bind the collection to a dim instead"
                )
            dim, metric = (m.dim, m.metric if m.metric in INDEX_METRICS else "cosine")
        if not isinstance(dim, int) or not 1 <= dim <= max_dim:
            raise DataError(f"dim must be an integer in [1, {max_dim}], got {dim!r}")
        metric = resolve_metric(metric)
        opts = dict(options or {})
        from simlab.service.live_index import make_index

        make_index(metric, index, dim, opts)  # validates the options (unknown names are a ConfigError)
        with self._lock:
            if name in self._items:
                raise Conflict(f"collection {name!r} already exists")
            path = self.root / name
            if path.exists():
                raise Conflict(f"{path} exists but was not loaded (see the server log); remove it first")
            path.mkdir(parents=True)
            settings = {
                "name": name,
                "dim": dim,
                "metric": metric,
                "index": index,
                "model": model,
                "options": opts,
            }
            c = Collection(
                path, Store(path / "store.sqlite", settings), self.models.get(model or ""), self.compact_min
            )
            self._items[name] = c
        return c

    def drop(self, name: str) -> None:
        """Delete a collection and its files."""
        with self._lock:
            c = self.get(name)
            del self._items[name]
        c.close()
        with c._write_lock:  # (closed: no write can start any more)
            trash = self.root / f".dropped-{name}-{time.time_ns()}"
            c.root.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
