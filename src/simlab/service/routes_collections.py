"""``/v1/collections``: create / list / drop, batch upsert and delete, filtered search, the explorer's map."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Query, Response
from fastapi.concurrency import run_in_threadpool

from simlab.errors import DataError
from simlab.service.batching import SearchBatcher
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


def add_collection_routes(app: FastAPI, state: Any, read_access: Callable[..., None],
                          write_access: Callable[..., None]) -> None:
    """Register the collection endpoints on `app`."""
    limits, colls = state.limits, state.collections
    reads, writes = [Depends(read_access)], [Depends(read_access), Depends(write_access)]

    batcher = SearchBatcher()

    def decode(items: list[Any], item_type: str) -> list[Any]:
        return decode_items(items, item_type, limits)

    @app.get("/v1/collections", response_model=list[CollectionInfo], tags=["collections"], dependencies=reads,
             responses=ERRORS)
    def list_collections() -> list[dict[str, Any]]:
        """Every collection with its settings, item count and compaction state."""
        return colls.list()

    @app.post("/v1/collections", response_model=CollectionInfo, status_code=201, tags=["collections"],
              dependencies=writes, responses=ERRORS)
    def create_collection(body: CreateCollection) -> dict[str, Any]:
        """Create a collection bound to a served model (raw items) or to a dimension + metric (vectors)."""
        c = colls.create(body.name, dim=body.dim, metric=body.metric, index=body.index, model=body.model,
                         options=body.options, max_dim=limits.max_dim)
        return c.describe()

    @app.get("/v1/collections/{name}", response_model=CollectionInfo, tags=["collections"], dependencies=reads,
             responses=ERRORS)
    def get_collection(name: str) -> dict[str, Any]:
        """One collection."""
        return colls.get(name).describe()

    @app.delete("/v1/collections/{name}", tags=["collections"], dependencies=writes, responses=ERRORS)
    def drop_collection(name: str) -> dict[str, Any]:
        """Drop a collection and its files."""
        colls.drop(name)
        return {"dropped": name}

    @app.post("/v1/collections/{name}/upsert", response_model=WriteResponse, tags=["collections"],
              dependencies=writes, responses=ERRORS)
    def upsert(name: str, body: UpsertRequest) -> dict[str, Any]:
        """Insert or replace items by id, in one transaction; answered after the commit."""
        c = colls.get(name)
        items = [it.model_dump() for it in body.items]
        limits.check_count(len(items))
        for it in items:
            if len(json.dumps(it["metadata"])) > limits.max_metadata_bytes:
                raise LimitExceeded(f"item {it['id']!r}: metadata over {limits.max_metadata_bytes} bytes")
        if not items:
            return {"seq": c.store.seq, "count": 0}
        x = guarded(lambda: c.vectors_of(items, decode))
        seq = c.upsert([it["id"] for it in items], x, [it["metadata"] for it in items])
        return {"seq": seq, "count": len(items)}

    @app.post("/v1/collections/{name}/delete", response_model=WriteResponse, tags=["collections"],
              dependencies=writes, responses=ERRORS)
    def delete(name: str, body: DeleteRequest) -> dict[str, Any]:
        """Delete items by id (unknown ids are ignored), in one transaction; answered after the commit."""
        c = colls.get(name)
        limits.check_count(len(body.ids), "ids")
        seq, n = c.delete(list(dict.fromkeys(body.ids)))
        return {"seq": seq, "count": n}

    @app.post("/v1/collections/{name}/fetch", response_model=FetchResponse, tags=["collections"],
              dependencies=reads, responses=ERRORS)
    def fetch(name: str, body: FetchRequest) -> dict[str, Any]:
        """Stored items by id (null for an unknown id)."""
        c = colls.get(name)
        limits.check_count(len(body.ids), "ids")
        return {"items": [c.fetch(i) for i in body.ids]}

    @app.post("/v1/collections/{name}/search", response_model=CollectionSearchResponse, tags=["collections"],
              dependencies=reads, responses=ERRORS)
    async def search(name: str, body: CollectionSearchRequest) -> Any:
        """Top-k items of each query (a vector, a raw item for model-bound collections, or an id), with an
        optional metadata filter; a query by id leaves that id out. Concurrent searches are batched."""
        c = colls.get(name)
        if body.k > limits.max_k:
            raise DataError(f"k={body.k} is over the limit of {limits.max_k}")
        limits.check_count(len(body.queries), "queries")
        queries = [q.model_dump() for q in body.queries]
        if not queries:
            return {"results": []}
        if c.model is not None and any(q["item"] is not None for q in queries):  # a model call may take long
            q = await run_in_threadpool(guarded, lambda: c.query_vectors(queries, decode))
        else:
            q = guarded(lambda: c.query_vectors(queries, decode))
        # searches run on the event loop, batched with the other requests of this turn: a thread per request
        # made the threads convoy on the GIL (tail latency 100x worse under concurrency)
        hits = await batcher.search(c, q, body.k, body.filter, [qq.get("id") for qq in queries])
        return Response(json.dumps({"results": hits}, ensure_ascii=False, allow_nan=False),
                        media_type="application/json")

    @app.get("/v1/collections/{name}/map", response_model=MapResponse, tags=["explorer"], dependencies=reads,
             responses=ERRORS)
    def collection_map(name: str, n: int = Query(1000, ge=2, le=20000), method: str = "pca",
                       color: str | None = None, highlight: list[str] = Query(default_factory=list)
                       ) -> dict[str, Any]:
        """2-D map of a sample of the collection coloured by a metadata field; `highlight` ids are added."""
        from simlab.service.explore import collection_map as cmap

        limits.check_count(len(highlight), "highlighted ids")
        return cmap(colls.get(name), n, method, color, highlight)
