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
    Json,
    K,
    Oov,
    Quiet,
    Threads,
    emit,
    envelope,
    hit_rows,
    parse_key,
    polish_help,
    progress,
    set_quiet,
    show_library_warnings,
)
from simlab.errors import SimlabError

__all__ = ["FLAG", "Json", "K", "Quiet", "Threads", "emit", "envelope", "hit_rows", "parse_key", "progress"]

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
FORCE_HELP = (
    "Replace an existing simlab artifact of another kind, or an input artifact (never anything else)."
)
Force = Annotated[bool, typer.Option("--force", metavar=FLAG, help=FORCE_HELP)]
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
    debug: Annotated[bool, typer.Option("--debug", metavar=FLAG, help="Show tracebacks of errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", metavar=FLAG, help="Log progress at INFO level.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", metavar=FLAG, help="No progress bars or summary lines (every command)."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", metavar=FLAG, help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    _state["debug"] = debug
    set_quiet(quiet)
    show_library_warnings(verbose)


def _quiet_root() -> bool:
    from simlab.cli.common import _quiet

    return _quiet["root"]


def format_value(v: Any) -> str:
    """:func:`simlab.formatting.format_value` (imported when first used: ``simlab --help`` stays light)."""
    from simlab.formatting import format_value as fmt

    return fmt(v)


def echo_json(obj: Any, command: str | None = None) -> None:
    """Print `obj` as JSON; with `command`, wrapped in the envelope (prefer :func:`emit`)."""
    if command is not None:
        obj = envelope(command, obj)
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


def guard_out(
    out: Path,
    kind: str | tuple[str, ...] | None,
    force: bool = False,
    inputs: tuple[Any, ...] | list[Any] = (),
) -> Path:
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
        raise DataError(
            f"exists and is not a simlab {what}; refusing to overwrite it (choose a new --out)", out
        )


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
        raise ConfigError(
            f"--resume continues a trained model; cannot change {', '.join(fixed)} "
            f"(only {', '.join(RESUMABLE)} apply)"
        )
    model.config = from_dict(type(model.config), {**current, **changes})
    return model


def report_interrupted(history: dict[str, Any], out: Path) -> None:
    """After saving a training that Ctrl-C / SIGTERM stopped: say so and exit 130 (143 for SIGTERM)."""
    how = (history or {}).get("interrupted")
    if how:
        epoch = history.get("best_epoch")
        typer.echo(
            f"interrupted: saved the best model so far{f' (epoch {epoch})' if epoch else ''} to {out}; "
            "continue with --resume",
            err=True,
        )
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


WORD_BENCHES = ("wordsim353", "simlex999", "analogies", "word-pairs")
# what each kind can be asked (benchmark families of `simlab evaluate`); kinds not listed are not checked
CAN: dict[str, tuple[str, ...]] = {
    "word2vec": (*WORD_BENCHES, "pairs-file"),
    "fasttext": (*WORD_BENCHES, "pairs-file"),
    "graph-biencoder": ("ged",),
    "graph-pair": ("ged",),
    "graph-nodes": ("linkpred", "nodeclass"),
    "sequence-siamese": ("ucr", "retrieval", "sick", "stsb", "pairs", "pairs-file"),
}
SPECIFIC = (*WORD_BENCHES, "ged", "linkpred", "nodeclass", "ucr", "imdb")
HAS = {
    "word2vec": "word vectors",
    "fasttext": "word vectors",
    "graph-biencoder": "graph vectors",
    "graph-pair": "graph pair scores",
    "graph-nodes": "node vectors",
    "sequence-siamese": "a sequence encoder",
}


def can_do(obj: Any) -> str:
    """``can: similar KEY, embed FILE, evaluate ged`` -- what a loaded model supports, for error messages."""
    kind = kind_of(obj)
    can = []
    if hasattr(obj, "most_similar"):
        can.append("similar KEY")
    if hasattr(obj, "most_similar_text") or hasattr(obj, "lookup"):
        can.append("similar --text TEXT")
    if hasattr(obj, "embed_file"):
        can.append("embed FILE")
    if kind in CAN:
        can.append("evaluate " + "|".join(CAN[kind]))
    return "can: " + (", ".join(can) if can else "nothing the CLI offers")


def check_capable(obj: Any, bench: str) -> None:
    """Refuse a benchmark the model cannot run, saying what the model is and what it can do.

    Raises:
        ConfigError: e.g. "a graph-nodes model has node vectors, not word vectors; it can: ...".
    """
    from simlab.errors import ConfigError

    kind, family = kind_of(obj), bench.split(":", 1)[0]
    if kind in CAN and family in SPECIFIC and family not in CAN[kind]:
        needs = "word vectors" if family in WORD_BENCHES else f"what {family} evaluates"
        raise ConfigError(f"a {kind} model has {HAS.get(kind, 'no ' + needs)}, not {needs}; it {can_do(obj)}")


def load_model_or_vectors(path: Path) -> Any:
    """An artifact directory (any kind), or a word2vec ``.txt``/``.vec``/``.bin`` file as Vectors."""
    from simlab.cli.index_cmds import WORD2VEC_SUFFIXES, load_vectors

    if not path.is_dir() and path.suffix.lower() in WORD2VEC_SUFFIXES:
        return load_vectors(path)
    from simlab.artifacts import load

    return load(path)


def kind_of(obj: Any) -> str:
    """The artifact kind of a loaded object (``graph-nodes``, ``vectors``...), from the kinds registry."""
    from simlab.registry import KINDS

    cls = type(obj)
    for name, target in KINDS._items.items():
        if target is cls or (isinstance(target, str) and target == f"{cls.__module__}:{cls.__name__}"):
            return name
    return str(getattr(obj, "KIND", None) or cls.__name__)


def _contains(obj: Any) -> Any:
    def contains(key: Any) -> bool:
        for target in (obj, getattr(obj, "vectors", None)):
            with contextlib.suppress(Exception):
                if target is not None and key in target:
                    return True
        return False

    return contains


def _text_hits(obj: Any, text: str, k: int, oov: str | None) -> Any:
    """``similar --text``: the model's own text encoder, or for word models/vectors the mean of the vectors of
    the text's tokens (simlab's tokenizer; unknown words skipped unless ``--oov error``)."""
    from simlab.errors import ConfigError, DataError

    if hasattr(obj, "most_similar_text"):
        if oov is not None:
            raise ConfigError(f"--oov applies to word models; a {kind_of(obj)} artifact {can_do(obj)}")
        return obj.most_similar_text(text, k=k)
    if not (hasattr(obj, "lookup") or kind_of(obj) == "vectors"):
        raise ConfigError(f"a {kind_of(obj)} model cannot embed free text; it {can_do(obj)}")
    from simlab.text.corpus import tokenize

    toks = tokenize(text)
    contains = _contains(obj)
    unknown = [t for t in toks if not contains(t)]
    if hasattr(obj, "lookup"):
        pol = oov or ("subword" if getattr(obj.config, "oov", "") == "subword" else "skip")
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
    if hasattr(obj, "lookup"):
        return obj.most_similar(toks, k=k, oov=pol)
    return obj.most_similar(known, k=k)


@app.command()
def similar(
    model: Annotated[
        Path, typer.Argument(help="A model or vectors artifact, or a word2vec .txt/.vec/.bin file.")
    ],
    query: Annotated[
        list[str] | None, typer.Argument(help="A key; two keys (A B) print their similarity.")
    ] = None,
    k: K = 10,
    text: Annotated[
        str | None,
        typer.Option(
            "--text",
            help="Free text, embedded with the model's own tokenizer "
            "(word models: the mean of its words' vectors).",
        ),
    ] = None,
    analogy: Annotated[
        tuple[str, str, str] | None, typer.Option("--analogy", metavar="A B C", help="a is to b as c is to ?")
    ] = None,
    oov: Oov = None,
    as_json: Json = False,
) -> None:
    """Nearest neighbours of a query, the similarity of two items, or an analogy.

    Example: simlab similar runs/w2v movie -k 5
    """
    from simlab.errors import ConfigError

    obj = load_model_or_vectors(model)
    query = query or []
    if oov is not None and not hasattr(obj, "lookup") and text is None:
        raise ConfigError(
            f"--oov applies to word models (word2vec, fasttext); a {kind_of(obj)} artifact {can_do(obj)}"
        )
    kw = {"oov": oov} if oov is not None and hasattr(obj, "lookup") else {}
    needed = "similarity" if len(query) == 2 and text is None else "most_similar"
    if not analogy and text is None and not hasattr(obj, needed):
        raise ConfigError(f"a {kind_of(obj)} model has no {needed.replace('_', ' ')}; it {can_do(obj)}")
    contains = _contains(obj)
    if analogy:
        vecs = getattr(obj, "vectors", obj)
        if not hasattr(vecs, "analogy"):
            raise ConfigError(f"a {kind_of(obj)} model has no word vectors for analogies; it {can_do(obj)}")
        result = {
            "query": " : ".join(analogy[:2]) + f" :: {analogy[2]} : ?",
            "hits": hit_rows(vecs.analogy(*analogy, k=k)),
        }
    elif len(query) == 2 and text is None:
        a, b = (parse_key(q, contains) for q in query)
        score = float(obj.similarity(a, b, **kw))
        emit(
            "similar",
            {"a": query[0], "b": query[1], "similarity": score},
            as_json,
            lambda: typer.echo(format_value(score)),
        )
        return
    elif text is not None:
        result = {"query": text, "hits": hit_rows(_text_hits(obj, text, k, oov))}
    elif len(query) == 1:
        key = parse_key(query[0], contains)
        result = {"query": query[0], "hits": hit_rows(obj.most_similar(key, k=k, **kw))}
    else:
        raise typer.BadParameter("give one key, two keys, --text or --analogy")
    emit("similar", result, as_json, lambda: print_table(result["hits"]))


@app.command()
def embed(
    model: Annotated[Path, typer.Argument(help="A trained model artifact.")],
    input: Annotated[
        Path,
        typer.Argument(
            help="Items to embed: words one a line (word models), documents "
            "(doc2vec, sif), sentences or series (siamese), graphs."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output Vectors artifact directory (new, or a vectors "
            "artifact to replace); Parquet parts with --engine or a "
            ".parquet input/output.",
        ),
    ],
    oov: Oov = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Documents inferred per batch (doc2vec).")
    ] = 256,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
    # streaming path (simlab.cli.scale): JSONL/TSV/Parquet in, Parquet id + vector out, on an engine
    engine: Annotated[
        str | None, typer.Option("--engine", help="Stream on 'local' or 'ray' (Parquet out).")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address (implies ray).")
    ] = None,
    cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs of a local Ray instance.")] = None,
    field: Annotated[
        str | None, typer.Option("--field", help="Streaming: text field/column (default text).")
    ] = None,
    id_field: Annotated[str | None, typer.Option("--id-field", help="Streaming: id field/column.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="Streaming: auto, text, jsonl, tsv, csv, parquet.")
    ] = None,
) -> None:
    """Embed items from a file with a trained model; writes a Vectors artifact (or Parquet parts, streaming).

    Example: simlab embed runs/d2v reviews.txt --out runs/review-vectors
    """
    import inspect

    from simlab.cli.scale import embed_streaming, wants_engine
    from simlab.errors import ConfigError

    if wants_engine(engine, address, cpus, input, out) or any(x is not None for x in (fmt, field, id_field)):
        embed_streaming(
            model,
            input,
            out,
            engine,
            address,
            cpus,
            field,
            id_field,
            fmt or "auto",
            overwrite=force,
            as_json=as_json,
        )
        return
    guard_out(out, "vectors", force, inputs=(model, input))
    set_threads(threads)
    obj = load_model_or_vectors(model)
    if not hasattr(obj, "embed_file"):
        raise SimlabError(f"{model}: a {kind_of(obj)} artifact cannot embed files; it {can_do(obj)}")
    params = inspect.signature(obj.embed_file).parameters
    kw: dict[str, Any] = {}
    if oov is not None:
        if "oov" not in params:
            raise ConfigError(f"--oov applies to word models (word2vec, fasttext), not a {kind_of(obj)}")
        kw["oov"] = oov
    if "batch_size" in params:
        kw["batch_size"] = batch_size
    with progress(f"embed {input.name}", unit="item", quiet=quiet) as bar:
        if "progress" in params:
            kw["progress"] = bar.update
        vecs = obj.embed_file(input, **kw)
    vecs.save(out)
    emit(
        "embed",
        {"out": str(out), "count": len(vecs), "dim": vecs.dim},
        as_json,
        lambda: typer.echo(f"wrote {format_value(len(vecs))} vectors of dim {vecs.dim} to {out}"),
    )


@app.command()
def evaluate(
    model: Annotated[
        Path,
        typer.Argument(
            help="A model or vectors artifact ('editpath': edit-path search alone, for GED benchmarks)."
        ),
    ],
    bench: Annotated[
        str, typer.Argument(help="Benchmark name (simlab list evaluators), NAME:ARG, or a file.")
    ],
    graphs: Annotated[Path | None, typer.Option("--graphs", help="Graphs file for GED benchmarks.")] = None,
    edit_path: Annotated[
        int | None,
        typer.Option(
            "--edit-path",
            min=1,
            help="Graph models: refine the scores with edit-path bounds (N random restarts).",
        ),
    ] = None,
    blend: Annotated[
        float, typer.Option("--blend", help="With --edit-path: weight of the model's estimate.")
    ] = 0.5,
    train: Annotated[
        Path | None,
        typer.Option("--train", help="Labelled training split for knn:TEST_FILE (UCR TSV, .ts, .npy)."),
    ] = None,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Evaluate a model on a benchmark and print the report.

    Example: simlab evaluate runs/w2v wordsim353
    """
    from simlab.evaluate import evaluate as _evaluate

    set_threads(threads)
    if str(model) == "editpath":
        from simlab.graph.refine import EditPathScorer

        obj: Any = EditPathScorer(restarts=8 if edit_path is None else edit_path, blend=0.0)
    else:
        obj = load_model_or_vectors(model)
        check_capable(obj, bench)
        if edit_path is not None:
            from simlab.graph.refine import EditPathScorer

            obj = EditPathScorer(obj, restarts=edit_path, blend=blend)
    opts: dict[str, Any] = {"graphs": graphs} if graphs is not None else {}
    if train is not None:
        opts["train"] = train
    with progress(f"evaluate {bench}", total=1, unit="benchmark", quiet=quiet) as bar:
        report = _evaluate(obj, bench, **opts)
        bar.update(1, **{report.primary: report.value})
    emit("evaluate", report.to_dict(), as_json, lambda: typer.echo(report.to_table()))


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

    quiet = quiet or _quiet_root()
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
