"""``simlab index build|add|remove`` and ``simlab search``: build, update and query a nearest-neighbour index.

No heavy imports at module level (numpy, faiss and the index module load when a command runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import (
    Force,
    Json,
    K,
    Quiet,
    Threads,
    emit,
    guard_out,
    hit_rows,
    parse_key,
    print_table,
    progress,
    thread_scope,
)
from simlab.cli.models import load_vectors

SEARCH_BREADTH = ("efSearch", "nprobe", "efConstruction")


def check_search_settings(options: dict[str, Any], count: int | None = None) -> dict[str, Any]:
    """Search breadth settings are integers >= 1; above the index size they buy nothing, so they are capped
    there (an efSearch of 1e9 on 5 vectors would otherwise allocate gigabytes)."""
    from simlab.errors import ConfigError

    out = dict(options)
    for key in SEARCH_BREADTH:
        if key in out:
            v = out[key]
            if type(v) is not int or v < 1:
                raise ConfigError(f"--set {key} must be an integer >= 1, got {v!r}")
            if count is not None:
                out[key] = min(v, max(count, 1))
    return out


VectorsArg = Annotated[
    Path, typer.Argument(help="A Vectors artifact directory or a word2vec .txt/.vec/.bin.")
]
IndexOut = Annotated[Path, typer.Option("--out", help="Output index artifact directory.")]
Backend = Annotated[
    str,
    typer.Option("--backend", help="exact, faiss, hnswlib, usearch, scann or auto (simlab list indexes)."),
]
Factory = Annotated[
    str | None,
    typer.Option("--factory", help="FAISS factory string: HNSW32, IVF256,Flat, IVF256,PQ16, Flat ..."),
]
Metric = Annotated[str, typer.Option("--metric", help="cosine, dot, euclidean or sqeuclidean.")]
BackendSets = Annotated[
    list[str] | None,
    typer.Option("--set", help="Backend option key=value (efSearch=64, nprobe=16, efConstruction=80 ...)."),
]


def build(
    vectors: VectorsArg,
    out: IndexOut,
    backend: Backend = "exact",
    factory: Factory = None,
    metric: Metric = "cosine",
    set_: BackendSets = None,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
) -> None:
    """Build an index over vectors and save it (then use simlab search).

    Example: simlab index build runs/w2v --out runs/w2v-hnsw --backend faiss --factory HNSW32
    """
    import time

    guard_out(out, "index", force, inputs=[vectors])
    from simlab.config import parse_overrides
    from simlab.errors import ConfigError

    options = check_search_settings(parse_overrides(set_ or []))
    if factory is not None:
        if backend != "faiss":
            raise ConfigError("--factory applies to --backend faiss")
        options["factory"] = factory
    vecs = load_vectors(vectors)
    if len(vecs) == 0:
        raise ConfigError(f"{vectors}: no vectors to index")
    from simlab.index import Index

    t0 = time.perf_counter()
    idx = Index(backend, metric, dim=vecs.dim, **options)
    with thread_scope(threads):
        _add_all(idx, vecs, backend, quiet)
    seconds = time.perf_counter() - t0
    idx.save(out)
    summary = {
        "out": str(out),
        "backend": idx.backend_name,
        "metric": idx.metric,
        "count": len(idx),
        "dim": idx.dim,
        "settings": idx.settings,
        "nbytes": idx.nbytes,
        "build_seconds": seconds,
        **idx.declared["shown"],
    }
    what = " ".join([idx.backend_name, *map(str, idx.declared["shown"].values())])
    line = f"indexed {len(idx)} vectors of dim {idx.dim} ({what}, {idx.metric}) in {seconds:.2f}s -> {out}"
    emit("index build", summary, as_json, lambda: typer.echo(line))


def _add_all(idx: Any, vecs: Any, backend: str, quiet: bool) -> None:
    """Add `vecs` to a new index in batches of 50,000 under a progress bar."""
    with progress(f"index build ({backend})", total=len(vecs), unit="vec", quiet=quiet) as bar:
        keys, mat, step = vecs.keys, vecs.matrix, 50_000
        if len(keys) > step and idx.declared["learns"]:
            idx.train(mat)  # IVF/PQ learn from every vector (up to train_size), not the first batch
        for i in range(0, len(keys), step):
            idx.add(keys[i : i + step], mat[i : i + step])
            bar.update(len(keys[i : i + step]))


IndexArg = Annotated[Path, typer.Argument(help="An index artifact (simlab index build).")]
UpdateOut = Annotated[
    Path | None, typer.Option("--out", help="Write here instead of updating INDEX (default: INDEX itself).")
]


def add(index: IndexArg, vectors: VectorsArg, out: UpdateOut = None, as_json: Json = False) -> None:
    """Add vectors under new keys to a saved index (its backend, options and saved settings are kept).

    Example: simlab index add runs/idx runs/more-vectors
    """
    from simlab.index import Index

    idx = Index.load(index)
    vecs = load_vectors(vectors)
    before = len(idx)
    idx.add(vecs.keys, vecs.matrix)
    _save_update(idx, index, out, {"added": len(idx) - before}, as_json, "index add")


KeysArg = Annotated[list[str] | None, typer.Argument(help="Keys to remove.")]
KeysFile = Annotated[
    Path | None,
    typer.Option("--keys-file", help="A text file with one key per line (added to the KEYS given)."),
]


def remove(
    index: IndexArg,
    keys: KeysArg = None,
    keys_file: KeysFile = None,
    out: UpdateOut = None,
    as_json: Json = False,
) -> None:
    """Remove keys from a saved index (unknown keys: error, nothing removed; saved settings kept).

    Example: simlab index remove runs/idx movie film --json
    """
    from simlab.index import Index

    names = list(keys or []) + (_read_keys(keys_file) if keys_file is not None else [])
    if not names:
        raise typer.BadParameter("give KEYS or --keys-file")
    idx = Index.load(index)
    resolved = [int(k) if k not in idx and k.lstrip("-").isdigit() and int(k) in idx else k for k in names]
    before = len(idx)
    idx.remove(resolved)
    if idx.dead and idx.declared["compactable"]:
        idx.compact()  # graph indexes that cannot delete: rebuild without the tombstones
    _save_update(idx, index, out, {"removed": before - len(idx)}, as_json, "index remove")


def _read_keys(path: Path) -> list[str]:
    from simlab.errors import DataError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read the keys file ({exc.strerror})", path) from None
    return [line.strip() for line in lines if line.strip()]


def _save_update(
    idx: Any, index: Path, out: Path | None, what: dict[str, int], as_json: bool, command: str
) -> None:
    if out is not None:
        guard_out(out, "index", False, inputs=[index])
    dest = out or index
    idx.save(dest)
    summary = {
        "out": str(dest),
        **what,
        "count": len(idx),
        "backend": idx.backend_name,
        "settings": idx.settings,
    }
    verb, n = next(iter(what.items()))
    emit(
        command,
        summary,
        as_json,
        lambda: typer.echo(
            f"{verb} {n} vectors; {len(idx)} in the index ({idx.backend_name}, settings "
            f"{idx.settings or '-'}) -> {dest}"
        ),
    )


QueryKey = Annotated[str | None, typer.Argument(help="A key stored in the index.")]
VectorFile = Annotated[
    Path | None,
    typer.Option("--vector-file", help="A .npy file with one query vector (dim,) or a batch (q, dim)."),
]
SearchSets = Annotated[
    list[str] | None,
    typer.Option("--set", help="Search setting for this call, key=value (efSearch=128, nprobe=32)."),
]


def search(
    index: IndexArg,
    query: QueryKey = None,
    k: K = 10,
    vector_file: VectorFile = None,
    set_: SearchSets = None,
    as_json: Json = False,
) -> None:
    """Nearest neighbours of a stored key (itself excluded) or of query vectors from a .npy file.

    Example: simlab search runs/w2v-hnsw movie -k 5
    """
    from simlab.config import parse_overrides
    from simlab.index import Index

    if (query is None) == (vector_file is None):
        raise typer.BadParameter("give a QUERY key or --vector-file (one of them)")
    idx = Index.load(index)
    overrides = check_search_settings(parse_overrides(set_ or []), len(idx))
    if query is not None:
        key: Any = parse_key(query, lambda x: x in idx)  # "0" -> 0 for integer keys (node ids)
        batches = [(query, idx.most_similar(key, k, **overrides))]
    else:
        import numpy as np

        from simlab.sequence.data import read_npy

        arr = read_npy(vector_file)
        hits = idx.search(np.atleast_2d(arr), k, **overrides)
        batches = [(f"{vector_file}[{i}]", hits[i]) for i in range(len(hits))]
    results = [{"query": name, "hits": hit_rows(h)} for name, h in batches]
    if as_json:
        emit("search", results if len(results) > 1 else results[0], as_json)
        return
    for res in results:
        if len(results) > 1:
            typer.echo(f"\n{res['query']}")
        print_table(res["hits"])


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the ``index`` command group (``index build``, ``add``, ``remove``) and the top-level ``search``."""
    index_app = typer.Typer(help="Build nearest-neighbour indexes (exact or FAISS).", no_args_is_help=True)
    app.add_typer(index_app, name="index")
    index_app.command("build")(build)
    index_app.command("add")(add)
    index_app.command("remove")(remove)
    app.command("search")(search)
