"""Shared CLI machinery: the ``--json`` envelope, the common options, key parsing, progress bars, warnings and
help polish. Every command uses these instead of its own version (docs/cli.md documents the conventions).

No heavy imports at module level (``simlab --help`` stays light; tqdm loads when a bar is made).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

ENVELOPE_KEYS = ("command", "ok", "result")

# -- the common options (one name, one help text, one default everywhere) -------------------------------------
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


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def hit_rows(hits: Any) -> list[dict[str, Any]]:
    """``[(key, similarity), ...]`` -> rows ``{rank, key, similarity}`` (the one shape of neighbour lists)."""
    return [{"rank": i + 1, "key": key, "similarity": float(s)} for i, (key, s) in enumerate(hits)]


# -- keys ------------------------------------------------------------------------------------------------------
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


# -- progress --------------------------------------------------------------------------------------------------
def progress_enabled(quiet: bool = False) -> bool:
    """A bar is drawn only on a terminal (stderr is a TTY) and without ``--quiet``."""
    return not (quiet or _quiet["root"]) and sys.stderr.isatty()


class Progress:
    """One bar over a whole job (total, rate, ETA, the job's metric via :meth:`update`); a no-op when disabled."""

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

    A tqdm bar on stderr while the job runs, only on a terminal and without ``--quiet``; with no `total` (a job
    that cannot count its steps) the bar shows the elapsed time. When the job ends the bar is replaced by one
    summary line. Piped (stderr not a terminal) or with ``--quiet``: nothing at all. Example::

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
    one line each (``warning: ...``). Does nothing to logging when a handler is already configured (pytest)."""
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
