"""Lazy import of optional heavy dependencies (torch, gensim, faiss, torch_geometric, ...)."""

from __future__ import annotations

import importlib
from types import ModuleType

from simlab.errors import MissingDependency

#: module name -> the pip extra of simlab that installs it
EXTRAS = {
    "torch": "torch",
    "gensim": "text",
    "faiss": "index",
    "torch_geometric": "graph",
    "networkx": "graph",
    "sktime": "sequence",
    "dtaidistance": "sequence",
    "sklearn": "text",
    "matplotlib": "report",
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
