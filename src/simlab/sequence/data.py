"""Sequence data: numeric series collections, sentence pairs and their readers (numpy only, no torch).

Series:
    :class:`SeriesDataset` holds a list of ``(length, channels)`` float arrays (NaN = missing) and labels.
    Readers: :func:`load_ucr` (UCR/UEA datasets bundled in the sktime wheel, read from the files, offline),
    :func:`read_ts` (``.ts`` files, uni- or multivariate, equal or unequal length, ``?`` = missing),
    :func:`read_ucr_tsv` (UCR-style TSV: label, then values) and :meth:`SeriesDataset.from_arrays`.

Sentence pairs:
    :class:`PairDataset` holds ``a``, ``b`` and a ``score`` and/or ``label`` per pair. Readers:
    :func:`read_pairs` (TSV/CSV with ``a``, ``b``, ``score`` or ``label`` columns), :func:`read_sick`
    (``SICK_train.txt`` etc.) and :func:`read_stsb` (``sts-*.csv``, raw tab split, fields 4, 5, 6).
    :func:`read_any` picks the reader from the file.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simlab.config import parse_spec
from simlab.errors import DataError, DimensionError, UnknownNameError
from simlab.paths import read_text

# -- series --------------------------------------------------------------------------------------------------


@dataclass
class SeriesDataset:
    """A collection of numeric series with optional class labels.

    Attributes:
        series: list of ``(length_i, channels)`` float32 arrays; NaN marks a missing value.
        labels: ``(n,)`` labels (strings) or None.
        name: where the data came from.
    """

    series: list[np.ndarray]
    labels: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not self.series:
            raise DataError(f"{self.name or 'series'}: no series")
        chans = {s.shape[1] for s in self.series}
        if len(chans) != 1:
            raise DimensionError(
                f"{self.name or 'series'}: series have different channel counts {sorted(chans)}"
            )
        for i, s in enumerate(self.series):
            if s.shape[0] == 0:
                raise DataError(f"{self.name or 'series'}: series {i} is empty")
            if np.isnan(s).all():
                raise DataError(f"{self.name or 'series'}: series {i} has only missing (NaN) values")
            if np.isinf(s).any():
                raise DataError(f"{self.name or 'series'}: series {i} has infinite values")
        if self.labels is not None:
            self.labels = np.asarray(self.labels).astype(str)
            if len(self.labels) != len(self.series):
                raise DimensionError(f"{len(self.series)} series but {len(self.labels)} labels")

    @classmethod
    def from_arrays(cls, x: Any, labels: Any | None = None, name: str = "arrays") -> SeriesDataset:
        """Build from NumPy data.

        Args:
            x: ``(n, length)`` (univariate), ``(n, length, channels)``, or a list of ``(length_i,)`` /
                ``(length_i, channels)`` arrays of unequal length. NaN = missing.
            labels: ``(n,)`` class labels.
        """
        return cls(as_series_list(x), None if labels is None else np.asarray(labels), name)

    def __len__(self) -> int:
        return len(self.series)

    @property
    def channels(self) -> int:
        return int(self.series[0].shape[1])

    @property
    def lengths(self) -> np.ndarray:
        return np.array([s.shape[0] for s in self.series])

    @property
    def has_missing(self) -> bool:
        return any(np.isnan(s).any() for s in self.series)

    @property
    def classes(self) -> list[str]:
        return [] if self.labels is None else sorted(set(self.labels.tolist()), key=_natural)

    def subset(self, idx: Sequence[int] | np.ndarray) -> SeriesDataset:
        idx = np.asarray(idx, dtype=int)
        return SeriesDataset(
            [self.series[i] for i in idx], None if self.labels is None else self.labels[idx], self.name
        )

    def to_padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(n, max_len, channels)`` NaN-padded array and the ``(n,)`` lengths."""
        lens = self.lengths
        out = np.full((len(self), int(lens.max()), self.channels), np.nan, np.float32)
        for i, s in enumerate(self.series):
            out[i, : len(s)] = s
        return out, lens


def _natural(s: str) -> Any:
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def as_series(x: Any, name: str = "series") -> np.ndarray:
    """One series as a ``(length, channels)`` float32 array (a 1-D input is univariate)."""
    if isinstance(x, str):
        x = parse_series_text(x)
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name}: not numeric ({exc})") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DimensionError(f"{name}: expected (length,) or (length, channels), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise DataError(f"{name}: empty sequence")
    if np.isnan(arr).all():
        raise DataError(f"{name}: only missing (NaN) values")
    return arr


def as_series_list(x: Any) -> list[np.ndarray]:
    """A batch of series (2-D/3-D array or a list of arrays) as a list of ``(length, channels)`` arrays."""
    if isinstance(x, SeriesDataset):
        return x.series
    if isinstance(x, np.ndarray) and x.dtype != object:
        if x.ndim == 2:
            return [as_series(r, f"series {i}") for i, r in enumerate(x)]
        if x.ndim == 3:
            return [as_series(r, f"series {i}") for i, r in enumerate(x)]
        raise DimensionError(
            f"series array must be 2-D (n, length) or 3-D (n, length, channels), got {x.shape}"
        )
    items = list(x)
    if not items:
        raise DataError("no series given")
    return [as_series(r, f"series {i}") for i, r in enumerate(items)]


def parse_series_text(text: str) -> np.ndarray:
    """``"1,2,3"`` (univariate) or ``"1,2,3:4,5,6"`` (channels separated by ``:``); ``?``/``nan`` =
    missing."""
    chans = [c for c in text.strip().split(":")]
    rows = []
    for c in chans:
        vals = [v for v in re.split(r"[,\s]+", c.strip()) if v]
        try:
            rows.append([math.nan if v in ("?", "nan", "NaN") else float(v) for v in vals])
        except ValueError as exc:
            raise DataError(
                f"not a series ({exc}); give numbers separated by commas, channels by ':'"
            ) from None
    if not rows or not rows[0]:
        raise DataError("empty sequence")
    if len({len(r) for r in rows}) != 1:
        raise DimensionError(f"channels have different lengths {[len(r) for r in rows]}")
    return np.asarray(rows, dtype=np.float32).T


def sktime_data_dir() -> Path:
    """The folder of UCR/UEA datasets bundled in the sktime wheel (sktime itself is not imported)."""
    spec = importlib.util.find_spec("sktime")
    if spec is None or not spec.submodule_search_locations:
        from simlab.errors import MissingDependency

        raise MissingDependency(
            "sktime's bundled datasets are needed; install it with: pip install 'simlab[sequence]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def aeon_data_dir() -> Path | None:
    """The folder of datasets bundled in the aeon wheel (the optional ``data`` extra), or None."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return p if p.is_dir() else None


def _ucr_dirs() -> dict[str, Path]:
    """Dataset name -> folder, from sktime's wheel, then aeon's (when installed) for the names sktime
    lacks."""
    out: dict[str, Path] = {}
    for root in (sktime_data_dir(), aeon_data_dir()):
        if root is None:
            continue
        for p in sorted(root.iterdir()):
            if p.name not in out and (p / f"{p.name}_TRAIN.ts").is_file():
                out[p.name] = p
    return out


def ucr_names() -> list[str]:
    """Names of the bundled UCR/UEA datasets (those with ``NAME_TRAIN.ts``) in the sktime wheel and, when
    installed (``pip install 'simlab[data]'``), the aeon wheel."""
    return sorted(_ucr_dirs())


def load_ucr(name: str, split: str = "train") -> SeriesDataset:
    """A bundled UCR/UEA dataset split, e.g. ``load_ucr("GunPoint", "test")``.

    Raises:
        UnknownNameError: the dataset is not bundled (the message lists the available ones).
    """
    dirs = _ucr_dirs()
    names = sorted(dirs)
    match = {n.lower(): n for n in names}.get(name.lower())
    if match is None:
        raise UnknownNameError("UCR/UEA dataset", name, names)
    if split.lower() not in ("train", "test"):
        raise DataError(f"split must be train or test, got {split!r}")
    return read_ts(dirs[match] / f"{match}_{split.upper()}.ts", name=f"ucr:{match}/{split.lower()}")


def read_ts(path: str | Path, name: str | None = None) -> SeriesDataset:
    """Read a ``.ts`` file (sktime/UEA format): ``@`` header lines, then ``@data`` and one case a line.

    Each case is ``dim1:dim2:...:label`` with comma-separated values; ``?`` is a missing value. Timestamped
    files are not supported.
    """
    p = Path(path)
    lines = read_text(p, "series file").splitlines()
    has_label = True
    data_start = None
    for i, line in enumerate(lines):
        s = line.strip()
        low = s.lower()
        if low.startswith("@timestamps") and low.split()[-1] == "true":
            raise DataError("timestamped .ts files are not supported", p, i + 1)
        if low.startswith("@classlabel"):
            words = low.split()
            if len(words) < 2 or words[1] not in ("true", "false"):
                raise DataError("@classLabel must be followed by true or false", p, i + 1)
            has_label = words[1] == "true"
        if low.startswith("@data"):
            data_start = i + 1
            break
    if data_start is None:
        raise DataError("no @data line; not a .ts file", p)
    series, labels = [], []
    for i in range(data_start, len(lines)):
        s = lines[i].strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split(":")
        if has_label:
            labels.append(parts[-1].strip())
            parts = parts[:-1]
        try:
            chans = [
                [math.nan if v.strip() in ("?", "NaN", "nan", "") else float(v) for v in c.split(",")]
                for c in parts
            ]
        except ValueError as exc:
            raise DataError(f"bad value ({exc})", p, i + 1) from None
        if not chans or not chans[0]:
            raise DataError("empty sequence", p, i + 1)
        if len({len(c) for c in chans}) != 1:
            raise DataError(
                f"channels of one case have different lengths {[len(c) for c in chans]}", p, i + 1
            )
        series.append(np.asarray(chans, dtype=np.float32).T)
    if not series:
        raise DataError("no cases after @data", p)
    return _dataset(series, labels if has_label else None, name or str(p), p)


def read_ucr_tsv(path: str | Path, name: str | None = None) -> SeriesDataset:
    """Read a UCR-archive TSV/CSV file: one series a line, the class label first, then the values.

    Unequal lengths are padded with NaN in the archive; trailing NaN are dropped.
    """
    p = Path(path)
    lines = read_text(p, "series file").splitlines()
    series, labels = [], []
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        fields = re.split(r"[\t,]", s) if ("\t" in s or "," in s) else s.split()
        lab, vals = fields[0].strip(), fields[1:]
        try:
            arr = np.array(
                [math.nan if v.strip() in ("?", "NaN", "nan", "") else float(v) for v in vals],
                dtype=np.float32,
            )
        except ValueError as exc:
            raise DataError(f"bad value ({exc}); expected label then numbers", p, i + 1) from None
        if lab.endswith(".0"):
            lab = lab[:-2]
        nz = np.flatnonzero(~np.isnan(arr))
        if len(nz) == 0:
            raise DataError("empty sequence or only missing (NaN) values", p, i + 1)
        series.append(arr[: nz[-1] + 1, None])
        labels.append(lab)
    if not series:
        raise DataError("no series in file", p)
    return _dataset(series, labels, name or str(p), p)


def _dataset(series: list[np.ndarray], labels: list[str] | None, name: str, path: Path) -> SeriesDataset:
    try:
        return SeriesDataset(series, None if labels is None else np.asarray(labels), name)
    except DataError as exc:
        raise DataError(str(exc).removeprefix(f"{name}: "), path) from None


def read_npy(path: str | Path) -> np.ndarray:
    """A numeric ``.npy`` array (never pickled objects), or a one-line DataError (truncated, not .npy,
    ...)."""
    p = Path(path)
    try:
        arr = np.load(p, allow_pickle=False)
    except Exception as exc:  # numpy raises many types on a corrupt header (ValueError, TokenError, ...)
        raise DataError(f"not a readable .npy array ({' '.join(str(exc).split())[:120]})", p) from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise DataError(
            f"expected a numeric .npy array, got dtype {getattr(arr, 'dtype', type(arr).__name__)}", p
        )
    return arr


def read_npy_labels(path: Path) -> np.ndarray:
    """Class labels ``(n,)`` from a ``.npy`` array of numbers or strings (never pickled objects)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataError(f"not a readable .npy array ({' '.join(str(exc).split())[:120]})", path) from None
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in "biuUS":
        raise DataError("expected a 1-D .npy array of numbers or strings (class labels)", path)
    return arr


def read_series(spec: str | Path) -> SeriesDataset:
    """``ucr:NAME`` (train split), ``ucr:NAME/test``, a ``.ts`` file, a UCR TSV file or a ``.npy`` array
    (``(n, length)`` or ``(n, length, channels)``; class labels from ``NAME_labels.npy`` beside it, if
    any)."""
    s = str(spec)
    scheme, arg = parse_spec(s, ("ucr",))
    if scheme == "ucr":
        name, _, split = arg.partition("/")
        return load_ucr(name, split or "train")
    p = Path(s)
    if not p.exists():
        raise DataError("file not found", p)
    if p.suffix.lower() == ".ts":
        return read_ts(p)
    if p.suffix.lower() == ".npy":  # labels, when present, in NAME_labels.npy beside it (numbers or strings)
        lab = p.with_name(p.stem + "_labels.npy")
        labels = read_npy_labels(lab) if lab.is_file() else None
        return SeriesDataset.from_arrays(read_npy(p), labels, name=str(p))
    return read_ucr_tsv(p)


# -- sentence pairs ------------------------------------------------------------------------------------------


@dataclass
class PairDataset:
    """Sentence (or item) pairs with a relatedness score and/or a class label.

    Attributes:
        a, b: the two sides (equal length lists).
        score: ``(n,)`` float scores (e.g. SICK relatedness in [1, 5]) or None.
        label: ``(n,)`` labels (e.g. 0/1 paraphrase, or SICK entailment) or None.
        name: where the data came from.
    """

    a: list[Any]
    b: list[Any]
    score: np.ndarray | None = None
    label: np.ndarray | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.a) != len(self.b):
            raise DimensionError(
                f"{self.name or 'pairs'}: {len(self.a)} items in column a but {len(self.b)} in b"
            )
        if not self.a:
            raise DataError(f"{self.name or 'pairs'}: no pairs")
        for col in ("score", "label"):
            v = getattr(self, col)
            if v is not None:
                v = np.asarray(v, dtype=np.float32 if col == "score" else None)
                if len(v) != len(self.a):
                    raise DimensionError(f"{self.name or 'pairs'}: {len(self.a)} pairs but {len(v)} {col}s")
                if col == "score" and not np.isfinite(v).all():
                    raise DataError(f"{self.name or 'pairs'}: scores contain NaN or infinite values")
                setattr(self, col, v)

    def __len__(self) -> int:
        return len(self.a)

    @property
    def kind(self) -> str:
        """``scored_pairs`` when scores exist, else ``binary_pairs``."""
        return "scored_pairs" if self.score is not None else "binary_pairs"

    def subset(self, idx: Sequence[int] | np.ndarray) -> PairDataset:
        idx = np.asarray(idx, dtype=int)
        return PairDataset(
            [self.a[i] for i in idx],
            [self.b[i] for i in idx],
            None if self.score is None else self.score[idx],
            None if self.label is None else self.label[idx],
            self.name,
            dict(self.meta),
        )


def _open_lines(path: Path) -> list[str]:
    return read_text(path, "file").splitlines()


def read_sick(path: str | Path) -> PairDataset:
    """Read a SICK file: tab-separated with a header naming ``sentence_A``, ``sentence_B``,
    ``relatedness_score`` and ``entailment_judgment`` (or ``entailment_label``; the full ``SICK.txt``
    works too).

    Returns pairs with `score` = relatedness in [1, 5] and `label` = the entailment class.
    """
    p = Path(path)
    lines = _open_lines(p)
    if not lines:
        raise DataError("empty file", p)
    header = lines[0].rstrip("\n").split("\t")
    try:
        ia, ib, isc = (
            header.index("sentence_A"),
            header.index("sentence_B"),
            header.index("relatedness_score"),
        )
    except ValueError:
        raise DataError(
            f"not a SICK file: header {header[:6]} lacks sentence_A/sentence_B/relatedness_score", p, 1
        ) from None
    ie = next((header.index(c) for c in ("entailment_judgment", "entailment_label") if c in header), None)
    a, b, s, lab = [], [], [], []
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        f = line.split("\t")
        if len(f) < len(header):
            raise DataError(f"expected {len(header)} tab-separated fields, got {len(f)}", p, i)
        try:
            s.append(float(f[isc]))
        except ValueError:
            raise DataError(f"relatedness_score {f[isc]!r} is not a number", p, i) from None
        a.append(f[ia])
        b.append(f[ib])
        lab.append(f[ie] if ie is not None else "")
    return PairDataset(
        a,
        b,
        np.asarray(s, np.float32),
        np.asarray(lab) if ie is not None else None,
        str(p),
        {"score_range": (1.0, 5.0)},
    )


def read_stsb(path: str | Path) -> PairDataset:
    """Read an STS-B file (``sts-train.csv`` etc.): raw tab split (not CSV-quoted), fields 4, 5, 6 are
    score (0-5), sentence 1, sentence 2; extra trailing columns are ignored."""
    p = Path(path)
    a, b, s = [], [], []
    for i, line in enumerate(_open_lines(p), start=1):
        if not line.strip():
            continue
        f = line.split("\t")
        if len(f) < 7:
            raise DataError(f"expected at least 7 tab-separated fields, got {len(f)}", p, i)
        try:
            s.append(float(f[4]))
        except ValueError:
            raise DataError(f"score {f[4]!r} is not a number", p, i) from None
        a.append(f[5])
        b.append(f[6])
    return PairDataset(a, b, np.asarray(s, np.float32), None, str(p), {"score_range": (0.0, 5.0)})


_A_NAMES = ("a", "sentence_a", "sentence1", "text_a", "s1", "left")
_B_NAMES = ("b", "sentence_b", "sentence2", "text_b", "s2", "right")


def read_pairs(path: str | Path, delimiter: str | None = None) -> PairDataset:
    """Read a TSV/CSV of pairs with a header: columns ``a`` and ``b`` (or sentence1/sentence2 ...) and
    ``score`` and/or ``label``. CSV files are read with standard quoting; ``.tsv`` files are split on tabs.
    """
    p = Path(path)
    lines = _open_lines(p)
    if not lines:
        raise DataError("empty file", p)
    if delimiter is None:
        delimiter = "\t" if (p.suffix.lower() == ".tsv" or "\t" in lines[0]) else ","
    if delimiter == "\t":
        rows = [ln.split("\t") for ln in lines]
    else:
        rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    ia = next((header.index(n) for n in _A_NAMES if n in header), None)
    ib = next((header.index(n) for n in _B_NAMES if n in header), None)
    isc = next((header.index(n) for n in ("score", "similarity", "relatedness_score") if n in header), None)
    il = next((header.index(n) for n in ("label", "is_duplicate", "quality") if n in header), None)
    if ia is None or ib is None:
        raise DataError(f"header {rows[0]} needs columns 'a' and 'b' (or sentence1/sentence2)", p, 1)
    if isc is None and il is None:
        raise DataError(f"header {rows[0]} needs a 'score' or a 'label' column", p, 1)
    a, b, s, lab = [], [], [], []
    need = max(x for x in (ia, ib, isc, il) if x is not None) + 1
    for i, r in enumerate(rows[1:], start=2):
        if not any(x.strip() for x in r):
            continue
        if len(r) < need:
            raise DataError(f"expected {len(header)} columns like the header, got {len(r)}", p, i)
        a.append(r[ia])
        b.append(r[ib])
        if isc is not None:
            try:
                s.append(float(r[isc]))
            except ValueError:
                raise DataError(f"score {r[isc]!r} is not a number", p, i) from None
        if il is not None:
            lab.append(r[il].strip())
    label = None
    if il is not None:
        label = np.asarray(lab)
        with contextlib.suppress(ValueError):
            label = label.astype(np.float32)
    return PairDataset(a, b, None if isc is None else np.asarray(s, np.float32), label, str(p))


def read_any(path: str | Path) -> PairDataset:
    """Read a pairs file, choosing SICK, STS-B or the generic reader from its content."""
    p = Path(path)
    lines = _open_lines(p)
    if not lines:
        raise DataError("empty file", p)
    first = lines[0].split("\t")
    if "sentence_A" in first and "relatedness_score" in first:
        return read_sick(p)
    if len(first) >= 7 and _is_number(first[4]) and not _is_number(first[5]):
        return read_stsb(p)
    return read_pairs(p)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def is_pairs_file(path: str | Path) -> bool:
    """Whether a file looks like sentence pairs (SICK, STS-B or a headed a/b table) rather than series."""
    p = Path(path)
    if p.suffix.lower() in (".ts", ".npy"):
        return False
    try:
        with p.open("r", encoding="utf-8") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return False
    fields = re.split(r"[\t,]", first.strip())
    if not fields or not fields[0]:
        return False
    numeric = sum(_is_number(x) for x in fields)
    return numeric < len(fields) - 1 or len(fields) < 3


# -- text ----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[\w']+|[^\w\s]", re.UNICODE)


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Split text into word and punctuation tokens (lowercased by default)."""
    if not isinstance(text, str):
        raise DataError(f"expected a string, got {type(text).__name__}")
    return _TOKEN.findall(text.lower() if lowercase else text)


def read_lines(path: str | Path) -> list[str]:
    """Non-empty lines of a UTF-8 text file."""
    return [ln for ln in _open_lines(Path(path)) if ln.strip()]


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order without duplicates."""
    return list(dict.fromkeys(items))


@dataclass
class Triplets:
    """(anchor, positive, negative) items (series or sentences) of equal count."""

    anchor: list[Any]
    positive: list[Any]
    negative: list[Any]
    name: str = "triplets"

    def __post_init__(self) -> None:
        n = {len(self.anchor), len(self.positive), len(self.negative)}
        if len(n) != 1:
            raise DimensionError(f"triplet columns have different lengths {sorted(n)}")
        if not self.anchor:
            raise DataError("no triplets")

    def __len__(self) -> int:
        return len(self.anchor)

    def subset(self, idx: Sequence[int] | np.ndarray) -> Triplets:
        return Triplets(
            [self.anchor[i] for i in idx],
            [self.positive[i] for i in idx],
            [self.negative[i] for i in idx],
            self.name,
        )


@dataclass
class LabelledTexts:
    """Sentences with class labels, from which pairs / triplets are sampled."""

    texts: list[str]
    labels: np.ndarray
    name: str = "texts"

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels).astype(str)
        if len(self.texts) != len(self.labels):
            raise DimensionError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        if not self.texts:
            raise DataError("no texts")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, idx: Sequence[int] | np.ndarray) -> LabelledTexts:
        return LabelledTexts([self.texts[i] for i in idx], self.labels[np.asarray(idx, int)], self.name)


def items_of(data: Any) -> list[Any]:
    """The items of a training data set (pairs: both sides; triplets: the anchors)."""
    if isinstance(data, SeriesDataset):
        return data.series
    if isinstance(data, LabelledTexts):
        return data.texts
    if isinstance(data, PairDataset):
        return list(data.a) + list(data.b)
    if isinstance(data, Triplets):
        return list(data.anchor)
    raise DataError(f"unsupported data {type(data).__name__}")


def labels_of(data: Any) -> Any:
    """The class labels of a collection (None for pairs, triplets or an unlabelled collection)."""
    return getattr(data, "labels", None)
