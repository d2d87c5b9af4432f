"""`Vectors`: keys + a ``(n, dim)`` float32 matrix, the object every model, encoder and index exchanges."""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simlab import metrics as M
from simlab.artifacts import Artifact, ArtifactWriter
from simlab.errors import ConfigError, DataError, DimensionError, UnknownKeyError
from simlab.registry import KINDS

log = logging.getLogger(__name__)
Key = Hashable


@dataclass
class Hits:
    """Search results.

    For one query, `keys` is a list of k keys and `scores` a ``(k,)`` array; for a batch of q queries, `keys`
    is a list of q lists and `scores` a ``(q, k)`` array. Scores are similarities (higher = more similar).
    """

    keys: list[Any]
    scores: np.ndarray

    @property
    def batched(self) -> bool:
        """True when these are the hits of several queries."""
        return self.scores.ndim == 2

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> Any:
        if self.batched:
            return Hits(list(self.keys[i]), self.scores[i])
        return self.keys[i], float(self.scores[i])

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def to_list(self) -> list[Any]:
        """``[(key, score), ...]`` for one query; a list of those for a batch."""
        if self.batched:
            return [self[i].to_list() for i in range(len(self))]
        return [(k, float(s)) for k, s in zip(self.keys, self.scores, strict=True)]


class WordAlgebra:
    """Analogies and odd-one-out over unit vectors (the word-vector operations of :class:`Vectors`)."""

    _keys: list[Any]
    matrix: np.ndarray
    norms: np.ndarray

    def index_of(self, key: Key) -> int:  # pragma: no cover - Vectors implements it
        raise NotImplementedError

    def __len__(self) -> int:  # pragma: no cover - Vectors implements it
        raise NotImplementedError

    def _unit(self, rows: np.ndarray | slice) -> np.ndarray:
        n = self.norms[rows]
        n = np.where(n == 0, 1, n)
        return self.matrix[rows] / n[..., None]

    def analogy(
        self, a: Key, b: Key, c: Key, k: int = 1, method: str = "3cosadd", restrict: int | None = None
    ) -> Hits:
        """Solve "a is to b as c is to ?".

        3CosAdd: argmax cos(x, b - a + c) over unit vectors (Mikolov et al. 2013).
        3CosMul: argmax cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3) with cos' = (cos + 1) / 2
        (Levy & Goldberg 2014). The question words are excluded.
        """
        rows = [self.index_of(x) for x in (a, b, c)]
        pred = self._analogy_scores(np.array([rows]), method, restrict)[0]
        pred[rows] = -np.inf
        order = np.argsort(-pred, kind="stable")[:k]
        return Hits([self._keys[i] for i in order], pred[order].astype(np.float32))

    def analogy_batch(
        self, questions: np.ndarray, method: str = "3cosadd", restrict: int | None = None, batch: int = 256
    ) -> np.ndarray:
        """Best answer row for each question.

        Args:
            questions: ``(q, 3)`` int rows ``(a, b, c)`` for "a : b :: c : ?".
            method: ``"3cosadd"`` or ``"3cosmul"``.
            restrict: candidates are the first `restrict` rows only.

        Returns:
            ``(q,)`` int64 predicted rows (question words excluded).
        """
        questions = np.asarray(questions, dtype=np.int64).reshape(-1, 3)
        out = np.empty(len(questions), dtype=np.int64)
        for s in range(0, len(questions), batch):
            qs = questions[s : s + batch]
            scores = self._analogy_scores(qs, method, restrict)
            np.put_along_axis(scores, np.where(qs < scores.shape[1], qs, 0), -np.inf, axis=1)
            out[s : s + batch] = scores.argmax(1)
        return out

    def _analogy_scores(self, qs: np.ndarray, method: str, restrict: int | None) -> np.ndarray:
        n = len(self) if restrict is None else min(restrict, len(self))
        cand = slice(0, n)
        norms = np.where(self.norms[cand] == 0, 1, self.norms[cand])
        ua, ub, uc = (self._unit(qs[:, j]) for j in range(3))
        if method.lower() == "3cosadd":
            target = ub - ua + uc
            return (target @ self.matrix[cand].T) / norms[None, :]
        if method.lower() == "3cosmul":
            cos = [((u @ self.matrix[cand].T) / norms[None, :] + 1) / 2 for u in (ua, ub, uc)]
            return cos[1] * cos[2] / (cos[0] + 1e-3)
        raise ConfigError(f"unknown analogy method {method!r}; valid: 3cosadd, 3cosmul")

    def doesnt_match(self, keys: Sequence[Key]) -> Key:
        """The key furthest (cosine) from the mean of the unit vectors of `keys`."""
        if len(keys) < 2:
            raise DataError("doesnt_match needs at least two keys")
        rows = np.array([self.index_of(x) for x in keys])
        units = self._unit(rows)
        mean = units.mean(0)
        return keys[int(np.argmin(units @ mean))]


class Word2VecFormat:
    """The word2vec text and binary formats (``.vec``, ``.txt``, ``.bin``; GloVe's headerless text) of
    :class:`Vectors`, readable and writable by gensim."""

    _keys: list[Any]
    matrix: np.ndarray
    dim: int

    def __len__(self) -> int:  # pragma: no cover - Vectors implements it
        raise NotImplementedError

    def save_word2vec_format(self, path: str | Path, binary: bool = False) -> None:
        """Write the word2vec text (or binary) format, readable by gensim's ``load_word2vec_format``."""
        bad = next(
            (k for k in self._keys if not isinstance(k, str) or not k or any(c.isspace() for c in k)), None
        )
        if bad is not None:
            raise DataError(
                f"key {bad!r} cannot be written in word2vec format (empty, non-string or whitespace)"
            )
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(f"{len(self)} {self.dim}\n".encode())
            if binary:
                for key, row in zip(self._keys, self.matrix, strict=True):
                    f.write(key.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
            else:
                for key, row in zip(self._keys, self.matrix, strict=True):
                    f.write((key + " " + " ".join(f"{x:.6g}" for x in row) + "\n").encode("utf-8"))
        tmp.replace(p)

    @classmethod
    def load_word2vec_format(
        cls, path: str | Path, binary: bool | None = None, limit: int | None = None
    ) -> Vectors:
        """Read the word2vec text or binary format (``.vec``, ``.txt``, ``.bin``).

        Args:
            path: the file.
            binary: binary format; guessed from a ``.bin`` suffix when None.
            limit: read only the first `limit` vectors.

        Raises:
            DataError: naming the file and line of a malformed entry.
        """
        p = Path(path)
        if binary is None:
            binary = p.suffix == ".bin"
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be >= 0, got {limit}")
        try:
            f = p.open("rb")
            size = os.fstat(f.fileno()).st_size
        except IsADirectoryError:
            raise DataError("is a directory, expected a word2vec file", p) from None
        except OSError as exc:
            raise DataError(f"cannot open ({exc.strerror})", p) from None
        with f:
            first = f.readline(1 << 20)
            header = first.split()
            try:
                if len(header) != 2:
                    raise ValueError
                n, dim = int(header[0]), int(header[1])
            except (IndexError, ValueError):
                if binary or len(header) < 2:
                    raise DataError("header must be '<count> <dim>'", p, 1) from None
                return cls._read_headerless(p, first, f, limit)  # GloVe: no header line
            _check_header(p, n, dim, size, binary)
            if limit is not None:
                n = min(n, limit)
            keys: list[str] = []
            mat = np.empty((n, dim), dtype=np.float32)
            for i in range(n):
                if binary:
                    keys.append(_read_binary_entry(f, p, mat, i, n, dim))
                else:
                    keys.append(_parse_text_entry(f.readline(), p, mat, i, n, dim, i + 2))
        if not np.isfinite(mat).all():
            raise DataError("contains NaN or infinite values", p)
        return cls(keys, mat)

    @classmethod
    def _read_headerless(cls, p: Path, first: bytes, f: Any, limit: int | None) -> Vectors:
        """The word2vec text format without its header line (GloVe): ``word x1 ... xd`` per line."""
        dim = len([x for x in first.rstrip(b"\r\n").split(b" ") if x]) - 1
        keys: list[str] = []
        rows: list[np.ndarray] = []
        line, line_no = first, 1
        while line and (limit is None or len(keys) < limit):
            if line.strip():
                one = np.empty((1, dim), np.float32)
                keys.append(_parse_text_entry(line, p, one, 0, 1, dim, line_no))
                rows.append(one[0])
            line, line_no = f.readline(), line_no + 1
        mat = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
        if not np.isfinite(mat).all():
            raise DataError("contains NaN or infinite values", p)
        return cls(keys, mat)


class Vectors(WordAlgebra, Word2VecFormat):
    """Keys with one float32 vector each.

    Args:
        keys: n unique keys (str or int).
        matrix: ``(n, dim)`` array-like; stored as C-contiguous float32 (no copy when it already is).
        counts: optional ``(n,)`` frequencies (e.g. word counts), kept on save.

    Raises:
        DataError: duplicate keys, NaN/inf values, or a key count that does not match the rows.
    """

    #: what the CLI and the service may ask (:func:`simlab.model.capabilities`): keys and raw vectors
    CAPABILITIES = frozenset({"searches", "scores_pairs"})

    def __init__(self, keys: Iterable[Key], matrix: Any, counts: Any | None = None) -> None:
        self._keys: list[Any] = list(keys)
        mat = (
            M.as_matrix(matrix, np.float32, "vectors") if len(self._keys) else np.asarray(matrix, np.float32)
        )
        if mat.ndim == 1 and mat.size == 0:
            mat = mat.reshape(0, 0)
        if mat.ndim != 2 or mat.shape[0] != len(self._keys):
            raise DimensionError(f"{len(self._keys)} keys but matrix of shape {mat.shape}")
        self.matrix: np.ndarray = mat
        self.key_to_index: dict[Any, int] = {k: i for i, k in enumerate(self._keys)}
        if len(self.key_to_index) != len(self._keys):
            seen: set[Any] = set()
            dup = next(k for k in self._keys if k in seen or seen.add(k))  # type: ignore[func-returns-value]
            raise DataError(f"duplicate key {dup!r} in vectors")
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        if self.counts is not None and self.counts.shape != (len(self._keys),):
            raise DimensionError(f"counts has shape {self.counts.shape}, expected ({len(self._keys)},)")
        self._norms: np.ndarray | None = None

    # -- basics ----------------------------------------------------------------------------------------------
    @property
    def keys(self) -> list[Any]:
        """The keys, in row order."""
        return self._keys

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self.matrix.shape[1])

    @property
    def norms(self) -> np.ndarray:
        """``(n,)`` L2 norms of the rows (cached; no normalised copy of the matrix is kept)."""
        if self._norms is None:
            self._norms = np.linalg.norm(self.matrix, axis=1).astype(np.float32)
        return self._norms

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        try:
            return key in self.key_to_index
        except TypeError:
            return False

    def __repr__(self) -> str:
        return f"Vectors(n={len(self)}, dim={self.dim if len(self) else 0})"

    def index_of(self, key: Key) -> int:
        """Row of `key`.

        Raises:
            UnknownKeyError: naming the key.
        """
        try:
            return self.key_to_index[key]
        except (KeyError, TypeError):
            raise UnknownKeyError(f"unknown key {key!r} (not among the {len(self)} keys)") from None

    def key_like(self, q: Any) -> Any:
        """`q`, or its int/str twin when only that is a key (node ids read from files are strings)."""
        if q in self:
            return q
        if isinstance(q, str):
            try:
                return int(q) if int(q) in self else q
            except ValueError:
                return q
        if isinstance(q, int) and not isinstance(q, bool) and str(q) in self:
            return str(q)
        return q

    def __getitem__(self, key: Key | Sequence[Key]) -> np.ndarray:
        """The vector of a key ``(dim,)``, or of a list of keys ``(len, dim)``."""
        if isinstance(key, list | tuple) and not (isinstance(key, tuple) and key in self.key_to_index):
            return self.matrix[[self.index_of(k) for k in key]]
        return self.matrix[self.index_of(key)]

    def get(self, key: Key, default: Any = None) -> Any:
        """The vector of `key`, or `default` when it is unknown."""
        i = self.key_to_index.get(key)
        return default if i is None else self.matrix[i]

    # -- similarity ------------------------------------------------------------------------------------------
    def _as_vector(self, q: Any) -> tuple[np.ndarray, list[int]]:
        """A query (key, vector, or list of keys/vectors averaged) -> (vector (dim,), rows to exclude)."""
        if isinstance(q, np.ndarray) or hasattr(q, "detach"):
            v = M.as_matrix(q, np.float32, "query")
            if v.shape[0] != 1:
                raise DimensionError(f"one query vector expected, got shape {v.shape}")
            if v.shape[1] != self.dim:
                raise DimensionError(f"query has dimension {v.shape[1]}, vectors have {self.dim}")
            return v[0], []
        if isinstance(q, list) and q and not isinstance(q[0], int | float):
            vecs, excl = zip(*(self._as_vector(x) for x in q), strict=True)
            return np.mean(vecs, axis=0), [i for e in excl for i in e]
        i = self.index_of(q)
        return self.matrix[i], [i]

    def _compose(
        self, query: Any, positive: Sequence[Any], negative: Sequence[Any]
    ) -> tuple[np.ndarray, list[int]]:
        """The query vector of :meth:`most_similar` and the rows it is made of: the query itself, or the mean
        of the unit `positive` vectors, the negated unit `negative` ones and the unit query (3CosAdd)."""
        if not (positive or negative):
            if query is None:
                raise ConfigError("most_similar needs a query or positive/negative keys")
            return self._as_vector(query)
        exclude: list[int] = []
        terms = []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for x in items:
                v, ex = self._as_vector(x)
                n = np.linalg.norm(v)
                terms.append(sign * (v / n if n else v))
                exclude += ex
        if query is not None:
            v, ex = self._as_vector(query)
            terms.append(v / (np.linalg.norm(v) or 1))
            exclude += ex
        return np.mean(terms, axis=0), exclude

    def similarity(self, a: Any, b: Any, metric: str = "cosine") -> float:
        """Similarity of two keys or vectors (higher = more similar)."""
        va, _ = self._as_vector(a)
        vb, _ = self._as_vector(b)
        return M.similarity(va, vb, metric)

    def distance(self, a: Any, b: Any, metric: str = "cosine") -> float:
        """Distance between two keys or vectors (lower = more similar)."""
        va, _ = self._as_vector(a)
        vb, _ = self._as_vector(b)
        return M.distance(va, vb, metric)

    def most_similar(
        self,
        query: Any = None,
        k: int = 10,
        *,
        positive: Sequence[Any] = (),
        negative: Sequence[Any] = (),
        metric: str = "cosine",
        exclude_query: bool = True,
        restrict: int | None = None,
        index: Any | None = None,
    ) -> Hits:
        """The k keys most similar to a query.

        Args:
            query: a key, a ``(dim,)`` vector, or a list of keys (their mean).
            k: number of results.
            positive / negative: keys (or vectors) added / subtracted after unit-normalisation, as in
                3CosAdd analogies (``positive=["king", "woman"], negative=["man"]``).
            metric: similarity to rank by.
            exclude_query: leave out the keys that make up the query.
            restrict: only search the first `restrict` rows (e.g. the most frequent words).
            index: an :class:`simlab.Index` over these vectors to search instead of exact scanning.

        Returns:
            :class:`Hits` for one query.
        """
        if len(self) == 0:
            raise DataError("most_similar on empty vectors")
        vec, exclude = self._compose(query, positive, negative)
        if not exclude_query:
            exclude = []
        want = k + len(set(exclude))
        if index is not None:
            hits = index.search(vec[None, :], k=want)
            keys, scores = list(hits.keys[0]), np.asarray(hits.scores[0])
            ex_keys = {self._keys[i] for i in exclude}
            pairs = [(kk, s) for kk, s in zip(keys, scores, strict=True) if kk not in ex_keys][:k]
            return Hits([p[0] for p in pairs], np.array([p[1] for p in pairs], np.float32))
        corpus = self.matrix if restrict is None else self.matrix[:restrict]
        idx, sc = M.topk(vec[None, :], corpus, want, metric, corpus_prepared=True)
        ex = set(exclude)
        keep = [j for j in range(idx.shape[1]) if idx[0, j] not in ex][:k]
        return Hits([self._keys[idx[0, j]] for j in keep], sc[0, keep])

    # -- transforms ------------------------------------------------------------------------------------------
    def normalized(self) -> Vectors:
        """A copy with unit-norm rows (zero rows stay zero)."""
        return Vectors(self._keys, M.l2_normalize(self.matrix), self.counts)

    def subset(self, keys: Iterable[Key]) -> Vectors:
        """The vectors of `keys`, in that order."""
        ks = list(keys)
        rows = [self.index_of(k) for k in ks]
        return Vectors(ks, self.matrix[rows], None if self.counts is None else self.counts[rows])

    # -- persistence -----------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (``keys.json`` + ``vectors.safetensors``), atomically."""
        with ArtifactWriter(path, "vectors", {"dim": self.dim if len(self) else 0, "count": len(self)}) as w:
            self.to_artifact(w)
        return Path(path)

    def to_artifact(self, w: ArtifactWriter, prefix: str = "") -> None:
        """Write the keys and matrix into an open artifact (files named with `prefix`; part of a model's
        files)."""
        arrays = {"matrix": self.matrix}
        if self.counts is not None:
            arrays["counts"] = self.counts
        w.save_arrays(f"{prefix}vectors.safetensors", arrays)
        w.save_json(f"{prefix}keys.json", self._keys)

    @classmethod
    def from_artifact(cls, art: Artifact, prefix: str = "") -> Vectors:
        """Read Vectors written by :meth:`to_artifact` (the whole artifact, or a model's files with
        `prefix`)."""
        arrays = art.arrays(f"{prefix}vectors.safetensors", required=("matrix",))
        keys = art.json(f"{prefix}keys.json")
        check_keys(keys, art, f"{prefix}keys.json")
        mat, counts = arrays["matrix"], arrays.get("counts")
        if (
            mat.ndim != 2
            or mat.shape[0] != len(keys)
            or (counts is not None and counts.shape != (len(keys),))
        ):
            raise DataError(
                f"{art.path}: {len(keys)} keys but a matrix of shape {mat.shape}"
                + (f" and counts of shape {counts.shape}" if counts is not None else "")
            )
        return cls(keys, mat, counts)

    @classmethod
    def load(cls, path: str | Path) -> Vectors:
        """Load vectors saved with :meth:`save` (checksums verified, nothing unpickled)."""
        return cls.from_artifact(Artifact(path, kind="vectors"))


def check_keys(keys: Any, art: Artifact, name: str) -> None:
    """Keys read from an artifact must be a flat list of strings or integers."""
    if not isinstance(keys, list) or not all(
        isinstance(k, str | int) and not isinstance(k, bool) for k in keys
    ):
        raise DataError(f"{art.path}/{name}: keys must be a list of strings or integers")


def _check_header(p: Path, n: int, dim: int, size: int, binary: bool) -> None:
    """Refuse a header whose sizes the file cannot hold (before allocating ``n x dim`` floats)."""
    from simlab.limits import check_memory

    if n < 0 or dim < 1:
        raise DataError(
            f"header declares {n} vectors of dim {dim}; expected a count >= 0 and a dim >= 1", p, 1
        )
    per_entry = 4 * dim + 2 if binary else 2 * dim + 1  # the least bytes one entry takes
    if n * per_entry > size:
        raise DataError(
            f"header declares {n} vectors of dim {dim}, more than the file's {size} bytes can hold "
            "(truncated file or wrong header)",
            p,
            1,
        )
    check_memory(4.0 * n * dim, f"{p.name}: {n} x {dim} float32 vectors")


def _read_binary_entry(f: Any, p: Path, mat: np.ndarray, i: int, n: int, dim: int) -> str:
    word = bytearray()
    while True:
        ch = f.read(1)
        if not ch:
            raise DataError(f"file ends after {i} of {n} vectors", p)
        if ch == b" ":
            break
        if ch != b"\n":
            word += ch
        if len(word) > 1 << 16:
            raise DataError(f"entry {i + 1}: a word longer than 64 KB (not a word2vec binary file?)", p)
    raw = f.read(4 * dim)
    if len(raw) != 4 * dim:
        raise DataError(f"truncated vector for entry {i + 1}", p)
    mat[i] = np.frombuffer(raw, dtype="<f4")
    return word.decode("utf-8", errors="replace")


def _parse_text_entry(line: bytes, p: Path, mat: np.ndarray, i: int, n: int, dim: int, line_no: int) -> str:
    if not line:
        raise DataError(f"file ends after {i} of {n} vectors", p, line_no)
    parts = [x for x in line.rstrip(b"\r\n").split(b" ") if x]
    if len(parts) != dim + 1:
        raise DataError(f"expected a word and {dim} numbers, got {len(parts)} fields", p, line_no)
    try:
        mat[i] = np.array([float(x) for x in parts[1:]], dtype=np.float32)
        return parts[0].decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"malformed entry ({exc})", p, line_no) from None


KINDS.register("vectors", Vectors, help="keys + float32 matrix")
