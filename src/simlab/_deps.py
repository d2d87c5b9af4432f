"""Lazy import of optional heavy dependencies (torch, gensim, faiss, torch_geometric, ...)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from simlab.errors import MissingDependency

#: module name -> the pip extra of simlab that installs it
EXTRAS = {
    "torch": "torch",
    "gensim": "text",
    "faiss": "index",
    "hnswlib": "ann",
    "usearch": "ann",
    "scann": "scann",
    "torch_geometric": "graph",
    "networkx": "graph",
    "sktime": "sequence",
    "dtaidistance": "sequence",
    "sklearn": "text",
    "matplotlib": "report",
    "fastapi": "service",
    "uvicorn": "service",
    "httpx": "service",
    "ray": "ray",
    "pyarrow": "ray",
}


def require(module: str) -> ModuleType:
    """Import `module` or raise :class:`MissingDependency` naming the extra to install.

    Args:
        module: a dotted module name such as ``"faiss"`` or ``"torch_geometric.nn"``.

    Returns:
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        top = module.split(".")[0]
        extra = EXTRAS.get(top, "all")
        raise MissingDependency(
            f"{module} is needed for this feature; install it with: pip install 'simlab[{extra}]' ({exc})"
        ) from None


def lazy_attributes(module: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving ``name -> "package.module:attr"`` entries on first access.

    Lets a subpackage export its classes (``from simlab.graph import GraphBiEncoder``) without importing
    torch, gensim or networkx when the subpackage itself is imported.
    """

    def __getattr__(name: str) -> Any:
        if name in table:
            mod, _, attr = table[name].partition(":")
            return getattr(importlib.import_module(mod), attr or name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
