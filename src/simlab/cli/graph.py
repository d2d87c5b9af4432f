"""Graph commands: ``simlab ged``, ``simlab train graph``, ``simlab train nodes``, ``simlab rerank`` and
``simlab graph evaluate`` (a model refined by edit-path bounds, or the edit-path search alone).

No heavy imports at module level (``simlab --help`` stays fast and torch-free).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import (
    FLAG,
    Address,
    ConfigFile,
    Device,
    Epochs,
    Force,
    Json,
    K,
    Quiet,
    RayCpus,
    Seed,
    Sets,
    Threads,
    check_positive,
    emit,
    format_value,
    guard_out,
    guard_out_file,
    hit_rows,
    merge_options,
    parse_key,
    print_table,
    progress_enabled,
    report_interrupted,
    resume_model,
    run_evaluation,
    thread_scope,
)
from simlab.cli.models import can, check_capable, load_model_or_vectors

#: random restarts of the edit-path search when none are given: the library's default
#: (``simlab.graph.editpath.EditPathConfig.restarts``; a test keeps the two equal)
RESTARTS = 4


def read_pairs_file(path: Path) -> list[tuple[str, str]]:
    """``id_a<TAB>id_b`` pairs (after a header line) from a TSV; one-line DataError when unreadable."""
    import csv

    from simlab.errors import DataError

    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t"))
    except FileNotFoundError:
        raise DataError("pairs file not found", path) from None
    except IsADirectoryError:
        raise DataError("is a directory, expected a pairs TSV file", path) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path) from None
    except (OSError, csv.Error) as exc:
        raise DataError(f"cannot read pairs ({exc})", path) from None
    if not rows or len(rows[0]) < 2:
        raise DataError("pairs file needs a header and two tab-separated id columns", path, 1)
    return [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]


# -- simlab ged ----------------------------------------------------------------------------------------------
GraphsArg = Annotated[
    Path,
    typer.Argument(
        help="Graphs: a directory of GEXF/GraphML/JSON files, a .jsonl file of "
        "node-link graphs, or one graph file."
    ),
]
GedOut = Annotated[Path, typer.Option("--out", help="GED TSV to write (resumed if it exists).")]
Pairs = Annotated[
    Path | None,
    typer.Option(
        "--pairs", help="TSV with id_a, id_b columns: only these pairs (default: all unordered pairs)."
    ),
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", help="Seconds of search per pair; then the best upper bound is kept (exact=0)."
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "--threads",
        help="Processes (default: all CPUs; at most the CPU count unless --force-workers).",
    ),
]
ForceWorkers = Annotated[
    bool, typer.Option("--force-workers", metavar=FLAG, help="Allow more --workers than CPUs.")
]
LabelAttr = Annotated[
    str,
    typer.Option("--label-attr", help="Node label attribute ('auto', a name, or 'none' for structure only)."),
]
Method = Annotated[
    str,
    typer.Option(
        "--method",
        help="'exact' (branch and bound with --timeout) or "
        "'editpath' (fast upper bounds from edit-path search; "
        "exact=1 only where a lower bound proves it).",
    ),
]
Restarts = Annotated[int, typer.Option("--restarts", help="Random restarts of --method editpath.")]
Engine = Annotated[
    str,
    typer.Option(
        "--engine", help="'local' or 'ray' (chunks of pairs on Ray workers, resumable; see docs/scale.md)."
    ),
]


def ged_cmd(
    graphs: GraphsArg,
    out: GedOut,
    pairs: Pairs = None,
    timeout: Timeout = 10.0,
    workers: Workers = None,
    force_workers: ForceWorkers = False,
    label_attr: LabelAttr = "auto",
    method: Method = "exact",
    restarts: Restarts = RESTARTS,
    engine: Engine = "local",
    address: Address = None,
    ray_cpus: RayCpus = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Graph edit distance for pairs of small graphs (node-label aware, uniform costs).

    Example: simlab ged graphs.jsonl --out ged.tsv --timeout 5
    """
    from simlab.graph.ged import HEADER
    from simlab.graph.io import GraphSet

    _check_ged_options(timeout, workers, restarts, force_workers)
    guard_out_file(out, "\t".join(HEADER[:3]), "GED table")
    gs = GraphSet.read(graphs)
    pair_list = read_pairs_file(pairs) if pairs is not None else None
    lattr = None if label_attr.lower() == "none" else label_attr
    if engine != "local" or address is not None:
        from simlab.cli.scale import ged_on_engine

        args = (method, engine, address, ray_cpus, timeout, restarts, lattr)
        ged_on_engine(gs, out, pair_list, *args, as_json=as_json)
        return
    search = {"timeout": timeout, "label_attr": lattr, "progress": progress_enabled(quiet)}
    if method == "editpath":
        from simlab.graph.editpath import edit_path_table

        table = edit_path_table(gs, pair_list, restarts=restarts, **search)
        table.write(out)
        tail = "edit-path upper bounds; {exact} proven exact"
    elif method == "exact":
        from simlab.graph.ged import compute_ged

        table = compute_ged(gs, out, pair_list, workers=workers, **search)
        tail = "{bounds} upper bounds where the exact search timed out"
    else:
        from simlab.errors import UnknownNameError

        raise UnknownNameError("GED method", method, ("exact", "editpath"))
    _emit_ged(table, out, method, tail, as_json)


def _check_ged_options(timeout: float, workers: int | None, restarts: int, force_workers: bool) -> None:
    import os

    check_positive("--timeout", timeout, 0.0, allow_equal=False)
    check_positive("--workers", workers, 1)
    check_positive("--restarts", restarts, 1)
    cpus = os.cpu_count() or 1
    if workers is not None and workers > cpus and not force_workers:
        raise typer.BadParameter(
            f"--workers {workers} is more than the {cpus} CPUs here (--force-workers to allow it)"
        )


def _emit_ged(table: Any, out: Path, method: str, tail: str, as_json: bool) -> None:
    """The summary of a GED table: pairs, proven exact, upper bounds (`tail` names the last two in words)."""
    n_ub = int((~table.exact).sum())
    summary = {
        "out": str(out),
        "pairs": len(table),
        "exact": len(table) - n_ub,
        "upper_bounds": n_ub,
        "method": method,
    }
    words = tail.format(exact=len(table) - n_ub, bounds=n_ub)
    emit("ged", summary, as_json, lambda: typer.echo(f"wrote {len(table)} pairs to {out} ({words})"))


# -- simlab train graph --------------------------------------------------------------------------------------
TrainGraphs = Annotated[
    str,
    typer.Argument(
        help="Graphs file/directory, or ged:AIDS700nef / ged:LINUX (the "
        "benchmark graphs and their training-pair GED)."
    ),
]
ModelOut = Annotated[Path, typer.Option("--out", help="Output model directory.")]
GedFile = Annotated[Path | None, typer.Option("--ged", help="GED TSV (id_a id_b ged) for the graphs.")]
GraphConv = Annotated[str | None, typer.Option("--conv", help="gcn, gin, sage or gat (default gin).")]
GraphModel = Annotated[
    str, typer.Option("--model", help="biencoder (one vector per graph) or pair (SimGNN-style pair scorer).")
]
ResumeGraph = Annotated[
    Path | None,
    typer.Option("--resume", help="Continue training this saved model (its config; --epochs N more)."),
]
GRAPH_KINDS = {"biencoder": "graph-biencoder", "pair": "graph-pair"}


def train_graph(
    graphs: TrainGraphs,
    out: ModelOut,
    ged: GedFile = None,
    conv: GraphConv = None,
    model: GraphModel = "biencoder",
    epochs: Epochs = None,
    sets: Sets = None,
    config: ConfigFile = None,
    seed: Seed = None,
    device: Device = None,
    threads: Threads = None,
    resume: ResumeGraph = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
) -> None:
    """Train a graph similarity model on GED (bi-encoder or SimGNN-style pair model).

    Example: simlab train graph ged:AIDS700nef --out runs/aids --epochs 10
    """
    from simlab.config import parse_spec
    from simlab.errors import ConfigError

    if model not in GRAPH_KINDS:
        raise ConfigError(f"unknown --model {model!r}; valid: biencoder, pair")
    kind = GRAPH_KINDS[model]
    guard_out(out, kind, force, inputs=[graphs, ged, config, resume])
    flags = {"conv": conv, "seed": seed, "device": device, "threads": threads, "epochs": epochs}
    opts = merge_options(sets, config, quiet, **flags)
    from simlab.graph.models import GraphBiEncoder, GraphPairModel

    if resume is not None:
        m = resume_model(resume, kind, opts)
    else:
        m = (GraphBiEncoder if model == "biencoder" else GraphPairModel)(opts)
    scheme, name = parse_spec(graphs, ("ged",))
    bench = None
    with thread_scope(threads):
        if scheme:
            from simlab.graph.datasets import load_ged_benchmark

            bench = load_ged_benchmark(name)
            m.fit(bench.graphs, bench.train_table(), resume=resume is not None)
        elif ged is None:
            raise ConfigError("--ged GED.tsv is required (or use ged:AIDS700nef / ged:LINUX)")
        else:
            m.fit(graphs, ged, resume=resume is not None)
    m.save(out)
    report_interrupted(m.history, out)
    _report_graph_training(m, kind, model, out, bench, as_json)


def _report_graph_training(m: Any, kind: str, model: str, out: Path, bench: Any, as_json: bool) -> None:
    h = m.history
    summary: dict[str, Any] = {
        "out": str(out),
        "kind": kind,
        "conv": m.config.conv,
        "epochs": len(h.get("epochs", [])),
        "best_epoch": h.get("best_epoch"),
        "best_dev": h.get("best_dev"),
    }
    report = None
    if bench is not None:
        from simlab.evaluate import evaluate

        report = evaluate(m, f"ged:{bench.name}")
        summary["test"] = report.to_dict()

    def human() -> None:
        typer.echo(
            f"trained {model} ({m.config.conv}) for {summary['epochs']} epochs, best dev rho "
            f"{format_value(h.get('best_dev'))}; saved to {out}"
        )
        if report is not None:
            typer.echo(report.to_table())

    emit("train graph", summary, as_json, human)


# -- simlab train nodes --------------------------------------------------------------------------------------
NodesGraph = Annotated[
    str, typer.Argument(help="One graph file, or Cora / CiteSeer (shared Planetoid data).")
]
NodesConv = Annotated[str | None, typer.Option("--conv", help="gcn, gin, sage or gat (default sage).")]
Features = Annotated[
    bool,
    typer.Option(
        "--features",
        metavar=FLAG,
        help="Fuse node features ('x' or 'text') with the "
        "structure by feature propagation (SGC, no "
        "training; --set k=2 alpha=0 view=fused).",
    ),
]
ResumeNodes = Annotated[
    Path | None,
    typer.Option("--resume", help="Continue training this saved model on the same graph (--epochs N)."),
]


def train_nodes(
    graph: NodesGraph,
    out: ModelOut,
    conv: NodesConv = None,
    epochs: Epochs = None,
    sets: Sets = None,
    config: ConfigFile = None,
    seed: Seed = None,
    device: Device = None,
    threads: Threads = None,
    features: Features = False,
    resume: ResumeNodes = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
) -> None:
    """Train unsupervised node embeddings (link prediction with negative sampling, or --features).

    Example: simlab train nodes Cora --out runs/cora-nodes --epochs 100
    """
    if features:
        from simlab.fusion.cli_nodes import train_propagated

        guard_out(out, "fusion-nodes", force, inputs=[graph, config])
        with thread_scope(threads):
            train_propagated(graph, out, merge_options(sets, config, threads=threads))
        return
    guard_out(out, "graph-nodes", force, inputs=[graph, config, resume])
    flags = {"conv": conv, "seed": seed, "device": device, "threads": threads, "epochs": epochs}
    opts = merge_options(sets, config, quiet, **flags)
    from simlab.graph.nodes import NodeEmbedder

    m = resume_model(resume, "graph-nodes", opts) if resume is not None else NodeEmbedder(opts)
    warm = resume is not None
    with thread_scope(threads):
        if graph.lower() in ("cora", "citeseer") and not Path(graph).exists():
            from simlab.graph.planetoid import load_planetoid

            x, ei, _ = load_planetoid(graph)
            name = {"cora": "Cora", "citeseer": "CiteSeer"}[graph.lower()]
            m.fit(ei, features=x, name=name, resume=warm)
        else:
            m.fit(graph, resume=warm)
    m.save(out)
    report_interrupted(m.history, out)
    lp = m.link_prediction() if m.test_pos.shape[1] else {}
    summary = {
        "out": str(out),
        "kind": "graph-nodes",
        "conv": m.config.conv,
        "nodes": len(m.keys),
        "epochs": len(m.history.get("epochs", [])),
        "link_prediction": lp,
    }
    scores = " ".join(f"{k}={format_value(float(v))}" for k, v in lp.items())
    line = f"trained {m.config.conv} node embeddings for {len(m.keys)} nodes; held-out link prediction "
    emit("train nodes", summary, as_json, lambda: typer.echo(f"{line}{scores}; saved to {out}"))


# -- simlab rerank -------------------------------------------------------------------------------------------
BiEncoder = Annotated[Path, typer.Argument(help="A graph bi-encoder model.")]
PairArg = Annotated[
    Path, typer.Argument(help="A graph pair model (re-ranker), or 'editpath' to re-rank by edit-path search.")
]
GraphQuery = Annotated[
    str, typer.Argument(help="A graph id of the bi-encoder's collection, or a graph file.")
]
Candidates = Annotated[int, typer.Option("--candidates", help="Bi-encoder candidates to re-rank.")]
RerankBlend = Annotated[
    float,
    typer.Option(
        "--blend", help="Weight of the bi-encoder's score against the re-ranker's (0: re-ranker only)."
    ),
]
RerankRestarts = Annotated[
    int, typer.Option("--restarts", min=1, help="Random restarts of the 'editpath' re-ranker.")
]


def rerank_cmd(
    biencoder: BiEncoder,
    pair: PairArg,
    query: GraphQuery,
    k: K = 10,
    candidates: Candidates = 100,
    blend: RerankBlend = 0.5,
    restarts: RerankRestarts = RESTARTS,
    as_json: Json = False,
) -> None:
    """Search the bi-encoder's collection and re-rank its top candidates with the pair model.

    Example: simlab rerank runs/aids-bi runs/aids-pair 12 -k 5
    """
    from simlab.artifacts import load
    from simlab.errors import ConfigError
    from simlab.graph.models import GraphBiEncoder

    bi = load(biencoder)
    if not isinstance(bi, GraphBiEncoder):  # its most_similar takes a re-ranker
        raise ConfigError(
            f"{biencoder}: a {type(bi).__name__} is not a graph bi-encoder (simlab train graph)"
        )
    if str(pair) == "editpath":
        from simlab.graph.refine import EditPathScorer

        pm: Any = EditPathScorer(restarts=restarts)
    else:
        pm = load(pair)
        if not can(pm, "reranks"):
            raise ConfigError(f"{pair}: a {type(pm).__name__} is not a graph pair model or 'editpath'")
    coll = bi.collection or []
    q: Any = parse_key(query, lambda key: key in coll)
    if q not in coll and Path(query).exists():
        from simlab.graph.io import read_graph_file

        q = read_graph_file(query)
    hits = bi.most_similar(q, k=k, rerank=pm, candidates=candidates, blend=blend)
    result = {"query": query, "hits": hit_rows(hits)}
    emit("rerank", result, as_json, lambda: print_table(result["hits"]))


# -- simlab graph evaluate -----------------------------------------------------------------------------------
EvalModel = Annotated[
    Path,
    typer.Argument(
        help="A model or vectors artifact ('editpath': edit-path search alone, for GED benchmarks)."
    ),
]
Bench = Annotated[str, typer.Argument(help="Benchmark name (simlab list evaluators), NAME:ARG, or a file.")]
EvalGraphs = Annotated[Path | None, typer.Option("--graphs", help="Graphs file for GED benchmarks.")]
EditPath = Annotated[
    int | None,
    typer.Option(
        "--edit-path",
        min=1,
        help="Graph models: refine the scores with edit-path bounds (N random restarts).",
    ),
]
Blend = Annotated[float, typer.Option("--blend", help="With --edit-path: weight of the model's estimate.")]


def evaluate_cmd(
    model: EvalModel,
    bench: Bench,
    graphs: EvalGraphs = None,
    edit_path: EditPath = None,
    blend: Blend = 0.5,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Evaluate a graph model on a GED benchmark, refined by edit-path bounds, or the edit-path search alone.

    Example: simlab graph evaluate runs/aids ged:AIDS700nef --edit-path 4 --blend 0.5
    """
    evaluate_graph(model, bench, graphs, edit_path, blend, threads, quiet, as_json, "graph evaluate")


def evaluate_graph(
    model: Path,
    bench: str,
    graphs: Path | None,
    edit_path: int | None,
    blend: float,
    threads: int | None,
    quiet: bool,
    as_json: bool,
    command: str = "evaluate",
) -> None:
    """What ``simlab graph evaluate`` does (and the deprecated graph options of ``simlab evaluate``)."""
    from simlab.graph.refine import EditPathScorer

    if str(model) == "editpath":
        obj: Any = EditPathScorer(restarts=RESTARTS if edit_path is None else edit_path, blend=0.0)
    else:
        obj = load_model_or_vectors(model)
        check_capable(obj, bench)
        if edit_path is not None:
            obj = EditPathScorer(obj, restarts=edit_path, blend=blend)
    opts = {"graphs": graphs} if graphs is not None else {}
    run_evaluation(obj, bench, opts, threads, quiet, as_json, command)


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the graph commands to the root app, the ``train`` group and the ``graph`` group."""
    app.command("ged")(ged_cmd)
    train_app.command("graph")(train_graph)
    train_app.command("nodes")(train_nodes)
    app.command("rerank")(rerank_cmd)
    graph_app = typer.Typer(
        help="Graph evaluation with edit-path bounds (other graph commands: ged, rerank, train graph).",
        no_args_is_help=True,
    )
    graph_app.command("evaluate")(evaluate_cmd)
    app.add_typer(graph_app, name="graph")
