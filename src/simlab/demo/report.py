"""HTML report of the demo: one self-contained file with tables and embedded PNG figures.

Figures follow one style: labelled axes, a palette with a distinct colour (and marker, past 20 classes) per
class, legends in natural order (c2 before c10), and text labels only where they do not overlap.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import io
import os
import platform
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simlab.demo import Section

#: packages whose versions the report header names (read from metadata; nothing is imported)
VERSIONED = ("simlab", "numpy", "torch", "faiss-cpu", "gensim", "torch-geometric", "scikit-learn")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that orders embedded numbers numerically: ``c2 < c10``."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(value)))


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def class_styles(classes: Sequence[Any]) -> dict[Any, tuple[Any, str]]:
    """A (colour, marker) per class: tab10 up to 10 classes, tab20 up to 20, then markers cycle too."""
    plt = _plt()
    n = len(classes)
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    size = 10 if n <= 10 else 20
    return {c: (cmap(i % size), _MARKERS[(i // size) % len(_MARKERS)]) for i, c in enumerate(classes)}


def _place_labels(ax: Any, pts: Any, texts: Sequence[str], max_labels: int = 40) -> int:
    """Annotate points, skipping a label whose box would overlap one already drawn; returns how many drawn."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for (x, y), t in zip(pts, texts, strict=False):
        if not t or len(placed) >= max_labels:
            continue
        ann = ax.annotate(t, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
        box = ann.get_window_extent(renderer).expanded(1.05, 1.1)
        if any(box.overlaps(b) for b in placed):
            ann.remove()
        else:
            placed.append(box)
    return len(placed)


def scatter_2d(
    points: Any,
    labels: Sequence[Any],
    title: str,
    annotate: Sequence[str] | None = None,
    xlabel: str = "component 1",
    ylabel: str = "component 2",
) -> bytes:
    """A 2-D scatter plot coloured by label (e.g. a PCA projection of embeddings), as PNG bytes.

    Args:
        points: ``(n, 2)`` coordinates.
        labels: ``n`` class labels (colour + marker per class, legend in natural order).
        title: plot title.
        annotate: optional ``n`` texts drawn next to the points where they do not overlap.
        xlabel: x-axis label (e.g. "PC 1 (23% of variance)").
        ylabel: y-axis label.
    """
    import numpy as np

    plt = _plt()
    pts = np.asarray(points)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    labs = list(labels)
    classes = sorted(set(labs), key=natural_key)
    styles = class_styles(classes)
    for lab in classes:
        m = np.array([x == lab for x in labs])
        colour, marker = styles[lab]
        ax.scatter(pts[m, 0], pts[m, 1], s=14, label=str(lab), alpha=0.8, color=colour, marker=marker)
    if annotate is not None:
        _place_labels(ax, pts, annotate)
    if len(classes) <= 24:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), title="class", title_fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return figure_png(fig)


def pca_2d(x: Any) -> tuple[Any, str, str]:
    """Project rows to their first two principal components; returns ``(points (n, 2), xlabel, ylabel)``."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    var = s**2 / max((s**2).sum(), 1e-300)
    return x @ vt[:2].T, f"PC 1 ({var[0]:.0%} of variance)", f"PC 2 ({var[1]:.0%} of variance)"


def line_plot(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    annotate: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Lines with markers, one per named series ``{name: (xs, ys)}`` (training curves, recall vs QPS)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    styles = class_styles(list(series))
    for name, (xs, ys) in series.items():
        colour, marker = styles[name]
        ax.plot(list(xs), list(ys), marker=marker, color=colour, label=name, markersize=4)
        for x, y, t in zip(xs, ys, (annotate or {}).get(name, ()), strict=False):
            ax.annotate(t, (x, y), fontsize=7, xytext=(3, -9), textcoords="offset points", color=colour)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return figure_png(fig)


def training_curve(history: Mapping[str, Any], title: str) -> bytes | None:
    """Loss (and dev metric, right axis) per epoch of a history (``simlab.train.History.to_dict``)."""
    epochs = history.get("epochs") or []
    if not epochs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    xs = [e["epoch"] for e in epochs]
    ax.plot(
        xs, [e["loss"] for e in epochs], marker="o", markersize=3, color="tab:blue", label="training loss"
    )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="tab:blue")
    dev = [(e["epoch"], e["dev"]) for e in epochs if e.get("dev") is not None]
    if dev:
        ax2 = ax.twinx()
        ax2.plot(
            [d[0] for d in dev],
            [d[1] for d in dev],
            marker="s",
            markersize=3,
            color="tab:orange",
            label="dev metric",
        )
        ax2.set_ylabel("dev metric (higher is better)", color="tab:orange")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return figure_png(fig)


def format_cell(v: Any) -> str:
    """A table cell (:func:`simlab.formatting.format_value`)."""
    from simlab.formatting import format_value

    return format_value(v)


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, else what :mod:`platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """Versions of simlab and its engines, CPU model, cores and thread setting."""
    vers = []
    for name in VERSIONED:
        try:
            vers.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    cpu = cpu_model()
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    return (
        f"Python {platform.python_version()} · {', '.join(vers)} · {cpu}, {os.cpu_count()} cores visible, "
        f"OMP_NUM_THREADS={threads}"
    )


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    cols = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(sections: Sequence[Section], path: Path) -> Path:
    """Write the report atomically and return its path."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>simlab demo</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}",
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;",
        "text-align:left;font-size:.9em}th{background:#f3f3f3}img{max-width:100%}",
        ".t{color:#666;font-size:.85em}",
        "figcaption{color:#444;font-size:.9em;margin-bottom:1.5em}</style></head><body><h1>simlab demo</h1>",
        f"<p class='t' id='machine'>{html.escape(time.strftime('%Y-%m-%d %H:%M'))} · "
        f"{html.escape(machine_line())}</p>",
    ]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2><p class='t'>{s.seconds:.1f} s</p>")
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        parts.append(_table(s.rows))
        for caption, png in s.figures:
            b64 = base64.b64encode(png).decode()
            parts.append(
                f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{b64}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(parts), "utf-8")
    tmp.replace(path)
    return path
