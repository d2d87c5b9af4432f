"""Where bundled and shared data live (nothing is downloaded at run time)."""

from __future__ import annotations

import os
from pathlib import Path

from simlab.errors import DataError


def shared_data_dir(required: bool = False) -> Path | None:
    """The ``shared/data`` folder with benchmark data (IMDB, SICK, STS-B, GED graphs, Planetoid).

    Looked up in ``$SIMLAB_SHARED_DATA``, then ``../shared/data`` next to the current directory and next to
    the source checkout. Returns None (or raises :class:`DataError` when `required`) when absent.
    """
    candidates = []
    if os.environ.get("SIMLAB_SHARED_DATA"):
        candidates.append(Path(os.environ["SIMLAB_SHARED_DATA"]))
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidates += [base / "shared" / "data", base.parent / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    if required:
        raise DataError("shared benchmark data not found; set SIMLAB_SHARED_DATA to the shared/data folder")
    return None


def shared_dataset(name: str, required: bool = True) -> Path | None:
    """``shared/data/<name>`` (e.g. ``"sick"``, ``"imdb"``, ``"ged_AIDS700nef"``)."""
    root = shared_data_dir(required=required)
    if root is None:
        return None
    p = root / name
    if not p.is_dir():
        if required:
            raise DataError(f"{p}: dataset folder not found")
        return None
    return p


def gensim_test_data() -> Path:
    """gensim's bundled ``test/test_data`` folder (WordSim-353, analogies, Lee corpus)."""
    from simlab._deps import require

    require("gensim")
    from gensim.test.utils import datapath

    return Path(datapath(""))


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of a file, or a one-line :class:`DataError` (missing, a directory, unreadable, binary or
    not UTF-8, naming the line of the first bad byte)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{what} not found", p) from None
    except IsADirectoryError:
        raise DataError(f"is a directory, expected a {what}", p) from None
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", p) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError("not UTF-8 text (binary file?)", p, data.count(b"\n", 0, exc.start) + 1) from None
    if "\x00" in text:
        raise DataError(
            "contains NUL bytes: a binary file, not text", p, text.count("\n", 0, text.index("\x00")) + 1
        )
    return text
