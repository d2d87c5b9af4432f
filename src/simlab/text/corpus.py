"""Streamed, restartable text corpora and the default tokenizer.

A corpus is anything that can be iterated **several times** (once to build the vocabulary, once per epoch),
each pass yielding documents as lists of tokens. :class:`TextCorpus` reads files lazily on every pass:

- plain text, one document per line (``.txt`` or anything else);
- any of these compressed with gzip (``.gz``);
- JSON lines (``.jsonl``; the text is in `field`, default ``"text"``);
- TSV / CSV (``.tsv`` / ``.csv``; the text is in `column`, a header name or a 0-based index);
- a directory of ``.txt`` files (one document per file, sorted by name).

Documents longer than gensim's 10,000-token limit are split into consecutive chunks (gensim's Cython code
would silently drop the rest). A generator or other one-shot iterator passed where a re-iterable corpus is
needed raises :class:`~simlab.errors.DataError` instead of training on nothing after the first pass.
"""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError, DataError

#: gensim's Cython training routines only look at the first 10,000 tokens of a document.
MAX_DOC_TOKENS = 10000

Tokenizer = Callable[[str], list[str]]


def tokenize(text: str) -> list[str]:
    """The default tokenizer: lowercase Unicode word tokens; HTML tags and entities and URLs removed.

    Tokens are runs of letters/digits (any script), keeping inner apostrophes (``don't``). This is
    :class:`simlab.text.tokenizers.Tokenizer` with its defaults (see there for the options).

    Example:
        >>> tokenize("It's GREAT.<br /><br />Café au lait, 10/10!")
        ["it's", 'great', 'café', 'au', 'lait', '10', '10']
    """
    from simlab.text.tokenizers import DEFAULT

    return DEFAULT(text)


def chunks(tokens: list[str], size: int = MAX_DOC_TOKENS) -> Iterator[list[str]]:
    """Split a token list into consecutive pieces of at most `size` tokens (no token is dropped)."""
    if len(tokens) <= size:
        yield tokens
        return
    for s in range(0, len(tokens), size):
        yield tokens[s : s + size]


def ensure_reiterable(corpus: Any, what: str = "corpus") -> None:
    """Raise :class:`DataError` when `corpus` is a one-shot iterator (a generator, ``iter(list)``, a file).

    Training iterates the corpus once for the vocabulary and once per epoch; a generator would be empty after
    the first pass and the model would silently train on nothing.
    """
    if corpus is None:
        raise DataError(f"no {what} given")
    if isinstance(corpus, str | bytes | Path):
        return
    if isinstance(corpus, Iterator) or (hasattr(corpus, "__next__") and iter(corpus) is corpus):
        raise DataError(
            f"the {what} is a one-shot iterator ({type(corpus).__name__}); training needs to iterate it "
            "once per epoch: pass a list, a simlab.text.TextCorpus, or an object whose __iter__ restarts"
        )
    if not isinstance(corpus, Iterable):
        raise DataError(f"the {what} must be an iterable of documents, got {type(corpus).__name__}")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) with a one-line DataError for binary / non-UTF-8 / corrupt gzip input.

    Lines are read as bytes and decoded one by one, so an error names the exact line.
    """
    try:
        raw: Any = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115
    except FileNotFoundError:
        raise DataError("file not found", path) from None
    except IsADirectoryError:
        raise DataError("is a directory, expected a file", path) from None
    except OSError as exc:
        raise DataError(f"cannot open ({exc.strerror})", path) from None
    n = 0
    with raw:
        while True:
            try:
                b = raw.readline()
            except (OSError, EOFError, zlib.error) as exc:
                raise DataError(f"unreadable ({exc})", path, n + 1) from None
            if not b:
                return
            n += 1
            if b"\x00" in b:
                raise DataError("contains NUL bytes: a binary file, not text", path, n)
            try:
                yield n, b.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError("not UTF-8 text (binary file?)", path, n) from None


def detect_format(path: Path) -> str:
    """``"dir"``, ``"jsonl"``, ``"tsv"``, ``"csv"`` or ``"text"`` from the path (``.gz`` looked through)."""
    if path.is_dir():
        return "dir"
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".tsv", "tsv"), (".csv", "csv")):
        if name.endswith(suffix):
            return fmt
    return "text"


class TextCorpus:
    """A re-iterable stream of tokenized documents read from files (never loaded whole).

    Args:
        paths: one path or several (files or directories of ``.txt`` files).
        format: ``"auto"`` (from each path's suffix), ``"text"``, ``"jsonl"``, ``"tsv"``, ``"csv"`` or
            ``"dir"``.
        field: JSONL field holding the text.
        column: TSV/CSV column holding the text: a header name (the first row is a header) or a 0-based index
            (no header unless `header` is True). Default: ``"text"``.
        header: whether TSV/CSV files have a header row (default: True when `column` is a name).
        tokenizer: a tokenizer spec (``"simlab"``, ``"whitespace"``, ``"regex:PATTERN"``, a dict, a
            :class:`~simlab.text.tokenizers.Tokenizer`) or any ``str -> list[str]``; :func:`tokenize` by
            default.
        max_tokens: split longer documents into chunks of this many tokens (gensim's limit is 10,000).
        skip_empty: leave out documents with no tokens (they carry no training signal).

    Iterating yields ``list[str]`` (chunks of long documents separately); :meth:`documents` yields
    ``(doc_id, tokens)`` with whole documents, ids being ``"<file name>:<line>"`` or the file name.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.txt"; _ = p.write_text("Hello world<br />\\nbye\\n")
        >>> list(TextCorpus(p))
        [['hello', 'world'], ['bye']]
    """

    def __init__(
        self,
        paths: str | Path | Sequence[str | Path],
        *,
        format: str = "auto",
        field: str = "text",
        column: str | int = "text",
        header: bool | None = None,
        tokenizer: Tokenizer | None = None,
        max_tokens: int = MAX_DOC_TOKENS,
        skip_empty: bool = True,
    ) -> None:
        if isinstance(paths, str | Path):
            paths = [paths]
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise DataError("no corpus files given")
        if format not in ("auto", "text", "jsonl", "tsv", "csv", "dir"):
            raise ConfigError(f"unknown corpus format {format!r}; valid: auto, text, jsonl, tsv, csv, dir")
        for p in self.paths:
            if not p.exists():
                raise DataError("file not found", p)
        self.format, self.field, self.column = format, field, column
        self.header = isinstance(column, str) if header is None else header
        from simlab.text.tokenizers import make_tokenizer

        self.tokenizer = make_tokenizer(tokenizer)
        if max_tokens < 1:
            raise ConfigError("max_tokens must be >= 1")
        self.max_tokens = max_tokens
        self.skip_empty = skip_empty

    def __repr__(self) -> str:
        return f"TextCorpus({[str(p) for p in self.paths]!r}, format={self.format!r})"

    # -- raw texts -------------------------------------------------------------------------------------------
    def texts(self) -> Iterator[tuple[str, str]]:
        """``(doc_id, raw text)`` for every document, in order."""
        for p in self.paths:
            fmt = detect_format(p) if self.format == "auto" else self.format
            if fmt == "dir" or p.is_dir():
                files = sorted(x for x in p.iterdir() if x.is_file() and x.name.endswith((".txt", ".txt.gz")))
                if not files:
                    raise DataError("directory holds no .txt files", p)
                for fp in files:
                    text = "".join(line for _, line in _lines(fp))
                    yield fp.name, text
            elif fmt == "text":
                for n, line in _lines(p):
                    yield f"{p.name}:{n}", line
            elif fmt == "jsonl":
                yield from self._jsonl(p)
            else:
                yield from self._table(p, "\t" if fmt == "tsv" else ",")

    def _jsonl(self, p: Path) -> Iterator[tuple[str, str]]:
        for n, line in _lines(p):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON ({exc.msg})", p, n) from None
            if not isinstance(obj, dict) or self.field not in obj:
                raise DataError(f"no field {self.field!r} in this JSON line", p, n)
            text = obj[self.field]
            if not isinstance(text, str):
                raise DataError(f"field {self.field!r} is {type(text).__name__}, expected a string", p, n)
            yield f"{p.name}:{n}", text

    def _table(self, p: Path, delimiter: str) -> Iterator[tuple[str, str]]:
        kind = "TSV" if delimiter == "\t" else "CSV"
        csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # long documents are legitimate
        reader = csv.reader(
            (line for _, line in _lines(p)),
            delimiter=delimiter,
            quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL,
        )
        col: int | None = self.column if isinstance(self.column, int) else None
        try:
            for row in reader:
                n = reader.line_num
                if n == 1 and self.header:
                    if isinstance(self.column, str):
                        if self.column not in row:
                            raise DataError(f"no column {self.column!r} in header {row}", p, 1)
                        col = row.index(self.column)
                    continue
                if not row:
                    continue
                if col is None:
                    raise DataError(f"column {self.column!r} is a name but there is no header", p)
                if col >= len(row):
                    raise DataError(f"row has {len(row)} columns, text column is {col}", p, n)
                yield f"{p.name}:{n}", row[col]
        except csv.Error as exc:
            raise DataError(f"malformed {kind} ({exc})", p, reader.line_num) from None

    # -- tokens ----------------------------------------------------------------------------------------------
    def documents(self) -> Iterator[tuple[str, list[str]]]:
        """``(doc_id, tokens)`` of whole documents (not chunked)."""
        tok = self.tokenizer
        for doc_id, text in self.texts():
            tokens = tok(text)
            if tokens or not self.skip_empty:
                yield doc_id, tokens

    def __iter__(self) -> Iterator[list[str]]:
        size = self.max_tokens
        for _, tokens in self.documents():
            if len(tokens) <= size:
                yield tokens
            else:
                yield from chunks(tokens, size)


class TokenCorpus:
    """Adapter that makes any re-iterable of documents (token lists or raw strings) safe for training.

    Strings are tokenized with `tokenizer`; documents longer than `max_tokens` are split into chunks;
    anything else raises :class:`DataError` naming the document's position.
    """

    def __init__(
        self, docs: Iterable[Any], tokenizer: Tokenizer | None = None, max_tokens: int = MAX_DOC_TOKENS
    ) -> None:
        from simlab.text.tokenizers import make_tokenizer

        ensure_reiterable(docs)
        self.docs = docs
        self.tokenizer = make_tokenizer(tokenizer)
        self.max_tokens = max_tokens

    def __iter__(self) -> Iterator[list[str]]:
        size, tok = self.max_tokens, self.tokenizer
        for i, doc in enumerate(self.docs):
            if isinstance(doc, str):
                doc = tok(doc)
            elif not isinstance(doc, list):
                if isinstance(doc, tuple) and all(isinstance(t, str) for t in doc):
                    doc = list(doc)
                elif hasattr(doc, "words"):  # a TaggedDocument
                    doc = list(doc.words)
                else:
                    raise DataError(
                        f"document {i} is a {type(doc).__name__}; expected a list of tokens or a str"
                    )
            if len(doc) <= size:
                yield doc
            else:
                yield from chunks(doc, size)


def as_corpus(
    corpus: Any, tokenizer: Tokenizer | None = None, max_tokens: int = MAX_DOC_TOKENS
) -> Iterable[list[str]]:
    """Turn what a user passes to ``fit`` into a re-iterable stream of token lists.

    Accepts a path (``str``/``Path``; a file or a directory), a list of ``Path`` objects, a
    :class:`TextCorpus`, or a re-iterable of documents (token lists or raw strings, see :class:`TokenCorpus`).
    Note that a list of ``str`` is a list of *documents*, not of file names; wrap file names in
    :class:`TextCorpus` (or ``Path``).
    """
    if isinstance(corpus, TextCorpus):
        return corpus
    if isinstance(corpus, str | Path):
        return TextCorpus(corpus, tokenizer=tokenizer, max_tokens=max_tokens)
    ensure_reiterable(corpus)
    if isinstance(corpus, list | tuple) and corpus and all(isinstance(x, Path) for x in corpus):
        return TextCorpus(list(corpus), tokenizer=tokenizer, max_tokens=max_tokens)
    return TokenCorpus(corpus, tokenizer=tokenizer, max_tokens=max_tokens)


def write_line_corpus(corpus: Iterable[list[str]], path: str | Path) -> tuple[int, int]:
    """Write a tokenized corpus as space-separated lines (gensim's ``corpus_file`` format), atomically.

    Returns:
        ``(documents, tokens)`` written.
    """
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    docs = toks = 0
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for doc in corpus:
                if not doc:
                    continue
                f.write(" ".join(doc))
                f.write("\n")
                docs += 1
                toks += len(doc)
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return docs, toks
