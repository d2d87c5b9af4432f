"""``simlab train siamese``: train a Siamese RNN/LSTM/GRU on series or sentence pairs.

No heavy imports at module level (torch is imported when a command runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.main import FORCE_HELP, report_interrupted


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``train siamese`` to the CLI (``similar``, ``embed``, ``evaluate`` are generic in main.py)."""

    @train_app.command("siamese")
    def train_siamese(
        data: Annotated[
            str,
            typer.Argument(
                help="ucr:NAME (bundled UCR/UEA), a .ts or UCR TSV file, or a sentence-pair TSV/CSV / SICK / STS-B file."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="Output model artifact directory.")],
        encoder: Annotated[
            str | None, typer.Option("--encoder", help="rnn, lstm or gru (default gru).")
        ] = None,
        loss: Annotated[
            str | None, typer.Option("--loss", help="A loss (simlab list losses) or auto (default).")
        ] = None,
        head: Annotated[str | None, typer.Option("--head", help="cosine, malstm or learned.")] = None,
        vectors: Annotated[
            Path | None, typer.Option("--vectors", help="Word vectors artifact (text).")
        ] = None,
        dev: Annotated[
            str | None, typer.Option("--dev", help="Dev data for early stopping (same kind).")
        ] = None,
        config: Annotated[
            Path | None, typer.Option("--config", help="JSON config file (SiameseConfig keys).")
        ] = None,
        set_: Annotated[
            list[str] | None, typer.Option("--set", help="key=value config override (repeatable).")
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", help="Random seed (default: the config's, 0).")
        ] = None,
        device: Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = None,
        threads: Annotated[
            int | None,
            typer.Option(
                "--threads", min=1, help="Torch threads (default: 1 on CPU, fastest for these small models)."
            ),
        ] = None,
        fallback: Annotated[
            str | None,
            typer.Option(
                "--fallback",
                help="auto (default): ship the learned, "
                "classical (Euclidean/DTW) or blended similarity that validates best on a hold-out "
                "of the training series; off: always the learned one.",
            ),
        ] = None,
        as_json: Annotated[
            bool,
            typer.Option(
                "--json",
                metavar=" ",
                help="Print the training summary as one JSON envelope {command, ok, result}.",
            ),
        ] = False,
        epochs: Annotated[
            int | None,
            typer.Option(
                "--epochs", min=1, help="Training epochs (default: the config's; with --resume: N more)."
            ),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No training progress bar.")] = False,
        resume: Annotated[
            Path | None,
            typer.Option("--resume", help="Continue training this saved model (--epochs N more)."),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
    ) -> None:
        """Train a Siamese recurrent encoder and save it (then use simlab similar / embed / evaluate).

        Example: simlab train siamese ucr:GunPoint --out runs/gru-gunpoint --epochs 20
        """
        from simlab.cli.main import echo_json, guard_out, set_threads
        from simlab.config import load_config_file, parse_overrides

        guard_out(out, "sequence-siamese", force, inputs=[data, dev, vectors, config, resume])
        set_threads(threads)
        # precedence: API defaults < --config file < named flags given < --set
        flags = {
            "encoder": encoder,
            "loss": loss,
            "head": head,
            "seed": seed,
            "device": device,
            "threads": threads,
            "fallback": fallback,
            "epochs": epochs,
            "progress": False if quiet else None,
        }
        cfg: dict[str, Any] = {
            **load_config_file(config),
            **{k: v for k, v in flags.items() if v is not None},
            **parse_overrides(set_ or []),
        }
        from simlab.sequence.model import SiameseModel

        if resume is not None:
            from simlab.cli.main import resume_model

            model = resume_model(resume, "sequence-siamese", cfg).fit(data, dev=dev, vectors=vectors)
        else:
            model = SiameseModel(cfg, vectors=vectors).fit(data, dev=dev)
        model.save(out)
        h = model.history
        report_interrupted(h, out)
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
            summary.update(
                {
                    "similarity": sel.name,
                    "validation": sel.protocol,
                    "validation_accuracy": {
                        k: v for k, v in sel.validation.items() if not k.startswith("blend_")
                    },
                }
            )
        unit = {"triplets": "triplets", "labelled": "items"}.get(str(summary["data_kind"]), "pairs")
        if as_json:
            echo_json(summary, "train siamese")
        else:
            typer.echo(
                f"trained {model.config.encoder} siamese ({model.modality}, dim {model.dim}, loss {summary['loss']}, "
                f"{summary['epochs']} epochs, final loss {summary['final_loss']:.4f}, "
                f"{summary['pairs_per_s']:,.0f} {unit}/s) -> {out}"
            )
            if sel is not None:
                typer.echo(sel.describe())
