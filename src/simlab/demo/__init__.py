"""The end-to-end demo: every capability runs on bundled data and adds a section to ``report.html``.

Each section lives in its own module (``simlab.demo.core``, ``.text``, ``.sequence``, ``.graph``) exposing
``TITLE`` and ``run(ctx: DemoContext) -> Section``. Data comes only from installed wheels or is generated in
code, so the demo runs offline.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError

log = logging.getLogger(__name__)

SECTION_MODULES = {
    "core": "simlab.demo.core",
    "text": "simlab.demo.text",
    "sequence": "simlab.demo.sequence",
    "graph": "simlab.demo.graph",
    "fusion": "simlab.demo.fusion",
}


@dataclass
class DemoContext:
    """What a section gets: where to write, how big to run, the seed."""

    out: Path
    quick: bool = False
    seed: int = 0
    threads: int = 2


@dataclass
class Section:
    """One section of the demo report.

    Attributes:
        title: heading.
        rows: the results table (list of dicts with the same keys).
        text: a short explanation (plain text, shown above the table).
        figures: ``(caption, png_bytes)`` pairs embedded in the report.
        seconds: wall time of the section (filled in by :func:`run_demo`).
    """

    title: str
    rows: list[dict[str, Any]]
    text: str = ""
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class DemoResult:
    sections: list[Section]
    report_path: Path
    notes: list[str] = field(default_factory=list)


def serve_hint(out: Path) -> str | None:
    """The ``simlab serve`` command that opens the web explorer on the servable artifacts under `out`."""
    import json

    from simlab.service.adapters import ADAPTERS

    found = []
    for manifest in sorted(out.glob("*/simlab.json")) + sorted(out.glob("*/*/simlab.json")):
        try:
            kind = json.loads(manifest.read_text("utf-8")).get("kind")
        except (OSError, ValueError):
            continue
        if kind in ADAPTERS:
            found.append(str(manifest.parent))
    if not found:
        return None
    return (
        f"explore the models: simlab serve {' '.join(found)}   (needs simlab[service]; "
        f"then open http://127.0.0.1:8000/)"
    )


def available_sections() -> list[str]:
    """Names of the sections whose module is installed."""
    return [name for name, mod in SECTION_MODULES.items() if importlib.util.find_spec(mod) is not None]


def run_demo(
    out: str | Path = "runs/demo",
    quick: bool = False,
    sections: list[str] | None = None,
    seed: int = 0,
    on_event: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo sections and write ``out/report.html``.

    Args:
        out: output directory (artifacts and the report).
        quick: smaller settings (used by the tests).
        sections: subset of section names; all available ones by default.
        seed: random seed for every section.
        on_event: called with one line as each section starts and ends (the CLI prints it to stderr); the
            library itself only logs at INFO.
    """
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "2")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = available_sections()
    if sections:
        unknown = sorted(set(sections) - set(names))
        if unknown:
            raise ConfigError(f"unknown demo section(s) {', '.join(unknown)}; valid: {', '.join(names)}")
        names = [n for n in names if n in sections]
    ctx = DemoContext(out=out, quick=quick, seed=seed)
    done: list[Section] = []
    say = on_event or (lambda msg: log.info("%s", msg))
    t_all = time.perf_counter()
    for i, name in enumerate(names, start=1):
        mod = importlib.import_module(SECTION_MODULES[name])
        say(f"[{i}/{len(names)}] {name}: {getattr(mod, 'TITLE', name)} ...")
        t0 = time.perf_counter()
        sec = mod.run(ctx)
        sec.seconds = time.perf_counter() - t0
        say(
            f"[{i}/{len(names)}] {name}: done in {sec.seconds:.1f} s "
            f"(total {time.perf_counter() - t_all:.0f} s)"
        )
        done.append(sec)
    from simlab.demo.report import write_report

    path = write_report(done, out / "report.html")
    hint = serve_hint(out)
    return DemoResult(done, path, [hint] if hint else [])
