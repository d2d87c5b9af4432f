"""Import of pretrained word vectors: word2vec text/binary and fastText ``.vec`` / ``.bin`` into Vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simlab.errors import DataError
from simlab.vectors import Vectors


def load_vectors(path: str | Path, format: str = "auto", limit: int | None = None) -> Vectors:
    """Read pretrained word vectors.

    Args:
        path: a word2vec text file (``.txt``/``.vec``, fastText's ``.vec`` is the same format), a word2vec
            binary (``.bin`` written by word2vec), or a fastText ``.bin`` model (Facebook format; read with
            gensim's ``load_facebook_vectors``; only the in-vocabulary vectors are kept; use
            :func:`load_fasttext_bin` for the n-gram model).
        format: ``"auto"`` (from the suffix and, for ``.bin``, the fastText magic number), ``"word2vec"``,
            ``"word2vec-binary"`` or ``"fasttext-bin"``.
        limit: read at most this many vectors (word2vec formats).

    Raises:
        DataError: missing file, malformed entry (naming the line).
    """
    p = Path(path)
    if not p.is_file():
        raise DataError("file not found", p)
    if format == "auto":
        if p.suffix == ".bin":
            format = "fasttext-bin" if _is_fasttext_bin(p) else "word2vec-binary"
        else:
            format = "word2vec"
    if format == "word2vec":
        return Vectors.load_word2vec_format(p, binary=False, limit=limit)
    if format == "word2vec-binary":
        try:
            return Vectors.load_word2vec_format(p, binary=True, limit=limit)
        except DataError:
            if p.suffix != ".bin":
                raise
            format = "fasttext-bin"  # old fastText .bin files have no magic number
    if format == "fasttext-bin":
        kv = load_fasttext_bin(p)
        return Vectors(list(kv.index_to_key), kv.vectors, kv.expandos.get("count"))
    raise DataError(
        f"unknown vectors format {format!r}; valid: auto, word2vec, word2vec-binary, fasttext-bin"
    )


def _is_fasttext_bin(p: Path) -> bool:
    with p.open("rb") as f:
        head = f.read(4)
    return int.from_bytes(head, "little") == FASTTEXT_MAGIC if len(head) == 4 else False


FASTTEXT_MAGIC = 793712314


def _check_fasttext_header(p: Path) -> None:
    """Refuse a file whose fastText header is implausible before gensim allocates what it declares.

    Header (after the optional magic and version int32s): dim, ws, epoch, minCount, neg, wordNgrams, loss,
    model, bucket, minn, maxn, lrUpdateRate (int32) and t (float64).
    """
    import struct

    try:
        size = p.stat().st_size
        with p.open("rb") as f:
            head = f.read(8 + 48)
    except OSError as exc:
        raise DataError(f"cannot read ({exc.strerror})", p) from None
    off = 8 if len(head) >= 4 and int.from_bytes(head[:4], "little") == FASTTEXT_MAGIC else 0
    if len(head) < off + 48:
        raise DataError("not a fastText .bin model (file too short)", p)
    dim, ws, epoch, min_count, neg, ngrams, loss, model, bucket, minn, maxn, lr_update = struct.unpack(
        "<12i", head[off : off + 48]
    )
    sane = (
        0 < dim <= 1 << 16
        and 0 < ws <= 1000
        and 0 < epoch <= 1_000_000
        and min_count >= 0
        and neg >= 0
        and 0 < ngrams <= 100
        and 1 <= loss <= 4
        and 1 <= model <= 3
        and 0 <= bucket <= 1 << 28
        and 0 <= minn <= maxn <= 100
        and lr_update >= 0
    )
    if not sane:
        raise DataError("not a word2vec or fastText .bin file (implausible header)", p)
    if 4.0 * bucket * dim > size:
        raise DataError(
            f"fastText header declares {bucket} x {dim} n-gram vectors, more than the file's "
            f"{size} bytes hold (truncated?)",
            p,
        )


def load_fasttext_bin(path: str | Path) -> Any:
    """gensim ``FastTextKeyedVectors`` of a Facebook fastText ``.bin`` (vectors for any word via n-grams)."""
    from simlab._deps import require

    _check_fasttext_header(Path(path))
    require("gensim")
    from gensim.models.fasttext import load_facebook_vectors

    try:
        return load_facebook_vectors(str(path))
    except Exception as exc:  # gensim raises assorted errors on bad files
        raise DataError(f"not a readable fastText .bin model ({type(exc).__name__}: {exc})", path) from None
