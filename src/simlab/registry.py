"""Registries: components by name (metrics, index backends, encoders, losses, evaluators, artifact kinds).

A registry maps a name (and aliases) to an object, or lazily to ``"module:attribute"`` so that listing names
never imports torch or gensim. Import paths only ever come from simlab's own code, never from a file.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from simlab.errors import UnknownNameError

T = TypeVar("T")

#: Light modules (no heavy imports at module level) whose import registers components.
PLUGIN_MODULES = (
    "simlab.metrics",
    "simlab.vectors",
    "simlab.index",
    "simlab.losses",
    "simlab.text",
    "simlab.sequence",
    "simlab.graph",
    "simlab.fusion",
)
_plugins_loaded = False


def load_plugins() -> None:
    """Import every plugin module that exists, so that all registrations have run."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for mod in PLUGIN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:  # the plugin exists but one of its imports is missing
                raise


class Registry(Generic[T]):
    """Name -> component table.

    Args:
        kind: what the registry holds, used in error messages ("metric", "encoder", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}
        self._help: dict[str, str] = {}

    def register(
        self, name: str, obj: T | str | None = None, *, aliases: tuple[str, ...] = (), help: str = ""
    ) -> Any:
        """Register `obj` under `name`; usable as a decorator when `obj` is omitted.

        `obj` may be a ``"module:attr"`` string, resolved on first use.
        """

        def add(o: T | str) -> T | str:
            key = name.lower()
            self._items[key] = o
            for a in aliases:
                self._aliases[a.lower()] = key
            doc = help or (getattr(o, "__doc__", None) or "" if not isinstance(o, str) else "")
            self._help[key] = doc.strip().splitlines()[0] if doc.strip() else ""
            return o

        if obj is None:
            return add
        add(obj)
        return obj

    def canonical(self, name: str) -> str:
        """The registered name for `name` or one of its aliases."""
        load_plugins()
        key = name.lower()
        key = self._aliases.get(key, key)
        if key not in self._items:
            raise UnknownNameError(self.kind, name, self.names())
        return key

    def get(self, name_or_obj: str | T) -> T:
        """Resolve a name (or alias) to the component; a non-string is returned unchanged."""
        if not isinstance(name_or_obj, str):
            return name_or_obj
        key = self.canonical(name_or_obj)
        obj = self._items[key]
        if isinstance(obj, str):
            module, _, attr = obj.partition(":")
            obj = getattr(importlib.import_module(module), attr)
            self._items[key] = obj
        return obj  # type: ignore[return-value]

    def names(self) -> list[str]:
        """Sorted registered names (aliases excluded)."""
        load_plugins()
        return sorted(self._items)

    def describe(self) -> dict[str, str]:
        """Name -> one-line description."""
        load_plugins()
        return {n: self._help.get(n, "") for n in sorted(self._items)}

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return isinstance(name, str) and (name.lower() in self._items or name.lower() in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


METRICS: Registry[Any] = Registry("metric")
INDEXES: Registry[Any] = Registry("index backend")
ENCODERS: Registry[Any] = Registry("encoder")
LOSSES: Registry[Any] = Registry("loss")
EVALUATORS: Registry[Callable[..., Any]] = Registry("evaluator")
KINDS: Registry[Any] = Registry("artifact kind")
MODELS: Registry[Any] = Registry("model")

ALL = {
    "metrics": METRICS,
    "indexes": INDEXES,
    "encoders": ENCODERS,
    "losses": LOSSES,
    "evaluators": EVALUATORS,
    "kinds": KINDS,
    "models": MODELS,
}
