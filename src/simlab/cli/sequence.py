"""``simlab train siamese``: train a Siamese RNN/LSTM/GRU on series or sentence pairs.

No heavy imports at module level (torch is imported when a command runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import (
    FLAG,
    Force,
    QuietTraining,
    Seed,
    echo_json,
    guard_out,
    merge_options,
    report_interrupted,
    resume_model,
    thread_scope,
)

Data = Annotated[
    str,
    typer.Argument(
        help="ucr:NAME (bundled UCR/UEA), a .ts or UCR TSV file, or a sentence-pair TSV/CSV / SICK / "
        "STS-B file."
    ),
]
Out = Annotated[Path, typer.Option("--out", help="Output model artifact directory.")]
Encoder = Annotated[str | None, typer.Option("--encoder", help="rnn, lstm or gru (default gru).")]
Loss = Annotated[str | None, typer.Option("--loss", help="A loss (simlab list losses) or auto (default).")]
Head = Annotated[str | None, typer.Option("--head", help="cosine, malstm or learned.")]
WordVectors = Annotated[Path | None, typer.Option("--vectors", help="Word vectors artifact (text).")]
Dev = Annotated[str | None, typer.Option("--dev", help="Dev data for early stopping (same kind).")]
Config = Annotated[Path | None, typer.Option("--config", help="JSON config file (SiameseConfig keys).")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="key=value config override (repeatable).")]
Device = Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")]
Threads = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1, help="Torch threads (default: 1 on CPU, fastest for these small models)."
    ),
]
Fallback = Annotated[
    str | None,
    typer.Option(
        "--fallback",
        help="auto (default): ship the learned, "
        "classical (Euclidean/DTW) or blended similarity that validates best on a hold-out "
        "of the training series; off: always the learned one.",
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json", metavar=FLAG, help="Print the training summary as one JSON envelope {command, ok, result}."
    ),
]
Epochs = Annotated[
    int | None,
    typer.Option("--epochs", min=1, help="Training epochs (default: the config's; with --resume: N more)."),
]
Resume = Annotated[
    Path | None, typer.Option("--resume", help="Continue training this saved model (--epochs N more).")
]


def train_siamese(
    data: Data,
    out: Out,
    encoder: Encoder = None,
    loss: Loss = None,
    head: Head = None,
    vectors: WordVectors = None,
    dev: Dev = None,
    config: Config = None,
    set_: Sets = None,
    seed: Seed = None,
    device: Device = None,
    threads: Threads = None,
    fallback: Fallback = None,
    as_json: Json = False,
    epochs: Epochs = None,
    quiet: QuietTraining = False,
    resume: Resume = None,
    force: Force = False,
) -> None:
    """Train a Siamese recurrent encoder and save it (then use simlab similar / embed / evaluate).

    Example: simlab train siamese ucr:GunPoint --out runs/gru-gunpoint --epochs 20
    """
    guard_out(out, "sequence-siamese", force, inputs=[data, dev, vectors, config, resume])
    # precedence: API defaults < --config file < named flags given < --set
    flags = {"encoder": encoder, "loss": loss, "head": head, "seed": seed, "device": device}
    flags.update(threads=threads, fallback=fallback, epochs=epochs, progress=False if quiet else None)
    cfg = merge_options(set_, config, None, **flags)
    from simlab.sequence.model import SiameseModel

    with thread_scope(threads):
        if resume is not None:
            model = resume_model(resume, "sequence-siamese", cfg).fit(data, dev=dev, vectors=vectors)
        else:
            model = SiameseModel(cfg, vectors=vectors).fit(data, dev=dev)
    model.save(out)
    report_interrupted(model.history, out)
    summary = _summary(model, out)
    if as_json:
        echo_json(summary, "train siamese")
        return
    unit = {"triplets": "triplets", "labelled": "items"}.get(str(summary["data_kind"]), "pairs")
    typer.echo(
        f"trained {model.config.encoder} siamese ({model.modality}, dim {model.dim}, loss {summary['loss']}, "
        f"{summary['epochs']} epochs, final loss {summary['final_loss']:.4f}, "
        f"{summary['pairs_per_s']:,.0f} {unit}/s) -> {out}"
    )
    if model.selection is not None:
        typer.echo(model.selection.describe())


def _summary(model: Any, out: Path) -> dict[str, Any]:
    """The training summary of ``simlab train siamese`` (the ``--json`` result)."""
    h = model.history
    summary = {
        "out": str(out),
        "modality": model.modality,
        "dim": model.dim,
        "loss": h.get("loss"),
        "data_kind": h.get("data_kind"),
        "epochs": len(h.get("epochs", [])),
        "best_epoch": h.get("best_epoch"),
        "best_dev": h.get("best_dev"),
        "final_loss": h["epochs"][-1]["loss"] if h.get("epochs") else None,
        "pairs_per_s": h["epochs"][-1]["items_per_s"] if h.get("epochs") else None,
        "train_seconds": h.get("train_seconds"),
    }
    sel = model.selection
    if sel is not None:
        summary["similarity"] = sel.name
        summary["validation"] = sel.protocol
        summary["validation_accuracy"] = {
            k: v for k, v in sel.validation.items() if not k.startswith("blend_")
        }
    return summary


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``train siamese`` to the CLI (``similar``, ``embed``, ``evaluate`` are generic in main.py)."""
    train_app.command("siamese")(train_siamese)
