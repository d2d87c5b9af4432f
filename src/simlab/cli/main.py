"""Top-level CLI: ``simlab list|info|similar|embed|evaluate|demo`` and the command groups of each modality.

Modality modules (``simlab.cli.index_cmds``, ``simlab.cli.text``, ``simlab.cli.sequence``,
``simlab.cli.graph``) each define ``register(app, train_app)``; they must not import heavy packages at module
level. A :class:`SimlabError` exits 1 with one line on stderr (``--debug`` shows the traceback); usage errors
exit 2 (typer/click).
"""

from __future__ import annotations

import contextlib
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
FORCE_HELP = "Replace an existing simlab artifact of another kind, or an input artifact (never anything else)."
Force = Annotated[bool, typer.Option("--force", help=FORCE_HELP)]
CLI_MODULES = (
    "simlab.cli.index_cmds",
    "simlab.cli.text",
    "simlab.cli.sequence",
    "simlab.cli.graph",
    "simlab.cli.fusion",
    "simlab.cli.serve",
    "simlab.cli.scale",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("simlab")
        except PackageNotFoundError:
            v = "unknown"
        typer.echo(f"simlab {v}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress at INFO level.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_version)] = False,
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

    from simlab.formatting import format_value as fmt

    widths = {c: max(len(c), *(len(fmt(r.get(c, ""))) for r in rows)) for c in cols}
    typer.echo("  ".join(c.ljust(widths[c]) for c in cols))
    typer.echo("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        typer.echo("  ".join(fmt(r.get(c, "")).ljust(widths[c]) for c in cols))


def guard_out(out: Path, kind: str | tuple[str, ...] | None, force: bool = False,
              inputs: tuple[Any, ...] | list[Any] = ()) -> Path:
    """The one ``--out`` check of every command that writes an artifact; call it before any work.

    A new path, an empty folder or a simlab artifact of `kind` is accepted; a file, a folder that is not a
    simlab artifact and a path under a file are refused; an artifact of another kind or one of the command's
    `inputs` only with ``--force`` (see :func:`simlab.artifacts.check_out`).
    """
    from simlab.artifacts import check_out

    return check_out(out, kind, force=force, inputs=[i for i in inputs if isinstance(i, str | Path)])


def guard_out_file(out: Path, header: str, what: str) -> None:
    """Check an output *file* (``ged --out``): new, or simlab's own format (its first line is `header`)."""
    from simlab.errors import DataError

    if not os.path.lexists(out):
        if out.parent.exists() and not out.parent.is_dir():
            raise DataError("cannot write here: the parent is a file, not a directory", out)
        return
    if not out.is_file():
        raise DataError(f"exists and is not a file; refusing to write {what} there", out)
    try:
        with out.open("rb") as f:
            first = f.readline(4096)
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", out) from None
    if first and not first.decode("utf-8", "replace").startswith(header):
        raise DataError(f"exists and is not a simlab {what}; refusing to overwrite it (choose a new --out)", out)


RESUMABLE = ("epochs", "lr", "patience", "seed", "device", "threads", "progress")


def resume_model(path: Path, kind: str, changes: dict[str, Any]) -> Any:
    """Load a saved model of `kind` to continue training; only `RESUMABLE` settings may change.

    Raises:
        ConfigError: naming the settings that a resumed run cannot change.
    """
    from simlab.artifacts import load
    from simlab.config import from_dict, to_dict
    from simlab.errors import ConfigError

    model = load(path, kind=kind)
    current = to_dict(model.config)
    fixed = sorted(k for k, v in changes.items() if k not in RESUMABLE and current.get(k, object()) != v)
    if fixed:
        raise ConfigError(f"--resume continues a trained model; cannot change {', '.join(fixed)} "
                          f"(only {', '.join(RESUMABLE)} apply)")
    model.config = from_dict(type(model.config), {**current, **changes})
    return model


def report_interrupted(history: dict[str, Any], out: Path) -> None:
    """After saving a training that Ctrl-C / SIGTERM stopped: say so and exit 130 (143 for SIGTERM)."""
    how = (history or {}).get("interrupted")
    if how:
        epoch = history.get("best_epoch")
        typer.echo(f"interrupted: saved the best model so far{f' (epoch {epoch})' if epoch else ''} to {out}; "
                   "continue with --resume", err=True)
        sys.exit(143 if how == "terminated" else 130)


def check_positive(name: str, value: float | None, minimum: float = 0.0, allow_equal: bool = True) -> None:
    """Refuse NaN, infinite and out-of-range numeric options with a usage error naming the option."""
    import math

    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise typer.BadParameter(f"{name} must be a finite number, got {value}")
    if value < minimum or (value == minimum and not allow_equal):
        raise typer.BadParameter(f"{name} must be {'>=' if allow_equal else '>'} {minimum}, got {value}")


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
    out: Annotated[Path, typer.Option("--out", help="Output Vectors artifact directory (new, or a vectors "
                                                    "artifact to replace); Parquet parts with --engine or a "
                                                    ".parquet input/output.")],
    force: Force = False,
    # streaming path (simlab.cli.scale): JSONL/TSV/Parquet in, Parquet id + vector out, on an engine
    engine: Annotated[str | None, typer.Option("--engine", help="Stream on 'local' or 'ray' (Parquet out).")] = None,
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (implies ray).")] = None,
    cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs of a local Ray instance.")] = None,
    field: Annotated[str | None, typer.Option("--field", help="Streaming: text field/column (default text).")] = None,
    id_field: Annotated[str | None, typer.Option("--id-field", help="Streaming: id field/column.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="Streaming: auto, text, jsonl, tsv, csv, parquet.")] = None,
) -> None:
    """Embed items from a file with a trained model; writes a Vectors artifact (or Parquet parts, streaming)."""
    from simlab.artifacts import load
    from simlab.cli.scale import embed_streaming, wants_engine

    if wants_engine(engine, address, cpus, input, out) or any(x is not None for x in (fmt, field, id_field)):
        embed_streaming(model, input, out, engine, address, cpus, field, id_field, fmt or "auto", overwrite=force)
        return
    guard_out(out, "vectors", force, inputs=(model, input))
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
    from simlab.errors import DataError

    if os.path.lexists(out) and not out.is_dir():
        raise DataError("exists and is not a folder; choose a new --out for the demo", out)
    if out.is_dir() and any(out.iterdir()) and not (out / "report.html").is_file():
        raise DataError("is a folder with other files (not an earlier demo); choose a new --out", out)

    result = run_demo(out, quick=quick, sections=sections.split(",") if sections else None,
                      on_event=lambda msg: typer.echo(msg, err=True))
    for sec in result.sections:
        typer.echo(f"\n== {sec.title} ({sec.seconds:.1f}s)")
        print_table(sec.rows)
    typer.echo(f"\nreport: {result.report_path}")
    for note in result.notes:
        typer.echo(note)


for _mod in CLI_MODULES:
    try:
        importlib.import_module(_mod).register(app, train_app)
    except ModuleNotFoundError as _exc:
        if _exc.name != _mod:
            raise


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup (and a training's best-so-far save) runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _command_name(argv: list[str]) -> str:
    """``simlab train word2vec`` from the arguments (the first two words that are not options)."""
    words = [a for a in argv if not a.startswith("-")][:2]
    groups = {"train", "index"}
    if words and words[0] not in groups:
        words = words[:1]
    return " ".join(["simlab", *words])


def _one_line(exc: BaseException) -> str:
    """A one-line description of an unexpected exception (no traceback)."""
    import errno

    if isinstance(exc, MemoryError):
        return "out of memory (the input or a setting asks for more memory than this machine has)"
    if isinstance(exc, RecursionError):
        return "input nested too deeply"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return f"cannot write: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f": {exc.filename}" if exc.filename else "")
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr for every failure, never a traceback (``--debug`` shows it).

    Exit codes: 0 success, 1 error, 2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
    """
    import signal

    args = list(sys.argv[1:] if argv is None else argv)
    _state["debug"] = "--debug" in args
    previous = None
    with contextlib.suppress(ValueError):  # not the main thread
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _run(args)
    finally:
        if previous is not None:  # main() may run inside another program (tests): leave its handler as it was
            signal.signal(signal.SIGTERM, previous)


def _run(args: list[str]) -> None:
    """Run the app; every failure becomes one line and an exit code (see :func:`main`)."""
    try:
        cmd = typer.main.get_command(app)
        with cmd.make_context("simlab", args) as ctx:  # not cmd.main: it turns Ctrl-C into a silent Abort
            cmd.invoke(ctx)
    except SimlabError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # the reader of stdout went away (`simlab ... | head`): stop quietly, like SIGPIPE
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except KeyboardInterrupt as exc:
        if _state["debug"]:
            raise
        typer.echo("interrupted", err=True)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    except Exception as exc:
        # click (vendored by typer) usage errors: duck-typed so no private module is imported
        name = type(exc).__name__
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(exc.exit_code)
        if name == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if name == "Abort":
            typer.echo("interrupted", err=True)
            sys.exit(143 if isinstance(exc.__context__, Terminated) else 130)
        if _state["debug"]:
            raise
        typer.echo(f"error: {_command_name(args)}: {_one_line(exc)} (--debug shows the traceback)", err=True)
        sys.exit(1)
