"""`Client`: the HTTP client of ``simlab serve`` with the verbs of local models and indexes.

Example::

    from simlab.client import Client
    c = Client("http://127.0.0.1:8000", api_key="...")
    c.most_similar("word2vec", "king", k=5)            # Hits, as model.most_similar
    c.create_collection("docs", dim=100)
    c.upsert("docs", ["a", "b"], vectors=x, metadata=[{"lang": "en"}, {"lang": "de"}])
    c.search("docs", vectors=q, k=10, filter={"lang": "en"})

Errors answered by the server are raised as the same :class:`~simlab.errors.SimlabError` classes (an unknown
key is an UnknownKeyError, a request over the limits a LimitExceeded, ...), with the HTTP status in
``.status``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simlab import errors as E
from simlab._deps import require
from simlab.service.limits import LimitExceeded
from simlab.vectors import Hits


class ServiceError(E.SimlabError):
    """An error answered by the server that has no closer SimlabError class."""


_CLASSES: dict[str, type[E.SimlabError]] = {
    "UnknownKeyError": E.UnknownKeyError,
    "DataError": E.DataError,
    "DimensionError": E.DimensionError,
    "ConfigError": E.ConfigError,
    "UnknownNameError": E.ConfigError,
    "NotFittedError": E.NotFittedError,
    "MissingDependency": E.MissingDependency,
    "LimitExceeded": LimitExceeded,
    "ArtifactError": E.ArtifactError,
}


def _list(x: Any) -> list[Any]:
    return np.asarray(x, np.float32).tolist() if isinstance(x, np.ndarray) else list(x)


class Client:
    """Talks to a ``simlab serve`` server.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8000``.
        api_key: the server's key (sent as ``X-API-Key``); needed for writes.
        timeout: seconds per request.
        http: an existing ``httpx.Client`` to send through (e.g. FastAPI's ``TestClient(app)``).
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        timeout: float = 60.0,
        http: Any = None,
    ) -> None:
        headers = {"X-API-Key": api_key} if api_key else {}
        self.url = url.rstrip("/")
        if http is not None:
            http.headers.update(headers)
            self._http = http
        else:
            httpx = require("httpx")
            self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                body = r.json()
                name, detail = body.get("error", "ServiceError"), body.get("detail", r.text)
            except ValueError:
                name, detail = "ServiceError", r.text
            cls = _CLASSES.get(name, ServiceError)
            exc = cls(detail if isinstance(detail, str) else f"{name}: {detail}")
            exc.status = r.status_code  # type: ignore[attr-defined]
            raise exc
        return r.json()

    # -- models ----------------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /healthz``."""
        return self._call("GET", "/healthz")

    def models(self) -> list[dict[str, Any]]:
        """Served models (kind, dim, metric, capabilities, config, metrics)."""
        return self._call("GET", "/v1/models")

    def embed(self, model: str, items: list[Any]) -> np.ndarray:
        """``(n, dim)`` vectors of raw items (words, texts, series as lists, node-link graphs)."""
        out = self._call("POST", f"/v1/models/{model}/embed", json={"items": items})
        return np.asarray(out["vectors"], np.float32).reshape(len(items), out["dim"])

    def similarity(self, model: str, a: Any, b: Any) -> float:
        """Similarity of two items (NaN when the model cannot score them)."""
        s = self.similarity_pairs(model, [a], [b])[0]
        return float(s)

    def similarity_pairs(self, model: str, a: list[Any], b: list[Any]) -> np.ndarray:
        """``(n,)`` similarities of the pairs ``(a[i], b[i])``."""
        out = self._call("POST", f"/v1/models/{model}/similarity", json={"a": list(a), "b": list(b)})
        return np.array([np.nan if s is None else s for s in out["scores"]], np.float32)

    def most_similar(
        self, model: str, query: Any, k: int = 10, *, by: str = "key", rerank: str | None = None
    ) -> Hits:
        """Neighbours of a key (``by="key"``) or of a raw item (``by="item"``) in the model's collection."""
        out = self._call(
            "POST",
            f"/v1/models/{model}/search",
            json={"queries": [query], "k": k, "by": by, "rerank": rerank},
        )["results"][0]
        return Hits(
            [h["key"] for h in out],
            np.array([np.nan if h["score"] is None else h["score"] for h in out], np.float32),
        )

    # -- collections -----------------------------------------------------------------------------------------
    def collections(self) -> list[dict[str, Any]]:
        """Every collection with its settings and count."""
        return self._call("GET", "/v1/collections")

    def create_collection(
        self,
        name: str,
        *,
        dim: int | None = None,
        metric: str = "cosine",
        index: str = "exact",
        model: str | None = None,
        options: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """Create a collection bound to `model` (raw items) or to `dim` + `metric` (vectors)."""
        return self._call(
            "POST",
            "/v1/collections",
            json={
                "name": name,
                "dim": dim,
                "metric": metric,
                "index": index,
                "model": model,
                "options": options or {},
            },
        )

    def drop_collection(self, name: str) -> None:
        """Drop a collection and its files."""
        self._call("DELETE", f"/v1/collections/{name}")

    def upsert(
        self,
        collection: str,
        ids: list[str],
        *,
        vectors: Any = None,
        items: list[Any] | None = None,
        metadata: list[dict[str, Any]] | None = None,
    ) -> int:
        """Insert or replace a batch by id (one transaction); returns its sequence number once committed."""
        rows: list[dict[str, Any]] = [{"id": i} for i in ids]
        if vectors is not None:
            for r, v in zip(rows, _list(vectors), strict=True):
                r["vector"] = v
        if items is not None:
            for r, it in zip(rows, items, strict=True):
                r["item"] = it
        if metadata is not None:
            for r, md in zip(rows, metadata, strict=True):
                r["metadata"] = md
        return int(self._call("POST", f"/v1/collections/{collection}/upsert", json={"items": rows})["seq"])

    def delete(self, collection: str, ids: list[str]) -> int:
        """Delete ids (unknown ones ignored); returns how many were deleted."""
        return int(
            self._call("POST", f"/v1/collections/{collection}/delete", json={"ids": list(ids)})["count"]
        )

    def fetch(self, collection: str, ids: list[str]) -> list[dict[str, Any] | None]:
        """Stored items ``{id, metadata, vector}`` by id (None for an unknown id)."""
        return self._call("POST", f"/v1/collections/{collection}/fetch", json={"ids": list(ids)})["items"]

    def search(
        self,
        collection: str,
        *,
        vectors: Any = None,
        items: list[Any] | None = None,
        ids: list[str] | None = None,
        k: int = 10,
        filter: dict[str, Any] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Top-k of each query: ``vectors`` ``(q, dim)``, raw ``items`` (model-bound collections) or stored
        ``ids`` (left out of their own results). Returns per query a list of ``{id, score, metadata}``."""
        queries: list[dict[str, Any]] = []
        if vectors is not None:
            v = np.asarray(vectors, np.float32)
            queries += [{"vector": row} for row in (v[None, :] if v.ndim == 1 else v).tolist()]
        queries += [{"item": it} for it in items or []]
        queries += [{"id": i} for i in ids or []]
        body = {"queries": queries, "k": k, "filter": filter}
        return self._call("POST", f"/v1/collections/{collection}/search", json=body)["results"]
