"""Graph commands: ``simlab ged``, ``simlab train graph``, ``simlab train nodes``, ``simlab rerank``.

No heavy imports at module level (``simlab --help`` stays fast and torch-free).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def _options(sets: list[str] | None, config: Path | None, **flags: Any) -> dict[str, Any]:
    """Pin threads, then merge the config file, ``--set`` overrides and the flags that were given."""
    from simlab.cli.main import set_threads
    from simlab.config import load_config_file, parse_overrides

    set_threads(flags.get("threads"))
    opts = {**load_config_file(config), **parse_overrides(sets or [])}
    opts.update({k: v for k, v in flags.items() if v is not None})
    return opts


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add the graph commands to the root app and the ``train`` group."""

    @app.command("ged")
    def ged_cmd(
        graphs: Annotated[Path, typer.Argument(help="Graphs: a directory of GEXF/GraphML/JSON files, a .jsonl file of "
                                                    "node-link graphs, or one graph file.")],
        out: Annotated[Path, typer.Option("--out", help="GED TSV to write (resumed if it exists).")],
        pairs: Annotated[Path | None, typer.Option("--pairs", help="TSV with id_a, id_b columns: only these pairs "
                                                                   "(default: all unordered pairs).")] = None,
        timeout: Annotated[float, typer.Option("--timeout", help="Seconds of exact search per pair; then the best "
                                                                 "upper bound is kept (exact=0).")] = 10.0,
        workers: Annotated[int | None, typer.Option("--workers", help="Processes (default: all CPUs).")] = None,
        label_attr: Annotated[str, typer.Option("--label-attr", help="Node label attribute ('auto', a name, or "
                                                                     "'none' for structure only).")] = "auto",
        method: Annotated[str, typer.Option("--method", help="'exact' (branch and bound with --timeout) or "
                                                             "'editpath' (fast upper bounds from edit-path search; "
                                                             "exact=1 only where a lower bound proves it).")] = "exact",
        restarts: Annotated[int, typer.Option("--restarts", help="Random restarts of --method editpath.")] = 8,
        engine: Annotated[str, typer.Option("--engine", help="'local' or 'ray' (chunks of pairs on Ray workers, "
                                                             "resumable; see docs/scale.md).")] = "local",
        address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (implies ray).")] = None,
        cpus: Annotated[int | None, typer.Option("--cpus", help="CPUs of a local Ray instance.")] = None,
    ) -> None:
        """Graph edit distance for pairs of small graphs (node-label aware, uniform costs)."""
        from simlab.errors import DataError
        from simlab.graph.ged import compute_ged
        from simlab.graph.io import GraphSet

        gs = GraphSet.read(graphs)
        pair_list = None
        if pairs is not None:
            import csv

            with pairs.open(encoding="utf-8") as f:
                rows = list(csv.reader(f, delimiter="\t"))
            if not rows or len(rows[0]) < 2:
                raise DataError("pairs file needs a header and two tab-separated id columns", pairs, 1)
            pair_list = [(r[0], r[1]) for r in rows[1:] if len(r) >= 2]
        lattr = None if label_attr.lower() == "none" else label_attr
        if engine != "local" or address is not None:
            from simlab.cli.scale import ged_on_engine

            ged_on_engine(graphs, out, pair_list, method, engine, address, cpus, timeout, restarts, lattr)
            return
        if method == "editpath":
            from simlab.graph.editpath import edit_path_table

            table = edit_path_table(gs, pair_list, restarts=restarts, label_attr=lattr, progress=None)
            table.write(out)
            n_ub = int((~table.exact).sum())
            typer.echo(f"wrote {len(table)} pairs to {out} (edit-path upper bounds; {len(table) - n_ub} proven exact)")
            return
        if method != "exact":
            from simlab.errors import UnknownNameError

            raise UnknownNameError("GED method", method, ("exact", "editpath"))
        table = compute_ged(gs, out, pair_list, timeout=timeout, workers=workers, label_attr=lattr)
        n_ub = int((~table.exact).sum())
        typer.echo(f"wrote {len(table)} pairs to {out} ({n_ub} upper bounds where the exact search timed out)")

    @train_app.command("graph")
    def train_graph(
        graphs: Annotated[str, typer.Argument(help="Graphs file/directory, or ged:AIDS700nef / ged:LINUX (the "
                                                   "benchmark graphs and their training-pair GED).")],
        out: Annotated[Path, typer.Option("--out", help="Output model directory.")],
        ged: Annotated[Path | None, typer.Option("--ged", help="GED TSV (id_a id_b ged) for the graphs.")] = None,
        conv: Annotated[str, typer.Option("--conv", help="gcn, gin, sage or gat.")] = "gin",
        model: Annotated[str, typer.Option("--model", help="biencoder or pair.")] = "biencoder",
        sets: Annotated[list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="JSON config file.")] = None,
        seed: Annotated[int | None, typer.Option("--seed")] = None,
        device: Annotated[str | None, typer.Option("--device", help="cpu, cuda or auto.")] = None,
        threads: Annotated[int | None, typer.Option("--threads", help="Torch threads.")] = None,
    ) -> None:
        """Train a graph similarity model on GED (bi-encoder or SimGNN-style pair model)."""
        from simlab.errors import ConfigError

        opts = _options(sets, config, conv=conv, seed=seed, device=device, threads=threads)
        from simlab.graph.models import GraphBiEncoder, GraphPairModel

        classes = {"biencoder": GraphBiEncoder, "pair": GraphPairModel}
        if model not in classes:
            raise ConfigError(f"unknown --model {model!r}; valid: biencoder, pair")
        m = classes[model](opts)
        bench = None
        if graphs.startswith("ged:"):
            from simlab.graph.datasets import load_ged_benchmark

            bench = load_ged_benchmark(graphs[4:])
            m.fit(bench.graphs, bench.train_table())
        else:
            if ged is None:
                raise ConfigError("--ged GED.tsv is required (or use ged:AIDS700nef / ged:LINUX)")
            m.fit(graphs, ged)
        m.save(out)
        h = m.history
        typer.echo(f"trained {model} ({conv}) for {len(h.get('epochs', []))} epochs, best dev rho "
                   f"{h.get('best_dev')}; saved to {out}")
        if bench is not None:
            from simlab.evaluate import evaluate

            typer.echo(evaluate(m, f"ged:{bench.name}").to_table())

    @train_app.command("nodes")
    def train_nodes(
        graph: Annotated[str, typer.Argument(help="One graph file, or Cora / CiteSeer (shared Planetoid data).")],
        out: Annotated[Path, typer.Option("--out", help="Output model directory.")],
        conv: Annotated[str, typer.Option("--conv", help="gcn, gin, sage or gat.")] = "sage",
        sets: Annotated[list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="JSON config file.")] = None,
        seed: Annotated[int | None, typer.Option("--seed")] = None,
        device: Annotated[str | None, typer.Option("--device")] = None,
        threads: Annotated[int | None, typer.Option("--threads")] = None,
    ) -> None:
        """Train unsupervised node embeddings (link prediction with negative sampling)."""
        opts = _options(sets, config, conv=conv, seed=seed, device=device, threads=threads)
        from simlab.graph.nodes import NodeEmbedder

        m = NodeEmbedder(opts)
        if graph.lower() in ("cora", "citeseer") and not Path(graph).exists():
            from simlab.graph.planetoid import load_planetoid

            x, ei, _ = load_planetoid(graph)
            m.fit(ei, features=x, name={"cora": "Cora", "citeseer": "CiteSeer"}[graph.lower()])
        else:
            m.fit(graph)
        m.save(out)
        lp = m.link_prediction() if m.test_pos.shape[1] else {}
        typer.echo(f"trained {conv} node embeddings for {len(m.keys)} nodes; held-out link prediction "
                   + " ".join(f"{k}={v:.4f}" for k, v in lp.items()) + f"; saved to {out}")

    @app.command("rerank")
    def rerank_cmd(
        biencoder: Annotated[Path, typer.Argument(help="A graph bi-encoder model.")],
        pair: Annotated[Path, typer.Argument(help="A graph pair model (re-ranker), or 'editpath' to re-rank by "
                                                  "edit-path search.")],
        query: Annotated[str, typer.Argument(help="A graph id of the bi-encoder's collection, or a graph file.")],
        k: Annotated[int, typer.Option("-k")] = 10,
        candidates: Annotated[int, typer.Option("--candidates", help="Bi-encoder candidates to re-rank.")] = 100,
        blend: Annotated[float, typer.Option("--blend", help="Weight of the bi-encoder's score against the "
                                                             "re-ranker's (0: re-ranker only).")] = 0.5,
        restarts: Annotated[int, typer.Option("--restarts", help="Random restarts of the 'editpath' re-ranker.")] = 8,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Search the bi-encoder's collection and re-rank its top candidates with the pair model."""
        from simlab.artifacts import load
        from simlab.cli.main import echo_json, print_table

        bi = load(biencoder)
        if str(pair) == "editpath":
            from simlab.graph.refine import EditPathScorer

            pm: Any = EditPathScorer(restarts=restarts)
        else:
            pm = load(pair)
        q: Any = query
        if query not in (bi.collection or []) and Path(query).exists():
            from simlab.graph.io import read_graph_file

            q = read_graph_file(query)
        hits = bi.most_similar(q, k=k, rerank=pm, candidates=candidates, blend=blend)
        rows = [{"rank": i + 1, "key": key, "similarity": float(s)} for i, (key, s) in enumerate(hits)]
        if as_json:
            echo_json(rows)
        else:
            print_table(rows)
