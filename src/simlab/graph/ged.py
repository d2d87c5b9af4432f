"""Graph edit distance (GED) ground truth: exact search with a timeout, GED files, and the similarity target.

Cost model (the one of the SimGNN benchmarks): node insertion / deletion 1, node relabelling 1 (different
label; unlabelled graphs never pay it), edge insertion / deletion 1; edges carry no labels.

Exact GED is networkx's depth-first branch and bound (``networkx.optimize_edit_paths``). When a pair's search
does not finish within `timeout` seconds the best edit path found so far is kept: an **upper bound**, marked
``exact = 0`` in the file (unless it equals a cheap lower bound, which proves it exact).

Normalised GED and the similarity target used in the literature (Bai et al., SimGNN, WSDM 2019)::

    nGED(G1, G2) = GED(G1, G2) / ((|V1| + |V2|) / 2)          similarity = exp(-nGED)

GED files are tab-separated with a header, one pair per line, ids as in the graphs file::

    id_a    id_b    ged     exact
    g1      g2      3       1
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab.errors import ConfigError, DataError, UnknownKeyError
from simlab.graph.io import GraphSet, node_labels

log = logging.getLogger(__name__)

HEADER = ("id_a", "id_b", "ged", "exact")


def nged(ged: Any, n1: Any, n2: Any) -> Any:
    """Normalised GED: ``ged / ((n1 + n2) / 2)`` (scalars or arrays)."""
    return np.asarray(ged, np.float64) / ((np.asarray(n1, np.float64) + np.asarray(n2, np.float64)) / 2)


def ged_similarity(ged: Any, n1: Any, n2: Any) -> Any:
    """The similarity target ``exp(-nGED)`` in (0, 1]."""
    return np.exp(-nged(ged, n1, n2))


def _labelled_copy(g: Any, label_attr: str | None) -> Any:
    import networkx as nx

    labels = node_labels(g, label_attr)
    h = nx.Graph()
    if labels is None:
        h.add_nodes_from(g.nodes())
    else:
        h.add_nodes_from((n, {"_l": str(lab)}) for n, lab in zip(g.nodes(), labels, strict=True))
    h.add_edges_from((u, v) for u, v in g.edges() if u != v)
    return h, labels is not None


def ged_lower_bound(g1: Any, g2: Any, label_attr: str | None = "auto") -> int:
    """A cheap lower bound: node-label multiset difference plus the edge-count difference."""
    l1, l2 = node_labels(g1, label_attr), node_labels(g2, label_attr)
    n1, n2 = g1.number_of_nodes(), g2.number_of_nodes()
    if l1 is None or l2 is None:
        node_lb = abs(n1 - n2)
    else:
        common = sum((Counter(map(str, l1)) & Counter(map(str, l2))).values())
        node_lb = max(n1, n2) - common
    return node_lb + abs(g1.number_of_edges() - g2.number_of_edges())


def exact_ged(
    g1: Any, g2: Any, label_attr: str | None = "auto", timeout: float | None = 10.0
) -> tuple[float, bool]:
    """GED of two graphs under the uniform cost model.

    Args:
        g1, g2: networkx graphs.
        label_attr: node label attribute (``"auto"``: ``type`` or ``label``; None: ignore labels).
        timeout: seconds of search per pair (None: no limit).

    Returns:
        ``(ged, exact)``: the distance and whether the search proved it optimal (False: an upper bound).
    """
    import networkx as nx

    h1, lab1 = _labelled_copy(g1, label_attr)
    h2, lab2 = _labelled_copy(g2, label_attr)
    node_match = (lambda a, b: a.get("_l") == b.get("_l")) if (lab1 and lab2) else None
    lb = ged_lower_bound(g1, g2, label_attr)
    best = float(h1.number_of_nodes() + h2.number_of_nodes() + h1.number_of_edges() + h2.number_of_edges())
    t0 = time.perf_counter()
    for _, _, cost in nx.optimize_edit_paths(
        h1, h2, node_match=node_match, strictly_decreasing=True, timeout=timeout
    ):
        best = min(best, float(cost))
        if best <= lb:
            return best, True
    elapsed = time.perf_counter() - t0
    exact = timeout is None or elapsed < 0.98 * timeout or best <= lb
    return best, bool(exact)


# -- GED files -----------------------------------------------------------------------------------------------


@dataclass
class GEDTable:
    """Pairs of graph ids with their GED.

    Attributes:
        a, b: id lists (as in the graphs file).
        ged: ``(n,)`` float64 distances.
        exact: ``(n,)`` bool, False for upper bounds.
    """

    a: list[Any]
    b: list[Any]
    ged: np.ndarray
    exact: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def read(cls, path: str | Path, graphs: GraphSet | None = None) -> GEDTable:
        """Read a GED TSV (header ``id_a id_b ged [exact]``); with `graphs`, check every id exists.

        Raises:
            DataError: bad header, malformed line, or (with `graphs`) an unknown graph id, naming file and
                line.
        """
        p = Path(path)
        if not p.is_file():
            raise DataError("GED file not found", p)
        a, b, ged, exact = [], [], [], []
        from simlab.paths import read_text

        text = read_text(p, "GED file")
        with io.StringIO(text, newline="") as f:
            rows = csv.reader(f, delimiter="\t")
            header = next(rows, None)
            if header is None:
                raise DataError("empty GED file (expected a header 'id_a<TAB>id_b<TAB>ged')", p, 1)
            cols = [c.strip().lower() for c in header]
            names = {"id_a": ("id_a", "gid_a", "a"), "id_b": ("id_b", "gid_b", "b"), "ged": ("ged",)}
            pos = {}
            for k, alts in names.items():
                hit = next((i for i, c in enumerate(cols) if c in alts), None)
                if hit is None:
                    raise DataError(
                        f"header lacks column {k!r} (got {header}); expected id_a, id_b, ged", p, 1
                    )
                pos[k] = hit
            ex_col = cols.index("exact") if "exact" in cols else None
            for line_no, row in enumerate(rows, 2):
                if not row or not any(x.strip() for x in row):
                    continue
                if len(row) < len(cols):
                    raise DataError(f"expected {len(cols)} tab-separated fields, got {len(row)}", p, line_no)
                try:
                    g = float(row[pos["ged"]])
                except ValueError:
                    raise DataError(f"ged is not a number: {row[pos['ged']]!r}", p, line_no) from None
                if not math.isfinite(g) or g < 0:
                    raise DataError(f"ged must be finite and >= 0, got {g}", p, line_no)
                ia, ib = row[pos["id_a"]], row[pos["id_b"]]
                if graphs is not None:
                    for gid in (ia, ib):
                        if gid not in graphs:
                            try:
                                graphs.position(gid)
                            except UnknownKeyError:
                                raise UnknownKeyError(
                                    f"{p}:{line_no}: unknown graph id {gid!r} (not in the graphs file)"
                                ) from None
                    ia, ib = graphs.ids[graphs.position(ia)], graphs.ids[graphs.position(ib)]
                a.append(ia)
                b.append(ib)
                ged.append(g)
                exact.append(True if ex_col is None else row[ex_col].strip() not in ("0", "false", "False"))
        if not a:
            raise DataError("GED file has no pairs", p)
        return cls(a, b, np.array(ged, np.float64), np.array(exact, bool))

    def write(self, path: str | Path) -> None:
        """Write as TSV with the header ``id_a id_b ged exact``."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write("\t".join(HEADER) + "\n")
            for ia, ib, g, e in zip(self.a, self.b, self.ged, self.exact, strict=True):
                f.write(f"{ia}\t{ib}\t{_fmt(g)}\t{int(bool(e))}\n")
        os.replace(tmp, p)

    def similarity(self, graphs: GraphSet) -> np.ndarray:
        """``exp(-nGED)`` of every pair, using node counts from `graphs`."""
        sizes = graphs.sizes()
        n1 = np.array([sizes[graphs.position(i)] for i in self.a])
        n2 = np.array([sizes[graphs.position(i)] for i in self.b])
        return ged_similarity(self.ged, n1, n2)


def _fmt(g: float) -> str:
    return str(int(g)) if float(g).is_integer() else f"{g:.6g}"


# -- parallel computation with a resumable cache -------------------------------------------------------------

_POOL_GRAPHS: GraphSet | None = None
_POOL_OPTS: dict[str, Any] = {}


def _init_worker(graphs: GraphSet, opts: dict[str, Any]) -> None:
    global _POOL_GRAPHS, _POOL_OPTS
    _POOL_GRAPHS, _POOL_OPTS = graphs, opts


def _init_pool_worker(graphs: GraphSet, opts: dict[str, Any]) -> None:
    """A pool process: default SIGTERM (the parent ends the pool with it; an inherited handler, such as the
    CLI's, would raise and print a traceback) and SIGINT ignored (Ctrl-C is the parent's to handle)."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init_worker(graphs, opts)


def _work(pair: tuple[int, int]) -> tuple[int, int, float, bool]:
    assert _POOL_GRAPHS is not None
    i, j = pair
    g, e = exact_ged(_POOL_GRAPHS.graphs[i], _POOL_GRAPHS.graphs[j], **_POOL_OPTS)
    return i, j, g, e


def _read_done(path: Path) -> set[tuple[str, str]]:
    done: set[tuple[str, str]] = set()
    from simlab.paths import read_text

    lines = read_text(path, "GED file").split("\n")
    if not lines or lines[0].split("\t")[:3] != list(HEADER[:3]):
        raise DataError(f"cannot resume: header is not {' '.join(HEADER)}", path, 1)
    for line in lines[1:]:
        parts = line.split("\t")
        if len(parts) == 4 and parts[3] in ("0", "1"):
            done.add((parts[0], parts[1]))
    return done


def compute_ged(
    graphs: GraphSet | str | Path,
    out: str | Path,
    pairs: Iterable[tuple[Any, Any]] | None = None,
    *,
    timeout: float = 10.0,
    workers: int | None = None,
    label_attr: str | None = "auto",
    progress: bool = True,
) -> GEDTable:
    """Compute GED for pairs of graphs in parallel processes and write them to a TSV file as they finish.

    The output file is the cache: an interrupted run resumes where it stopped (pairs already in `out` are
    not recomputed; a truncated last line is recomputed).

    Args:
        graphs: the collection (or a path to read).
        out: the GED TSV to write / resume.
        pairs: ``(id_a, id_b)`` pairs; default all unordered pairs ``i < j``.
        timeout: seconds of exact search per pair before keeping the best upper bound.
        workers: processes (default: number of CPUs; 1 runs in this process).
        label_attr: node label attribute for relabelling costs (None: structure only).
        progress: tqdm progress bar (on a terminal only).

    Returns:
        The whole table (old and new rows).
    """
    gs = GraphSet.coerce(graphs)
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"timeout must be > 0, got {timeout}")
    if pairs is None:
        todo = [(i, j) for i in range(len(gs)) for j in range(i + 1, len(gs))]
    else:
        todo = [(gs.position(a), gs.position(b)) for a, b in pairs]
    outp = Path(out)
    done = _open_cache(outp)
    todo = [(i, j) for i, j in todo if (str(gs.ids[i]), str(gs.ids[j])) not in done]
    if done:
        log.info("resuming %s: %d pairs cached, %d to compute", outp, len(done), len(todo))
    workers = workers or os.cpu_count() or 1
    opts = {"label_attr": label_attr, "timeout": timeout}
    from tqdm.auto import tqdm

    bar = tqdm(total=len(todo), desc="GED", unit="pair", disable=None if progress else True)
    with outp.open("a", encoding="utf-8") as f, _results(gs, todo, workers, opts) as results, bar:
        for i, j, g, e in results:
            f.write(f"{gs.ids[i]}\t{gs.ids[j]}\t{_fmt(g)}\t{int(e)}\n")
            f.flush()
            bar.update(1)
    return GEDTable.read(outp, gs)


def _open_cache(outp: Path) -> set[tuple[str, str]]:
    """The pairs already in a GED file; a missing one is created with its header, a truncated last line is
    dropped so appends start on a fresh line."""
    if not (outp.exists() and outp.stat().st_size > 0):
        outp.parent.mkdir(parents=True, exist_ok=True)
        outp.write_text("\t".join(HEADER) + "\n", "utf-8")
        return set()
    done = _read_done(outp)
    with outp.open("rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)
    return done


@contextlib.contextmanager
def _results(
    gs: GraphSet, todo: list[tuple[int, int]], workers: int, opts: dict[str, Any]
) -> Iterator[Iterable[tuple[int, int, float, bool]]]:
    """``(i, j, ged, exact)`` of the pairs as they finish: in this process, or on a pool of `workers`
    processes (terminated when the block ends)."""
    if workers <= 1 or len(todo) <= 1:
        _init_worker(gs, opts)
        yield map(_work, todo)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    pool = ctx.Pool(workers, initializer=_init_pool_worker, initargs=(gs, opts))
    try:
        yield pool.imap_unordered(_work, todo, chunksize=max(1, min(64, len(todo) // (workers * 16) or 1)))
    finally:
        pool.terminate()
        pool.join()


def ged_matrix(
    graphs_a: Sequence[Any],
    graphs_b: Sequence[Any],
    label_attr: str | None = "auto",
    timeout: float | None = 10.0,
) -> np.ndarray:
    """``(len(a), len(b))`` GED matrix computed in this process (small inputs, tests)."""
    out = np.zeros((len(graphs_a), len(graphs_b)))
    for i, g1 in enumerate(graphs_a):
        for j, g2 in enumerate(graphs_b):
            out[i, j] = exact_ged(g1, g2, label_attr, timeout)[0]
    return out
