"""Fuzz-suite helpers: byte-level mutations of valid seed inputs (hypothesis), a per-case temp file, and the
contract every reader must keep: succeed or raise a SimlabError.

Example budgets: ``FUZZ_EXAMPLES`` per reader in the default run (``make test``); tests marked ``slow`` use
``FUZZ_EXAMPLES_SLOW``. Set ``SIMLAB_FUZZ_EXAMPLES`` to override the default budget.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from simlab.errors import SimlabError

FUZZ_EXAMPLES = int(os.environ.get("SIMLAB_FUZZ_EXAMPLES", "25"))
FUZZ_EXAMPLES_SLOW = 200
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
FUZZ_SLOW = settings(
    max_examples=FUZZ_EXAMPLES_SLOW, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

# byte strings that tend to break parsers: encodings, numbers out of range, structure characters, huge sizes
NASTY = [
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xe2\x82",
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"1e309",
    b"-1",
    b"999999999999",
    b"1000000000 1000000000",
    b"\n",
    b"\r\n",
    b"\t",
    b",",
    b'"',
    b"'",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"<",
    b">",
    b"</",
    b"&#0;",
    b"?",
    b"@data",
    b"#",
    b" ",
    b"0",
    b"-0",
    b"1.5",
    b"true",
    b"null",
    b"[[[[[[[[[[",
    b"\xef\xbb\xbf",
]


@st.composite
def mutated(draw: Any, seed: bytes) -> bytes:
    """`seed` with 1-6 random edits: flip a byte, delete a range, insert a nasty token, truncate,
    duplicate."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "dup", "random"]))
        pos = draw(st.integers(0, max(len(data), 1))) if data else 0
        if op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] = draw(st.integers(0, 255))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(NASTY))
        elif op == "truncate":
            del data[pos:]
        elif op == "dup" and data:
            chunk = data[pos : pos + draw(st.integers(1, 64))]
            data[pos:pos] = chunk * draw(st.integers(1, 3))
        elif op == "random":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def inputs(seed: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of `seed` (mostly), random bytes and random text."""
    return st.one_of(
        mutated(seed),
        mutated(seed),
        mutated(seed),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )


class Tally:
    """Counts of cases run and contract failures (printed in the report of the suite)."""

    cases = 0
    failures: ClassVar[list[str]] = []


def check_reader(read: Callable[[Path], Any], data: bytes, suffix: str, name: str = "input") -> None:
    """Write `data` to a fresh file NAME+suffix and call `read`; anything but success or SimlabError fails."""
    Tally.cases += 1
    with tempfile.TemporaryDirectory(prefix="simlab-fuzz-") as d:
        p = Path(d) / f"{name}{suffix}"
        p.write_bytes(data)
        try:
            read(p)
        except SimlabError:
            pass
        except Exception as exc:
            Tally.failures.append(f"{name}{suffix}: {type(exc).__name__}: {exc}"[:300])
            raise AssertionError(
                f"{name}{suffix} raised {type(exc).__name__}: {exc}\ninput={data[:300]!r}"
            ) from exc
