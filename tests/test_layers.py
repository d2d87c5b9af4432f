"""The layers hold: the import graph of ``src/simlab`` (built with ``ast``) has no cycle, the core imports no
engine or application module, and engines import no application module.

Layers (docs/architecture.md): core < engines < applications. Imports inside functions count too: a lazy
import still couples the modules; only registry strings (``"module:attr"``) are outside the graph, by design.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "simlab"

#: top-level modules/packages of each layer (anything not listed is an error, so new modules get a layer)
CORE = {
    "__init__",
    "_deps",
    "_topk",
    "artifacts",
    "config",
    "errors",
    "evaluate",
    "formatting",
    "fuse",
    "limits",
    "metrics",
    "model",
    "paths",
    "registry",
    "vectors",
}
ENGINES = {"index", "text", "sequence", "graph", "losses", "train", "fusion", "scale"}
APPS = {"cli", "demo", "service", "client", "__main__"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the simlab modules it imports (module level and inside functions)."""
    modules = {_module(p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node)
                # `from pkg import sub` imports the submodule when one exists
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for t in targets:
                while t and t not in modules:  # `import simlab.x.y` -> the longest module that exists
                    t = t.rpartition(".")[0]
                if t.startswith("simlab") and t != mod:
                    graph[mod].add(t)
    return graph


def _scc(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package ``__init__`` from its own submodules (a submodule importing its package's
    registrations is not a cycle in the design sense: the package only registers names)."""
    return {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph.items()}


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    """Groups of simlab modules that import each other (directly or through others)."""
    return _scc(_without_packages(import_graph(root)))


def _layer(mod: str) -> str:
    top = mod.split(".")[1] if "." in mod else "__init__"
    if top in CORE:
        return "core"
    if top in ENGINES:
        return "engine"
    if top in APPS:
        return "app"
    raise AssertionError(f"{mod}: no layer; add it to CORE, ENGINES or APPS in tests/test_layers.py")


def test_every_module_has_a_layer() -> None:
    for mod in import_graph():
        _layer(mod)


def test_no_import_cycles() -> None:
    assert import_cycles() == []


def test_lower_layers_never_import_higher_ones() -> None:
    order = {"core": 0, "engine": 1, "app": 2}
    # the package facade (``simlab/__init__``) re-exports ``simlab.Index`` lazily, on first attribute access
    bad = sorted(
        f"{m} ({_layer(m)}) imports {t} ({_layer(t)})"
        for m, ts in import_graph().items()
        if m != "simlab"
        for t in ts
        if order[_layer(t)] > order[_layer(m)]
    )
    assert bad == []


def test_the_graph_sees_imports() -> None:  # the checker itself: a known edge and a relative import are found
    g = import_graph()
    assert "simlab.errors" in g["simlab.artifacts"]
    assert any(t.startswith("simlab.") for t in g["simlab.cli.main"])
