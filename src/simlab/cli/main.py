"""Top-level CLI: ``simlab list|info|similar|embed|evaluate|demo`` and the command groups of each modality.

Modality modules (``simlab.cli.index_cmds``, ``simlab.cli.text``, ``simlab.cli.sequence``,
``simlab.cli.graph``) each define ``register(app, train_app)``; they must not import heavy packages at module
level. A :class:`SimlabError` exits 1 with one line on stderr (``--debug`` shows the traceback); usage errors
exit 2 (typer/click).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.errors import SimlabError

app = typer.Typer(
    name="simlab",
    help="Learn, measure and search similarity between words, documents, sequences and graphs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Train a model (word2vec, fasttext, doc2vec, siamese, graph, nodes).",
                        no_args_is_help=True)
app.add_typer(train_app, name="train")

_state: dict[str, Any] = {"debug": False}
CLI_MODULES = ("simlab.cli.index_cmds", "simlab.cli.text", "simlab.cli.sequence", "simlab.cli.graph")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress at INFO level.")] = False,
) -> None:
    _state["debug"] = debug
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def echo_json(obj: Any) -> None:
    """Print `obj` as JSON."""
    typer.echo(json.dumps(obj, indent=2, default=str, ensure_ascii=False))


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """Print rows as an aligned text table."""
    if not rows:
        typer.echo("(no rows)")
        return
    cols = columns or list(rows[0])

    def fmt(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    widths = {c: max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols}
    typer.echo("  ".join(c.ljust(widths[c]) for c in cols))
    typer.echo("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        typer.echo("  ".join(fmt(r.get(c, "")).ljust(widths[c]) for c in cols))


def set_threads(threads: int | None) -> None:
    """Pin BLAS/OpenMP/torch threads (torch only if it is already imported or needed later)."""
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)


@app.command("list")
def list_cmd(
    what: Annotated[str, typer.Argument(help="metrics, indexes, encoders, losses, evaluators, kinds or models")] = "metrics",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List registered components."""
    from simlab.errors import UnknownNameError
    from simlab.registry import ALL

    if what not in ALL:
        raise UnknownNameError("registry", what, ALL)
    desc = ALL[what].describe()
    if as_json:
        echo_json(desc)
    else:
        print_table([{"name": k, "description": v} for k, v in desc.items()])


@app.command()
def info(path: Annotated[Path, typer.Argument(help="An artifact directory.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show an artifact's manifest (kind, config, files, metrics); checksums are verified."""
    from simlab.artifacts import info as _info

    data = _info(path)
    if as_json:
        echo_json(data)
        return
    typer.echo(f"{data['path']}: kind={data['kind']} format_version={data['format_version']}")
    for k, v in data.get("config", {}).items():
        typer.echo(f"  config.{k} = {v}")
    for k, v in data.get("metrics", {}).items():
        typer.echo(f"  metrics.{k} = {v}")
    for name, f in data.get("files", {}).items():
        typer.echo(f"  file {name}: {f['bytes']} bytes sha256={f['sha256'][:12]}")


@app.command()
def similar(
    model: Annotated[Path, typer.Argument(help="A model or vectors artifact.")],
    query: Annotated[list[str] | None, typer.Argument(help="A key; two keys (A B) print their similarity.")] = None,
    k: Annotated[int, typer.Option("-k", help="Number of neighbours.")] = 10,
    text: Annotated[str | None, typer.Option("--text", help="Free text (document and sentence models).")] = None,
    analogy: Annotated[tuple[str, str, str] | None, typer.Option("--analogy", help="a b c: a is to b as c is to ?")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Nearest neighbours of a query, the similarity of two items, or an analogy."""
    from simlab.artifacts import load

    obj = load(model)
    query = query or []
    if analogy:
        vecs = getattr(obj, "vectors", obj)
        hits = vecs.analogy(*analogy, k=k)
    elif len(query) == 2 and text is None:
        score = obj.similarity(query[0], query[1])
        if as_json:
            echo_json({"a": query[0], "b": query[1], "similarity": score})
        else:
            typer.echo(f"{score:.6f}")
        return
    elif text is not None:
        hits = obj.most_similar_text(text, k=k) if hasattr(obj, "most_similar_text") else obj.most_similar(text, k=k)
    elif len(query) == 1:
        hits = obj.most_similar(query[0], k=k)
    else:
        raise typer.BadParameter("give one key, two keys, --text or --analogy")
    rows = [{"rank": i + 1, "key": key, "similarity": float(s)} for i, (key, s) in enumerate(hits)]
    if as_json:
        echo_json(rows)
    else:
        print_table(rows)


@app.command()
def embed(
    model: Annotated[Path, typer.Argument(help="A trained model artifact.")],
    input: Annotated[Path, typer.Argument(help="Items to embed (format depends on the model).")],
    out: Annotated[Path, typer.Option("--out", help="Output Vectors artifact directory.")],
) -> None:
    """Embed items from a file with a trained model; writes a Vectors artifact."""
    from simlab.artifacts import load

    obj = load(model)
    if not hasattr(obj, "embed_file"):
        raise SimlabError(f"{model}: a {type(obj).__name__} cannot embed files")
    vecs = obj.embed_file(input)
    vecs.save(out)
    typer.echo(f"wrote {len(vecs)} vectors of dim {vecs.dim} to {out}")


@app.command()
def evaluate(
    model: Annotated[Path, typer.Argument(help="A model or vectors artifact ('editpath': edit-path search alone, "
                                               "for GED benchmarks).")],
    bench: Annotated[str, typer.Argument(help="Benchmark name (simlab list evaluators), NAME:ARG, or a file.")],
    graphs: Annotated[Path | None, typer.Option("--graphs", help="Graphs file for GED benchmarks.")] = None,
    edit_path: Annotated[int | None, typer.Option("--edit-path", help="Graph models: refine the scores with "
                                                                     "edit-path bounds (N random restarts).")] = None,
    blend: Annotated[float, typer.Option("--blend", help="With --edit-path: weight of the model's estimate.")] = 0.5,
    train: Annotated[Path | None, typer.Option("--train", help="Labelled training split for knn:TEST_FILE "
                                                               "(UCR TSV, .ts, .npy).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Evaluate a model on a benchmark and print the report."""
    from simlab.artifacts import load
    from simlab.evaluate import evaluate as _evaluate

    if str(model) == "editpath":
        from simlab.graph.refine import EditPathScorer

        obj: Any = EditPathScorer(restarts=8 if edit_path is None else edit_path, blend=0.0)
    else:
        obj = load(model)
        if edit_path is not None:
            from simlab.graph.refine import EditPathScorer

            obj = EditPathScorer(obj, restarts=edit_path, blend=blend)
    opts: dict[str, Any] = {"graphs": graphs} if graphs is not None else {}
    if train is not None:
        opts["train"] = train
    report = _evaluate(obj, bench, **opts)
    if as_json:
        echo_json(report.to_dict())
    else:
        typer.echo(report.to_table())


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html and artifacts.")] = Path("runs/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="Smaller settings (for tests).")] = False,
    sections: Annotated[str | None, typer.Option("--sections", help="Comma-separated subset of sections.")] = None,
) -> None:
    """Run the end-to-end demo on bundled data; print a results table and write DIR/report.html."""
    from simlab.demo import run_demo

    result = run_demo(out, quick=quick, sections=sections.split(",") if sections else None)
    for sec in result.sections:
        typer.echo(f"\n== {sec.title} ({sec.seconds:.1f}s)")
        print_table(sec.rows)
    typer.echo(f"\nreport: {result.report_path}")


for _mod in CLI_MODULES:
    try:
        importlib.import_module(_mod).register(app, train_app)
    except ModuleNotFoundError as _exc:
        if _exc.name != _mod:
            raise


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning a SimlabError into one line on stderr and exit code 1."""
    try:
        app(args=argv, standalone_mode=False)
    except SimlabError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # click (vendored by typer) usage errors: duck-typed so no private module is imported
        name = type(exc).__name__
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if name == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if name == "Abort":
            sys.exit(1)
        raise
