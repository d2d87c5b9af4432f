"""The one exception tree of simlab.

Every error the library raises on purpose is a :class:`SimlabError`; the CLI prints its one-line message and
exits with status 1. Errors from dependencies are translated at the boundary into one of these.
"""

from __future__ import annotations

from collections.abc import Iterable


class SimlabError(Exception):
    """Base class of every error simlab raises on purpose."""


class ConfigError(SimlabError, ValueError):
    """A configuration value or key is invalid (unknown key, wrong type, out of range)."""


class UnknownNameError(ConfigError, KeyError):
    """A component was asked for by a name that is not registered.

    The message lists the valid names.
    """

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid names: {', '.join(self.valid) or '(none)'}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NotFittedError(SimlabError, RuntimeError):
    """A model was used before `fit` (or `load`)."""


class DataError(SimlabError, ValueError):
    """Input data is malformed: NaN, empty corpus, bad file line, wrong type.

    Args:
        message: what is wrong.
        path: the file the problem is in, if any.
        line: the 1-based line number, if known.
    """

    def __init__(self, message: str, path: object | None = None, line: int | None = None) -> None:
        self.path, self.line = path, line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class DimensionError(DataError):
    """Arrays whose dimensions do not fit together."""


class UnknownKeyError(DataError, KeyError):
    """A key (word, node, document id) that the model or vectors do not contain."""

    def __str__(self) -> str:
        return str(self.args[0])


class ArtifactError(SimlabError, OSError):
    """A saved artifact is missing, corrupt, truncated or of the wrong kind."""


class MissingDependency(SimlabError, ImportError):
    """An optional package is not installed; the message names the extra that provides it."""
