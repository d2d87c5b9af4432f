"""Fast GED upper bounds from real edit paths: batched assignment + swap local search.

An edit path between two graphs under the uniform cost model of :mod:`simlab.graph.ged` is fixed by a node
mapping. Both graphs are padded with dummy nodes to the same size ``N``; a permutation ``P`` maps node ``i``
of the first graph to node ``P[i]`` of the second (real -> dummy: deletion, dummy -> real: insertion). Its
cost::

    cost(P) = sum_i c(i, P[i]) + 1/2 * sum_{x, y} [A1[x, y] != A2[P[x], P[y]]]

with ``c`` = 1 for a relabelling, an insertion or a deletion, 0 otherwise. Every mapping's cost is the cost of
a real edit path, so it is an **upper bound** on the GED (never below it).

The search (in the family of the bipartite GED of Riesen & Bunke 2009, improved by local search):

1. starting mappings: the optimal assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) of node
   costs that estimate each node's local edit cost (label + degree difference; label + neighbour-label
   histogram difference; with ``node_vectors`` from a learned GNN, label + degree + embedding distance), plus
   `restarts` random mappings;
2. from each start, steepest descent over all swaps of two nodes' images. All swaps of a batch of pairs are
   scored at once from two batched matrix products (``O(N^3)`` per pair and step), so thousands of pairs run
   together;
3. the cheapest mapping over all starts is kept.

A cheap lower bound (node-label multiset + edge-count difference) proves the result exact when they meet.

Shapes: graphs of a batch are padded to the largest graph of the batch (``N`` nodes); the search costs
``O(N^3)`` per step and pair, so it is meant for the small graphs of GED benchmarks (tens of nodes).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simlab.errors import ConfigError
from simlab.graph.io import GraphSet, node_labels
from simlab.model import thread_limit

INITS = ("degree", "neighbours")
#: Random restarts of the search by default, everywhere (Python API, CLI, scale jobs). 4 restarts: rho 0.930,
#: p@10 0.928 at 21k pairs/s on AIDS700nef (1 thread); 8: 0.953 / 0.953 at 13k pairs/s. With a learned model's
#: start (``EditPathScorer(model)``) 4 restarts reach 0.961 / 0.970, more than 8 plain ones, at 15k pairs/s.
DEFAULT_RESTARTS = 4
_CHUNK_CELLS = 1 << 22  # at most this many N x N matrix cells per chunk (~10 float32 copies live: ~170 MB)
LEARNED_WEIGHT = (
    0.5  # weight of the unit-normalised node-embedding distance in the learned start's node costs
)


@dataclass
class PaddedGraphs:
    """Graphs as padded arrays over a shared label vocabulary.

    Attributes:
        adj: ``(G, N, N)`` uint8 adjacency (symmetric, zero diagonal, zero rows for padding).
        labels: ``(G, N)`` int64 label ids; ``-1`` marks padding.
        sizes: ``(G,)`` node counts.
        nodes: each graph's node names, in row order.
        keys: ``(G,)`` uint64 content hashes (labels + adjacency in node order) that seed the random starts,
            so a pair's random starts depend on the two graphs only, not on the batch or the label vocabulary.
    """

    adj: np.ndarray
    labels: np.ndarray
    sizes: np.ndarray
    nodes: list[list[Any]]
    keys: np.ndarray | None = None

    @classmethod
    def build(
        cls, graphs: Sequence[Any], vocab: dict[str, int], label_attr: str | None = "auto"
    ) -> PaddedGraphs:
        """Pad `graphs` (networkx) to their largest size; unseen labels are added to `vocab`."""
        n_max = max((g.number_of_nodes() for g in graphs), default=1)
        adj = np.zeros((len(graphs), n_max, n_max), np.uint8)
        labels = np.full((len(graphs), n_max), -1, np.int64)
        sizes = np.zeros(len(graphs), np.int64)
        names = []
        keys = np.zeros(len(graphs), np.uint64)
        for k, g in enumerate(graphs):
            nodes = list(g.nodes())
            pos = {u: i for i, u in enumerate(nodes)}
            labs = node_labels(g, label_attr)
            sizes[k] = len(nodes)
            labels[k, : len(nodes)] = [vocab.setdefault(str(lab), len(vocab)) for lab in labs] if labs else 0
            for u, v in g.edges():
                if u != v:
                    adj[k, pos[u], pos[v]] = adj[k, pos[v], pos[u]] = 1
            names.append(nodes)
            n = len(nodes)
            text = "\x1f".join(map(str, labs)) if labs else ""
            keys[k] = zlib.crc32(adj[k, :n, :n].tobytes() + text.encode("utf-8", "replace")) + (n << 32)
        return cls(adj, labels, sizes, names, keys)


@dataclass(frozen=True)
class EditPathConfig:
    """Settings of the edit-path search.

    Attributes:
        inits: assignment-based starting mappings, any of ``degree`` (label + degree difference) and
            ``neighbours`` (label + neighbour-label histogram difference).
        restarts: additional random starting mappings (more: tighter bounds, proportionally slower).
        descent: improve each start by swap descent (False: the starts' own costs, i.e. the bipartite GED).
        seed: seed of the random starts.
        chunk: at most this many pairs searched together (fewer for large graphs, so that a chunk holds at
            most 4M matrix cells; memory ~ pairs * N^2 * 40 bytes). Results do not depend on it.
        label_attr: node label attribute (``"auto"``, a name, or None for structure only).
        threads: torch threads during the search (None: leave torch's setting). The search runs many small
            batched operations; intra-op threads barely help them and, on a busy machine, slowed AIDS700nef
            from 4 s to 118 s with 2 threads, so the default is 1 (run several processes to use more cores).
        timeout: seconds of search per pair (a chunk of B pairs gets B times this); when it runs out the best
            path found so far is kept (still an upper bound). None: no limit.
    """

    inits: tuple[str, ...] = INITS
    restarts: int = DEFAULT_RESTARTS
    descent: bool = True
    seed: int = 0
    chunk: int = 4096
    label_attr: str | None = "auto"
    threads: int | None = 1
    timeout: float | None = 10.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "inits", tuple(self.inits))
        if self.timeout is not None and not (self.timeout > 0):  # also refuses NaN
            raise ConfigError(f"timeout must be > 0 seconds or None, got {self.timeout}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be >= 1 or None, got {self.threads}")
        bad = [i for i in self.inits if i not in INITS]
        if bad:
            raise ConfigError(f"unknown edit-path init {bad[0]!r}; valid: {', '.join(INITS)}")
        if self.restarts < 0 or (self.restarts == 0 and not self.inits):
            raise ConfigError("the edit-path search needs at least one start (inits or restarts >= 1)")
        if self.chunk < 1:
            raise ConfigError(f"chunk must be >= 1, got {self.chunk}")


@dataclass
class EditPaths:
    """Result of :func:`edit_path_search` for ``B`` pairs.

    Attributes:
        cost: ``(B,)`` cost of the best edit path found (an upper bound on the GED).
        lower: ``(B,)`` the cheap lower bound; ``cost == lower`` proves the cost exact.
        mapping: ``(B, N)`` best permutation (padded node i of graph a -> padded node of graph b).
    """

    cost: np.ndarray
    lower: np.ndarray
    mapping: np.ndarray

    @property
    def proven_exact(self) -> np.ndarray:
        return self.cost <= self.lower


def _node_costs(la: Any, lb: Any) -> Any:
    """``(B, N, N)`` node cost of mapping node i of a to node j of b (labels ``-1`` = padding)."""
    import torch

    ra, rb = (la >= 0)[:, :, None], (lb >= 0)[:, None, :]
    diff = la[:, :, None] != lb[:, None, :]
    return torch.where(ra & rb, diff, ra | rb).float()


def _lower_bound(la: Any, lb: Any, aa: Any, ab: Any, n_labels: int) -> Any:
    import torch

    def hist(lab: Any) -> Any:
        h = torch.zeros(lab.shape[0], n_labels + 1)
        return h.scatter_add_(1, (lab + 1).clamp_min(0), torch.ones_like(lab, dtype=torch.float))[:, 1:]

    na, nb = (la >= 0).sum(1), (lb >= 0).sum(1)
    common = torch.minimum(hist(la), hist(lb)).sum(1)
    edges = (aa.sum((1, 2)) - ab.sum((1, 2))).abs() / 2
    return torch.maximum(na, nb) - common + edges


def _permute(ab: Any, perm: Any) -> Any:
    """``M[b, x, y] = ab[b, perm[b, x], perm[b, y]]``."""
    n = perm.shape[1]
    m = ab.gather(1, perm[:, :, None].expand(-1, -1, n))
    return m.gather(2, perm[:, None, :].expand(-1, n, -1))


def _path_cost(aa: Any, ab: Any, cn: Any, perm: Any) -> Any:
    m = _permute(ab, perm)
    return cn.gather(2, perm[:, :, None]).squeeze(2).sum(1) + (aa != m).sum((1, 2)) / 2


def _descend(aa: Any, ab: Any, cn: Any, perm: Any, deadline: float = math.inf) -> tuple[Any, Any]:
    """Steepest descent over swaps of two nodes' images until no swap lowers the cost.

    Swapping the images of i and j changes only rows/columns i and j of the permuted adjacency ``M``; with
    ``X = deg_a 1' + 1 deg_M' - 2 A M`` (``X[i, j]`` = mismatches of row i of A against row j of M) the edge
    delta is ``X[i,j] + X[j,i] - X[i,i] - X[j,j] - 2 M[i,j] - 2 A[i,j] + 2 [A[i,j] != M[i,j]]`` and the node
    delta is ``K[i,j] + K[j,i] - K[i,i] - K[j,j]`` with ``K[i, j] = c(i, P[j])``. Stops at `deadline`
    (``time.monotonic``) with the path reached so far.
    """
    import torch

    n = perm.shape[1]
    deg_a = aa.sum(2)
    upper = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
    active = torch.arange(len(perm))
    cost = _path_cost(aa, ab, cn, perm)
    while len(active) and time.monotonic() < deadline:
        a, p, c = aa[active], perm[active], cn[active]
        m = _permute(ab[active], p)
        x = deg_a[active][:, :, None] + m.sum(2)[:, None, :] - 2 * torch.bmm(a, m)
        dx = torch.diagonal(x, dim1=1, dim2=2)
        edge = x + x.transpose(1, 2) - dx[:, :, None] - dx[:, None, :] - 2 * m - 2 * a + 2 * (a != m).float()
        k = c.gather(2, p[:, None, :].expand(-1, n, -1))
        dk = torch.diagonal(k, dim1=1, dim2=2)
        delta = (edge + k + k.transpose(1, 2) - dk[:, :, None] - dk[:, None, :]).masked_fill_(~upper, 0.0)
        best, arg = delta.view(len(active), -1).min(1)
        move = best < -0.5  # costs are integers: a real improvement is <= -1
        if not bool(move.any()):
            break
        rows = active[move]
        i, j = arg[move] // n, arg[move] % n
        pi, pj = perm[rows, i].clone(), perm[rows, j].clone()
        perm[rows, i], perm[rows, j] = pj, pi
        cost[rows] += best[move]
        active = rows
    return perm, cost


def _assignment(cost: np.ndarray) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    out = np.empty(cost.shape[:2], np.int64)
    for k in range(len(cost)):
        r, c = linear_sum_assignment(cost[k])
        out[k, r] = c
    return out


def _neighbour_hist(adj: Any, labels: Any, n_labels: int) -> Any:
    import torch

    onehot = torch.nn.functional.one_hot(labels.clamp_min(0), n_labels).float() * (labels >= 0)[..., None]
    return torch.bmm(adj, onehot)


def _unit_vectors(v: np.ndarray, idx: np.ndarray, n: int) -> Any:
    """``(B, n, d)`` unit-length node vectors of graphs `idx`, cut or zero-padded to `n` nodes."""
    import torch

    w = min(v.shape[1], n)
    out = np.zeros((len(idx), n, v.shape[2]), np.float32)
    out[:, :w] = v[idx, :w]
    return torch.nn.functional.normalize(torch.from_numpy(out), dim=-1)


def _search_chunk(
    pa: PaddedGraphs,
    ia: np.ndarray,
    pb: PaddedGraphs,
    ib: np.ndarray,
    cfg: EditPathConfig,
    n_labels: int,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, Any, Any]:
    import torch

    n = int(max(pa.sizes[ia].max(), pb.sizes[ib].max()))
    aa, la = _pad(pa, ia, n)
    ab, lb = _pad(pb, ib, n)
    cn = _node_costs(la, lb)
    degree_gap = (aa.sum(2)[:, :, None] - ab.sum(2)[:, None, :]).abs() / 2
    best_cost = torch.full((len(ia),), float("inf"))
    best_perm = torch.zeros(len(ia), n, dtype=torch.long)
    starts: list[Any] = []
    for init in cfg.inits:
        if init == "degree":
            est = cn + degree_gap
        else:
            ha, hb = _neighbour_hist(aa, la, n_labels), _neighbour_hist(ab, lb, n_labels)
            est = cn + torch.cdist(ha, hb, p=1) / 2
        starts.append(torch.from_numpy(_assignment(est.numpy())))
    if vectors is not None:
        dist = torch.cdist(_unit_vectors(vectors[0], ia, n), _unit_vectors(vectors[1], ib, n))
        starts.append(torch.from_numpy(_assignment((cn + degree_gap + LEARNED_WEIGHT * dist).numpy())))
    for r in range(cfg.restarts):  # random start r of a pair depends on (seed, r, the two graphs) only
        starts.append(_random_perms(pa.keys[ia], pb.keys[ib], cfg.seed, r, n))
    deadline = time.monotonic() + cfg.timeout * len(ia) if cfg.timeout is not None else math.inf
    for k, perm in enumerate(starts):
        if k and time.monotonic() >= deadline:
            break
        if cfg.descent:
            perm, cost = _descend(aa, ab, cn, perm, deadline)
        else:
            cost = _path_cost(aa, ab, cn, perm)
        better = cost < best_cost
        best_cost = torch.where(better, cost, best_cost)
        best_perm[better] = perm[better]
    lower = _lower_bound(la, lb, aa, ab, n_labels)
    return best_cost, lower, best_perm


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (uint64 arrays, wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _random_perms(key_a: Any, key_b: Any, seed: int, restart: int, n: int) -> Any:
    """``(B, n)`` pseudo-random permutations, one per pair, a function of (pair's graph keys, seed,
    restart)."""
    import torch

    with np.errstate(over="ignore"):
        pair = _mix64(
            np.asarray(key_a, np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.asarray(key_b, np.uint64)
        )
        pair = _mix64(pair + np.uint64((seed * 1_000_003 + restart) % (1 << 63)))
        u = _mix64(
            pair[:, None] + np.arange(1, n + 1, dtype=np.uint64)[None, :] * np.uint64(0xD1B54A32D192ED03)
        )
    return torch.from_numpy(np.argsort(u, axis=1, kind="stable").astype(np.int64))


def _pad(p: PaddedGraphs, idx: np.ndarray, n: int) -> tuple[Any, Any]:
    """``(B, n, n)`` float adjacency and ``(B, n)`` labels of graphs `idx`, cut or padded to `n` nodes."""
    import torch

    w = min(p.adj.shape[1], n)
    adj = np.zeros((len(idx), n, n), np.float32)
    adj[:, :w, :w] = p.adj[idx, :w, :w]
    lab = np.full((len(idx), n), -1, np.int64)
    lab[:, :w] = p.labels[idx, :w]
    return torch.from_numpy(adj), torch.from_numpy(lab)


def edit_path_search(
    graphs_a: Any,
    graphs_b: Any,
    ia: Sequence[int] | np.ndarray | None = None,
    ib: Sequence[int] | np.ndarray | None = None,
    config: EditPathConfig | None = None,
    node_vectors: tuple[np.ndarray, np.ndarray] | None = None,
    progress: bool | None = False,
    **kwargs: Any,
) -> EditPaths:
    """Best edit paths found for pairs ``(graphs_a[ia[k]], graphs_b[ib[k]])``.

    Args:
        graphs_a, graphs_b: GraphSets, lists of networkx graphs, or graphs files.
        ia, ib: positions of the pairs (default: ``graphs_a[k]`` with ``graphs_b[k]``).
        config: an :class:`EditPathConfig`; keyword arguments override it.
        node_vectors: optional learned node embeddings ``((len(graphs_a), Na, d), (len(graphs_b), Nb, d))``
            (row k = k-th node in ``g.nodes()`` order, e.g. ``model.node_embeddings(graphs)``): adds one
            start, the assignment of label + degree + embedding-distance costs.
        progress: a tqdm bar over the pairs (rate in pairs/s); None: only on a terminal.

    Returns:
        :class:`EditPaths` with ``cost`` (upper bounds), ``lower`` and ``mapping`` ``(B, N)`` (padded node
        indices; positions >= a graph's size are dummy nodes) in pair order.
    """
    import torch

    cfg = config or EditPathConfig()
    if kwargs:
        from dataclasses import replace

        cfg = replace(cfg, **kwargs)
    ga, gb = GraphSet.coerce(graphs_a), GraphSet.coerce(graphs_b)
    ia, ib = _pair_positions(ga, gb, ia, ib)
    if node_vectors is not None:
        node_vectors = _checked_vectors(node_vectors, len(ga), len(gb))
    vocab: dict[str, int] = {}
    pa = PaddedGraphs.build(list(ga), vocab, cfg.label_attr)
    pb = pa if gb is ga else PaddedGraphs.build(list(gb), vocab, cfg.label_attr)
    n_labels = max(len(vocab), 1)
    n_max = max(pa.adj.shape[1], pb.adj.shape[1])
    cost = np.zeros(len(ia))
    lower = np.zeros(len(ia))
    mapping = np.zeros((len(ia), n_max), np.int64)
    # each pair is padded to its own larger graph, so a chunk holds pairs of one padded size: a pair's result
    # does not depend on the other pairs searched with it (batched == one pair at a time)
    size = np.maximum(pa.sizes[ia], pb.sizes[ib])
    with thread_limit(cfg.threads), torch.no_grad():
        _search_all(pa, ia, pb, ib, size, cfg, n_labels, node_vectors, n_max, cost, lower, mapping, progress)
    return EditPaths(cost, lower, mapping)


def _pair_positions(
    ga: GraphSet, gb: GraphSet, ia: Sequence[int] | np.ndarray | None, ib: Sequence[int] | np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' positions as int64 arrays (default: ``ga[k]`` with ``gb[k]``)."""
    if ia is None or ib is None:
        if len(ga) != len(gb):
            raise ConfigError(f"pairwise edit paths need equal lengths, got {len(ga)} and {len(gb)}")
        ia = ib = np.arange(len(ga))
    a, b = np.asarray(ia, np.int64), np.asarray(ib, np.int64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ConfigError(f"ia and ib must be 1-D and of equal length, got shapes {a.shape} and {b.shape}")
    return a, b


def _checked_vectors(
    node_vectors: tuple[np.ndarray, np.ndarray], n_a: int, n_b: int
) -> tuple[np.ndarray, np.ndarray]:
    """Node vectors as float32 ``((n_a, Na, d), (n_b, Nb, d))``; other shapes raise ConfigError."""
    va, vb = (np.asarray(v, np.float32) for v in node_vectors)
    if va.ndim != 3 or vb.ndim != 3 or len(va) != n_a or len(vb) != n_b or va.shape[2] != vb.shape[2]:
        raise ConfigError(
            f"node_vectors must be ((len(graphs_a), Na, d), (len(graphs_b), Nb, d)) arrays, got "
            f"shapes {va.shape} and {vb.shape}"
        )
    return va, vb


def _search_all(
    pa: PaddedGraphs,
    ia: np.ndarray,
    pb: PaddedGraphs,
    ib: np.ndarray,
    size: np.ndarray,
    cfg: EditPathConfig,
    n_labels: int,
    node_vectors: tuple[np.ndarray, np.ndarray] | None,
    n_max: int,
    cost: np.ndarray,
    lower: np.ndarray,
    mapping: np.ndarray,
    progress: bool | None = False,
) -> None:
    """Search every pair, chunked by padded size; results written into `cost`, `lower`, `mapping`."""
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress  # None: tqdm shows a bar on a terminal only
    with tqdm(total=len(ia), desc="edit paths", unit="pair", disable=disable) as bar:
        for n in np.unique(size):
            rows = np.flatnonzero(size == n)
            step = max(1, min(cfg.chunk, _CHUNK_CELLS // int(n * n)))  # bounded memory for larger graphs
            for s in range(0, len(rows), step):
                sel = rows[s : s + step]
                c, lo, perm = _search_chunk(pa, ia[sel], pb, ib[sel], cfg, n_labels, node_vectors)
                cost[sel], lower[sel] = c.numpy(), lo.numpy()
                mapping[sel, :n] = perm.numpy()
                mapping[sel, n:] = np.arange(n, n_max)
                bar.update(len(sel))


def edit_path(g1: Any, g2: Any, **kwargs: Any) -> tuple[float, dict[Any, Any | None], bool]:
    """The best edit path found between two networkx graphs.

    Returns:
        ``(cost, mapping, proven_exact)``: the path's cost (an upper bound on the GED), node of `g1` -> node
        of `g2` (None: deleted; nodes of `g2` missing from the values are inserted), and whether the lower
        bound proves the cost optimal.
    """
    res = edit_path_search([g1], [g2], **kwargs)
    n1, n2 = list(g1.nodes()), list(g2.nodes())
    perm = res.mapping[0]
    mapping = {u: (n2[perm[i]] if perm[i] < len(n2) else None) for i, u in enumerate(n1)}
    return float(res.cost[0]), mapping, bool(res.proven_exact[0])


def mapping_cost(g1: Any, g2: Any, mapping: dict[Any, Any | None], label_attr: str | None = "auto") -> int:
    """Cost of the edit path induced by a node mapping (uniform costs), computed directly from the graphs."""
    l1, l2 = node_labels(g1, label_attr), node_labels(g2, label_attr)
    lab1 = dict(zip(g1.nodes(), l1, strict=True)) if l1 else {}
    lab2 = dict(zip(g2.nodes(), l2, strict=True)) if l2 else {}
    cost = 0
    for u, v in mapping.items():
        if v is None or (l1 and l2 and lab1[u] != lab2[v]):
            cost += 1
    cost += len(set(g2.nodes()) - {v for v in mapping.values() if v is not None})
    edges1 = {frozenset((u, v)) for u, v in g1.edges() if u != v}
    edges2 = {frozenset((u, v)) for u, v in g2.edges() if u != v}
    image = set()
    for e in edges1:
        u, v = tuple(e)
        mu, mv = mapping.get(u), mapping.get(v)
        if mu is not None and mv is not None and frozenset((mu, mv)) in edges2:
            image.add(frozenset((mu, mv)))
        else:
            cost += 1
    cost += len(edges2 - image)
    return cost


def edit_path_table(graphs: Any, pairs: Sequence[tuple[Any, Any]] | None = None, **kwargs: Any) -> Any:
    """GED upper bounds of pairs of a collection as a :class:`~simlab.graph.ged.GEDTable`.

    Args:
        graphs: the collection (GraphSet or graphs file).
        pairs: ``(id_a, id_b)`` pairs (default: all unordered pairs ``i < j``).
        **kwargs: :class:`EditPathConfig` fields and ``progress``.

    Returns:
        A GEDTable whose ``exact`` column is True where the lower bound proves the cost optimal.
    """
    from simlab.graph.ged import GEDTable

    gs = GraphSet.coerce(graphs)
    if pairs is None:
        ia, ib = np.triu_indices(len(gs), 1)
    else:
        ia = np.array([gs.position(a) for a, _ in pairs], np.int64)
        ib = np.array([gs.position(b) for _, b in pairs], np.int64)
    res = edit_path_search(gs, gs, ia, ib, **kwargs)
    return GEDTable(
        [gs.ids[i] for i in ia],
        [gs.ids[j] for j in ib],
        res.cost.astype(np.float64),
        res.proven_exact.astype(bool),
    )
