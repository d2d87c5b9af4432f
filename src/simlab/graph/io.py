"""Graph input: networkx graphs, GEXF, GraphML, JSON lines of node-link graphs, edge lists, and collections.

Every graph is normalised to an undirected simple :class:`networkx.Graph`:

* directed graphs are made undirected;
* **self-loops are dropped** and **multi-edges are collapsed** into one edge (a warning is logged with the
  counts); GED and the encoders work on simple graphs;
* a graph with **no nodes** raises :class:`~simlab.errors.DataError` naming its id (and file).

A :class:`GraphSet` is an ordered collection of graphs with unique ids: a directory of graph files keyed by
file stem (searched recursively, so AIDS700nef's ``train/`` and ``test/`` folders both count), one GEXF /
GraphML / edge-list file (one graph, id = file stem) or a JSON-lines file of node-link graphs::

    {"id":"g1","nodes":[{"id":0,"label":"C"},{"id":1,"label":"O"}],"edges":[{"source":0,"target":1}]}

Node labels are read from the node attribute ``label`` (JSON) or ``type`` (GEXF, as in AIDS700nef); a
``label`` that merely repeats the node id (networkx writes one into every GEXF node) is ignored.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from simlab._deps import require
from simlab.errors import DataError, UnknownKeyError

nx = require("networkx")

log = logging.getLogger(__name__)

GRAPH_SUFFIXES = (".gexf", ".graphml", ".edgelist", ".edges", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
LABEL_ATTRS = ("label", "type")


def normalize_graph(g: Any, gid: Any = None, path: Any = None) -> nx.Graph:
    """An undirected simple copy of a networkx graph (self-loops dropped, multi-edges collapsed).

    Raises:
        DataError: the graph has no nodes, or is not a networkx graph.
    """
    if not isinstance(g, nx.Graph):
        raise DataError(f"graph {gid!r}: expected a networkx graph, got {type(g).__name__}", path)
    if g.number_of_nodes() == 0:
        raise DataError(f"graph {gid!r} is empty (no nodes)", path)
    h = nx.Graph()
    h.add_nodes_from(g.nodes(data=True))
    loops = multi = 0
    for u, v, d in g.edges(data=True):
        if u == v:
            loops += 1
            continue
        if h.has_edge(u, v):
            multi += 1
            continue
        h.add_edge(u, v, **d)
    if loops or multi:
        log.warning(
            "graph %r%s: dropped %d self-loop(s), collapsed %d duplicate edge(s)",
            gid,
            f" ({path})" if path else "",
            loops,
            multi,
        )
    h.graph.update(g.graph)
    return h


def node_labels(g: nx.Graph, attr: str | None = "auto") -> list[Any] | None:
    """The node labels of `g` in node order, or None when it has none.

    Args:
        attr: node attribute holding the label; ``"auto"`` tries ``type`` then ``label`` (a ``label`` equal to
            the node id is not a label); None: unlabelled.
    """
    if attr is None:
        return None
    nodes = list(g.nodes(data=True))
    if attr != "auto":
        missing = next((n for n, d in nodes if attr not in d), None)
        if missing is not None:
            raise DataError(f"node {missing!r} has no attribute {attr!r}")
        return [d[attr] for _, d in nodes]
    for a in ("type", "label"):
        if all(a in d for _, d in nodes):
            vals = [d[a] for _, d in nodes]
            if a == "label" and all(str(v) == str(n) for (n, _), v in zip(nodes, vals, strict=True)):
                continue
            return vals
    return None


# -- readers -------------------------------------------------------------------------------------------------


def _xml_error(exc: Exception, path: Path) -> DataError:
    pos = getattr(exc, "position", None)
    if pos:
        return DataError(f"malformed XML at column {pos[1]} ({exc})", path, pos[0])
    return DataError(f"malformed graph file ({type(exc).__name__}: {exc})", path)


def read_graph_file(path: str | Path) -> nx.Graph:
    """Read one graph file (``.gexf``, ``.graphml``, ``.json`` node-link, or an edge list).

    Raises:
        DataError: unreadable or malformed file, naming the path and line.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("graph file not found", p)
    suffix = p.suffix.lower()
    try:
        if suffix == ".gexf":
            g = nx.read_gexf(p)
        elif suffix == ".graphml":
            g = nx.read_graphml(p)
        elif suffix == ".json":
            try:
                obj = json.loads(p.read_text("utf-8"))
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON at column {exc.colno}: {exc.msg}", p, exc.lineno) from None
            g = node_link_to_graph(obj, p, None)
        else:
            g = read_edgelist(p)
    except DataError:
        raise
    except Exception as exc:  # ElementTree.ParseError, networkx errors, KeyError on bad attributes
        raise _xml_error(exc, p) from None
    return normalize_graph(g, p.stem, p)


def read_edgelist(path: str | Path) -> nx.Graph:
    """An edge list: one ``u v`` pair per line (whitespace separated; ``#`` comments; an optional third
    column is ignored). A line with a single token adds an isolated node."""
    p = Path(path)
    g = nx.Graph()
    with p.open("r", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) == 1:
                g.add_node(parts[0])
            elif len(parts) in (2, 3):
                g.add_edge(parts[0], parts[1])
            else:
                raise DataError(f"expected 'u v' per line, got {len(parts)} fields", p, i)
    return g


def node_link_to_graph(obj: Any, path: Any = None, line: int | None = None) -> nx.Graph:
    """Build a graph from a node-link dict
    ``{"nodes": [{"id": ..}], "edges"|"links": [{"source", "target"}]}``."""
    if not isinstance(obj, Mapping):
        raise DataError("a graph must be a JSON object with 'nodes' and 'edges'", path, line)
    nodes = obj.get("nodes")
    edges = obj.get("edges", obj.get("links", []))
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise DataError("'nodes' and 'edges' must be lists", path, line)
    g = nx.Graph()
    for j, n in enumerate(nodes):
        if not isinstance(n, Mapping) or "id" not in n:
            raise DataError(f"node #{j} has no 'id'", path, line)
        try:
            dup = n["id"] in g
        except TypeError:
            raise DataError(
                f"node #{j}: id must be a string or a number, got {type(n['id']).__name__}", path, line
            ) from None
        if dup:
            raise DataError(f"duplicate node id {n['id']!r} (node #{j})", path, line)
        g.add_node(n["id"], **{k: v for k, v in n.items() if k != "id"})
    loops = multi = 0
    for j, e in enumerate(edges):
        if not isinstance(e, Mapping) or "source" not in e or "target" not in e:
            raise DataError(f"edge #{j} needs 'source' and 'target'", path, line)
        u, v = e["source"], e["target"]
        for end in (u, v):
            if not isinstance(end, str | int | float) or end not in g:
                raise DataError(f"edge #{j} refers to unknown node {end!r}", path, line)
        if u == v:
            loops += 1
            continue
        if g.has_edge(u, v):
            multi += 1
            continue
        g.add_edge(u, v, **{k: w for k, w in e.items() if k not in ("source", "target")})
    if loops or multi:
        log.warning(
            "graph %r: dropped %d self-loop(s), collapsed %d duplicate edge(s)", obj.get("id"), loops, multi
        )
    return g


def graph_to_node_link(g: nx.Graph, gid: Any, label_attr: str | None = "auto") -> dict[str, Any]:
    """The JSON-lines record of a graph (node ids as given, labels under ``label`` when present)."""
    labels = node_labels(g, label_attr)
    nodes = []
    for i, n in enumerate(g.nodes()):
        rec: dict[str, Any] = {"id": n}
        if labels is not None:
            rec["label"] = labels[i]
        x = g.nodes[n].get("x")
        if x is not None:
            rec["x"] = list(x) if not isinstance(x, int | float) else x
        nodes.append(rec)
    return {"id": gid, "nodes": nodes, "edges": [{"source": u, "target": v} for u, v in g.edges()]}


def read_jsonl(path: str | Path) -> tuple[list[Any], list[nx.Graph]]:
    """Read a JSON-lines file of node-link graphs; ids from ``"id"`` (else the 0-based line index)."""
    from simlab.paths import read_text

    p = Path(path)
    ids, graphs = [], []
    for i, line in enumerate(read_text(p, "graphs file").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON at column {exc.colno}: {exc.msg}", p, i) from None
        except RecursionError:
            raise DataError("JSON nested too deeply", p, i) from None
        g = node_link_to_graph(obj, p, i)
        gid = obj.get("id", len(ids))
        if g.number_of_nodes() == 0:
            raise DataError(f"graph {gid!r} is empty (no nodes)", p, i)
        ids.append(gid)
        graphs.append(g)
    return ids, graphs


# -- collections ---------------------------------------------------------------------------------------------


class GraphSet:
    """An ordered collection of undirected simple graphs with unique ids.

    Args:
        graphs: networkx graphs (normalised on the way in), or a mapping id -> graph.
        ids: one id per graph (default ``0..n-1``).
        source: where the graphs came from (used in error messages).
    """

    def __init__(
        self, graphs: Iterable[Any] | Mapping[Any, Any], ids: Iterable[Any] | None = None, source: Any = None
    ) -> None:
        if isinstance(graphs, Mapping) and ids is None:
            ids, graphs = list(graphs.keys()), list(graphs.values())
        gs = list(graphs)
        self.ids: list[Any] = list(range(len(gs))) if ids is None else list(ids)
        if len(self.ids) != len(gs):
            raise DataError(f"{len(self.ids)} ids for {len(gs)} graphs", source)
        self.source = source
        self.graphs: list[nx.Graph] = [
            normalize_graph(g, i, source) for g, i in zip(gs, self.ids, strict=True)
        ]
        self._pos = {i: k for k, i in enumerate(self.ids)}
        if len(self._pos) != len(self.ids):
            counts = Counter(self.ids)
            dup = next(i for i in self.ids if counts[i] > 1)
            raise DataError(f"duplicate graph id {dup!r}", source)

    @classmethod
    def read(cls, path: str | Path) -> GraphSet:
        """Read a directory of graph files (ids = file stems), a ``.jsonl`` file, or one graph file."""
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in GRAPH_SUFFIXES)
            if not files:
                raise DataError(f"no graph files ({', '.join(GRAPH_SUFFIXES)}) in directory", p)
            ids = [_stem_id(f) for f in files]
            return cls([read_graph_file(f) for f in files], ids, p)
        if not p.exists():
            raise DataError("graphs file or directory not found", p)
        if p.suffix.lower() in JSONL_SUFFIXES:
            ids, graphs = read_jsonl(p)
            if not graphs:
                raise DataError("no graphs in file", p)
            return cls(graphs, ids, p)
        return cls([read_graph_file(p)], [_stem_id(p)], p)

    @classmethod
    def coerce(cls, obj: Any) -> GraphSet:
        """A GraphSet from a GraphSet, a path, a mapping id -> graph, or a list of graphs."""
        if isinstance(obj, GraphSet):
            return obj
        if isinstance(obj, str | Path):
            return cls.read(obj)
        if isinstance(obj, nx.Graph):
            return cls([obj])
        if isinstance(obj, Mapping):
            return cls(list(obj.values()), list(obj.keys()))
        return cls(list(obj))

    def __len__(self) -> int:
        return len(self.graphs)

    def __iter__(self) -> Iterator[nx.Graph]:
        return iter(self.graphs)

    def __contains__(self, gid: object) -> bool:
        try:
            return gid in self._pos
        except TypeError:
            return False

    def position(self, gid: Any) -> int:
        """Index of graph `gid` (string ids also match integer ids written as text)."""
        if gid in self._pos:
            return self._pos[gid]
        alt = _alt_key(gid)
        if alt is not None and alt in self._pos:
            return self._pos[alt]
        raise UnknownKeyError(
            f"unknown graph id {gid!r} (not among the {len(self)} graphs"
            f"{' of ' + str(self.source) if self.source else ''})"
        )

    def __getitem__(self, gid: Any) -> nx.Graph:
        return self.graphs[self.position(gid)]

    def subset(self, ids: Sequence[Any]) -> GraphSet:
        """The graphs with the given ids, in that order."""
        out = GraphSet.__new__(GraphSet)
        out.ids = [self.ids[self.position(i)] for i in ids]
        out.graphs = [self.graphs[self.position(i)] for i in ids]
        out.source = self.source
        out._pos = {i: k for k, i in enumerate(out.ids)}
        return out

    def sizes(self) -> list[int]:
        """Number of nodes of each graph."""
        return [g.number_of_nodes() for g in self.graphs]

    def write_jsonl(self, path: str | Path, label_attr: str | None = "auto") -> None:
        """Write the collection as JSON lines of node-link graphs."""
        with Path(path).open("w", encoding="utf-8") as f:
            for gid, g in zip(self.ids, self.graphs, strict=True):
                f.write(json.dumps(graph_to_node_link(g, gid, label_attr), default=str) + "\n")

    def to_jsonl_text(self, label_attr: str | None = "auto") -> str:
        """The collection as JSON-lines text."""
        return "".join(
            json.dumps(graph_to_node_link(g, gid, label_attr), default=str) + "\n"
            for gid, g in zip(self.ids, self.graphs, strict=True)
        )

    @classmethod
    def from_jsonl_text(cls, text: str, source: Any = None) -> GraphSet:
        ids, graphs = [], []
        for i, line in enumerate(text.splitlines(), 1):
            if line.strip():
                obj = json.loads(line)
                graphs.append(node_link_to_graph(obj, source, i))
                ids.append(obj.get("id"))
        return cls(graphs, ids, source)

    def __repr__(self) -> str:
        return f"GraphSet(n={len(self)}{', source=' + str(self.source) if self.source else ''})"


#: What functions taking a graph collection accept (see :meth:`GraphSet.coerce`).
GraphsLike = GraphSet | str | Path | nx.Graph | Sequence[nx.Graph] | Mapping[Any, nx.Graph]


def _stem_id(p: Path) -> Any:
    return p.stem


def _alt_key(gid: Any) -> Any:
    if isinstance(gid, str):
        try:
            return int(gid)
        except ValueError:
            return None
    if isinstance(gid, int):
        return str(gid)
    return None


def collection_text(gs: GraphSet) -> str:
    """The collection as JSON lines with every node attribute (numeric features included)."""
    lines = []
    for gid, g in zip(gs.ids, gs.graphs, strict=True):
        nodes = [{"id": n, **{k: v for k, v in d.items() if k != "id"}} for n, d in g.nodes(data=True)]
        edges = [{"source": u, "target": v} for u, v in g.edges()]
        lines.append(json.dumps({"id": gid, "nodes": nodes, "edges": edges}, default=str))
    return "\n".join(lines) + "\n"
