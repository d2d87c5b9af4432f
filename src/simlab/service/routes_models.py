"""``/v1/models``: embed, similarity, search and neighbours of every served model, through its adapter."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from fastapi import APIRouter, Depends, Query

from simlab.errors import ConfigError, DataError, SimlabError, UnknownKeyError
from simlab.service.adapters import ServedModel
from simlab.service.deps import ServiceState, State, read_access
from simlab.service.limits import decode_items
from simlab.service.schemas import (
    EmbedRequest,
    EmbedResponse,
    ErrorBody,
    MapResponse,
    ModelInfo,
    SearchRequest,
    SearchResponse,
    SimilarityRequest,
    SimilarityResponse,
)

T = TypeVar("T")
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorBody} for s in (401, 404, 409, 413, 422)}
router = APIRouter(tags=["models"], dependencies=[Depends(read_access)], responses=ERRORS)


def guarded(fn: Callable[[], T]) -> T:
    """Run a model call; an error of a dependency on odd input becomes a DataError (HTTP 422), never a 500."""
    try:
        return fn()
    except SimlabError:
        raise
    except (ValueError, TypeError, RuntimeError, IndexError, KeyError, ArithmeticError) as exc:
        raise DataError(f"the model could not process the input: {type(exc).__name__}: {exc}") from None


def score(x: Any) -> float | None:
    """A JSON-safe score (None for NaN / infinities)."""
    v = float(x)
    return v if math.isfinite(v) else None


def hits_json(hits: Any) -> list[dict[str, Any]]:
    return [{"key": k, "score": score(s)} for k, s in zip(hits.keys, hits.scores, strict=True)]


def model_of(state: ServiceState, name: str) -> ServedModel:
    """The served model `name` (404 when unknown)."""
    m = state.models.get(name)
    if m is None:
        raise UnknownKeyError(f"unknown model {name!r}; served: {', '.join(state.models) or '(none)'}")
    return m


@router.get("/v1/models", response_model=list[ModelInfo])
def list_models(state: State) -> list[dict[str, Any]]:
    """Every served model: kind, item type, dimension, metric, capabilities, config, evaluation metrics."""
    return [m.describe() for m in state.models.values()]


@router.get("/v1/models/{name}", response_model=ModelInfo)
def get_model(name: str, state: State) -> dict[str, Any]:
    """One served model."""
    return model_of(state, name).describe()


@router.post("/v1/models/{name}/embed", response_model=EmbedResponse)
def embed(name: str, body: EmbedRequest, state: State) -> dict[str, Any]:
    """Vectors of raw items (words, texts, series, node-link graphs; keys for key-only models)."""
    m = model_of(state, name)
    if m.embeds is None:
        raise ConfigError(f"model {name!r} ({m.kind}) does not embed items")
    items = decode_items(body.items, m.item_type, state.limits)
    if not items:
        return {"dim": m.dim or 0, "vectors": []}
    x = np.asarray(guarded(lambda: m.embeds(items)), np.float32)  # type: ignore[misc]
    if not np.isfinite(x).all():
        raise DataError("the model gave no finite vector for some items (no known word?)")
    return {"dim": int(x.shape[1]), "vectors": x.tolist()}


@router.post("/v1/models/{name}/similarity", response_model=SimilarityResponse)
def similarity(name: str, body: SimilarityRequest, state: State) -> dict[str, Any]:
    """Similarity of each pair ``(a[i], b[i])``."""
    m = model_of(state, name)
    if m.scores_pairs is None:
        raise ConfigError(f"model {name!r} ({m.kind}) does not score pairs")
    if len(body.a) != len(body.b):
        raise DataError(f"a has {len(body.a)} items but b has {len(body.b)}")
    state.limits.check_count(2 * len(body.a))
    a = decode_items(body.a, m.item_type, state.limits)
    b = decode_items(body.b, m.item_type, state.limits)
    if not a:
        return {"scores": []}
    s = guarded(lambda: m.scores_pairs(a, b))  # type: ignore[misc]
    return {"scores": [score(v) for v in np.asarray(s).ravel()]}


def run_search(
    state: ServiceState, m: ServedModel, queries: list[Any], k: int, by_key: bool, rerank: str | None
) -> list[Any]:
    """Hits of each query through the model's ``searches`` capability, after the limit checks."""
    limits = state.limits
    if m.searches is None:
        raise ConfigError(f"model {m.name!r} ({m.kind}) has no collection to search")
    if k > limits.max_k:
        raise DataError(f"k={k} is over the limit of {limits.max_k}")
    if rerank and rerank not in m.reranks:
        raise ConfigError(
            f"model {m.name!r} has no re-ranker {rerank!r}; it has: {', '.join(m.reranks) or '(none)'}"
        )
    limits.check_count(len(queries))
    if by_key:
        qs = [m.key(limits.check_text(q, "key") if isinstance(q, str) else q) for q in queries]
        for q in qs:
            if not isinstance(q, str | int) or isinstance(q, bool):
                raise DataError(f"keys are strings or integers, got {type(q).__name__}")
    else:
        qs = decode_items(queries, m.item_type, limits)
        if m.item_type == "key":
            qs = [m.key(q) for q in qs]
    search = m.searches
    return [hits_json(guarded(lambda q=q: search(q, k, by_key or m.item_type == "key", rerank))) for q in qs]


@router.post("/v1/models/{name}/search", response_model=SearchResponse)
def search(name: str, body: SearchRequest, state: State) -> dict[str, Any]:
    """Top-k of the model's collection for each query (raw items or keys); `rerank`: e.g. edit paths."""
    m = model_of(state, name)
    return {"results": run_search(state, m, body.queries, body.k, body.by == "key", body.rerank)}


@router.get("/v1/models/{name}/similar/{key}", response_model=SearchResponse)
def similar(
    name: str,
    key: str,
    state: State,
    k: int = Query(10, ge=1),
    rerank: str | None = Query(None, description="re-ranker, e.g. editpath"),
) -> dict[str, Any]:
    """Neighbours of a key of the model's collection (the key itself left out)."""
    return {"results": run_search(state, model_of(state, name), [key], k, True, rerank)}


@router.get("/v1/models/{name}/map", response_model=MapResponse, tags=["explorer"])
def model_map(
    name: str,
    state: State,
    n: int = Query(1000, ge=2, le=20000),
    method: str = "pca",
    color: str | None = Query(None, description="'label' (models with item labels) or none"),
    highlight: list[str] = Query(default_factory=list),
) -> dict[str, Any]:
    """2-D map (PCA, or UMAP when installed) of a sample of the model's vectors, plus the `highlight` keys."""
    from simlab.service.explore import project

    m = model_of(state, name)
    if m.vectors is None:
        raise ConfigError(f"model {name!r} ({m.kind}) has no vectors to map")
    state.limits.check_count(len(highlight), "highlighted keys")
    v = guarded(m.vectors)
    labels = m.labels() if m.labels is not None else {}
    keys = []
    for h in highlight:
        with contextlib.suppress(UnknownKeyError):  # not a key of this model: nothing to highlight
            keys.append(m.key(h))
    return project(
        v.keys,
        v.matrix,
        keys,
        n,
        method,
        lambda key: labels.get(key) if color == "label" else None,
        ["label"] if labels else [],
    )


@router.get("/v1/models/{name}/graphs/{key}", tags=["explorer"])
def graph(name: str, key: str, state: State) -> dict[str, Any]:
    """A graph of a graph model's collection in node-link form (for drawing)."""
    from simlab.graph.io import graph_to_node_link

    m = model_of(state, name)
    if m.graph_of is None:
        raise ConfigError(f"model {name!r} ({m.kind}) holds no graphs")
    k = m.key(key)
    g = guarded(lambda: m.graph_of(k))  # type: ignore[misc]
    return graph_to_node_link(g, k)
