"""``simlab train word2vec|fasttext|doc2vec``: train (or resume) word and document models from text files.

No heavy imports at module level: gensim loads only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.main import FORCE_HELP

_MODELS = {
    "word2vec": "simlab.text.word2vec:Word2Vec",
    "fasttext": "simlab.text.fasttext:FastText",
    "doc2vec": "simlab.text.doc2vec:Doc2Vec",
}


def _resolve(name: str) -> Any:
    import importlib

    mod, _, attr = _MODELS[name].partition(":")
    return getattr(importlib.import_module(mod), attr)


def train_text_model(kind: str, corpus: list[Path], out: Path, *, sets: list[str] | None = None,
                     config: Path | None = None, resume: Path | None = None, seed: int | None = None,
                     threads: int | None = None, epochs: int | None = None, format: str = "auto",
                     field: str = "text", column: str = "text", corpus_file: bool = False,
                     progress: bool | None = None) -> dict[str, Any]:
    """What ``simlab train <kind>`` does, as a function (used by the CLI and the tests).

    Returns:
        A summary dict (vocabulary, documents, tokens, per-epoch loss, words/s, output path).
    """
    import tempfile

    from simlab.config import load_config_file, parse_overrides
    from simlab.errors import ConfigError
    from simlab.text.corpus import TextCorpus, write_line_corpus

    cls = _resolve(kind)
    # precedence: API defaults < --config file < named flags given < --set
    flags = {"seed": seed, "workers": threads, "epochs": epochs if resume is None else None}
    params = {**load_config_file(config), **{k: v for k, v in flags.items() if v is not None},
              **parse_overrides(sets or [])}
    if resume is not None and "epochs" in params:
        epochs = int(params.pop("epochs")) if epochs is None else epochs
    elif resume is None:
        epochs = None  # the config's epochs (recorded in the manifest) is what trains
    col: str | int = int(column) if column.isdigit() else column
    tc = TextCorpus(corpus, format=format, field=field, column=col)
    if resume is not None:
        changed = sorted(set(params) - {"workers", "seed"})
        if changed:
            raise ConfigError(f"--resume continues a trained model; cannot change {', '.join(changed)} "
                              "(only --epochs, --threads and --seed apply)")
        from simlab.artifacts import load

        model = load(resume, kind=cls.KIND)
    else:
        model = cls(params)
    if corpus_file and kind != "doc2vec":
        with tempfile.TemporaryDirectory(prefix="simlab-corpus-") as tmp:
            lf = Path(tmp) / "corpus.txt"
            write_line_corpus(tc, lf)
            model.fit(corpus_file=lf, epochs=epochs, progress=progress)
    else:
        model.fit(tc, epochs=epochs, progress=progress)
    model.save(out)
    h = model.history[-1]
    return {"kind": kind, "out": str(out), "resumed_from": str(resume) if resume else None, **h}


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``train word2vec|fasttext|doc2vec`` to the CLI."""

    def make(kind: str, doc: str) -> None:
        def cmd(
            corpus: Annotated[list[Path], typer.Argument(help="Text files (one document per line; .gz, .jsonl, "
                                                         ".tsv/.csv) or directories of .txt files.")],
            out: Annotated[Path, typer.Option("--out", help="Output model artifact directory.")],
            sets: Annotated[list[str] | None, typer.Option("--set", help="Config override key=value "
                                                           "(repeatable), e.g. --set dim=100.")] = None,
            config: Annotated[Path | None, typer.Option("--config", help="JSON config file.")] = None,
            resume: Annotated[Path | None, typer.Option("--resume", help="Continue training this saved "
                                                        "model on CORPUS.")] = None,
            seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
            threads: Annotated[int | None, typer.Option("--threads", min=1, help="Worker threads.")] = None,
            epochs: Annotated[int | None, typer.Option("--epochs", help="Epochs of this run.")] = None,
            format: Annotated[str, typer.Option("--format", help="auto, text, jsonl, tsv, csv, dir.")] = "auto",
            field: Annotated[str, typer.Option("--field", help="JSONL field with the text.")] = "text",
            column: Annotated[str, typer.Option("--column", help="TSV/CSV column (name or 0-based index).")]
            = "text",
            corpus_file: Annotated[bool, typer.Option("--corpus-file", help="Tokenize once to a temporary file "
                                                      "and train with gensim's faster corpus_file mode "
                                                      "(Word2Vec/FastText; no loss reported).")] = False,
            as_json: Annotated[bool, typer.Option("--json", metavar=" ", help="Print the summary as one JSON "
                                                  "envelope {command, ok, result}.")] = False,
            force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
        ) -> None:
            from simlab.cli.main import echo_json, guard_out, set_threads

            guard_out(out, kind, force, inputs=[*corpus, resume])
            set_threads(threads)
            summary = train_text_model(kind, corpus, out, sets=sets, config=config, resume=resume, seed=seed,
                                       threads=threads, epochs=epochs, format=format, field=field, column=column,
                                       corpus_file=corpus_file)
            if as_json:
                echo_json(summary, f"train {kind}")
                return
            typer.echo(f"{kind}: {summary['documents']} documents, {summary['tokens']} tokens, "
                       f"vocabulary {summary['vocab']}, {summary['epochs']} epochs, "
                       f"{summary.get('words_per_second', 0):,.0f} words/s")
            losses = summary.get("epoch_loss") or []
            if losses and all(x is not None for x in losses):
                typer.echo("loss per epoch: " + ", ".join(f"{x:.6g}" for x in losses))
            elif losses:
                typer.echo("loss per epoch: not computed (gensim reports no loss for this model/mode)")
            typer.echo(f"saved to {out}")

        cmd.__doc__ = doc
        train_app.command(kind)(cmd)

    make("word2vec", "Train (or --resume) Word2Vec word vectors on text files.\n\n"
         "Example: simlab train word2vec corpus.txt --out runs/w2v --epochs 5")
    make("fasttext", "Train (or --resume) FastText word vectors with character n-grams.\n\n"
         "Example: simlab train fasttext corpus.txt --out runs/ft --set dim=100")
    make("doc2vec", "Train Doc2Vec document vectors (PV-DBOW / PV-DM) on text files.\n\n"
         "Example: simlab train doc2vec reviews.txt --out runs/d2v --epochs 10")
