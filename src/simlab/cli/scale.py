"""Scale-out commands: ``simlab join``, and the engine path of ``simlab embed`` and ``simlab ged``.

``--engine ray`` runs the tasks on Ray (``--address`` of a cluster, or a local instance with ``--cpus``);
``--engine local`` runs the same tasks in this process. No heavy imports at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import JsonSummary, echo_json, emit

ENGINE_HELP = "Where the tasks run: 'local' (this process) or 'ray'."
ADDRESS_HELP = "Ray cluster address ('auto', HOST:6379, ray://HOST:10001); implies --engine ray."
CPUS_HELP = "CPUs of the local Ray instance started when no --address is given (default: all)."


def wants_engine(engine: str | None, address: str | None, cpus: int | None, *paths: Path) -> bool:
    """True when ``simlab embed`` should take the streaming engine path (an engine option or Parquet I/O)."""
    return (
        engine is not None
        or address is not None
        or cpus is not None
        or any(str(p).lower().endswith((".parquet", ".pq")) for p in paths)
    )


def embed_streaming(
    model: Path,
    input: Path,
    out: Path,
    engine: str | None,
    address: str | None,
    cpus: int | None,
    field: str | None = None,
    id_field: str | None = None,
    fmt: str = "auto",
    overwrite: bool = False,
    as_json: bool = False,
) -> None:
    """``simlab embed`` on an engine: Parquet shards of id + vector, progress in rows/s."""
    from simlab.scale.batch_embed import embed

    col: str | int = "text" if field is None else (int(field) if field.isdigit() else field)
    res = embed(
        model,
        input,
        out,
        engine=engine or "local",
        address=address,
        cpus=cpus,
        field=col,
        id_field=id_field,
        format=fmt,
        progress=None,
        overwrite=overwrite,
    )
    tail = f" ({res.skipped} without a known word left out)" if res.skipped else ""
    if res.seconds:
        tail += f" in {res.seconds:.1f}s ({res.rows_per_second:,.0f} rows/s, engine {res.engine})"
    else:
        tail += " (already complete)"
    emit(
        "embed",
        {**res.__dict__, "out": str(out)},
        as_json,
        lambda: typer.echo(
            f"wrote {res.rows} vectors of dim {res.dim} to {out} as {res.shards} Parquet part(s){tail}"
        ),
    )


def ged_on_engine(
    graphs: Any,
    out: Path,
    pair_list: list[tuple[str, str]] | None,
    method: str,
    engine: str,
    address: str | None,
    cpus: int | None,
    timeout: float,
    restarts: int,
    label_attr: str | None,
    as_json: bool = False,
) -> None:
    """``simlab ged`` on an engine: pairs in resumable chunks on workers (`graphs`: a GraphSet or path)."""
    from simlab.scale.all_pairs import pairs

    res = pairs(
        graphs,
        out,
        method=method,
        pairs=pair_list,
        engine=engine,
        address=address,
        cpus=cpus,
        timeout=timeout,
        restarts=restarts,
        label_attr=label_attr,
        progress=None,
    )
    speed = (
        f" in {res.seconds:.1f}s ({res.pairs_per_second:,.0f} pairs/s, engine {res.engine})"
        if res.seconds
        else " (already complete)"
    )
    emit(
        "ged",
        {**res.__dict__, "out": str(out)},
        as_json,
        lambda: typer.echo(f"wrote {res.pairs} pairs to {out} ({res.exact} proven exact){speed}"),
    )


JoinA = Annotated[
    Path,
    typer.Argument(
        help="Queries: Parquet (id + vector, e.g. from simlab embed), .npy or a Vectors artifact."
    ),
]
JoinB = Annotated[Path, typer.Argument(help="The collection searched (same forms).")]
JoinOut = Annotated[
    Path,
    typer.Option(
        "--out", help="Output directory of Parquet parts (id, neighbors, scores); resumed if interrupted."
    ),
]
JoinK = Annotated[int, typer.Option("-k", min=1, help="Neighbours per query.")]
Metric = Annotated[str, typer.Option("--metric", help="cosine, dot, euclidean or sqeuclidean.")]
JoinMethod = Annotated[str, typer.Option("--method", help="'exact' or 'hnsw' (FAISS HNSW32 per shard).")]
Engine = Annotated[str, typer.Option("--engine", help=ENGINE_HELP)]
Address = Annotated[str | None, typer.Option("--address", help=ADDRESS_HELP)]
Cpus = Annotated[int | None, typer.Option("--cpus", help=CPUS_HELP)]
BlockRows = Annotated[
    int | None, typer.Option("--block-rows", help="Queries per search (default: 1/16 of A, 1,024..65,536).")
]
ShardRows = Annotated[
    int, typer.Option("--shard-rows", help="Collection rows per index (must fit one worker's memory).")
]
EfSearch = Annotated[int | None, typer.Option("--ef-search", help="HNSW search breadth (default 64).")]


def join_cmd(
    a: JoinA,
    b: JoinB,
    out: JoinOut,
    k: JoinK = 10,
    metric: Metric = "cosine",
    method: JoinMethod = "exact",
    engine: Engine = "local",
    address: Address = None,
    cpus: Cpus = None,
    block_rows: BlockRows = None,
    shard_rows: ShardRows = 250_000,
    ef_search: EfSearch = None,
    as_json: JsonSummary = False,
) -> None:
    """k-NN join: for every vector of A, its k most similar vectors of B (exact or HNSW per shard).

    Example: simlab join runs/emb runs/emb -k 10 --out runs/knn
    """
    from simlab.scale.knn_join import join

    res = join(
        a,
        b,
        k,
        out=out,
        metric=metric,
        method=method,
        engine=engine,
        address=address,
        cpus=cpus,
        block_rows=block_rows,
        shard_rows=shard_rows,
        search_options={"efSearch": ef_search} if ef_search else {},
        progress=None,
    )
    if as_json:
        echo_json({**res.__dict__, "rows_per_second": res.rows_per_second}, "join")
        return
    speed = (
        f" in {res.seconds:.1f}s ({res.rows_per_second:,.0f} queries/s, engine {res.engine})"
        if res.seconds
        else " (already complete)"
    )
    typer.echo(
        f"wrote {res.rows} rows x {res.k} neighbours to {out} ({res.shards} shard(s) x {res.blocks} "
        f"block(s)){speed}"
    )


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``simlab join``."""
    app.command("join")(join_cmd)
