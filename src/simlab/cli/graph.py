"""Graph commands: ``simlab ged``, ``simlab train graph``, ``simlab train nodes``, ``simlab rerank``.

No heavy imports at module level (``simlab --help`` stays fast and torch-free).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from simlab.cli.common import FLAG, Device, Json, K, Quiet, Seed, Threads, emit, hit_rows
from simlab.cli.main import FORCE_HELP, report_interrupted

Epochs = Annotated[
    int | None, typer.Option("--epochs", min=1, help="Training epochs (default: the config's).")
]


def _options(
    sets: list[str] | None, config: Path | None, quiet: bool = False, **flags: Any
) -> dict[str, Any]:
    """Pin threads, then merge: config file < the flags that were given < ``--set`` overrides; ``--quiet``
    turns the training's progress bar off."""
    from simlab.cli.common import progress_enabled
    from simlab.cli.main import set_threads
    from simlab.config import load_config_file, parse_overrides

    set_threads(flags.get("threads"))
    opts = {
        **load_config_file(config),
        **{k: v for k, v in flags.items() if v is not None},
        **parse_overrides(sets or []),
    }
    if not progress_enabled(quiet) and "progress" not in opts:
        opts["progress"] = False
    return opts


def read_pairs_file(path: Path) -> list[tuple[str, str]]:
    """``id_a<TAB>id_b`` pairs (after a header line) from a TSV; one-line DataError when unreadable."""
    import csv

    from simlab.errors import DataError

    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t"))
    except FileNotFoundError:
        raise DataError("pairs file not found", path) from None
    except IsADirectoryError:
        raise DataError("is a directory, expected a pairs TSV file", path) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text (byte {exc.start})", path) from None
    except (OSError, csv.Error) as exc:
        raise DataError(f"cannot read pairs ({exc})", path) from None
    if not rows or len(rows[0]) < 2:
        raise DataError("pairs file needs a header and two tab-separated id columns", path, 1)
    return [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the graph commands to the root app and the ``train`` group."""

    @app.command("ged")
    def ged_cmd(
        graphs: Annotated[
            Path,
            typer.Argument(
                help="Graphs: a directory of GEXF/GraphML/JSON files, a .jsonl file of "
                "node-link graphs, or one graph file."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="GED TSV to write (resumed if it exists).")],
        pairs: Annotated[
            Path | None,
            typer.Option(
                "--pairs",
                help="TSV with id_a, id_b columns: only these pairs (default: all unordered pairs).",
            ),
        ] = None,
        timeout: Annotated[
            float,
            typer.Option(
                "--timeout", help="Seconds of search per pair; then the best upper bound is kept (exact=0)."
            ),
        ] = 10.0,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                "--threads",
                help="Processes (default: all CPUs; at most the CPU count unless --force-workers).",
            ),
        ] = None,
        force_workers: Annotated[
            bool, typer.Option("--force-workers", metavar=FLAG, help="Allow more --workers than CPUs.")
        ] = False,
        label_attr: Annotated[
            str,
            typer.Option(
                "--label-attr", help="Node label attribute ('auto', a name, or 'none' for structure only)."
            ),
        ] = "auto",
        method: Annotated[
            str,
            typer.Option(
                "--method",
                help="'exact' (branch and bound with --timeout) or "
                "'editpath' (fast upper bounds from edit-path search; "
                "exact=1 only where a lower bound proves it).",
            ),
        ] = "exact",
        restarts: Annotated[
            int, typer.Option("--restarts", help="Random restarts of --method editpath.")
        ] = 8,
        engine: Annotated[
            str,
            typer.Option(
                "--engine",
                help="'local' or 'ray' (chunks of pairs on Ray workers, resumable; see docs/scale.md).",
            ),
        ] = "local",
        address: Annotated[
            str | None, typer.Option("--address", help="Ray cluster address (implies ray).")
        ] = None,
        ray_cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs of a local Ray instance.")] = None,
        quiet: Quiet = False,
        as_json: Json = False,
    ) -> None:
        """Graph edit distance for pairs of small graphs (node-label aware, uniform costs).

        Example: simlab ged graphs.jsonl --out ged.tsv --timeout 5
        """
        import os

        from simlab.cli.common import progress_enabled
        from simlab.cli.main import check_positive, guard_out_file
        from simlab.graph.ged import HEADER, compute_ged
        from simlab.graph.io import GraphSet

        check_positive("--timeout", timeout, 0.0, allow_equal=False)
        check_positive("--workers", workers, 1)
        check_positive("--restarts", restarts, 1)
        cpus = os.cpu_count() or 1
        if workers is not None and workers > cpus and not force_workers:
            raise typer.BadParameter(
                f"--workers {workers} is more than the {cpus} CPUs here (--force-workers to allow it)"
            )
        guard_out_file(out, "\t".join(HEADER[:3]), "GED table")
        gs = GraphSet.read(graphs)
        pair_list = read_pairs_file(pairs) if pairs is not None else None
        lattr = None if label_attr.lower() == "none" else label_attr
        if engine != "local" or address is not None:
            from simlab.cli.scale import ged_on_engine

            ged_on_engine(
                gs,
                out,
                pair_list,
                method,
                engine,
                address,
                ray_cpus,
                timeout,
                restarts,
                lattr,
                as_json=as_json,
            )
            return
        if method == "editpath":
            from simlab.graph.editpath import edit_path_table

            table = edit_path_table(
                gs,
                pair_list,
                restarts=restarts,
                label_attr=lattr,
                progress=progress_enabled(quiet),
                timeout=timeout,
            )
            table.write(out)
            n_ub = int((~table.exact).sum())
            emit(
                "ged",
                {
                    "out": str(out),
                    "pairs": len(table),
                    "exact": len(table) - n_ub,
                    "upper_bounds": n_ub,
                    "method": method,
                },
                as_json,
                lambda: typer.echo(
                    f"wrote {len(table)} pairs to {out} (edit-path upper bounds; "
                    f"{len(table) - n_ub} proven exact)"
                ),
            )
            return
        if method != "exact":
            from simlab.errors import UnknownNameError

            raise UnknownNameError("GED method", method, ("exact", "editpath"))
        table = compute_ged(
            gs,
            out,
            pair_list,
            timeout=timeout,
            workers=workers,
            label_attr=lattr,
            progress=progress_enabled(quiet),
        )
        n_ub = int((~table.exact).sum())
        emit(
            "ged",
            {
                "out": str(out),
                "pairs": len(table),
                "exact": len(table) - n_ub,
                "upper_bounds": n_ub,
                "method": method,
            },
            as_json,
            lambda: typer.echo(
                f"wrote {len(table)} pairs to {out} ({n_ub} upper bounds where the exact search timed out)"
            ),
        )

    @train_app.command("graph")
    def train_graph(
        graphs: Annotated[
            str,
            typer.Argument(
                help="Graphs file/directory, or ged:AIDS700nef / ged:LINUX (the "
                "benchmark graphs and their training-pair GED)."
            ),
        ],
        out: Annotated[Path, typer.Option("--out", help="Output model directory.")],
        ged: Annotated[
            Path | None, typer.Option("--ged", help="GED TSV (id_a id_b ged) for the graphs.")
        ] = None,
        conv: Annotated[
            str | None, typer.Option("--conv", help="gcn, gin, sage or gat (default gin).")
        ] = None,
        model: Annotated[
            str,
            typer.Option(
                "--model", help="biencoder (one vector per graph) or pair (SimGNN-style pair scorer)."
            ),
        ] = "biencoder",
        epochs: Epochs = None,
        sets: Annotated[
            list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")
        ] = None,
        config: Annotated[Path | None, typer.Option("--config", help="JSON config file.")] = None,
        seed: Seed = None,
        device: Device = None,
        threads: Threads = None,
        resume: Annotated[
            Path | None,
            typer.Option(
                "--resume", help="Continue training this saved model (its config; --epochs N more)."
            ),
        ] = None,
        quiet: Quiet = False,
        as_json: Json = False,
        force: Annotated[bool, typer.Option("--force", metavar=FLAG, help=FORCE_HELP)] = False,
    ) -> None:
        """Train a graph similarity model on GED (bi-encoder or SimGNN-style pair model).

        Example: simlab train graph ged:AIDS700nef --out runs/aids --epochs 10
        """
        from simlab.cli.main import guard_out
        from simlab.errors import ConfigError

        kinds = {"biencoder": "graph-biencoder", "pair": "graph-pair"}
        if model not in kinds:
            raise ConfigError(f"unknown --model {model!r}; valid: biencoder, pair")
        guard_out(out, kinds[model], force, inputs=[graphs, ged, config, resume])
        opts = _options(
            sets, config, quiet, conv=conv, seed=seed, device=device, threads=threads, epochs=epochs
        )
        from simlab.graph.models import GraphBiEncoder, GraphPairModel

        classes = {"biencoder": GraphBiEncoder, "pair": GraphPairModel}
        if resume is not None:
            from simlab.cli.main import resume_model

            m = resume_model(resume, kinds[model], opts)
        else:
            m = classes[model](opts)
        bench = None
        if graphs.startswith("ged:"):
            from simlab.graph.datasets import load_ged_benchmark

            bench = load_ged_benchmark(graphs[4:])
            m.fit(bench.graphs, bench.train_table(), resume=resume is not None)
        else:
            if ged is None:
                raise ConfigError("--ged GED.tsv is required (or use ged:AIDS700nef / ged:LINUX)")
            m.fit(graphs, ged, resume=resume is not None)
        m.save(out)
        h = m.history
        report_interrupted(h, out)
        from simlab.cli.main import format_value

        summary: dict[str, Any] = {
            "out": str(out),
            "kind": kinds[model],
            "conv": m.config.conv,
            "epochs": len(h.get("epochs", [])),
            "best_epoch": h.get("best_epoch"),
            "best_dev": h.get("best_dev"),
        }
        report = None
        if bench is not None:
            from simlab.evaluate import evaluate

            report = evaluate(m, f"ged:{bench.name}")
            summary["test"] = report.to_dict()

        def human() -> None:
            typer.echo(
                f"trained {model} ({m.config.conv}) for {summary['epochs']} epochs, best dev rho "
                f"{format_value(h.get('best_dev'))}; saved to {out}"
            )
            if report is not None:
                typer.echo(report.to_table())

        emit("train graph", summary, as_json, human)

    @train_app.command("nodes")
    def train_nodes(
        graph: Annotated[
            str, typer.Argument(help="One graph file, or Cora / CiteSeer (shared Planetoid data).")
        ],
        out: Annotated[Path, typer.Option("--out", help="Output model directory.")],
        conv: Annotated[
            str | None, typer.Option("--conv", help="gcn, gin, sage or gat (default sage).")
        ] = None,
        epochs: Epochs = None,
        sets: Annotated[
            list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")
        ] = None,
        config: Annotated[Path | None, typer.Option("--config", help="JSON config file.")] = None,
        seed: Seed = None,
        device: Device = None,
        threads: Threads = None,
        features: Annotated[
            bool,
            typer.Option(
                "--features",
                metavar=FLAG,
                help="Fuse node features ('x' or 'text') with the "
                "structure by feature propagation (SGC, no "
                "training; --set k=2 alpha=0 view=fused).",
            ),
        ] = False,
        resume: Annotated[
            Path | None,
            typer.Option(
                "--resume", help="Continue training this saved model on the same graph (--epochs N)."
            ),
        ] = None,
        quiet: Quiet = False,
        as_json: Json = False,
        force: Annotated[bool, typer.Option("--force", metavar=FLAG, help=FORCE_HELP)] = False,
    ) -> None:
        """Train unsupervised node embeddings (link prediction with negative sampling, or --features).

        Example: simlab train nodes Cora --out runs/cora-nodes --epochs 100
        """
        from simlab.cli.main import guard_out, resume_model

        if features:
            from simlab.fusion.cli_nodes import train_propagated

            guard_out(out, "fusion-nodes", force, inputs=[graph, config])
            train_propagated(graph, out, _options(sets, config, threads=threads))
            return
        guard_out(out, "graph-nodes", force, inputs=[graph, config, resume])
        opts = _options(
            sets, config, quiet, conv=conv, seed=seed, device=device, threads=threads, epochs=epochs
        )
        from simlab.graph.nodes import NodeEmbedder

        m = resume_model(resume, "graph-nodes", opts) if resume is not None else NodeEmbedder(opts)
        warm = resume is not None
        if graph.lower() in ("cora", "citeseer") and not Path(graph).exists():
            from simlab.graph.planetoid import load_planetoid

            x, ei, _ = load_planetoid(graph)
            m.fit(ei, features=x, name={"cora": "Cora", "citeseer": "CiteSeer"}[graph.lower()], resume=warm)
        else:
            m.fit(graph, resume=warm)
        m.save(out)
        report_interrupted(m.history, out)
        lp = m.link_prediction() if m.test_pos.shape[1] else {}
        from simlab.cli.main import format_value

        emit(
            "train nodes",
            {
                "out": str(out),
                "kind": "graph-nodes",
                "conv": m.config.conv,
                "nodes": len(m.keys),
                "epochs": len(m.history.get("epochs", [])),
                "link_prediction": lp,
            },
            as_json,
            lambda: typer.echo(
                f"trained {m.config.conv} node embeddings for {len(m.keys)} nodes; held-out link "
                "prediction "
                + " ".join(f"{k}={format_value(float(v))}" for k, v in lp.items())
                + f"; saved to {out}"
            ),
        )

    @app.command("rerank")
    def rerank_cmd(
        biencoder: Annotated[Path, typer.Argument(help="A graph bi-encoder model.")],
        pair: Annotated[
            Path,
            typer.Argument(
                help="A graph pair model (re-ranker), or 'editpath' to re-rank by edit-path search."
            ),
        ],
        query: Annotated[
            str, typer.Argument(help="A graph id of the bi-encoder's collection, or a graph file.")
        ],
        k: K = 10,
        candidates: Annotated[
            int, typer.Option("--candidates", help="Bi-encoder candidates to re-rank.")
        ] = 100,
        blend: Annotated[
            float,
            typer.Option(
                "--blend",
                help="Weight of the bi-encoder's score against the re-ranker's (0: re-ranker only).",
            ),
        ] = 0.5,
        restarts: Annotated[
            int, typer.Option("--restarts", min=1, help="Random restarts of the 'editpath' re-ranker.")
        ] = 8,
        as_json: Json = False,
    ) -> None:
        """Search the bi-encoder's collection and re-rank its top candidates with the pair model.

        Example: simlab rerank runs/aids-bi runs/aids-pair 12 -k 5
        """
        from simlab.artifacts import load
        from simlab.cli.common import parse_key
        from simlab.cli.main import print_table
        from simlab.errors import ConfigError

        bi = load(biencoder)
        if not hasattr(bi, "collection") or not hasattr(bi, "most_similar"):
            raise ConfigError(
                f"{biencoder}: a {type(bi).__name__} is not a graph bi-encoder (simlab train graph)"
            )
        if str(pair) == "editpath":
            from simlab.graph.refine import EditPathScorer

            pm: Any = EditPathScorer(restarts=restarts)
        else:
            pm = load(pair)
            if not hasattr(pm, "rerank"):
                raise ConfigError(f"{pair}: a {type(pm).__name__} is not a graph pair model or 'editpath'")
        coll = bi.collection or []
        q: Any = parse_key(query, lambda key: key in coll)
        if q not in coll and Path(query).exists():
            from simlab.graph.io import read_graph_file

            q = read_graph_file(query)
        hits = bi.most_similar(q, k=k, rerank=pm, candidates=candidates, blend=blend)
        result = {"query": query, "hits": hit_rows(hits)}
        emit("rerank", result, as_json, lambda: print_table(result["hits"]))
