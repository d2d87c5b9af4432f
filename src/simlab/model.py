"""The model contract: every model family (word/doc vectors, sparse and hybrid text, Siamese sequences, graph
bi-encoders and pair models, node embeddings, edit-path scorers, fused views) lives in the same house.

Core layer: numpy, the standard library and simlab's core only. torch is never imported here; where a rule
needs it (device, threads) it is used only if the model's family has already imported it.

What the base gives every family (see docs/contributing.md, "add a model family"):

- **Config, one way**: a frozen dataclass ``Config`` per family; ``Family(config, **overrides)`` where
  ``config`` is ``None``, a ``Config`` or a mapping (a saved manifest), validated once by
  :func:`build_config`: unknown keys are rejected with the valid names. Optimisation settings are one composed
  :class:`TrainConfig` field named ``train``; a flat key of it (``epochs=5``) or a dotted one
  (``train.epochs=5``) is routed into it.
- **Device, one rule**: a model's device is where its weights are (:attr:`Model.device`); :meth:`Model.to`
  moves them; loading puts them on ``device="auto"`` resolved on *this* machine, never on the saved string.
- **Threads, one rule**: :func:`thread_limit` sets torch's and BLAS' thread counts for the duration of a call
  and restores them; nothing changes the process-wide setting as a side effect.
- **Persistence, public**: ``to_artifact(writer)`` / ``from_artifact(artifact)``; :meth:`Model.save` and
  :meth:`Model.load` are written once here; :func:`simlab.load` uses ``from_artifact`` only.
- **Capabilities, declared**: ``CAPABILITIES`` names what the model can do (:data:`CAPABILITY_NAMES`); callers
  (the CLI, the service) ask :func:`capabilities` instead of probing attributes.
- **Collection**: a model that searches keeps its searchable items as :class:`~simlab.vectors.Vectors`
  (``collection``); :meth:`Model.most_similar` searches it by key or by raw item, through an attached index
  (:meth:`Model.attach_index`) when one is set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from simlab.artifacts import Artifact, ArtifactWriter
from simlab.config import from_dict, to_dict
from simlab.errors import ConfigError, NotFittedError

M = TypeVar("M", bound="Model")
C = TypeVar("C")

#: What a model can declare in ``CAPABILITIES``:
#: ``embeds`` - ``encode(items) -> (n, dim)`` and ``embed(items, keys) -> Vectors`` (``embed_file`` for
#: files); ``scores_pairs`` - ``similarity(a, b) -> float`` and ``score_pairs(A, B) -> (n,)``;
#: ``searches`` - ``most_similar(query, k) -> Hits`` over the model's collection;
#: ``reranks`` - ``rerank(query, hits) -> Hits`` refines a first-stage search (e.g. graph edit paths);
#: ``words`` - word lookup: ``lookup(words)``, analogies and ``doesnt_match`` on word vectors;
#: ``texts`` - raw text queries: ``most_similar_text(text, k)``.
CAPABILITY_NAMES = ("embeds", "scores_pairs", "searches", "reranks", "words", "texts")


def capabilities(obj: Any) -> frozenset[str]:
    """The capabilities an object declares: its ``CAPABILITIES`` (the class's declaration, or the instance's
    when it refines it, e.g. a document model answering as the model it chose); empty when it declares
    none."""
    return frozenset(getattr(obj, "CAPABILITIES", ()) or ())


def can(obj: Any, capability: str) -> bool:
    """Whether `obj` declares `capability` (one of :data:`CAPABILITY_NAMES`)."""
    if capability not in CAPABILITY_NAMES:
        raise ValueError(f"unknown capability {capability!r}; valid: {', '.join(CAPABILITY_NAMES)}")
    return capability in capabilities(obj)


# -- config --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of the shared training loop (:func:`simlab.train.fit`), composed into every
    trained family's config as its ``train`` field.

    Attributes:
        epochs: maximum number of epochs.
        lr: learning rate.
        weight_decay: L2 penalty (AdamW's decoupled decay for ``optimizer="adamw"``).
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        grad_clip: clip the gradient norm to this value (None: no clipping).
        patience: stop after this many epochs without dev improvement (None: never).
        min_delta: smallest dev change that counts as an improvement.
        seed: seeds python, numpy and torch.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda`` or ``cuda:N``.
        threads: torch intra-op threads during the call (None: 1 on CPU, torch's setting on CUDA).
        progress: show a progress bar (only on a terminal).
    """

    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: str = "adam"
    grad_clip: float | None = 1.0
    patience: int | None = 5
    min_delta: float = 0.0
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"epochs must be >= 1, got {self.epochs}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be a finite number > 0, got {self.lr}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        for name in ("weight_decay", "min_delta", "grad_clip"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"{name} must be a finite number >= 0, got {v}")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; valid: adam, adamw, sgd")


def _nested(cls: type) -> dict[str, type]:
    """Config fields whose type is itself a config dataclass (e.g. ``train: TrainConfig``)."""
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: no nesting known
        return {}
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(cls)
        if dataclasses.is_dataclass(hints.get(f.name)) and isinstance(hints.get(f.name), type)
    }


def build_config(cls: type[C], config: Any = None, /, **overrides: Any) -> C:
    """Build the frozen config dataclass `cls`: the one way every model family builds its config.

    Args:
        cls: the config dataclass.
        config: ``None`` (defaults), an instance of `cls`, or a mapping (e.g. a saved manifest's config).
        **overrides: keyword overrides applied on top. A key of a nested config field (``train``) may be given
            flat (``epochs=5``) or dotted (``train.epochs=5``).

    Returns:
        A validated instance of `cls`.

    Raises:
        ConfigError: an unknown key (the valid names are listed), a wrong type or an out-of-range value.
    """
    if config is None:
        values: dict[str, Any] = {}
    elif isinstance(config, cls):
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    elif isinstance(config, Mapping):
        values = dict(config)
    else:
        raise ConfigError(
            f"{cls.__name__}: expected a {cls.__name__}, a mapping or None, got {type(config).__name__}"
        )
    values.update(overrides)
    nested = _nested(cls)
    own = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    parts: dict[str, dict[str, Any]] = {name: {} for name in nested}
    for name, sub in nested.items():
        base = values.pop(name, None)
        if isinstance(base, sub):
            parts[name] = {f.name: getattr(base, f.name) for f in dataclasses.fields(sub)}
        elif isinstance(base, Mapping):
            parts[name] = dict(base)
        elif base is not None:
            raise ConfigError(f"{cls.__name__}.{name} must be a {sub.__name__} or a mapping, got {base!r}")
    for key in list(values):
        head, dot, rest = key.partition(".")
        if dot and head in nested:
            parts[head][rest] = values.pop(key)
        elif key not in own:
            owner = [n for n, sub in nested.items() if key in {f.name for f in dataclasses.fields(sub)}]
            if owner:
                parts[owner[0]][key] = values.pop(key)
    for name, sub in nested.items():
        try:
            values[name] = from_dict(sub, _defaults_of(cls, name), **parts[name])
        except ConfigError as exc:
            raise ConfigError(f"{cls.__name__}.{name}: {exc}") from None
    return from_dict(cls, values)


def _defaults_of(cls: type, name: str) -> dict[str, Any]:
    """The family's default for a nested field (its ``default_factory``), as a mapping."""
    for f in dataclasses.fields(cls):
        if f.name == name and f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
            return {g.name: getattr(default, g.name) for g in dataclasses.fields(default)}
    return {}


def config_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config (nested configs as objects), as saved in ``simlab.json``."""
    return to_dict(config)


# -- device and threads --------------------------------------------------------------------------------------
def resolve_device(device: Any = "auto") -> Any:
    """``"auto"`` -> CUDA when available on this machine, else CPU; anything else is checked (a
    ``torch.device``).

    Only for families that use torch (imports it on call).
    """
    import torch

    if isinstance(device, torch.device):
        return device
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ConfigError(f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N") from None
    if dev.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is not supported; valid: auto, cpu, cuda, cuda:N")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} asked for but CUDA is not available; use device='auto' or 'cpu'"
        )
    return dev


@contextlib.contextmanager
def thread_limit(n: int | None) -> Iterator[None]:
    """Use `n` threads for torch (if torch is loaded) and the BLAS libraries during the block, then restore.

    ``None`` or ``0`` leaves everything as it is. Never changes the process-wide setting beyond the block.
    """
    if not n:
        yield
        return
    n = int(n)
    torch = sys.modules.get("torch")
    old = torch.get_num_threads() if torch is not None else None
    stack = contextlib.ExitStack()
    try:
        from threadpoolctl import threadpool_limits

        stack.enter_context(threadpool_limits(limits=n))
    except ImportError:  # threadpoolctl is a core dependency; tolerate its absence in odd environments
        pass
    with stack:
        if torch is not None and old != n:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch is not None and old is not None and torch.get_num_threads() != old:
                torch.set_num_threads(old)


# -- the base class ------------------------------------------------------------------------------------------
class Model:
    """Base of every model family.

    A family sets ``KIND`` (its artifact kind, registered in :data:`simlab.registry.KINDS`), ``Config`` (a
    frozen dataclass) and ``CAPABILITIES``; implements :meth:`to_artifact` / :meth:`from_artifact`; lists its
    torch modules in :meth:`torch_modules` when it has weights; and implements the methods its capabilities
    promise (``encode``/``embed``, ``similarity``/``score_pairs``, ``rerank``...).

    Attributes:
        config: the frozen, validated config.
        collection: searchable items as Vectors (keys + ``(n, dim)``), or None.
    """

    KIND: ClassVar[str] = ""
    Config: ClassVar[type] = type(None)
    CAPABILITIES: ClassVar[frozenset[str]] = frozenset()
    #: the attribute holding the searchable Vectors (word and document models keep theirs in ``vectors``)
    COLLECTION_ATTR: ClassVar[str] = "collection"

    config: Any
    collection: Any = None
    _index: Any = None

    def __init__(self, config: Any = None, /, **overrides: Any) -> None:
        self.config = self.build_config(config, **overrides)

    # config
    @classmethod
    def build_config(cls, config: Any = None, /, **overrides: Any) -> Any:
        """The family's validated config from ``None`` / a ``Config`` / a mapping plus keyword overrides."""
        return build_config(cls.Config, config, **overrides)

    def get_params(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (as saved in the manifest)."""
        return config_dict(self.config)

    # device
    def torch_modules(self) -> list[Any]:
        """The torch modules holding the model's weights (none for non-torch families)."""
        return []

    @property
    def device(self) -> str:
        """Where the weights are (``"cpu"`` for families without torch weights or before fitting)."""
        for mod in self.torch_modules():
            for p in mod.parameters():
                return str(p.device)
        return "cpu"

    def to(self: M, device: Any = "auto") -> M:
        """Move the weights to `device` (``"auto"``: CUDA when available on this machine). Returns self."""
        mods = self.torch_modules()
        if mods:
            dev = resolve_device(device)
            for mod in mods:
                mod.to(dev)
        return self

    def threads(self) -> Any:
        """A context using the model's thread setting for one call (see :func:`thread_limit`)."""
        n = getattr(getattr(self.config, "train", None), "threads", None) or getattr(
            self.config, "threads", None
        )
        if n is None and self.torch_modules() and self.device == "cpu":
            n = 1  # small torch models are fastest on one thread; restored after the call
        return thread_limit(n)

    # persistence
    def to_artifact(self, writer: ArtifactWriter) -> None:
        """Write the model's files into an open artifact (the manifest's config is written by
        :meth:`save`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement to_artifact")

    @classmethod
    def from_artifact(cls: type[M], artifact: Artifact) -> M:
        """Rebuild the model from a verified artifact of its kind (weights on ``device="auto"`` here)."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_artifact")

    def check_fitted(self) -> None:
        """Raise :class:`NotFittedError` when the model has nothing to save or use yet (families override)."""

    def save(self, path: str | Path) -> Path:
        """Save atomically as an artifact directory (``simlab.json`` + safetensors/JSON; never pickled)."""
        self.check_fitted()
        with ArtifactWriter(path, self.KIND, self.get_params()) as w:
            self.to_artifact(w)
        return Path(path)

    @classmethod
    def load(cls: type[M], path: str | Path) -> M:
        """Load an artifact of this family (checksums verified, nothing executed, weights on this machine)."""
        return cls.from_artifact(Artifact(path, kind=cls.KIND))

    # collection
    def attach_index(self: M, index: Any) -> M:
        """Search the collection through `index` (an :class:`simlab.index.Index` built over it). Returns
        self."""
        self._index = index
        return self

    def collection_vectors(self) -> Any:
        """The collection as Vectors (raises :class:`NotFittedError` when there is none)."""
        coll = getattr(self, self.COLLECTION_ATTR)
        if coll is None:
            raise NotFittedError(f"{type(self).__name__} has no collection; index items first")
        return coll

    def collection_metric(self) -> str:
        """The metric the collection is searched by without an index (families with a ``metric`` setting
        override)."""
        return "cosine"

    def most_similar(self, query: Any, k: int = 10) -> Any:
        """The `k` collection items most similar to `query`: a key of the collection (itself left out), or a
        raw item the model embeds (``embeds`` capability). Returns :class:`~simlab.vectors.Hits`."""
        vecs = self.collection_vectors()
        if not _is_key(vecs, query):
            if "embeds" not in capabilities(self):
                raise NotFittedError(
                    f"{query!r} is not in the collection and {type(self).__name__} cannot embed items"
                )
            query = np.asarray(self.encode([query])[0], dtype=np.float32)  # type: ignore[attr-defined]
        return vecs.most_similar(query, k=k, metric=self.collection_metric(), index=self._index)


def _is_key(vecs: Any, query: Any) -> bool:
    try:
        return isinstance(query, str | int) and vecs.key_like(query) in vecs
    except (TypeError, ValueError, KeyError):
        return False
