"""Fusion commands: ``simlab train fusion --view NAME=ARTIFACT ... --method early|late|learned|contrastive``.

No heavy imports at module level. Evaluate a fused model with ``simlab evaluate DIR nodeclass:... | ucr:... |
pairs:FILE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import (
    ConfigFile,
    Device,
    Force,
    Json,
    Quiet,
    Seed,
    Sets,
    Threads,
    emit,
    format_value,
    guard_out,
    merge_options,
    thread_scope,
)


def parse_view(spec: str) -> tuple[str, Any, str | None]:
    """``NAME=ARTIFACT`` or ``NAME=ucr:DATASET:0,1,2`` -> (name, view, ucr dataset or None)."""
    from simlab.config import parse_spec
    from simlab.errors import ConfigError

    name, sep, source = spec.partition("=")
    if not sep or not name.strip() or not source.strip():
        raise ConfigError(f"--view expects NAME=ARTIFACT or NAME=ucr:DATASET:CHANNELS, got {spec!r}")
    scheme, arg = parse_spec(source, ("ucr",))
    if scheme:
        parts = arg.split(":")
        if len(parts) != 2:
            raise ConfigError(
                f"a series view is ucr:DATASET:CHANNELS (e.g. ucr:BasicMotions:0,1,2), got {source!r}"
            )
        from simlab.fusion.views import SeriesChannels
        from simlab.sequence.data import load_ucr

        try:
            channels = [int(c) for c in parts[1].split(",")]
        except ValueError:
            raise ConfigError(f"channels must be integers separated by commas, got {parts[1]!r}") from None
        train = load_ucr(parts[0], "train")
        return name.strip(), SeriesChannels(channels, int(train.lengths.max())), parts[0]
    from simlab.fusion.views import coerce_view

    return name.strip(), coerce_view(source.strip()), None


def read_supervision(path: Path) -> tuple[dict[Any, Any] | None, list[tuple[Any, Any, float]] | None]:
    """Labels or pairs from a file: a node graph (``.jsonl``/``.json``: labels of its train and val nodes,
    never test), ``id<TAB>label`` lines, or ``id_a<TAB>id_b<TAB>target`` lines (a header line is skipped)."""
    from simlab.errors import DataError

    if path.suffix.lower() in (".jsonl", ".json"):
        from simlab.fusion.data import read_node_graph

        g = read_node_graph(path)
        if g.labels is None:
            raise DataError("the node graph has no labels", path)
        keep = [i for i in range(len(g)) if g.split is None or g.split[i] in ("train", "val")]
        return {g.keys[i]: str(g.labels[i]) for i in keep}, None
    try:
        lines = [ln.rstrip("\n") for ln in path.read_text("utf-8").splitlines() if ln.strip()]
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", path) from None
    rows = [ln.split("\t") if "\t" in ln else ln.split(",") if "," in ln else ln.split() for ln in lines]
    if rows and rows[0][0].strip().lower() in ("id", "key", "item", "id_a", "a"):
        rows = rows[1:]
    if not rows:
        raise DataError("no labels or pairs in file", path)
    width = {len(r) for r in rows}
    if width == {2}:
        return {r[0].strip(): r[1].strip() for r in rows}, None
    if width == {3}:
        try:
            return None, [(r[0].strip(), r[1].strip(), float(r[2])) for r in rows]
        except ValueError:
            raise DataError("the third column of a pairs file must be a number", path) from None
    raise DataError("expected 'id label' (2 columns) or 'id_a id_b target' (3 columns) per line", path)


Views = Annotated[
    list[str],
    typer.Option(
        "--view",
        help="NAME=ARTIFACT (Vectors or a model with vectors, "
        "keyed by the same item ids) or NAME=ucr:DATASET:"
        "CHANNELS (a channel group); repeat per view.",
    ),
]
Out = Annotated[Path, typer.Option("--out", help="Output model directory.")]
Method = Annotated[str, typer.Option("--method", help="early, late, learned or contrastive.")]
Labels = Annotated[
    Path | None,
    typer.Option(
        "--labels",
        help="Validation labels (id label), pairs (id_a "
        "id_b target) or a node graph .jsonl "
        "(its train+val labels).",
    ),
]
FusionEpochs = Annotated[
    int | None,
    typer.Option(
        "--epochs", min=1, help="Training epochs of learned and contrastive fusion (default: the config's)."
    ),
]


def train_fusion(
    views: Views,
    out: Out,
    method: Method = "early",
    labels: Labels = None,
    sets: Sets = None,
    config: ConfigFile = None,
    epochs: FusionEpochs = None,
    seed: Seed = None,
    device: Device = None,
    threads: Threads = None,
    quiet: Quiet = False,
    as_json: Json = False,
    force: Force = False,
) -> None:
    """Fuse several views of the same items into one similarity.

    Example: simlab train fusion --view text=runs/doc-vecs --view graph=runs/node-vecs --out runs/fused
    """
    from simlab.errors import ConfigError
    from simlab.fusion.model import FusedModel

    flags = {"method": method, "seed": seed, "threads": threads, "device": device, "epochs": epochs}
    opts = merge_options(sets, config, quiet, **flags)
    opts.setdefault("progress", True)
    guard_out(out, "fusion", force, inputs=[labels, config, *(Path(v.partition("=")[2]) for v in views)])
    parsed = [parse_view(v) for v in views]
    names = [p[0] for p in parsed]
    if len(set(names)) != len(names):
        raise ConfigError(f"view names must be distinct, got {names}")
    model = FusedModel({n: v for n, v, _ in parsed}, opts)
    datasets = {d for _, _, d in parsed}
    with thread_scope(threads):
        if datasets != {None}:
            if len(datasets) != 1 or None in datasets:
                raise ConfigError("series views must all come from one dataset (ucr:DATASET:CHANNELS)")
            from simlab.fusion.series import fit_series
            from simlab.sequence.data import load_ucr

            fit_series(model, load_ucr(next(iter(datasets)), "train"))  # type: ignore[arg-type]
        else:
            lab, pairs = read_supervision(labels) if labels is not None else (None, None)
            if method == "learned" and lab is None and pairs is None:
                raise ConfigError("--method learned needs --labels FILE (classes or pairs)")
            model.fit(labels=lab, pairs=pairs)
    model.save(out)
    _report(model, method, names, out, as_json)


def _report(model: Any, method: str, names: list[str], out: Path, as_json: bool) -> None:
    weights = dict(zip(model.names, (float(x) for x in model.weights), strict=True))
    w = ", ".join(f"{n}={x:.2f}" for n, x in weights.items())
    w = f"; weights {w}" if method in ("early", "late") else ""
    extra = ""
    if model.history.get("validation"):
        extra = "; validation " + ", ".join(
            f"{k}={format_value(v)}" for k, v in model.history["validation"].items()
        )
    elif model.history.get("best_dev") is not None:
        extra = f"; best dev {format_value(model.history['best_dev'])}"
    summary = {
        "out": str(out),
        "kind": "fusion",
        "method": method,
        "views": names,
        "weights": weights,
        "validation": model.history.get("validation"),
        "best_dev": model.history.get("best_dev"),
    }
    line = f"fused {len(names)} views ({method}{w}){extra}; saved to {out}"
    emit("train fusion", summary, as_json, lambda: typer.echo(line))


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``train fusion`` to the ``train`` group."""
    train_app.command("fusion")(train_fusion)
