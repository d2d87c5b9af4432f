"""Inputs read shard by shard: text rows (text/JSONL/TSV/CSV/Parquet) to embed, and vector sets to join.

Nothing here reads a whole corpus: the driver only looks at file sizes and Parquet metadata to cut the input
into shards; each task reads its own shard.

Text shards: an uncompressed text/JSONL/TSV file is cut into byte ranges (a line belongs to the range holding
its first byte, as Hadoop's text splits); a Parquet file into groups of row groups; a gzip or CSV file is one
shard (gzip cannot be entered in the middle, and CSV fields may span lines). Document ids are the ones
:class:`simlab.text.TextCorpus` gives (``"<file name>:<line>"``, or ``"<file name>:<row>"`` for Parquet,
1-based), or the values of an id field/column.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, DimensionError
from simlab.scale.store import filesystem, list_files

#: largest default text shard (bytes of uncompressed text)
SHARD_BYTES = 16 << 20
#: largest default Parquet shard (rows)
SHARD_ROWS = 50_000
TEXT_FORMATS = ("auto", "text", "jsonl", "tsv", "csv", "parquet")


def text_format(path: str) -> str:
    """The format of a text input from its name (``.gz`` looked through)."""
    name = path.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".tsv", "tsv"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    return "text"


@dataclass(frozen=True)
class TextShard:
    """One shard of a text input.

    Attributes:
        index: shard number (names the output part file).
        path: the file (local path or URI).
        fmt: text, jsonl, tsv, csv or parquet.
        start, end: byte range (text/jsonl/tsv), row-group range (parquet), or ``0, -1`` (whole file).
        first: 1-based line (row) number of the shard's first line (row).
    """

    index: int
    path: str
    fmt: str
    start: int
    end: int
    first: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count_line_starts(path: str, start: int, end: int) -> int:
    """Lines starting in bytes ``[start, end)`` of an uncompressed file."""
    fs, p = filesystem(path)
    n = 1 if start == 0 and end > 0 else 0
    with fs.open_input_file(p) as f:
        pos = max(0, start - 1)
        f.seek(pos)
        while pos < end - 1:
            buf = f.read(min(1 << 22, end - 1 - pos))
            if not buf:
                break
            n += buf.count(b"\n")
            pos += len(buf)
    return n


def count_task(task: tuple[str, int, int]) -> int:
    """Task form of the line count (``(path, start, end)`` -> lines starting in the range)."""
    return _count_line_starts(*task)


def plan_text(
    inputs: list[str], fmt: str = "auto", shard_bytes: int | None = None, shard_rows: int | None = None
) -> tuple[list[TextShard], list[tuple[str, int, int]]]:
    """Cut the inputs into shards.

    Args:
        inputs: files or directories (local paths or URIs).
        fmt: ``auto`` (from each file's suffix) or one of :data:`TEXT_FORMATS`.
        shard_bytes: bytes of uncompressed text per shard (default: 1/32 of the text, within 256 KiB..16 MiB).
        shard_rows: rows of Parquet per shard (default: 1/32 of the rows, within 1,000..50,000; whole row
            groups).

    The defaults depend on the input only (never on the engine), so a job's plan is the same everywhere.

    Returns:
        ``(shards, counts)``: the shards, and the byte ranges whose line starts must be counted (one per
        byte-range shard, in order) to give each shard its first line number (:func:`number_shards`).
    """
    if fmt not in TEXT_FORMATS:
        raise ConfigError(f"unknown input format {fmt!r}; valid: {', '.join(TEXT_FORMATS)}")
    files: list[tuple[str, str, Any]] = []
    for inp in inputs:
        fs, p = filesystem(inp)
        prefix = inp[: inp.index("://") + 3] if "://" in str(inp) else ""
        for f in list_files(fs, p):
            path = prefix + f if prefix else f
            kind = text_format(path) if fmt == "auto" else fmt
            files.append((path, kind, _file_meta(fs, f, kind)))
    if not files:
        raise DataError("no input files", ", ".join(map(str, inputs)))
    text_bytes = sum(m for _, k, m in files if isinstance(m, int) and m >= 0)
    parquet_rows = sum(m.num_rows for _, k, m in files if k == "parquet")
    shard_bytes = shard_bytes or min(SHARD_BYTES, max(256 << 10, text_bytes // 32))
    shard_rows = shard_rows or min(SHARD_ROWS, max(1000, parquet_rows // 32))
    shards: list[TextShard] = []
    counts: list[tuple[str, int, int]] = []
    for path, f, meta in files:
        if f == "parquet":
            row, g0 = 1, 0
            for g in range(meta.num_row_groups):
                rows = sum(meta.row_group(x).num_rows for x in range(g0, g + 1))
                if rows >= shard_rows or g == meta.num_row_groups - 1:
                    shards.append(TextShard(len(shards), path, f, g0, g + 1, row))
                    row += rows
                    g0 = g + 1
        elif meta < 0:  # gzip or CSV: one shard
            shards.append(TextShard(len(shards), path, f, 0, -1, 1))
        else:
            for s in range(0, max(meta, 1), shard_bytes):
                shards.append(TextShard(len(shards), path, f, s, min(meta, s + shard_bytes), 0))
                counts.append((path, s, min(meta, s + shard_bytes)))
    return shards, counts


def _file_meta(fs: Any, path: str, kind: str) -> Any:
    """Parquet metadata, the size of a splittable text file, or -1 (gzip / CSV: not splittable)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        with fs.open_input_file(path) as fh:
            return pq.ParquetFile(fh).metadata
    if path.lower().endswith(".gz") or kind == "csv":
        return -1
    return int(fs.get_file_info(path).size)


def number_shards(shards: list[TextShard], counts: list[int]) -> list[TextShard]:
    """Give byte-range shards their first line number from the line counts of :func:`plan_text`."""
    out, it, line, cur = [], iter(counts), 1, None
    for s in shards:
        if s.first == 0:
            if s.path != cur:
                cur, line = s.path, 1
            out.append(TextShard(s.index, s.path, s.fmt, s.start, s.end, line))
            line += next(it)
        else:
            out.append(s)
    return out


def _lines(shard: TextShard) -> Iterator[tuple[int, str]]:
    """``(line number, line without the newline)`` of a text shard."""
    fs, p = filesystem(shard.path)
    raw = fs.open_input_file(p)
    with raw:
        if shard.end < 0:  # a whole (possibly gzip) file
            stream: Any = gzip.GzipFile(fileobj=raw) if p.lower().endswith(".gz") else raw
            for n, b in enumerate(io.BufferedReader(stream, 1 << 20), 1):
                yield n, _decode(b, shard.path, n)
            return
        pos = shard.start
        if pos > 0:  # skip the line that started before the shard
            raw.seek(pos - 1)
        reader = io.BufferedReader(raw, 1 << 20)
        if pos > 0:
            pos += len(reader.readline()) - 1
        n = shard.first
        while pos < shard.end:
            b = reader.readline()
            if not b:
                break
            yield n, _decode(b, shard.path, n)
            pos += len(b)
            n += 1


def _decode(b: bytes, path: str, n: int) -> str:
    if b"\x00" in b:
        raise DataError("contains NUL bytes: a binary file, not text", path, n)
    try:
        return b.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text (binary file?)", path, n) from None


def _header(shard: TextShard) -> list[str]:
    first = TextShard(shard.index, shard.path, shard.fmt, 0, -1 if shard.end < 0 else 1 << 62, 1)
    for _, line in _lines(first):
        return line.split("\t")
    raise DataError("empty file (no header)", shard.path, 1)


def read_text_rows(
    shard: TextShard, field: str | int = "text", id_field: str | None = None, batch: int = 1024
) -> Iterator[tuple[list[str], list[str]]]:
    """Batches ``(ids, texts)`` of a shard, in file order.

    Args:
        shard: from :func:`plan_text`.
        field: the text field (JSONL), column name or 0-based index (TSV/CSV/Parquet); plain text: the line.
        id_field: field/column holding the document id (default: ``"<file name>:<line or row>"``).
        batch: rows per batch.
    """
    name = shard.path.rstrip("/").rsplit("/", 1)[-1]
    if shard.fmt == "parquet":
        yield from _parquet_rows(shard, name, field, id_field, batch)
        return
    ids: list[str] = []
    texts: list[str] = []
    rows = _csv_rows(shard) if shard.fmt == "csv" else ((n, line) for n, line in _lines(shard))
    col = cid = None
    header_line = False
    if shard.fmt in ("tsv", "csv"):
        header = _header(shard) if shard.fmt == "tsv" else None
        col, cid, header_line = _columns(header, field, id_field, shard)
    for n, row in rows:
        if shard.fmt == "text":
            doc_id, text = f"{name}:{n}", row
        elif shard.fmt == "jsonl":
            if not row.strip():
                continue
            doc_id, text = _json_row(row, field, id_field, shard.path, n, name)
        else:
            if n == 1 and header_line:
                if shard.fmt == "csv":  # the csv reader gives the header as the first row
                    col, cid, _ = _columns(row, field, id_field, shard)
                continue
            cells = row if shard.fmt == "csv" else row.split("\t")
            if not cells or cells == [""]:
                continue
            if col is None or col >= len(cells) or (cid is not None and cid >= len(cells)):
                raise DataError(f"row has {len(cells)} columns, text column is {col}", shard.path, n)
            doc_id = f"{name}:{n}" if cid is None else cells[cid]
            text = cells[col]
        ids.append(doc_id)
        texts.append(text)
        if len(ids) >= batch:
            yield ids, texts
            ids, texts = [], []
    if ids:
        yield ids, texts


def _columns(
    header: list[str] | None, field: str | int, id_field: str | None, shard: TextShard
) -> tuple[int | None, int | None, bool]:
    """(text column, id column, whether line 1 is a header)."""
    if isinstance(field, int) and id_field is None:
        return field, None, False
    if header is None:  # csv: resolved from the first row later
        return None, None, True
    if isinstance(field, str) and field not in header:
        raise DataError(f"no column {field!r} in header {header}", shard.path, 1)
    if id_field is not None and id_field not in header:
        raise DataError(f"no id column {id_field!r} in header {header}", shard.path, 1)
    col = field if isinstance(field, int) else header.index(field)
    return col, None if id_field is None else header.index(id_field), True


def _csv_rows(shard: TextShard) -> Iterator[tuple[int, list[str]]]:
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reader = csv.reader(line + "\n" for _, line in _lines(shard))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise DataError(f"malformed CSV ({exc})", shard.path, reader.line_num) from None


def _json_row(
    line: str, field: str | int, id_field: str | None, path: str, n: int, name: str
) -> tuple[str, str]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON ({exc.msg})", path, n) from None
    if not isinstance(obj, dict) or field not in obj:
        raise DataError(f"no field {field!r} in this JSON line", path, n)
    text = obj[field]
    if not isinstance(text, str):
        raise DataError(f"field {field!r} is {type(text).__name__}, expected a string", path, n)
    if id_field is None:
        return f"{name}:{n}", text
    if id_field not in obj:
        raise DataError(f"no id field {id_field!r} in this JSON line", path, n)
    return str(obj[id_field]), text


def _parquet_rows(
    shard: TextShard, name: str, field: str | int, id_field: str | None, batch: int
) -> Iterator[tuple[list[str], list[str]]]:
    import pyarrow.parquet as pq

    fs, p = filesystem(shard.path)
    with fs.open_input_file(p) as fh:
        pf = pq.ParquetFile(fh)
        names = pf.schema_arrow.names
        col = names[field] if isinstance(field, int) else field
        for c in [col] + ([id_field] if id_field else []):
            if c not in names:
                raise DataError(f"no column {c!r} in {names}", shard.path)
        cols = [col] + ([id_field] if id_field else [])
        row = shard.first
        for rb in pf.iter_batches(batch_size=batch, row_groups=range(shard.start, shard.end), columns=cols):
            texts = rb.column(col).to_pylist()
            ids = (
                [str(x) for x in rb.column(id_field).to_pylist()]
                if id_field
                else [f"{name}:{row + i}" for i in range(len(texts))]
            )
            row += len(texts)
            yield ids, ["" if t is None else str(t) for t in texts]


# -- vector sets ---------------------------------------------------------------------------------------------


class VectorSource:
    """A vector set read by row ranges: a Parquet file or directory (columns ``id`` and ``vector``, as written
    by :func:`simlab.scale.embed`), a ``.npy`` matrix (ids = row numbers) or a simlab Vectors artifact.

    Args:
        path: the input (local path or, for Parquet, a URI).
        id_column, vector_column: Parquet column names.

    Attributes:
        n: rows. dim: dimension.
    """

    def __init__(
        self, path: str | os.PathLike[str], id_column: str = "id", vector_column: str = "vector"
    ) -> None:
        self.path = os.fspath(path)
        self.id_column, self.vector_column = id_column, vector_column
        self.kind = self._kind()
        self._files: list[tuple[str, int]] = []
        self.n, self.dim = self._shape()

    def _kind(self) -> str:
        if self.path.endswith(".npy"):
            return "npy"
        if "://" not in self.path and os.path.isfile(os.path.join(self.path, "simlab.json")):
            return "vectors"
        return "parquet"

    def _shape(self) -> tuple[int, int]:
        if self.kind == "npy":
            m = np.load(self.path, mmap_mode="r")
            if m.ndim != 2:
                raise DimensionError(f"{self.path}: expected a 2-D matrix, got shape {m.shape}")
            return int(m.shape[0]), int(m.shape[1])
        if self.kind == "vectors":
            from simlab.artifacts import Artifact

            art = Artifact(self.path, kind="vectors")  # checksums verified once, here
            return int(art.config.get("count", 0)), int(art.config.get("dim", 0))
        import pyarrow.parquet as pq

        fs, p = filesystem(self.path)
        prefix = self.path[: self.path.index("://") + 3] if "://" in self.path else ""
        dim = 0
        for f in list_files(fs, p):
            with fs.open_input_file(f) as fh:
                pf = pq.ParquetFile(fh)
                schema = pf.schema_arrow
                for c in (self.id_column, self.vector_column):
                    if c not in schema.names:
                        raise DataError(f"no column {c!r} (columns: {schema.names})", prefix + f)
                t = schema.field(self.vector_column).type
                dim = dim or getattr(t, "list_size", 0)
                if not dim and pf.metadata.num_rows:
                    first = next(pf.iter_batches(batch_size=1, columns=[self.vector_column]))
                    dim = len(first.column(0)[0])
                self._files.append((prefix + f, pf.metadata.num_rows))
        return sum(r for _, r in self._files), int(dim)

    def __repr__(self) -> str:
        return f"VectorSource({self.path!r}, n={self.n}, dim={self.dim})"

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (m,), vectors (m, dim) float32)`` of rows ``[start, stop)``."""
        stop = min(stop, self.n)
        if self.kind == "npy":
            m = np.load(self.path, mmap_mode="r")
            return np.arange(start, stop, dtype=np.int64), np.ascontiguousarray(
                m[start:stop], dtype=np.float32
            )
        if self.kind == "vectors":
            from safetensors import safe_open

            with safe_open(os.path.join(self.path, "vectors.safetensors"), "numpy") as f:
                x = f.get_slice("matrix")[start:stop]
            with open(os.path.join(self.path, "keys.json"), encoding="utf-8") as fh:
                keys = json.load(fh)[start:stop]
            return np.asarray(keys), np.ascontiguousarray(x, dtype=np.float32)
        return self._read_parquet(start, stop)

    def _read_parquet(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids, vecs, off = [], [], 0
        for f, rows in self._files:
            lo, hi = max(start, off), min(stop, off + rows)
            if lo < hi:
                fs, p = filesystem(f)
                with fs.open_input_file(p) as fh:
                    t = _read_rows(
                        pq.ParquetFile(fh), lo - off, hi - off, [self.id_column, self.vector_column]
                    )
                ids.append(t.column(0))
                vecs.append(t.column(1))
            off += rows
            if off >= stop:
                break
        if not ids:
            return np.zeros(0, object), np.zeros((0, self.dim), np.float32)
        idc = pa.chunked_array([c for a in ids for c in a.chunks])
        vc = pa.chunked_array([c for a in vecs for c in a.chunks])
        flat = (
            np.concatenate([np.asarray(c.flatten(), dtype=np.float32) for c in vc.chunks])
            if len(vc)
            else np.zeros(0, np.float32)
        )
        if flat.size != len(vc) * self.dim:
            raise DimensionError(
                f"{self.path}: vectors of rows {start}..{stop} are not all of dimension {self.dim}"
            )
        return idc.to_numpy(zero_copy_only=False), flat.reshape(len(vc), self.dim)


def _read_rows(pf: Any, lo: int, hi: int, columns: list[str]) -> Any:
    """Rows ``[lo, hi)`` of a Parquet file, reading only the row groups that hold them."""
    import pyarrow as pa

    md, off, groups, first = pf.metadata, 0, [], None
    for g in range(md.num_row_groups):
        r = md.row_group(g).num_rows
        if off + r > lo and off < hi:
            groups.append(g)
            first = off if first is None else first
        off += r
    if not groups:
        return pa.table({c: [] for c in columns})
    t = pf.read_row_groups(groups, columns=columns)
    return t.slice(lo - first, hi - lo)
