"""HTML report of the demo: one self-contained file with tables and embedded PNG figures."""

from __future__ import annotations

import base64
import html
import io
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simlab.demo import Section


def figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def scatter_2d(points: Any, labels: Sequence[Any], title: str, annotate: Sequence[str] | None = None) -> bytes:
    """A 2-D scatter plot coloured by label (e.g. a PCA projection of embeddings), as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    pts = np.asarray(points)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    labs = list(labels)
    for lab in sorted(set(labs), key=str):
        m = np.array([x == lab for x in labs])
        ax.scatter(pts[m, 0], pts[m, 1], s=12, label=str(lab), alpha=0.75)
    if annotate is not None:
        for (x, y), t in zip(pts, annotate, strict=False):
            if t:
                ax.annotate(t, (x, y), fontsize=7)
    if len(set(labs)) <= 12:
        ax.legend(fontsize=7, loc="best")
    ax.set_title(title)
    return figure_png(fig)


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    cols = list(rows[0])

    def cell(v: Any) -> str:
        return html.escape(f"{v:.4f}" if isinstance(v, float) else str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c, ''))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(sections: Sequence[Section], path: Path) -> Path:
    """Write the report atomically and return its path."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>simlab demo</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}",
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;",
        "text-align:left;font-size:.9em}th{background:#f3f3f3}img{max-width:100%}.t{color:#666;font-size:.85em}",
        "</style></head><body><h1>simlab demo</h1>",
        f"<p class='t'>{html.escape(time.strftime('%Y-%m-%d %H:%M'))} · Python {platform.python_version()} · "
        f"{html.escape(platform.machine())}</p>",
    ]
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2><p class='t'>{s.seconds:.1f} s</p>")
        if s.text:
            parts.append(f"<p>{html.escape(s.text)}</p>")
        parts.append(_table(s.rows))
        for caption, png in s.figures:
            b64 = base64.b64encode(png).decode()
            parts.append(f"<figure><img src='data:image/png;base64,{b64}'><figcaption>{html.escape(caption)}"
                         "</figcaption></figure>")
    parts.append("</body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(parts), "utf-8")
    tmp.replace(path)
    return path
