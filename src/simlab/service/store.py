"""The source of truth of a collection: one SQLite database in WAL mode with ``synchronous=FULL``.

A write is one transaction; :meth:`Store.upsert` and :meth:`Store.delete` return only after the commit, so an
acknowledged write survives a crash of the process (and, with ``synchronous=FULL``, of the machine). Every
written row gets the next value of a per-collection sequence number (``seq``), which the derived index uses to
know what a snapshot already holds.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ArtifactError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    vector BLOB NOT NULL
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=60)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    return con


class Store:
    """SQLite file of one collection: its settings, and ids, metadata and float32 vectors.

    Args:
        path: the database file (created with `settings` when absent).
        settings: the collection's settings (JSON-ready), required to create it.
    """

    def __init__(self, path: str | Path, settings: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        new = not self.path.exists()
        self._con = _connect(self.path)
        self._lock = threading.Lock()  # one writer at a time on this connection
        if new:
            if settings is None:
                raise ArtifactError(f"{self.path}: no such collection database")
            with self._lock:
                self._con.executescript(_SCHEMA)
                self._con.execute("BEGIN IMMEDIATE")
                self._con.execute("INSERT INTO meta VALUES ('settings', ?)", (json.dumps(settings),))
                self._con.execute("INSERT INTO meta VALUES ('seq', '0')")
                self._con.execute("COMMIT")
        try:
            row = self._con.execute("SELECT value FROM meta WHERE key='settings'").fetchone()
            seq = self._con.execute("SELECT value FROM meta WHERE key='seq'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ArtifactError(f"{self.path}: not a collection database ({exc})") from None
        if row is None or seq is None:
            raise ArtifactError(f"{self.path}: collection database without settings")
        self.settings: dict[str, Any] = json.loads(row[0])
        self.seq = int(seq[0])
        self.dim = int(self.settings["dim"])

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    # -- writes ----------------------------------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, metadata: list[dict[str, Any]]) -> int:
        """Insert or replace rows in one transaction; returns the batch's sequence number (once committed)."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            seq = self.seq + 1
            rows = [
                (i, seq, json.dumps(md, ensure_ascii=False), x[j].tobytes())
                for j, (i, md) in enumerate(zip(ids, metadata, strict=True))
            ]
            self._con.execute("BEGIN IMMEDIATE")
            try:
                self._con.executemany("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)", rows)
                self._con.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self.seq = seq
        return seq

    def delete(self, ids: list[str]) -> tuple[int, list[str]]:
        """Delete rows in one transaction; returns ``(sequence number, ids that existed)``."""
        with self._lock:
            seq = self.seq + 1
            self._con.execute("BEGIN IMMEDIATE")
            try:
                found = [
                    i for i in ids if self._con.execute("SELECT 1 FROM items WHERE id=?", (i,)).fetchone()
                ]
                self._con.executemany("DELETE FROM items WHERE id=?", [(i,) for i in found])
                self._con.execute("UPDATE meta SET value=? WHERE key='seq'", (str(seq),))
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self.seq = seq
        return seq, found

    # -- reads -----------------------------------------------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """A new read connection (WAL: its transactions see one consistent state, writers go on)."""
        return _connect(self.path)

    def rows(
        self, con: sqlite3.Connection, min_seq: int = 0, batch: int = 8192
    ) -> Iterator[tuple[list[str], list[int], list[dict[str, Any]], np.ndarray]]:
        """Rows with ``seq > min_seq``, in batches ``(ids, seqs, metadata, (n, dim) vectors)``, on `con`."""
        cur = con.execute(
            "SELECT id, seq, metadata, vector FROM items WHERE seq > ? ORDER BY rowid", (min_seq,)
        )
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                return
            ids = [r[0] for r in chunk]
            x = np.frombuffer(b"".join(r[3] for r in chunk), dtype=np.float32).reshape(len(chunk), self.dim)
            yield ids, [r[1] for r in chunk], [json.loads(r[2]) for r in chunk], x

    def ids_and_seqs(self, con: sqlite3.Connection) -> dict[str, int]:
        """Every stored id with the sequence number of its last write."""
        return dict(con.execute("SELECT id, seq FROM items"))

    def count(self) -> int:
        """Number of stored items."""
        return int(self._con.execute("SELECT COUNT(*) FROM items").fetchone()[0])
