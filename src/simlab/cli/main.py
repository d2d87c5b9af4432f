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

from simlab.cli.common import (
    FLAG,
    FORCE_HELP,
    Address,
    Force,
    Json,
    K,
    Oov,
    Quiet,
    RayCpus,
    Threads,
    check_positive,
    echo_json,
    emit,
    envelope,
    format_value,
    guard_out,
    guard_out_file,
    hit_rows,
    parse_key,
    polish_help,
    print_table,
    progress,
    quiet_root,
    report_interrupted,
    resume_model,
    run_evaluation,
    set_quiet,
    show_library_warnings,
    thread_scope,
)
from simlab.cli.models import can, can_do, check_capable, keys_of, kind_of, load_model_or_vectors, vectors_of
from simlab.errors import SimlabError

# guard_out, FORCE_HELP, guard_out_file, check_positive, report_interrupted and resume_model live in
# simlab.cli.common; they stay importable from here for code written against docs/contributing.md
__all__ = [
    "FLAG",
    "FORCE_HELP",
    "Json",
    "K",
    "Quiet",
    "Threads",
    "can_do",
    "check_capable",
    "check_positive",
    "echo_json",
    "emit",
    "envelope",
    "guard_out",
    "guard_out_file",
    "hit_rows",
    "parse_key",
    "print_table",
    "progress",
    "report_interrupted",
    "resume_model",
]

app = typer.Typer(
    name="simlab",
    help="Learn, measure and search similarity between words, documents, sequences and graphs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(
    help="Train a model (word2vec, fasttext, doc2vec, siamese, graph, nodes).", no_args_is_help=True
)
app.add_typer(train_app, name="train")

_state: dict[str, Any] = {"debug": False}
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


Debug = Annotated[bool, typer.Option("--debug", metavar=FLAG, help="Show tracebacks of errors.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", metavar=FLAG, help="Log progress at INFO level.")]
QuietAll = Annotated[
    bool,
    typer.Option("--quiet", "-q", metavar=FLAG, help="No progress bars or summary lines (every command)."),
]
Version = Annotated[
    bool,
    typer.Option(
        "--version", metavar=FLAG, help="Print the version and exit.", is_eager=True, callback=_version
    ),
]


@app.callback()
def _root(
    debug: Debug = False, verbose: Verbose = False, quiet: QuietAll = False, version: Version = False
) -> None:
    _state["debug"] = debug
    set_quiet(quiet)
    show_library_warnings(verbose)


@app.command("list")
def list_cmd(
    what: Annotated[
        str,
        typer.Argument(help="What to list: metrics, indexes, encoders, losses, evaluators, kinds or models."),
    ] = "metrics",
    as_json: Json = False,
) -> None:
    """List registered components.

    Example: simlab list evaluators
    """
    from simlab.errors import UnknownNameError
    from simlab.registry import ALL

    if what not in ALL:
        raise UnknownNameError("registry", what, ALL)
    desc = ALL[what].describe()
    emit("list", desc, as_json, lambda: print_table([{"name": k, "description": v} for k, v in desc.items()]))


@app.command()
def info(path: Annotated[Path, typer.Argument(help="An artifact directory.")], as_json: Json = False) -> None:
    """Show an artifact's manifest (kind, config, files, metrics); checksums are verified.

    Example: simlab info runs/w2v
    """
    from simlab.artifacts import info as _info

    data = _info(path)

    def human() -> None:
        typer.echo(f"{data['path']}: kind={data['kind']} format_version={data['format_version']}")
        for k, v in data.get("config", {}).items():
            typer.echo(f"  config.{k} = {v}")
        for k, v in data.get("metrics", {}).items():
            typer.echo(f"  metrics.{k} = {format_value(v)}")
        for name, f in data.get("files", {}).items():
            typer.echo(f"  file {name}: {format_value(f['bytes'])} bytes sha256={f['sha256'][:12]}")

    emit("info", data, as_json, human)


def _text_hits(obj: Any, text: str, k: int, oov: str | None) -> Any:
    """``similar --text``: the model's own text encoder (``texts``), or for word models (``words``) and plain
    vectors the mean of the vectors of the text's tokens."""
    from simlab.errors import ConfigError
    from simlab.vectors import Vectors

    if can(obj, "texts"):
        if oov is not None:
            raise ConfigError(f"--oov applies to word models; a {kind_of(obj)} artifact {can_do(obj)}")
        return obj.most_similar_text(text, k=k)
    if not (can(obj, "words") or isinstance(obj, Vectors)):
        raise ConfigError(f"a {kind_of(obj)} model cannot embed free text; it {can_do(obj)}")
    return _word_mean_hits(obj, text, k, oov)


def _word_mean_hits(obj: Any, text: str, k: int, oov: str | None) -> Any:
    """Neighbours of the mean vector of the text's words (simlab's tokenizer; unknown words skipped unless
    ``--oov error``): through the word model's OOV policy (``words``), or on plain vectors."""
    from simlab.errors import DataError
    from simlab.text.corpus import tokenize

    toks = tokenize(text)
    contains = keys_of(obj)
    unknown = [t for t in toks if not contains(t)]
    words = can(obj, "words")
    if words:
        pol = oov or ("subword" if obj.config.oov == "subword" else "skip")
        known, _mat, skipped = obj.lookup(toks, pol)
    else:
        if unknown and oov == "error":
            raise DataError(f"unknown word(s) {', '.join(map(repr, unknown[:5]))} in --text")
        known, skipped = [t for t in toks if contains(t)], unknown
    if skipped:
        logging.getLogger("simlab.cli").warning(
            "--text: left out %d unknown word(s): %s", len(skipped), ", ".join(skipped[:10])
        )
    if not known:
        raise DataError(f"no known word in --text {text[:60]!r}")
    return obj.most_similar(toks, k=k, oov=pol) if words else obj.most_similar(known, k=k)


def _check_similar(obj: Any, query: list[str], text: str | None, analogy: Any, oov: str | None) -> None:
    """Refuse what `obj` cannot do, saying what it can."""
    from simlab.errors import ConfigError

    if oov is not None and not can(obj, "words") and text is None:
        raise ConfigError(
            f"--oov applies to word models (word2vec, fasttext); a {kind_of(obj)} artifact {can_do(obj)}"
        )
    pair = len(query) == 2 and text is None
    if not analogy and text is None and not (can(obj, "scores_pairs") if pair else can(obj, "searches")):
        what = "similarity" if pair else "most similar"
        raise ConfigError(f"a {kind_of(obj)} model has no {what}; it {can_do(obj)}")


def _analogy(obj: Any, analogy: tuple[str, str, str], k: int) -> dict[str, Any]:
    from simlab.errors import ConfigError

    vecs = vectors_of(obj)
    if vecs is None:
        raise ConfigError(f"a {kind_of(obj)} model has no word vectors for analogies; it {can_do(obj)}")
    return {
        "query": " : ".join(analogy[:2]) + f" :: {analogy[2]} : ?",
        "hits": hit_rows(vecs.analogy(*analogy, k=k)),
    }


ModelArg = Annotated[
    Path, typer.Argument(help="A model or vectors artifact, or a word2vec .txt/.vec/.bin file.")
]
QueryArg = Annotated[list[str] | None, typer.Argument(help="A key; two keys (A B) print their similarity.")]
Text = Annotated[
    str | None,
    typer.Option(
        "--text",
        help="Free text, embedded with the model's own tokenizer "
        "(word models: the mean of its words' vectors).",
    ),
]
Analogy = Annotated[
    tuple[str, str, str] | None, typer.Option("--analogy", metavar="A B C", help="a is to b as c is to ?")
]


@app.command()
def similar(
    model: ModelArg,
    query: QueryArg = None,
    k: K = 10,
    text: Text = None,
    analogy: Analogy = None,
    oov: Oov = None,
    as_json: Json = False,
) -> None:
    """Nearest neighbours of a query, the similarity of two items, or an analogy.

    Example: simlab similar runs/w2v movie -k 5
    """
    obj = load_model_or_vectors(model)
    query = query or []
    _check_similar(obj, query, text, analogy, oov)
    kw = {"oov": oov} if oov is not None and can(obj, "words") else {}
    if analogy:
        result = _analogy(obj, analogy, k)
    elif len(query) == 2 and text is None:
        a, b = (parse_key(q, keys_of(obj)) for q in query)
        score = float(obj.similarity(a, b, **kw))
        pair = {"a": query[0], "b": query[1], "similarity": score}
        emit("similar", pair, as_json, lambda: typer.echo(format_value(score)))
        return
    elif text is not None:
        result = {"query": text, "hits": hit_rows(_text_hits(obj, text, k, oov))}
    elif len(query) == 1:
        key = parse_key(query[0], keys_of(obj))
        result = {"query": query[0], "hits": hit_rows(obj.most_similar(key, k=k, **kw))}
    else:
        raise typer.BadParameter("give one key, two keys, --text or --analogy")
    emit("similar", result, as_json, lambda: print_table(result["hits"]))


EmbedModel = Annotated[Path, typer.Argument(help="A trained model artifact.")]
EmbedInput = Annotated[
    Path,
    typer.Argument(
        help="Items to embed: words one a line (word models), documents "
        "(doc2vec, sif), sentences or series (siamese), graphs."
    ),
]
EmbedOut = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Output Vectors artifact directory (new, or a vectors "
        "artifact to replace); Parquet parts with --engine or a "
        ".parquet input/output.",
    ),
]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Documents inferred per batch (doc2vec).")
]
# streaming path (simlab.cli.scale): JSONL/TSV/Parquet in, Parquet id + vector out, on an engine
StreamEngine = Annotated[
    str | None, typer.Option("--engine", help="Stream on 'local' or 'ray' (Parquet out).")
]
Field = Annotated[str | None, typer.Option("--field", help="Streaming: text field/column (default text).")]
IdField = Annotated[str | None, typer.Option("--id-field", help="Streaming: id field/column.")]
Format = Annotated[
    str | None, typer.Option("--format", help="Streaming: auto, text, jsonl, tsv, csv, parquet.")
]


@app.command()
def embed(
    model: EmbedModel,
    input: EmbedInput,
    out: EmbedOut,
    oov: Oov = None,
    batch_size: BatchSize = 256,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
    engine: StreamEngine = None,
    address: Address = None,
    cpus: RayCpus = None,
    field: Field = None,
    id_field: IdField = None,
    fmt: Format = None,
) -> None:
    """Embed items from a file with a trained model; writes a Vectors artifact (or Parquet parts, streaming).

    Example: simlab embed runs/d2v reviews.txt --out runs/review-vectors
    """
    from simlab.cli.scale import embed_streaming, wants_engine

    if wants_engine(engine, address, cpus, input, out) or any(x is not None for x in (fmt, field, id_field)):
        embed_streaming(
            model, input, out, engine, address, cpus, field, id_field, fmt or "auto", force, as_json
        )
        return
    guard_out(out, "vectors", force, inputs=(model, input))
    obj = load_model_or_vectors(model)
    with thread_scope(threads):
        vecs = _embed_file(obj, model, input, oov, batch_size, quiet)
    vecs.save(out)
    emit(
        "embed",
        {"out": str(out), "count": len(vecs), "dim": vecs.dim},
        as_json,
        lambda: typer.echo(f"wrote {format_value(len(vecs))} vectors of dim {vecs.dim} to {out}"),
    )


def _embed_file(obj: Any, model: Path, input: Path, oov: str | None, batch_size: int, quiet: bool) -> Any:
    """``obj.embed_file(input)`` with the options its signature takes (``oov`` only for word models)."""
    import inspect

    from simlab.errors import ConfigError

    if not can(obj, "embeds"):
        raise SimlabError(f"{model}: a {kind_of(obj)} artifact cannot embed files; it {can_do(obj)}")
    params = inspect.signature(obj.embed_file).parameters
    kw: dict[str, Any] = {}
    if oov is not None:
        if not can(obj, "words"):
            raise ConfigError(f"--oov applies to word models (word2vec, fasttext), not a {kind_of(obj)}")
        kw["oov"] = oov
    if "batch_size" in params:
        kw["batch_size"] = batch_size
    with progress(f"embed {input.name}", unit="item", quiet=quiet) as bar:
        if "progress" in params:
            kw["progress"] = bar.update
        return obj.embed_file(input, **kw)


EvalModel = Annotated[Path, typer.Argument(help="A model or vectors artifact.")]
Bench = Annotated[str, typer.Argument(help="Benchmark name (simlab list evaluators), NAME:ARG, or a file.")]
TrainSplit = Annotated[
    Path | None,
    typer.Option("--train", help="Labelled training split for knn:TEST_FILE (UCR TSV, .ts, .npy)."),
]
# graph-only options, moved to `simlab graph evaluate` (kept here, hidden, for one release)
OldGraphs = Annotated[
    Path | None, typer.Option("--graphs", hidden=True, help="Moved: simlab graph evaluate.")
]
OldEditPath = Annotated[
    int | None, typer.Option("--edit-path", min=1, hidden=True, help="Moved: simlab graph evaluate.")
]
OldBlend = Annotated[float | None, typer.Option("--blend", hidden=True, help="Moved: simlab graph evaluate.")]


@app.command()
def evaluate(
    model: EvalModel,
    bench: Bench,
    train: TrainSplit = None,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
    graphs: OldGraphs = None,
    edit_path: OldEditPath = None,
    blend: OldBlend = None,
) -> None:
    """Evaluate a model on a benchmark and print the report.

    Example: simlab evaluate runs/w2v wordsim353
    """
    if str(model) == "editpath" or any(x is not None for x in (graphs, edit_path, blend)):
        from simlab.cli.graph import evaluate_graph

        typer.echo(
            "warning: 'simlab evaluate' with editpath, --graphs, --edit-path or --blend is deprecated; "
            "use 'simlab graph evaluate' (same arguments)",
            err=True,
        )
        evaluate_graph(
            model, bench, graphs, edit_path, 0.5 if blend is None else blend, threads, quiet, as_json
        )
        return
    obj = load_model_or_vectors(model)
    check_capable(obj, bench)
    run_evaluation(obj, bench, {"train": train} if train is not None else {}, threads, quiet, as_json)


DEMO_SECTIONS = ("core", "text", "sequence", "graph", "fusion")  # simlab.demo.SECTION_MODULES (tested)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for report.html and artifacts.")] = Path(
        "runs/demo"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", metavar=FLAG, help="Smaller settings (for tests).")
    ] = False,
    sections: Annotated[
        str | None,
        typer.Option(
            "--sections",
            help="Comma-separated subset of sections: " + ", ".join(DEMO_SECTIONS) + " (default: all).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of every section.")] = 0,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Run the end-to-end demo on bundled data; print a results table and write DIR/report.html.

    Example: simlab demo --out runs/demo --sections text,index
    """
    from simlab.demo import run_demo
    from simlab.errors import DataError

    if os.path.lexists(out) and not out.is_dir():
        raise DataError("exists and is not a folder; choose a new --out for the demo", out)
    if out.is_dir() and any(out.iterdir()) and not (out / "report.html").is_file():
        raise DataError("is a folder with other files (not an earlier demo); choose a new --out", out)

    quiet = quiet or quiet_root()
    result = run_demo(
        out,
        quick=quick,
        sections=sections.split(",") if sections else None,
        seed=seed,
        on_event=None if quiet else (lambda msg: typer.echo(msg, err=True)),
    )

    def human() -> None:
        for sec in result.sections:
            typer.echo(f"\n== {sec.title} ({sec.seconds:.1f}s)")
            print_table(sec.rows)
        typer.echo(f"\nreport: {result.report_path}")
        for note in result.notes:
            typer.echo(note)

    emit(
        "demo",
        {
            "report": str(result.report_path),
            "notes": list(result.notes),
            "sections": [{"title": s.title, "seconds": s.seconds, "rows": s.rows} for s in result.sections],
        },
        as_json,
        human,
    )


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
    groups = {"train", "index", "graph"}
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
        cmd = polish_help(typer.main.get_command(app))
        with cmd.make_context("simlab", args) as ctx:  # not cmd.main: it turns Ctrl-C into a silent Abort
            cmd.invoke(ctx)
    except SimlabError as exc:
        if _state["debug"]:
            raise
        _fail(args, " ".join(str(exc).split()).replace("oov='skip'", "--oov skip"), 1)  # the CLI's words
    except (
        BrokenPipeError
    ):  # the reader of stdout went away (`simlab ... | head`): stop quietly, like SIGPIPE
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except KeyboardInterrupt as exc:
        if _state["debug"]:
            raise
        _fail(args, "interrupted", 143 if isinstance(exc, Terminated) else 130, prefix="")
    except Exception as exc:
        # click (vendored by typer) usage errors: duck-typed so no private module is imported
        name = type(exc).__name__
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
            _fail(args, " ".join(str(msg).split()), exc.exit_code, echo=False)
        if name == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if name == "Abort":
            _fail(args, "interrupted", 143 if isinstance(exc.__context__, Terminated) else 130, prefix="")
        if _state["debug"]:
            raise
        _fail(args, f"{_command_name(args)}: {_one_line(exc)} (--debug shows the traceback)", 1)


def _fail(args: list[str], message: str, code: int, prefix: str = "error: ", echo: bool = True) -> None:
    """Exit `code` after one line on stderr; with ``--json`` also the failure envelope on stdout."""
    if echo:
        typer.echo(f"{prefix}{message}", err=True)
    if "--json" in args and code:
        typer.echo(
            json.dumps(
                envelope(_command_name(args), {"error": message, "exit_code": code}, ok=False),
                indent=2,
                ensure_ascii=False,
            )
        )
    sys.exit(code)
