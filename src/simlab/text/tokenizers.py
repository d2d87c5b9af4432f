"""Tokenizers as data: a small frozen spec (stored in a model's manifest) that is applied at fit and query
time.

``Tokenizer()`` is simlab's default: HTML tags removed and entities decoded (``<br />``, ``&amp;``), URLs
removed, lowercased, Unicode letter/digit runs with inner apostrophes (``don't``). Other kinds:
``"whitespace"`` (split on whitespace) and ``"regex"`` (``re.findall(pattern)``). Options: what to do with
URLs and numbers (keep, remove, or replace by a placeholder token ``xxurl`` / ``xxnum``), English stop words,
Porter stemming, minimum length.

A spec is written as a string on the command line (``--tokenizer simlab``, ``whitespace``, ``regex:PATTERN``)
or as a dict (``{"kind": "simlab", "stopwords": "english"}``); :func:`make_tokenizer` accepts either, a
:class:`Tokenizer`, ``None`` (the default) or any callable ``str -> list[str]`` (not saveable).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from simlab.config import parse_spec
from simlab.errors import ConfigError

KINDS = ("simlab", "whitespace", "regex")
_TAG = re.compile(r"<[^<>]{0,200}>")
_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)*$")
URL_TOKEN, NUMBER_TOKEN = "xxurl", "xxnum"


@dataclass(frozen=True)
class Tokenizer:
    """A tokenizer spec; calling it tokenizes a text.

    Attributes:
        kind: ``"simlab"`` (Unicode word tokens), ``"whitespace"`` or ``"regex"``.
        pattern: the regex of ``kind="regex"`` (tokens = ``re.findall(pattern, text)``; groups not allowed).
        lowercase: lowercase the text first.
        html: remove HTML tags (``<br />``, ``<i>``) and decode entities (``&amp;`` -> ``&``).
        urls: ``"remove"`` (default), ``"keep"`` (then split like any text) or ``"token"`` (``xxurl``).
        numbers: tokens made only of digits (``1999``, ``3.5``): ``"keep"`` (default), ``"remove"`` or
            ``"token"`` (``xxnum``).
        stopwords: ``None`` or ``"english"`` (gensim's 337-word list) to drop function words.
        stem: Porter-stem every token (gensim's stemmer).
        min_length: drop tokens shorter than this.
    """

    kind: str = "simlab"
    pattern: str | None = None
    lowercase: bool = True
    html: bool = True
    urls: str = "remove"
    numbers: str = "keep"
    stopwords: str | None = None
    stem: bool = False
    min_length: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown tokenizer {self.kind!r}; valid: simlab, whitespace, regex:PATTERN")
        if self.kind == "regex":
            if not self.pattern:
                raise ConfigError("tokenizer 'regex' needs a pattern, e.g. regex:\\w+")
            try:
                rx = re.compile(self.pattern)
            except re.error as exc:
                raise ConfigError(f"invalid tokenizer regex {self.pattern!r}: {exc}") from None
            if rx.groups:
                raise ConfigError("tokenizer regex must not have capturing groups; use (?:...)")
        elif self.pattern is not None:
            raise ConfigError(f"tokenizer {self.kind!r} takes no pattern")
        for name, value in (("urls", self.urls), ("numbers", self.numbers)):
            if value not in ("keep", "remove", "token"):
                raise ConfigError(f"tokenizer {name} must be keep, remove or token, got {value!r}")
        if self.stopwords not in (None, "english"):
            raise ConfigError(f"tokenizer stopwords must be null or 'english', got {self.stopwords!r}")
        if self.min_length < 1:
            raise ConfigError("tokenizer min_length must be >= 1")

    # -- spec ------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready spec stored in manifests."""
        return asdict(self)

    @property
    def name(self) -> str:
        """Short name: ``simlab``, ``whitespace`` or ``regex:PATTERN``."""
        return f"regex:{self.pattern}" if self.kind == "regex" else self.kind

    # -- tokenizing ------------------------------------------------------------------------------------------
    def __call__(self, text: str) -> list[str]:
        if self.html and ("<" in text or "&" in text):
            text = _TAG.sub(" ", text)
            if "&" in text:
                text = html.unescape(text)
        if self.urls != "keep" and ("://" in text or "www." in text.lower()):
            text = _URL.sub(f" {URL_TOKEN} " if self.urls == "token" else " ", text)
        if self.lowercase:
            text = text.lower()
        if self.kind == "simlab":
            toks = _TOKEN.findall(text)
        elif self.kind == "whitespace":
            toks = text.split()
        else:
            toks = _compiled(self.pattern).findall(text)  # type: ignore[arg-type]
        if self.numbers != "keep":
            rep = self.numbers == "token"
            toks = [(NUMBER_TOKEN if rep else "") if _NUMBER.match(t) else t for t in toks]
            toks = [t for t in toks if t]
        if self.stopwords:
            sw = _stopwords()
            toks = [t for t in toks if t not in sw]
        if self.stem:
            toks = [_stem(t) for t in toks]
        if self.min_length > 1:
            toks = [t for t in toks if len(t) >= self.min_length]
        return toks


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from simlab._deps import require

    require("gensim")
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    from gensim.parsing.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stem(word)


DEFAULT = Tokenizer()


def make_tokenizer(spec: Any = None, **options: Any) -> Any:
    """A tokenizer from a spec: ``None`` (default), ``"simlab"``, ``"whitespace"``, ``"regex:PATTERN"``, a
    dict of :class:`Tokenizer` fields, a :class:`Tokenizer`, or any callable (returned as is). `options`
    override fields.

    Raises:
        ConfigError: unknown kind or option, invalid regex.
    """
    if callable(spec) and not isinstance(spec, Tokenizer):
        if options:
            raise ConfigError("tokenizer options apply to simlab's tokenizer specs, not to a custom callable")
        return spec
    if spec is None:
        base: dict[str, Any] = {}
    elif isinstance(spec, Tokenizer):
        base = spec.to_dict()
    elif isinstance(spec, str):
        scheme, pattern = parse_spec(spec)
        base = {"kind": scheme or spec.strip().lower()}
        if scheme:
            if scheme != "regex":
                raise ConfigError(f"tokenizer {spec!r}: only 'regex:PATTERN' takes an argument")
            base["pattern"] = pattern
    elif isinstance(spec, dict):
        base = dict(spec)
    else:
        raise ConfigError(f"tokenizer must be a name, a dict or a callable, got {type(spec).__name__}")
    base.update(options)
    valid = {f.name for f in fields(Tokenizer)}
    unknown = sorted(set(base) - valid)
    if unknown:
        raise ConfigError(
            f"unknown tokenizer option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
        )
    tok = Tokenizer(**base)
    return DEFAULT if tok == DEFAULT else tok


def tokenizer_spec(tok: Any) -> dict[str, Any] | None:
    """The saveable spec of a tokenizer (``None`` for a custom callable, which cannot be saved)."""
    if tok is None:
        return DEFAULT.to_dict()
    return tok.to_dict() if isinstance(tok, Tokenizer) else None
