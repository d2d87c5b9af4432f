"""Where job outputs live: local or shared-filesystem paths and object-store URIs (``s3://``, ``gs://``,
``hdfs://`` ...) through ``pyarrow.fs``, with atomic, idempotent shard files and a plan that makes jobs
resumable.

A job directory holds ``part-NNNNN.*`` shard files, ``_plan.json`` (what the job computes; a rerun with
another plan refuses to mix shards) and, once every shard is written, ``_done.json`` (a summary). A shard is
written to a temporary name and moved into place, so a reader never sees half a shard, and its name and
content depend only on the plan: a retried or repeated task writes the same file again.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

from simlab.errors import ConfigError, DataError

PLAN = "_plan.json"
DONE = "_done.json"


def filesystem(path: str | os.PathLike[str]) -> tuple[Any, str]:
    """``(pyarrow FileSystem, path within it)`` for a local path or a URI pyarrow understands."""
    from simlab._deps import require

    pafs = require("pyarrow.fs")
    s = os.fspath(path)
    if "://" in s:
        try:
            return pafs.FileSystem.from_uri(s)
        except Exception as exc:
            raise ConfigError(f"cannot open {s!r} ({exc})") from None
    return pafs.LocalFileSystem(), os.path.abspath(s)


def join_path(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def exists(fs: Any, path: str) -> bool:
    from pyarrow.fs import FileType

    return fs.get_file_info(path).type != FileType.NotFound


def list_files(fs: Any, path: str) -> list[str]:
    """Data files of a directory (sorted; names starting with ``_`` or ``.`` left out) or the file itself."""
    from pyarrow.fs import FileSelector, FileType

    info = fs.get_file_info(path)
    if info.type == FileType.NotFound:
        raise DataError("not found", path)
    if info.type == FileType.File:
        return [path]
    files = [
        f.path
        for f in fs.get_file_info(FileSelector(path))
        if f.type == FileType.File and not f.base_name.startswith(("_", "."))
    ]
    return sorted(files)


def atomic_write(fs: Any, path: str, write: Callable[[Any], None]) -> None:
    """Call ``write(stream)`` on a temporary sibling of `path`, then move it into place."""
    parent, _, name = path.rpartition("/")
    tmp = f"{parent}/.{name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with fs.open_output_stream(tmp) as f:
            write(f)
        fs.move(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.delete_file(tmp)
        raise


def write_json(fs: Any, path: str, obj: Any) -> None:
    data = json.dumps(obj, indent=1, sort_keys=True, default=str).encode()
    atomic_write(fs, path, lambda f: f.write(data))


def read_json(fs: Any, path: str) -> Any:
    with fs.open_input_stream(path) as f:
        return json.loads(f.read().decode())


def write_table(fs: Any, path: str, table: Any, row_group_size: int | None = None) -> None:
    """Write a pyarrow Table as one Parquet file, atomically."""
    import pyarrow.parquet as pq

    atomic_write(fs, path, lambda f: pq.write_table(table, f, row_group_size=row_group_size))


class JobDir:
    """The output directory of a job: plan check, shard names, completion marker.

    Args:
        path: directory (local path or URI).
        plan: JSON-ready description of what the job computes; an existing directory with another plan is
            refused (ConfigError) unless `overwrite`.
        overwrite: delete shards of a different plan instead of refusing.
    """

    def __init__(self, path: str | os.PathLike[str], plan: dict[str, Any], overwrite: bool = False) -> None:
        self.fs, self.path = filesystem(path)
        self.plan = json.loads(json.dumps(plan, default=str))
        self.fs.create_dir(self.path, recursive=True)
        plan_path = join_path(self.path, PLAN)
        if exists(self.fs, plan_path):
            old = read_json(self.fs, plan_path)
            if old != self.plan:
                if not overwrite:
                    raise ConfigError(
                        f"{path} holds the output of another job (different input or settings); "
                        "choose another --out or delete it"
                    )
                self.fs.delete_dir_contents(self.path)
        write_json(self.fs, plan_path, self.plan)

    def shard(self, i: int, suffix: str = ".parquet", prefix: str = "part") -> str:
        return join_path(self.path, f"{prefix}-{i:05d}{suffix}")

    def has(self, path: str) -> bool:
        return exists(self.fs, path)

    @property
    def done(self) -> dict[str, Any] | None:
        p = join_path(self.path, DONE)
        return read_json(self.fs, p) if exists(self.fs, p) else None

    def finish(self, summary: dict[str, Any]) -> None:
        write_json(self.fs, join_path(self.path, DONE), summary)
