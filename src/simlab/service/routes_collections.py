"""``/v1/collections``: create / list / drop, batch upsert and delete, filtered search, the explorer's map."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from simlab.errors import DataError
from simlab.service.deps import ServiceState, State, read_access, write_access
from simlab.service.fastpath import encode_hits
from simlab.service.limits import LimitExceeded, decode_items
from simlab.service.routes_models import ERRORS, guarded
from simlab.service.schemas import (
    CollectionInfo,
    CollectionSearchRequest,
    CollectionSearchResponse,
    CreateCollection,
    DeleteRequest,
    FetchRequest,
    FetchResponse,
    MapResponse,
    UpsertRequest,
    WriteResponse,
)

router = APIRouter(tags=["collections"], dependencies=[Depends(read_access)], responses=ERRORS)
WRITE = [Depends(write_access)]


def decoder(state: ServiceState) -> Any:
    """``(items, item_type) -> model inputs`` under the state's limits."""
    return lambda items, item_type: decode_items(items, item_type, state.limits)


@router.get("/v1/collections", response_model=list[CollectionInfo])
def list_collections(state: State) -> list[dict[str, Any]]:
    """Every collection with its settings, item count and compaction state."""
    return state.collections.list()


@router.post("/v1/collections", response_model=CollectionInfo, status_code=201, dependencies=WRITE)
def create_collection(body: CreateCollection, state: State) -> dict[str, Any]:
    """Create a collection bound to a served model (raw items) or to a dimension + metric (vectors)."""
    c = state.collections.create(
        body.name,
        dim=body.dim,
        metric=body.metric,
        index=body.index,
        model=body.model,
        options=body.options,
        max_dim=state.limits.max_dim,
    )
    return c.describe()


@router.get("/v1/collections/{name}", response_model=CollectionInfo)
def get_collection(name: str, state: State) -> dict[str, Any]:
    """One collection."""
    return state.collections.get(name).describe()


@router.delete("/v1/collections/{name}", dependencies=WRITE)
def drop_collection(name: str, state: State) -> dict[str, Any]:
    """Drop a collection and its files."""
    state.collections.drop(name)
    return {"dropped": name}


@router.post("/v1/collections/{name}/upsert", response_model=WriteResponse, dependencies=WRITE)
def upsert(name: str, body: UpsertRequest, state: State) -> dict[str, Any]:
    """Insert or replace items by id, in one transaction; answered after the commit."""
    c, limits = state.collections.get(name), state.limits
    items = [it.model_dump() for it in body.items]
    limits.check_count(len(items))
    for it in items:
        if len(json.dumps(it["metadata"])) > limits.max_metadata_bytes:
            raise LimitExceeded(f"item {it['id']!r}: metadata over {limits.max_metadata_bytes} bytes")
    if not items:
        return {"seq": c.store.seq, "count": 0}
    x = guarded(lambda: c.vectors_of(items, decoder(state)))
    seq = c.upsert([it["id"] for it in items], x, [it["metadata"] for it in items])
    return {"seq": seq, "count": len(items)}


@router.post("/v1/collections/{name}/delete", response_model=WriteResponse, dependencies=WRITE)
def delete(name: str, body: DeleteRequest, state: State) -> dict[str, Any]:
    """Delete items by id (unknown ids are ignored), in one transaction; answered after the commit."""
    c = state.collections.get(name)
    state.limits.check_count(len(body.ids), "ids")
    seq, n = c.delete(list(dict.fromkeys(body.ids)))
    return {"seq": seq, "count": n}


@router.post("/v1/collections/{name}/fetch", response_model=FetchResponse)
def fetch(name: str, body: FetchRequest, state: State) -> dict[str, Any]:
    """Stored items by id (null for an unknown id)."""
    c = state.collections.get(name)
    state.limits.check_count(len(body.ids), "ids")
    return {"items": [c.fetch(i) for i in body.ids]}


@router.post("/v1/collections/{name}/search", response_model=CollectionSearchResponse)
async def search(name: str, body: CollectionSearchRequest, state: State) -> Any:
    """Top-k items of each query (a vector, a raw item for model-bound collections, or an id), with an
    optional metadata filter; a query by id leaves that id out. Concurrent searches are batched."""
    c, limits = state.collections.get(name), state.limits
    if body.k > limits.max_k:
        raise DataError(f"k={body.k} is over the limit of {limits.max_k}")
    limits.check_count(len(body.queries), "queries")
    queries = [q.model_dump() for q in body.queries]
    if not queries:
        return {"results": []}
    if c.model is not None and any(q["item"] is not None for q in queries):  # a model call may take long
        q = await run_in_threadpool(guarded, lambda: c.query_vectors(queries, decoder(state)))
    else:
        q = guarded(lambda: c.query_vectors(queries, decoder(state)))
    # searches run on the event loop, batched with the other requests of this turn: a thread per request made
    # the threads convoy on the GIL (tail latency 100x worse under concurrency)
    hits = await state.batcher.search(c, q, body.k, body.filter, [qq.get("id") for qq in queries])
    return Response(encode_hits(hits), media_type="application/json")


@router.get("/v1/collections/{name}/map", response_model=MapResponse, tags=["explorer"])
def collection_map(
    name: str,
    state: State,
    n: int = Query(1000, ge=2, le=20000),
    method: str = "pca",
    color: str | None = None,
    highlight: list[str] = Query(default_factory=list),
) -> dict[str, Any]:
    """2-D map of a sample of the collection coloured by a metadata field; `highlight` ids are added."""
    from simlab.service.explore import collection_map as cmap

    state.limits.check_count(len(highlight), "highlighted ids")
    return cmap(state.collections.get(name), n, method, color, highlight)
