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
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {cls.__name__}: {exc}") from None


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a dataclass config (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value: JSON if it parses (numbers, true/false, null, lists), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
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
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a config file must hold a JSON object")
    return data
