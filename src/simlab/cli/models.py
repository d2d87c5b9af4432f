"""What a loaded artifact is and what the CLI can ask of it: loading, the artifact kind, declared capabilities
(:func:`simlab.model.capabilities`), and the "it can: ..." messages of commands asked for something else.

No heavy imports at module level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORD2VEC_SUFFIXES = (".txt", ".vec", ".bin")
WORD_BENCHES = ("wordsim353", "simlex999", "analogies", "word-pairs")
# what each kind can be asked (benchmark families of `simlab evaluate`); kinds not listed are not checked
CAN: dict[str, tuple[str, ...]] = {
    "word2vec": (*WORD_BENCHES, "pairs-file"),
    "fasttext": (*WORD_BENCHES, "pairs-file"),
    "graph-biencoder": ("ged",),
    "graph-pair": ("ged",),
    "graph-nodes": ("linkpred", "nodeclass"),
    "sequence-siamese": ("ucr", "retrieval", "sick", "stsb", "pairs", "pairs-file"),
}
SPECIFIC = (*WORD_BENCHES, "ged", "linkpred", "nodeclass", "ucr", "imdb")
HAS = {
    "word2vec": "word vectors",
    "fasttext": "word vectors",
    "graph-biencoder": "graph vectors",
    "graph-pair": "graph pair scores",
    "graph-nodes": "node vectors",
    "sequence-siamese": "a sequence encoder",
}


# -- loading -------------------------------------------------------------------------------------------------
def load_vectors(path: Path) -> Any:
    """A Vectors artifact directory, a model artifact's vectors, or a word2vec ``.txt``/``.vec``/``.bin``
    file, as :class:`simlab.Vectors`."""
    from simlab.errors import DataError
    from simlab.vectors import Vectors

    if path.is_dir():
        from simlab.artifacts import Artifact

        art = Artifact(path)
        if art.kind == "vectors":
            return Vectors.from_artifact(art)
        from simlab.artifacts import load

        vecs = vectors_of(load(path))
        if vecs is not None:
            return vecs
        raise DataError(f"a {art.kind!r} artifact holds no vectors to index", path)
    if path.suffix.lower() in WORD2VEC_SUFFIXES:
        return Vectors.load_word2vec_format(path)
    if not path.exists():
        raise DataError("no such file or directory", path)
    raise DataError("expected a simlab Vectors artifact directory or a word2vec .txt/.vec/.bin file", path)


def load_model_or_vectors(path: Path) -> Any:
    """An artifact directory (any kind), or a word2vec ``.txt``/``.vec``/``.bin`` file as Vectors."""
    if not path.is_dir() and path.suffix.lower() in WORD2VEC_SUFFIXES:
        return load_vectors(path)
    from simlab.artifacts import load

    return load(path)


def kind_of(obj: Any) -> str:
    """The artifact kind of a loaded object (``graph-nodes``, ``vectors``...), from the kinds registry."""
    from simlab.registry import KINDS

    cls = type(obj)
    for name, target in KINDS._items.items():
        if target is cls or (isinstance(target, str) and target == f"{cls.__module__}:{cls.__name__}"):
            return name
    return str(getattr(obj, "KIND", None) or cls.__name__)


# -- capabilities --------------------------------------------------------------------------------------------
def caps(obj: Any) -> frozenset[str]:
    """The capabilities `obj` declares (:func:`simlab.model.capabilities`)."""
    from simlab.model import capabilities

    return capabilities(obj)


def can(obj: Any, capability: str) -> bool:
    """Whether `obj` can do `capability` (one of :data:`simlab.model.CAPABILITY_NAMES`)."""
    from simlab.model import CAPABILITY_NAMES

    if capability not in CAPABILITY_NAMES:
        raise ValueError(f"unknown capability {capability!r}; valid: {', '.join(CAPABILITY_NAMES)}")
    return capability in caps(obj)


def vectors_of(obj: Any) -> Any:
    """The searchable vectors of a loaded artifact: Vectors itself, or a model's Vectors collection; None when
    it has none."""
    from simlab.errors import NotFittedError
    from simlab.model import Model
    from simlab.vectors import Vectors

    if isinstance(obj, Vectors):
        return obj
    if not isinstance(obj, Model) or "searches" not in caps(obj):
        return None
    try:
        coll = obj.collection_vectors()
    except NotFittedError:
        return None
    return coll if isinstance(coll, Vectors) else None


def keys_of(obj: Any) -> Any:
    """``key -> bool``: whether a key is the artifact's own (the artifact or its collection has it)."""
    import contextlib

    def contains(key: Any) -> bool:
        coll = obj.collection if _is_model(obj) else None
        for target in (obj, coll, vectors_of(obj)):
            with contextlib.suppress(Exception):
                if target is not None and key in target:
                    return True
        return False

    return contains


def _is_model(obj: Any) -> bool:
    from simlab.model import Model

    return isinstance(obj, Model)


# -- messages ------------------------------------------------------------------------------------------------
def can_do(obj: Any) -> str:
    """``can: similar KEY, embed FILE, evaluate ged`` -- what a loaded model supports, for error messages."""
    kind, has = kind_of(obj), caps(obj)
    can_ = []
    if "searches" in has:
        can_.append("similar KEY")
    if has & {"texts", "words"}:
        can_.append("similar --text TEXT")
    if "embeds" in has:
        can_.append("embed FILE")
    if kind in CAN:
        can_.append("evaluate " + "|".join(CAN[kind]))
    return "can: " + (", ".join(can_) if can_ else "nothing the CLI offers")


def check_capable(obj: Any, bench: str) -> None:
    """Refuse a benchmark the model cannot run, saying what the model is and what it can do.

    Raises:
        ConfigError: e.g. "a graph-nodes model has node vectors, not word vectors; it can: ...".
    """
    from simlab.config import parse_spec
    from simlab.errors import ConfigError

    scheme, arg = parse_spec(bench)
    kind, family = kind_of(obj), scheme or arg
    if kind in CAN and family in SPECIFIC and family not in CAN[kind]:
        needs = "word vectors" if family in WORD_BENCHES else f"what {family} evaluates"
        raise ConfigError(f"a {kind} model has {HAS.get(kind, 'no ' + needs)}, not {needs}; it {can_do(obj)}")
