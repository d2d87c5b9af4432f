"""Frozen dataclass configs that reject unknown keys by name and parse ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from simlab.errors import ConfigError

C = TypeVar("C")


def from_dict(cls: type[C], data: Mapping[str, Any] | None = None, **overrides: Any) -> C:
    """Build the dataclass `cls` from a mapping, rejecting keys it does not have.

    Raises:
        ConfigError: naming the unknown key and listing the valid ones.
    """
    values = {**(data or {}), **overrides}
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown {cls.__name__} key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(fields))}"
        )
    hints = _hints(cls)
    values = {k: check_value(cls.__name__, k, v, hints.get(k)) for k, v in values.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from None


# fields that count something: integers >= 1 (and sizes at most MAX_SIZE, so a typo cannot ask for terabytes)
POSITIVE_INTS = (
    "dim",
    "epochs",
    "batch_size",
    "hidden",
    "layers",
    "window",
    "min_count",
    "heads",
    "max_len",
    "negatives",
    "patience",
)
SIZE_FIELDS = ("dim", "hidden", "batch_size", "max_len")
MAX_SIZE = 1 << 16
NON_NEGATIVE = ("seed", "workers", "threads", "restarts", "dropout", "weight_decay", "sample", "negative")


def _hints(cls: type) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: no type checks
        return {}


def _types(hint: Any) -> tuple[type, ...] | None:
    """The plain types a hint allows (None in the tuple for Optional), or None when it is not checked here."""
    import types
    import typing

    if hint in (int, float, str, bool):
        return (hint,)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(hint):
            if arg is type(None):
                out.append(type(None))
                continue
            sub = _types(arg)
            if sub is None:
                return None
            out += sub
        return tuple(out)
    return None


def check_value(owner: str, key: str, value: Any, hint: Any = None) -> Any:
    """Check one config value against its declared type and range; return it (an integral float as int).

    Raises:
        ConfigError: naming the key and the expected type or range.
    """
    import math

    allowed = _types(hint) if hint is not None else None
    if allowed is not None and value is not None:
        if isinstance(value, bool) and bool not in allowed:
            raise ConfigError(f"{owner}.{key} must be {_names(allowed)}, got {value!r}")
        if not isinstance(value, bool):
            if int in allowed and float not in allowed and isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and int not in allowed and float in allowed:
                value = float(value)
            if not isinstance(value, tuple(t for t in allowed if t is not type(None))):
                raise ConfigError(f"{owner}.{key} must be {_names(allowed)}, got {value!r}")
    elif value is None and allowed is not None and type(None) not in allowed:
        raise ConfigError(f"{owner}.{key} must be {_names(allowed)}, got null")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{owner}.{key} must be a finite number, got {value}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key in POSITIVE_INTS and value < 1:
            raise ConfigError(f"{owner}.{key} must be >= 1, got {value}")
        if key in SIZE_FIELDS and value > MAX_SIZE:
            raise ConfigError(f"{owner}.{key} must be <= {MAX_SIZE}, got {value}")
        if key in NON_NEGATIVE and value < 0:
            raise ConfigError(f"{owner}.{key} must be >= 0, got {value}")
    return value


def _names(types: tuple[type, ...]) -> str:
    names = [
        "null"
        if t is type(None)
        else {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}[
            t.__name__
        ]
        for t in types
    ]
    return " or ".join(dict.fromkeys(names))


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a dataclass config (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def parse_spec(text: str, schemes: Iterable[str] | None = None) -> tuple[str, str]:
    """Split a ``scheme:arg`` spec (``ucr:GunPoint``, ``regex:\\w+``, ``knn:TEST``) - the one parser for them.

    Args:
        text: the spec as typed.
        schemes: the schemes the caller knows; a prefix not among them is not a scheme (e.g. a path with a
            colon).

    Returns:
        ``(scheme, arg)`` with the scheme lower-cased, or ``("", text)`` when `text` has no known scheme
        prefix.
    """
    head, sep, rest = text.partition(":")
    scheme = head.strip().lower()
    if not sep or not scheme or not all(c.isalnum() or c in "_-" for c in scheme):
        return "", text
    if schemes is not None and scheme not in {s.lower() for s in schemes}:
        return "", text
    return scheme, rest


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value: JSON if it parses (numbers, true/false, null, lists), else the string.

    ``nan``/``inf`` stay strings here, so a numeric field refuses them by name.
    """
    try:
        return json.loads(text, parse_constant=lambda c: c)
    except (json.JSONDecodeError, RecursionError):
        return text


def parse_overrides(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``["dim=100", "sg=true"]`` into ``{"dim": 100, "sg": True}``."""
    out: dict[str, Any] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {p!r}")
        out[key.strip()] = parse_value(value.strip())
    return out


def load_config_file(path: str | Path | None) -> dict[str, Any]:
    """Read a JSON config file (an object) or return ``{}`` when `path` is None."""
    if path is None:
        return {}
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, expected a JSON config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ConfigError(f"{p}: JSON nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a config file must hold a JSON object")
    return data
