"""Streaming batch embedding: text rows in (text/JSONL/TSV/CSV/Parquet), Parquet shards of ``id`` + ``vector``
out.

The driver cuts the input into shards (:mod:`simlab.scale.sources`) and never reads the corpus. Each shard is
embedded by one task and written as ``OUT/part-NNNNN.parquet`` (atomically; an existing part is kept, so an
interrupted job resumes). With ``engine="ray"`` the shards go through Ray Data: ``map_batches`` over the shard
list with an actor pool, so the model is loaded once per worker (its artifact files travel through the object
store, not through a shared path). Documents with no known word are left out and counted (as
``Model.embed_file`` does).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import DataError, SimlabError
from simlab.scale import engine as E
from simlab.scale.sources import TextShard, count_task, number_shards, plan_text, read_text_rows
from simlab.scale.store import JobDir, filesystem, list_files, write_table

log = logging.getLogger(__name__)


@dataclass
class EmbedResult:
    """What :func:`embed` wrote.

    Attributes:
        path: the output directory (Parquet parts with columns ``id`` (string) and ``vector``
            (fixed-size list of float32)).
        rows: vectors written. skipped: documents left out (no known word). dim: vector dimension.
        shards: part files. seconds: wall time of the job (0 when it was already complete).
    """

    path: str
    rows: int
    skipped: int
    dim: int
    shards: int
    seconds: float = 0.0
    engine: str = "local"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("nan")

    def to_vectors(self) -> Any:
        """All vectors as one :class:`simlab.Vectors` (small outputs: this holds them in memory)."""
        from simlab.vectors import Vectors

        ids, x = read_vectors(self.path)
        return Vectors([str(i) for i in ids], x)


def read_vectors(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, (n, dim) float32)`` of a Parquet vector set (a directory of parts or one file), in part
    order."""
    from simlab.scale.sources import VectorSource

    src = VectorSource(path)
    return src.read(0, src.n)


# -- the model inside a task ---------------------------------------------------------------------------------


def pack_model(model: Any) -> dict[str, bytes]:
    """The files of a model artifact (a path, or a model object saved to a temporary directory) as bytes."""
    tmp = None
    if not isinstance(model, str | os.PathLike):
        from simlab.model import Model

        if not isinstance(model, Model):
            raise SimlabError(
                f"a {type(model).__name__} cannot be shipped to workers (it is not a simlab model)"
            )
        tmp = tempfile.mkdtemp(prefix="simlab-model-")
        model.save(os.path.join(tmp, "model"))
        model = os.path.join(tmp, "model")
    try:
        root = Path(model)
        if not (root / "simlab.json").is_file():
            raise DataError("not a simlab artifact (no simlab.json)", root)
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def unpack_model(files: dict[str, bytes]) -> Any:
    """Load a model from :func:`pack_model` bytes (checksums verified by ``simlab.load``)."""
    from simlab.artifacts import load

    tmp = tempfile.mkdtemp(prefix="simlab-model-")
    try:
        for name, data in files.items():
            p = Path(tmp, name)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        return load(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def batch_encoder(model: Any) -> Callable[[list[str]], tuple[np.ndarray, np.ndarray]]:
    """``texts -> ((m, dim) float32, (m,) bool kept)`` for a document, sentence or word model.

    Chosen by declared capabilities (:func:`simlab.model.capabilities`): word models (``words``) look up one
    word per row; a document model with batched inference (``embeds`` + ``texts`` and ``encode_texts``:
    Doc2Vec) infers a batch at once; other encoders (``embeds``: SIF, LSI, TF-IDF, Siamese) use ``encode``.
    Rows whose text has no known word are not kept.
    """
    from simlab.model import capabilities

    has = capabilities(model)
    if "words" in has:
        return _WordEncoder(model)
    if {"embeds", "texts"} <= has and callable(getattr(model, "encode_texts", None)):
        return _DocEncoder(model)
    if "embeds" in has:
        return _SentenceEncoder(model)
    raise SimlabError(f"a {type(model).__name__} cannot embed text rows (it declares no 'embeds' capability)")


class _DocEncoder:
    """A document model's ``encode_texts``; a batch with a text of no known word is inferred text by text."""

    def __init__(self, model: Any) -> None:
        self.model, self.dim = model, 0

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        try:
            x = np.asarray(self.model.encode_texts(texts), np.float32)
        except DataError:  # one text without a known word: infer one by one
            rows = []
            for t in texts:
                try:
                    rows.append(np.asarray(self.model.infer(t), np.float32))
                except DataError:
                    rows.append(None)
            self.dim = self.dim or next((len(r) for r in rows if r is not None), 0)
            x = np.stack([np.full(self.dim, np.nan, np.float32) if r is None else r for r in rows])
        self.dim = x.shape[1]
        return x, ~np.isnan(x).any(1)


class _SentenceEncoder:
    """A sentence encoder's ``encode``; rows with NaN (no known token) are not kept."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(self.model.encode(texts), np.float32)
        return x, ~np.isnan(x).any(1)


class _WordEncoder:
    """A word model's ``lookup``: one word per row; unknown words are not kept."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        words = [t.strip() for t in texts]
        kept, mat, _ = self.model.lookup(words)
        ok = set(kept)
        keep = np.array([w in ok for w in words], bool)
        pos = {w: i for i, w in enumerate(kept)}
        x = np.zeros((len(words), mat.shape[1] if mat.ndim == 2 else 0), np.float32)
        for i, w in enumerate(words):
            if w in pos:
                x[i] = mat[pos[w]]
        return x, keep


def embed_shard(
    shard: dict[str, Any],
    encode: Callable[[list[str]], tuple[np.ndarray, np.ndarray]],
    out: str,
    field: str | int,
    id_field: str | None,
    batch_size: int,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Embed one shard into ``out/part-NNNNN.parquet`` (kept if it already exists); returns its counts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    s = TextShard(**shard)
    fs, base = filesystem(out)
    path = f"{base}/part-{s.index:05d}.parquet"
    # written by an earlier attempt or run: same plan, same content
    if fs.get_file_info(path).size is not None:
        with fs.open_input_file(path) as fh:
            md = pq.ParquetFile(fh).metadata
        meta = md.metadata or {}
        return {
            "index": s.index,
            "rows": md.num_rows,
            "skipped": int(meta.get(b"simlab.skipped", b"0")),
            "dim": int(meta.get(b"simlab.dim", b"0")),
            "cached": True,
        }
    ids: list[str] = []
    mats: list[np.ndarray] = []
    skipped = 0
    for bid, texts in read_text_rows(s, field, id_field, batch_size):
        x, keep = encode(texts)
        skipped += int((~keep).sum())
        ids += [i for i, k in zip(bid, keep, strict=True) if k]
        mats.append(x[keep])
        if on_rows is not None:
            on_rows(len(texts))
    dim = next((m.shape[1] for m in mats if m.ndim == 2 and m.shape[1]), 0)
    x = np.concatenate(mats) if mats else np.zeros((0, dim), np.float32)
    vec = (
        pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1), pa.float32()), max(dim, 1))
        if dim
        else pa.array([], pa.list_(pa.float32(), 1))
    )
    table = pa.table({"id": pa.array(ids, pa.string()), "vector": vec})
    table = table.replace_schema_metadata({"simlab.skipped": str(skipped), "simlab.dim": str(dim)})
    write_table(fs, path, table, row_group_size=8192)
    return {"index": s.index, "rows": len(ids), "skipped": skipped, "dim": dim, "cached": False}


class EmbedActor:
    """Ray Data actor: loads the model once (from bytes in the object store) and embeds whole shards."""

    def __init__(
        self,
        model_ref: list[Any],
        out: str,
        field: str | int,
        id_field: str | None,
        batch_size: int,
        code: str,
    ) -> None:
        import ray

        E.check_code(code)  # the driver's simlab, not another version
        self.encode = batch_encoder(unpack_model(ray.get(model_ref[0])))
        self.out, self.field, self.id_field, self.batch_size = out, field, id_field, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keys = list(batch)
        with E.task_threads():  # its one CPU, whatever the worker inherited (see simlab.scale.engine)
            rows = [
                embed_shard(
                    {k: _py(batch[k][i]) for k in keys},
                    self.encode,
                    self.out,
                    self.field,
                    self.id_field,
                    self.batch_size,
                )
                for i in range(len(batch[keys[0]]))
            ]
        return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


# -- the job -------------------------------------------------------------------------------------------------


def embed(
    model: Any,
    input: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    engine: str | E.Engine = "local",
    address: str | None = None,
    cpus: int | None = None,
    field: str | int = "text",
    id_field: str | None = None,
    format: str = "auto",
    batch_size: int = 256,
    shard_bytes: int | None = None,
    shard_rows: int | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
) -> EmbedResult:
    """Embed every row of a corpus into Parquet shards, streaming.

    Args:
        model: a model artifact path or a fitted model (Doc2Vec, SIF, a sentence encoder, a word model).
        input: file(s) or directories: text (one document a line), JSONL, TSV, CSV or Parquet; local paths or
            URIs pyarrow understands (``s3://``, ``gs://``, ``hdfs://``).
        out: output directory (local path or URI): ``part-NNNNN.parquet`` files with ``id`` and ``vector``.
        engine: ``"local"`` (this process) or ``"ray"``; `address`/`cpus` as in :class:`simlab.scale.Engine`.
        field: text field (JSONL) or column (TSV/CSV/Parquet: name or 0-based index).
        id_field: field/column with document ids (default ``"<file name>:<line>"``, as TextCorpus).
        format: ``auto`` (from each file's suffix), text, jsonl, tsv, csv or parquet.
        batch_size: rows encoded per call of the model.
        shard_bytes, shard_rows: target shard size (bytes of uncompressed text, rows of Parquet); by default
            1/32 of the input, at most 16 MiB / 50,000 rows (from the input alone, so every engine has the
            same plan).
        progress: tqdm bar in rows (None: on a terminal only).
        overwrite: replace the output of a different job in `out` instead of refusing.

    Returns:
        :class:`EmbedResult` (counts; :meth:`EmbedResult.to_vectors` reads small outputs back).
    """
    eng = E.resolve(engine, address, cpus)
    inputs = [os.fspath(p) for p in ([input] if isinstance(input, str | os.PathLike) else input)]
    inputs = [p if "://" in p else os.path.abspath(p) for p in inputs]
    files = pack_model(model)
    model_id = _model_id(files)
    t0 = time.perf_counter()
    with E.session(eng) as ray:
        shards, counts = plan_text(inputs, format, shard_bytes, shard_rows)
        if counts:
            shards = number_shards(shards, E.run_tasks(count_task, counts, eng, ray))
        plan = {
            "job": "embed",
            "model": model_id,
            "inputs": inputs,
            "field": field,
            "id_field": id_field,
            "shards": [s.to_dict() for s in shards],
        }
        job = JobDir(out, plan, overwrite)
        if job.done:
            return EmbedResult(str(out), seconds=0.0, engine=eng.name, **_counts(job.done))
        run = (field, id_field, batch_size)
        results = _embed_shards(eng, ray, model, files, shards, str(out), run, progress)
        summary = _summary(results, len(shards), inputs)
        job.finish(summary)
    return EmbedResult(str(out), seconds=time.perf_counter() - t0, engine=eng.name, **_counts(summary))


def _embed_shards(
    eng: E.Engine,
    ray: Any,
    model: Any,
    files: Any,
    shards: list[TextShard],
    out: str,
    run: tuple[str | int, str | None, int],
    progress: bool | None,
) -> list[dict[str, Any]]:
    """Embed every shard (Ray Data actors on a Ray engine, else here); ``run`` is (field, id_field,
    batch_size). Returns the shards' counts."""
    from tqdm.auto import tqdm

    field, id_field, batch_size = run
    disable = {True: False, False: True}.get(progress)  # type: ignore[arg-type]
    with tqdm(desc="embed", unit="row", disable=disable) as bar:
        if eng.is_ray:
            return _run_ray(ray, eng, files, shards, out, field, id_field, batch_size, bar)
        enc = batch_encoder(_load(model) if isinstance(model, str | os.PathLike) else model)
        return [embed_shard(s.to_dict(), enc, out, field, id_field, batch_size, bar.update) for s in shards]


def _summary(results: list[dict[str, Any]], n_shards: int, inputs: list[str]) -> dict[str, Any]:
    """The job's counts from its shards' results (an output without a single row is an error)."""
    summary = {
        "rows": sum(r["rows"] for r in results),
        "skipped": sum(r["skipped"] for r in results),
        "dim": max((r["dim"] for r in results), default=0),
        "shards": n_shards,
    }
    if summary["rows"] == 0:
        raise DataError("no document with a known word", ", ".join(inputs))
    if summary["skipped"]:
        log.warning("%d document(s) without a known word were left out", summary["skipped"])
    return summary


def _counts(summary: dict[str, Any]) -> dict[str, int]:
    return {k: int(summary[k]) for k in ("rows", "skipped", "dim", "shards")}


def _model_id(files: dict[str, bytes]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _run_ray(
    ray: Any,
    eng: E.Engine,
    files: dict[str, bytes],
    shards: list[TextShard],
    out: str | os.PathLike[str],
    field: str | int,
    id_field: str | None,
    batch_size: int,
    bar: Any,
) -> list[dict[str, Any]]:
    """The shards through Ray Data: ``map_batches`` with an actor pool (one model per actor)."""
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # no notes on progress bars and deprecations
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ref = ray.put(files)
    n_actors = max(1, min(len(shards), E.cluster_cpus(ray, eng)))
    ds = ray.data.from_items([s.to_dict() for s in shards], override_num_blocks=len(shards))
    ds = ds.map_batches(
        EmbedActor,
        batch_size=1,
        batch_format="numpy",
        num_cpus=1,
        compute=ray.data.ActorPoolStrategy(size=n_actors),
        fn_constructor_kwargs={
            "model_ref": [ref],
            "out": _abs(out),
            "field": field,
            "id_field": id_field,
            "batch_size": batch_size,
            "code": E.code_fingerprint(),
        },
    )
    results = []
    try:
        for row in ds.iter_rows():
            r = {k: _py(v) for k, v in row.items()}
            results.append(r)
            bar.update(r["rows"] + r["skipped"])
    except SimlabError:
        raise
    except Exception as exc:
        raise E._task_error(exc) from None
    return sorted(results, key=lambda r: r["index"])


def _abs(p: str | os.PathLike[str]) -> str:
    s = os.fspath(p)
    return s if "://" in s else os.path.abspath(s)


def parts(path: str | os.PathLike[str]) -> list[str]:
    """The part files of an output directory."""
    fs, p = filesystem(path)
    return list_files(fs, p)


def _load(path: str | os.PathLike[str]) -> Any:
    from simlab.artifacts import load

    return load(path)
