"""Shared CLI machinery: the common options, the ``--json`` envelope and text output, key parsing, the
``--out`` checks, training helpers (option merging, ``--resume``, interruption), ``--threads``, progress bars,
warnings and help polish. Every command uses these instead of its own version (docs/cli.md documents the
conventions).

No heavy imports at module level (``simlab --help`` stays light; tqdm loads when a bar is made).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

ENVELOPE_KEYS = ("command", "ok", "result")

# -- the common options (one name, one help text, one default everywhere) ------------------------------------
FLAG = " "  # metavar of boolean flags: typer would otherwise show "<bool>"
Json = Annotated[
    bool,
    typer.Option(
        "--json",
        metavar=FLAG,
        help="Print the result as one JSON envelope {command, ok, result} on stdout (docs/cli.md).",
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", metavar=FLAG, help="No progress bar and no summary line on stderr.")
]
K = Annotated[int, typer.Option("-k", min=1, help="Number of neighbours.")]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed (default: the config's, 0).")]
Device = Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda or cuda:N (default: auto).")]
Threads = Annotated[
    int | None, typer.Option("--threads", min=1, help="CPU threads (default: the library's choice).")
]
OOV_CHOICES = ("error", "skip", "subword")
Oov = Annotated[
    Literal["error", "skip", "subword"] | None,
    typer.Option(
        "--oov",
        help="Unknown words: error, skip or subword (FastText n-grams) (default: the model's policy; "
        "--text: skip).",
    ),
]

FORCE_HELP = (
    "Replace an existing simlab artifact of another kind, or an input artifact (never anything else)."
)
Force = Annotated[bool, typer.Option("--force", metavar=FLAG, help=FORCE_HELP)]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="JSON config file.")]
Epochs = Annotated[
    int | None, typer.Option("--epochs", min=1, help="Training epochs (default: the config's).")
]
JsonSummary = Annotated[
    bool,
    typer.Option(
        "--json", metavar=FLAG, help="Print the summary as one JSON envelope {command, ok, result}."
    ),
]
QuietTraining = Annotated[bool, typer.Option("--quiet", "-q", help="No training progress bar.")]
Address = Annotated[str | None, typer.Option("--address", help="Ray cluster address (implies ray).")]
RayCpus = Annotated[int | None, typer.Option("--cpus", help="CPUs of a local Ray instance.")]

_quiet = {"root": False}


def set_quiet(value: bool) -> None:
    """``simlab --quiet COMMAND``: silence every progress bar and summary line."""
    _quiet["root"] = bool(value)


# -- the --json envelope ------------------------------------------------------------------------------------
def envelope(command: str, result: Any, ok: bool = True) -> dict[str, Any]:
    """The one shape of every ``--json`` output: ``{"command": "simlab similar", "ok": true, "result": ...}``.

    On failure ``ok`` is false and ``result`` is ``{"error": "one line", "exit_code": N}``.
    """
    name = command if command.startswith("simlab") else f"simlab {command}"
    return {"command": name, "ok": ok, "result": result}


def emit(command: str, result: Any, as_json: bool, human: Any = None) -> None:
    """Print `result`: the JSON envelope with ``--json``, else ``human()`` (a callable printing text)."""
    if as_json:
        typer.echo(json.dumps(envelope(command, result), indent=2, default=_json_default, ensure_ascii=False))
    elif human is not None:
        human()


def quiet_root() -> bool:
    """Whether ``simlab --quiet`` (the root flag) was given."""
    return _quiet["root"]


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def hit_rows(hits: Any) -> list[dict[str, Any]]:
    """``[(key, similarity), ...]`` -> rows ``{rank, key, similarity}`` (the one shape of neighbour lists)."""
    return [{"rank": i + 1, "key": key, "similarity": float(s)} for i, (key, s) in enumerate(hits)]


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
    widths = {c: max(len(c), *(len(format_value(r.get(c, ""))) for r in rows)) for c in cols}
    typer.echo("  ".join(c.ljust(widths[c]) for c in cols))
    typer.echo("  ".join("-" * widths[c] for c in cols))
    for r in rows:
        typer.echo("  ".join(format_value(r.get(c, "")).ljust(widths[c]) for c in cols))


# -- keys ----------------------------------------------------------------------------------------------------
def parse_key(text: str, contains: Any) -> Any:
    """A key as typed on the command line: the string if `contains` has it, else the integer it spells when
    `contains` has that (integer keys such as node ids), else the string (the caller reports it unknown)."""
    if contains(text):
        return text
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        with contextlib.suppress(Exception):
            if contains(int(stripped)):
                return int(stripped)
    return text


# -- outputs -------------------------------------------------------------------------------------------------
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


# -- options and training ------------------------------------------------------------------------------------
def check_positive(name: str, value: float | None, minimum: float = 0.0, allow_equal: bool = True) -> None:
    """Refuse NaN, infinite and out-of-range numeric options with a usage error naming the option."""
    import math

    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise typer.BadParameter(f"{name} must be a finite number, got {value}")
    if value < minimum or (value == minimum and not allow_equal):
        raise typer.BadParameter(f"{name} must be {'>=' if allow_equal else '>'} {minimum}, got {value}")


def thread_scope(threads: int | None) -> Any:
    """``--threads N`` for the duration of a block: BLAS threads, and torch's when torch is loaded (enter the
    block after loading a torch model), restored afterwards (:func:`simlab.model.thread_limit`)."""
    from simlab.model import thread_limit

    return thread_limit(threads)


def merge_options(
    sets: list[str] | None, config: Path | None, quiet: bool | None = False, **flags: Any
) -> dict[str, Any]:
    """Merge config file < the flags that were given < ``--set`` overrides; ``--quiet`` (or no terminal) turns
    the training's progress bar off (``quiet=None``: the flags say it)."""
    from simlab.config import load_config_file, parse_overrides

    opts = {
        **load_config_file(config),
        **{k: v for k, v in flags.items() if v is not None},
        **parse_overrides(sets or []),
    }
    if quiet is not None and not progress_enabled(quiet) and "progress" not in opts:
        opts["progress"] = False
    return opts


RESUMABLE = ("epochs", "lr", "patience", "seed", "device", "threads", "progress")


def resume_model(path: Path, kind: str, changes: dict[str, Any]) -> Any:
    """Load a saved model of `kind` to continue training; only `RESUMABLE` settings may change.

    Raises:
        ConfigError: naming the settings that a resumed run cannot change.
    """
    from simlab.artifacts import load
    from simlab.config import from_dict, to_dict
    from simlab.errors import ConfigError
    from simlab.model import Model

    model = load(path, kind=kind)
    current = to_dict(model.config)
    train = current.get("train")
    flat = {**current, **train} if isinstance(train, dict) else current  # a composed TrainConfig
    fixed = sorted(k for k, v in changes.items() if k not in RESUMABLE and flat.get(k, object()) != v)
    if fixed:
        raise ConfigError(
            f"--resume continues a trained model; cannot change {', '.join(fixed)} "
            f"(only {', '.join(RESUMABLE)} apply)"
        )
    if isinstance(model, Model):
        model.config = model.build_config(model.config, **changes)
    else:
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


def run_evaluation(
    obj: Any,
    bench: str,
    opts: dict[str, Any],
    threads: int | None,
    quiet: bool,
    as_json: bool,
    command: str = "evaluate",
) -> None:
    """Evaluate `obj` on `bench` (``--threads`` for the call), with a progress line, and print the report."""
    from simlab.evaluate import evaluate as _evaluate

    with progress(f"evaluate {bench}", total=1, unit="benchmark", quiet=quiet) as bar:
        with thread_scope(threads):
            report = _evaluate(obj, bench, **opts)
        bar.update(1, **{report.primary: report.value})
    emit(command, report.to_dict(), as_json, lambda: typer.echo(report.to_table()))


# -- progress ------------------------------------------------------------------------------------------------
def progress_enabled(quiet: bool = False) -> bool:
    """A bar is drawn only on a terminal (stderr is a TTY) and without ``--quiet``."""
    return not (quiet or _quiet["root"]) and sys.stderr.isatty()


class Progress:
    """One bar over a whole job (total, rate, ETA, the job's metric via :meth:`update`); no-op if disabled."""

    def __init__(self, bar: Any, desc: str, unit: str, quiet: bool) -> None:
        self.bar, self.desc, self.unit, self.quiet = bar, desc, unit, quiet
        self.n, self.t0, self.metrics = 0, time.perf_counter(), {}

    def update(self, n: int = 1, **metrics: Any) -> None:
        """Advance by `n` units; `metrics` (e.g. ``loss=0.31``) show beside the bar and in the summary."""
        self.n += n
        self.metrics.update(metrics)
        if self.bar is not None:
            if metrics:
                from simlab.formatting import format_value

                self.bar.set_postfix({k: format_value(v) for k, v in metrics.items()}, refresh=False)
            self.bar.update(n)

    def summary(self) -> str:
        """``desc: 3,000 doc in 21.4 s (140 doc/s), metric=...``."""
        from simlab.formatting import format_value

        s = time.perf_counter() - self.t0
        line = f"{self.desc}: "
        line += f"{format_value(self.n)} {self.unit} in {s:.1f} s" if self.n else f"done in {s:.1f} s"
        if self.n > 1 and s > 0:
            line += f" ({format_value(float(self.n / s))} {self.unit}/s)"
        if self.metrics:
            line += ", " + ", ".join(f"{k}={format_value(v)}" for k, v in self.metrics.items())
        return line


@contextlib.contextmanager
def progress(
    desc: str, total: int | None = None, unit: str = "it", quiet: bool = False
) -> Iterator[Progress]:
    """The CLI's one progress convention.

    A tqdm bar on stderr while the job runs, only on a terminal and without ``--quiet``; with no `total` (a
    job that cannot count its steps) the bar shows the elapsed time. When the job ends the bar is replaced by
    one summary line. Piped (stderr not a terminal) or with ``--quiet``: nothing at all. Example::

        with progress("embed", total=len(docs), unit="doc", quiet=quiet) as bar:
            for batch in batches:
                ...
                bar.update(len(batch))
    """
    quiet = quiet or _quiet["root"]
    bar = None
    stop = threading.Event()
    if progress_enabled(quiet):
        from tqdm.auto import tqdm

        fmt = None if total is not None else "{desc}: {n_fmt} " + unit + " [{elapsed}, {rate_fmt}{postfix}]"
        bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            leave=False,
            file=sys.stderr,
            dynamic_ncols=True,
            bar_format=fmt,
        )
        if total is None:

            def tick() -> None:
                while not stop.wait(0.5):
                    bar.refresh()

            threading.Thread(target=tick, daemon=True).start()
    p = Progress(bar, desc, unit, quiet)
    try:
        yield p
    finally:
        stop.set()
        if bar is not None:
            bar.close()
    if bar is not None:
        typer.echo(p.summary(), err=True)


# -- library warnings reach the user -------------------------------------------------------------------------
class _OneLine(logging.Formatter):
    """``warning: message`` (simlab's own records) or ``warning: gensim: message`` (third-party), one line."""

    def format(self, record: logging.LogRecord) -> str:
        msg = " ".join(record.getMessage().split())
        who = "" if record.name.split(".")[0] == "simlab" else f"{record.name.split('.')[0]}: "
        return f"{record.levelname.lower()}: {who}{msg}"


def show_library_warnings(verbose: bool = False) -> None:
    """Print log records (WARNING and up, INFO with ``--verbose``) and ``warnings.warn`` messages on stderr,
    one line each (``warning: ...``). Leaves logging alone when a handler is already configured (pytest)."""
    import warnings

    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine())
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])

    previous = warnings.showwarning
    if getattr(previous, "_simlab_cli", False):
        return
    here = str(Path(__file__).resolve().parents[1])

    def showwarning(
        message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        if str(filename).startswith(here):  # simlab's own warnings: one line; others as Python shows them
            sys.stderr.write(f"warning: {' '.join(str(message).split())}\n")
        else:
            previous(message, category, filename, lineno, file, line)

    showwarning._simlab_cli = True  # type: ignore[attr-defined]
    warnings.showwarning = showwarning  # type: ignore[assignment]


# -- help polish ---------------------------------------------------------------------------------------------
def polish_help(cmd: Any) -> Any:
    """Make help readable on a built click command tree: boolean flags show no ``<bool>``, arguments show
    their name in capitals. Returns `cmd`."""
    for param in getattr(cmd, "params", []):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = FLAG
        elif param.param_type_name == "argument" and param.metavar is None:
            param.metavar = (param.name or "arg").upper()
    with contextlib.suppress(Exception):  # --help itself (created lazily by click, then cached)
        helper = cmd.get_help_option(cmd.context_class(cmd))
        if helper is not None and helper.metavar is None:
            helper.metavar = FLAG
    for sub in getattr(cmd, "commands", {}).values():
        polish_help(sub)
    return cmd
