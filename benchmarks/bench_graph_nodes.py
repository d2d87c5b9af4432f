"""Node embeddings: link prediction on Cora (AUC / AP on 10 % held-out edges vs as many non-edges).

simlab's ``NodeEmbedder`` (2-layer GCN and GraphSAGE encoders, dot-product decoder, negative sampling, early
stopping on 5 % validation edges), 3 seeds. Cora is read with simlab's restricted unpickler. Peer: the
published GAE number (Kipf & Welling 2016, AUC 0.910 / AP 0.920) and the SOURCE.md sanity run of PyG's GAE
example on the same files (AUC 0.894 / AP 0.889).

Usage: ``flock /tmp/simlab-bench.lock .venv/bin/python benchmarks/bench_graph_nodes.py``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import md_table, pin_threads, write_result

THREADS = pin_threads(1)

CONFIGS = {
    "gcn": {
        "conv": "gcn",
        "hidden": 128,
        "dim": 64,
        "layers": 2,
        "dropout": 0.3,
        "epochs": 300,
        "lr": 0.01,
        "patience": 60,
    },
    "sage": {
        "conv": "sage",
        "hidden": 128,
        "dim": 64,
        "layers": 2,
        "dropout": 0.3,
        "epochs": 300,
        "lr": 0.01,
        "patience": 60,
    },
}


def main() -> None:
    import torch

    torch.set_num_threads(THREADS)
    from simlab.graph.nodes import NodeEmbedder
    from simlab.graph.planetoid import load_planetoid

    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    args = ap.parse_args()
    x, ei, _ = load_planetoid("Cora")
    rows, data = [], {}
    for name, cfg in CONFIGS.items():
        aucs, aps, secs = [], [], []
        for seed in args.seeds:
            t0 = time.perf_counter()
            m = NodeEmbedder(progress=False, seed=seed, threads=THREADS, **cfg).fit(
                ei, features=x, name="Cora"
            )
            secs.append(time.perf_counter() - t0)
            lp = m.link_prediction()
            aucs.append(lp["auc"])
            aps.append(lp["ap"])
            print(name, seed, lp, round(secs[-1], 1), flush=True)
        data[name] = {"auc": aucs, "ap": aps, "fit_s": secs, "config": cfg}

        def ms(v: list[float]) -> str:
            return f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}"

        rows.append(
            {
                "method": f"simlab NodeEmbedder {name} ({len(args.seeds)} seeds)",
                "AUC": ms(aucs),
                "AP": ms(aps),
                "fit_s": f"{statistics.mean(secs):.1f}",
            }
        )
    rows.append(
        {"method": "GAE (Kipf & Welling 2016, published)", "AUC": "0.910", "AP": "0.920", "fit_s": "–"}
    )
    rows.append(
        {
            "method": "PyG GAE example on the same files (SOURCE.md)",
            "AUC": "0.894",
            "AP": "0.889",
            "fit_s": "–",
        }
    )
    best = max(statistics.mean(d["auc"]) for d in data.values())
    md = "\n\n".join(
        [
            "Cora (2,708 nodes, 5,278 undirected edges, 1,433 bag-of-words features, row-normalised). 10 % "
            "of the edges and as many non-edges held out for testing, 5 % for early stopping; the encoder "
            f"only sees the training edges. {THREADS} CPU thread.",
            md_table(rows),
            f"Target AUC >= 0.91: best mean AUC {best:.4f} — {'met' if best >= 0.91 else 'not met'}.",
        ]
    )
    write_result("graph_nodes", "Graphs: node embeddings, Cora link prediction", md, data, THREADS, order=62)
    print(md)


if __name__ == "__main__":
    main()
