"""Request and response bodies of the HTTP API (pydantic; they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Json = Any


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    error: str = Field(description="error class, e.g. DataError, LimitExceeded, UnknownKeyError")
    detail: Any = Field(description="what is wrong")


class EmbedRequest(_Body):
    items: list[Json] = Field(
        description="raw items: words, texts, series (lists of numbers) or node-link "
        "graphs, or keys for key-only models"
    )


class EmbedResponse(BaseModel):
    dim: int
    vectors: list[list[float]]


class SimilarityRequest(_Body):
    a: list[Json] = Field(description="first items of the pairs")
    b: list[Json] = Field(description="second items of the pairs (same length as a)")


class SimilarityResponse(BaseModel):
    scores: list[float | None] = Field(
        description="one similarity per pair (higher = more similar); null when a pair cannot be scored"
    )


class Hit(BaseModel):
    key: Json
    score: float | None


class SearchRequest(_Body):
    queries: list[Json] = Field(
        description="raw items (by='item') or keys of the model's collection (by='key')"
    )
    k: int = Field(10, ge=1)
    by: Literal["item", "key"] = "item"
    rerank: Literal["editpath"] | None = Field(None, description="re-ranker (graph bi-encoders: edit paths)")


class SearchResponse(BaseModel):
    results: list[list[Hit]]


class ModelInfo(BaseModel):
    name: str
    kind: str
    item_type: str
    dim: int | None
    metric: str | None
    capabilities: list[str]
    reranks: list[str]
    size: int | None
    config: dict[str, Any]
    metrics: dict[str, Any]


class CreateCollection(_Body):
    name: str = Field(min_length=1, max_length=64)
    dim: int | None = Field(None, description="vector dimension (collections of given vectors)")
    metric: str = "cosine"
    index: Literal["exact", "hnsw"] = "exact"
    model: str | None = Field(None, description="a served model that embeds raw items on write")
    options: dict[str, int] = Field(default_factory=dict, description="index options, e.g. {'efSearch': 128}")


class CollectionInfo(BaseModel):
    name: str
    dim: int
    metric: str
    index: str
    model: str | None
    count: int
    pending: int
    watermark: int
    seq: int


class UpsertItem(_Body):
    id: str = Field(min_length=1, max_length=256)
    vector: list[float] | None = None
    item: Json | None = None
    metadata: dict[str, Json] = Field(default_factory=dict)


class UpsertRequest(_Body):
    items: list[UpsertItem]


class WriteResponse(BaseModel):
    seq: int = Field(description="sequence number of the committed batch")
    count: int = Field(description="items written or deleted")


class DeleteRequest(_Body):
    ids: list[str]


class Query(_Body):
    vector: list[float] | None = None
    item: Json | None = None
    id: str | None = None


class CollectionSearchRequest(_Body):
    queries: list[Query]
    k: int = Field(10, ge=1)
    filter: dict[str, Json] | None = Field(
        None, description="{'field': value} (equality) or {'field': {'in': [values]}} (membership); ANDed"
    )


class CollectionHit(BaseModel):
    id: str
    score: float
    metadata: dict[str, Any]


class CollectionSearchResponse(BaseModel):
    results: list[list[CollectionHit]]


class MapPoint(BaseModel):
    key: Json
    x: float
    y: float
    color: Json = None
    highlight: bool = False


class MapResponse(BaseModel):
    method: str
    fields: list[str]
    points: list[MapPoint]


class FetchRequest(_Body):
    ids: list[str]


class StoredItem(BaseModel):
    id: str
    metadata: dict[str, Any]
    vector: list[float] = Field(description="the indexed vector (unit length for cosine collections)")


class FetchResponse(BaseModel):
    items: list[StoredItem | None]
