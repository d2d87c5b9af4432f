"""Checks of sizes before allocating: one clear line instead of a MemoryError (or a swapping machine)."""

from __future__ import annotations

import os

from simlab.errors import ConfigError


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(nbytes: float, what: str) -> None:
    """Refuse an allocation of `nbytes` that exceeds the available memory.

    Args:
        nbytes: the estimated size of the allocation.
        what: what would be allocated (for the message), e.g. ``"1000000 x 300 float32 vectors"``.

    Raises:
        ConfigError: naming `what`, the estimate and the available memory.
    """
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise ConfigError(
            f"{what} would need about {_human(nbytes)} of memory, but only {_human(avail)} is available"
        )


def _human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
