"""``simlab train word2vec|fasttext|doc2vec|tfidf|bm25|lsi|hybrid|docs``: train (or resume) word and document
models from text files.

No heavy imports at module level: gensim loads only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import (
    ConfigFile,
    Force,
    JsonSummary,
    QuietTraining,
    echo_json,
    format_value,
    guard_out,
    report_interrupted,
    thread_scope,
)

#: models fitted in one pass (no epochs, no resume, no corpus_file mode)
_ONE_PASS = ("tfidf", "bm25", "lsi", "hybrid", "docs")


def train_text_model(
    kind: str,
    corpus: list[Path],
    out: Path,
    *,
    sets: list[str] | None = None,
    config: Path | None = None,
    resume: Path | None = None,
    seed: int | None = None,
    threads: int | None = None,
    epochs: int | None = None,
    format: str = "auto",
    field: str = "text",
    column: str = "text",
    corpus_file: bool = False,
    progress: bool | None = None,
    tokenizer: str | None = None,
) -> dict[str, Any]:
    """What ``simlab train <kind>`` does, as a function (used by the CLI and the tests).

    Returns:
        A summary dict (vocabulary, documents, tokens, per-epoch loss, words/s, output path).
    """
    from simlab.registry import KINDS

    cls = KINDS.get(kind)  # the model class registered under the command's name
    params = _text_params(kind, config, sets, seed, threads, epochs if resume is None else None, tokenizer)
    reading = {"format": format, "field": field, "column": int(column) if column.isdigit() else column}
    if kind in _ONE_PASS:
        if resume is not None or epochs is not None or corpus_file:
            from simlab.errors import ConfigError

            raise ConfigError(
                f"{kind} is fitted in one pass: --resume, --epochs and --corpus-file do not apply"
            )
        return _train_one_pass(kind, cls, params, corpus, out, reading)
    if resume is not None and "epochs" in params:
        epochs = int(params.pop("epochs")) if epochs is None else epochs
    elif resume is None:
        epochs = None  # the config's epochs (recorded in the manifest) is what trains
    from simlab.text.corpus import TextCorpus

    tc = TextCorpus(corpus, tokenizer=model_tokenizer(cls, params), **reading)
    model = _resumed(cls, resume, params) if resume is not None else cls(params)
    _fit_text(model, kind, tc, epochs, corpus_file, progress)
    model.save(out)
    h = model.history[-1]
    return {"kind": kind, "out": str(out), "resumed_from": str(resume) if resume else None, **h}


def _text_params(
    kind: str,
    config: Path | None,
    sets: list[str] | None,
    seed: int | None,
    threads: int | None,
    epochs: int | None,
    tokenizer: str | None,
) -> dict[str, Any]:
    """The model's parameters; precedence: API defaults < --config file < named flags given < --set."""
    from simlab.config import load_config_file, parse_overrides
    from simlab.errors import ConfigError
    from simlab.text.tokenizers import make_tokenizer

    if kind in _ONE_PASS:
        flags = {"seed": seed, "workers": threads if kind in ("hybrid", "docs") else None}
    else:
        flags = {"seed": seed, "workers": threads, "epochs": epochs}
    params = {
        **load_config_file(config),
        **{k: v for k, v in flags.items() if v is not None},
        **parse_overrides(sets or []),
    }
    if tokenizer is not None:
        make_tokenizer(tokenizer)  # validate before reading anything
        if kind == "lsi":
            params["tfidf"] = {**params.get("tfidf", {}), "tokenizer": tokenizer}
        elif kind != "fasttext":
            params["tokenizer"] = tokenizer
        else:
            raise ConfigError("--tokenizer: FastText keeps simlab's tokenizer (its n-grams are tied to it)")
    return params


def _resumed(cls: Any, resume: Path, params: dict[str, Any]) -> Any:
    """A saved model to continue training; only --epochs, --threads and --seed may be given."""
    from simlab.artifacts import load
    from simlab.errors import ConfigError

    changed = sorted(set(params) - {"workers", "seed"})
    if changed:
        raise ConfigError(
            f"--resume continues a trained model; cannot change {', '.join(changed)} "
            "(only --epochs, --threads and --seed apply)"
        )
    return load(resume, kind=cls.KIND)


def _fit_text(
    model: Any, kind: str, tc: Any, epochs: int | None, corpus_file: bool, progress: bool | None
) -> None:
    """Fit on the corpus (``--corpus-file``: through a tokenized line file, gensim's faster mode)."""
    import tempfile

    from simlab.text.corpus import write_line_corpus

    if corpus_file and kind != "doc2vec":
        with tempfile.TemporaryDirectory(prefix="simlab-corpus-") as tmp:
            lf = Path(tmp) / "corpus.txt"
            write_line_corpus(tc, lf)
            model.fit(corpus_file=lf, epochs=epochs, progress=progress)
    else:
        model.fit(tc, epochs=epochs, progress=progress)


def cap_threads(threads: int | None) -> int | None:
    """Worker threads capped at the CPU count (more only oversubscribe the cores); says so when it caps."""
    import logging
    import os

    cpus = os.cpu_count() or 1
    if threads is not None and threads > cpus:
        logging.getLogger("simlab.cli").warning(
            "--threads %d is more than the %d CPUs; using %d", threads, cpus, cpus
        )
        return cpus
    return threads


def model_tokenizer(cls: Any, params: dict[str, Any]) -> Any:
    """The tokenizer a model of class `cls` built from `params` will use (for reading the corpus)."""
    import dataclasses

    from simlab.text.tokenizers import make_tokenizer

    if "tokenizer" in params:
        return make_tokenizer(params["tokenizer"])
    if "tokenizer" in {f.name for f in dataclasses.fields(cls.Config)}:
        return make_tokenizer(cls.Config().tokenizer)
    return make_tokenizer(None)


def _train_one_pass(
    kind: str, cls: Any, params: dict[str, Any], corpus: list[Path], out: Path, reading: dict[str, Any]
) -> dict[str, Any]:
    """``simlab train tfidf|bm25|lsi|hybrid|docs``: fit once on the corpus and save."""
    from simlab.text.corpus import TextCorpus

    model = cls(params)
    model.fit(TextCorpus(corpus, tokenizer=model.tokenizer, **reading))
    model.save(out)
    return {"kind": kind, "out": str(out), **model.summary()}


Corpus = Annotated[
    list[Path],
    typer.Argument(
        help="Text files (one document per line; .gz, .jsonl, .tsv/.csv) or directories of .txt files."
    ),
]
Out = Annotated[Path, typer.Option("--out", help="Output model artifact directory.")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="Config override key=value (repeatable), e.g. --set dim=100."),
]
Resume = Annotated[
    Path | None, typer.Option("--resume", help="Continue training this saved model on CORPUS.")
]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed.")]
Threads = Annotated[int | None, typer.Option("--threads", min=1, help="Worker threads.")]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Epochs of this run.")]
Format = Annotated[str, typer.Option("--format", help="auto, text, jsonl, tsv, csv, dir.")]
Field = Annotated[str, typer.Option("--field", help="JSONL field with the text.")]
Column = Annotated[str, typer.Option("--column", help="TSV/CSV column (name or 0-based index).")]
CorpusFile = Annotated[
    bool,
    typer.Option(
        "--corpus-file",
        help="Tokenize once to a temporary file "
        "and train with gensim's faster corpus_file mode "
        "(Word2Vec/FastText; no loss reported).",
    ),
]
Tokenizer = Annotated[
    str | None,
    typer.Option(
        "--tokenizer",
        help="simlab (default), whitespace or regex:PATTERN; saved with the model and applied to "
        "query texts.",
    ),
]


def train_text_cmd(
    ctx: typer.Context,
    corpus: Corpus,
    out: Out,
    sets: Sets = None,
    config: ConfigFile = None,
    resume: Resume = None,
    seed: Seed = None,
    threads: Threads = None,
    epochs: Epochs = None,
    format: Format = "auto",
    field: Field = "text",
    column: Column = "text",
    corpus_file: CorpusFile = False,
    tokenizer: Tokenizer = None,
    as_json: JsonSummary = False,
    quiet: QuietTraining = False,
    force: Force = False,
) -> None:
    """``simlab train KIND`` for every text model (KIND: the command's name; help texts: TRAIN_HELP)."""
    kind = ctx.info_name or ""
    guard_out(out, kind, force, inputs=[*corpus, resume])
    threads = cap_threads(threads)
    with thread_scope(threads):
        summary = train_text_model(
            kind,
            corpus,
            out,
            sets=sets,
            config=config,
            resume=resume,
            seed=seed,
            threads=threads,
            epochs=epochs,
            format=format,
            field=field,
            column=column,
            corpus_file=corpus_file,
            tokenizer=tokenizer,
            progress=False if quiet else None,
        )
    if as_json:
        echo_json(summary, f"train {kind}")
    elif kind in _ONE_PASS:
        _print_one_pass(kind, summary, out)
    else:
        _print_training(kind, summary, out)
    report_interrupted(summary, out)


def _print_one_pass(kind: str, summary: dict[str, Any], out: Path) -> None:
    typer.echo(
        f"{kind}: " + ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("kind", "out", "choice"))
    )
    for w in summary.get("warnings", []):
        typer.echo(f"warning: {w}")
    if "choice" in summary:
        typer.echo(f"chosen: {summary['choice']}")
    typer.echo(f"saved to {out}")


def _print_training(kind: str, summary: dict[str, Any], out: Path) -> None:
    for w in summary.get("warnings", []) or []:
        typer.echo(f"warning: {w}")
    if summary.get("recipe"):
        rec = summary["recipe"]
        applied = ", ".join(f"{k}={v}" for k, v in rec["applied"].items()) or "every setting given explicitly"
        typer.echo(f"recipe for {rec['tokens']:,} tokens: {applied}")
    typer.echo(
        f"{kind}: {summary['documents']} documents, {summary['tokens']} tokens, "
        f"vocabulary {summary['vocab']}, {summary['epochs']} epochs, "
        f"{format_value(summary.get('words_per_second') or None)} words/s"
    )
    losses = summary.get("epoch_loss") or []
    if losses and all(x is not None for x in losses):
        typer.echo("loss per epoch: " + ", ".join(f"{x:.6g}" for x in losses))
    elif losses:
        typer.echo("loss per epoch: not computed (gensim reports no loss for this model/mode)")
    typer.echo(f"saved to {out}")


#: the help of each ``simlab train KIND`` (one command function, :func:`train_text_cmd`)
TRAIN_HELP = {
    "word2vec": "Train (or --resume) Word2Vec word vectors on text files.\n\n"
    "Example: simlab train word2vec corpus.txt --out runs/w2v --epochs 5",
    "fasttext": "Train (or --resume) FastText word vectors with character n-grams.\n\n"
    "Example: simlab train fasttext corpus.txt --out runs/ft --set dim=100",
    "doc2vec": "Train Doc2Vec document vectors (PV-DBOW / PV-DM) on text files.\n\n"
    "Example: simlab train doc2vec reviews.txt --out runs/d2v --epochs 10",
    "tfidf": "Fit TF-IDF document vectors (sparse; cosine similarity) on text files.\n\n"
    "Example: simlab train tfidf reviews.txt --out runs/tfidf --set sublinear_tf=true",
    "bm25": "Fit a BM25 / BM25+ search model on text files.\n\n"
    "Example: simlab train bm25 reviews.txt --out runs/bm25",
    "lsi": "Fit LSI / LSA (truncated SVD of TF-IDF) document vectors on text files.\n\n"
    "Example: simlab train lsi reviews.txt --out runs/lsi --set dim=200",
    "hybrid": "Fit a sparse + dense hybrid (TF-IDF + LSI by default; fusion weight learned on "
    "label-free pseudo-pairs of held-out documents).\n\n"
    "Example: simlab train hybrid reviews.txt --out runs/hybrid",
    "docs": "Document similarity with no choices to make: picks TF-IDF, LSI, Doc2Vec or the hybrid by "
    "label-free pseudo-pairs.\n\nExample: simlab train docs reviews.txt --out runs/docs",
}


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``train word2vec|fasttext|doc2vec|tfidf|bm25|lsi|hybrid|docs`` to the CLI."""
    for kind, help_text in TRAIN_HELP.items():
        train_app.command(kind, help=help_text)(train_text_cmd)
