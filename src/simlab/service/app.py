"""`create_app`: the FastAPI application (models, collections, the explorer), usable under any ASGI server."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from simlab.errors import (
    ConfigError,
    DataError,
    MissingDependency,
    NotFittedError,
    SimlabError,
    UnknownKeyError,
)
from simlab.service.adapters import ServedModel, serve_model
from simlab.service.collections import Collections, Conflict
from simlab.service.deps import ServiceState, Unauthorized
from simlab.service.limits import LimitExceeded, Limits

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def status_of(exc: SimlabError) -> int:
    """The HTTP status of a SimlabError (always 4xx)."""
    if isinstance(exc, LimitExceeded):
        return 413
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, UnknownKeyError):
        return 404
    if isinstance(exc, Conflict | NotFittedError):
        return 409
    if isinstance(exc, DataError | ConfigError | MissingDependency):
        return 422
    return 400


def error_response(status: int, error: str, detail: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SimlabError)
    async def simlab_error(request: Request, exc: SimlabError) -> JSONResponse:
        return error_response(status_of(exc), type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return error_response(422, "ValidationError", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "HTTPError", exc.detail)

    @app.exception_handler(Exception)
    async def internal(
        request: Request, exc: Exception
    ) -> JSONResponse:  # pragma: no cover - a bug if reached
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "InternalError", "internal error (see the server log)")


def healthz(request: Request) -> dict[str, Any]:
    """Liveness: the models and collections served."""
    state = request.app.state.simlab
    return {"status": "ok", "models": len(state.models), "collections": len(state.collections.list())}


def explorer() -> FileResponse:
    """The web explorer's page."""
    return FileResponse(STATIC / "index.html")


class BodyLimit:
    """ASGI middleware: a request whose Content-Length is over the limit is answered 413 unread."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = dict(scope.get("headers") or ()).get(b"content-length", b"")
            if size.isdigit() and int(size) > self.max_bytes:
                resp = error_response(
                    413, "LimitExceeded", f"body of {int(size)} bytes; the limit is {self.max_bytes}"
                )
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SimlabAPI(FastAPI):
    """FastAPI with the service's fast path in front (:mod:`simlab.service.fastpath`), when it has one."""

    fast: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.fast is not None:
            await self.fast(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(
    artifacts: list[str | Path] | dict[str, str | Path] | None = None,
    data_dir: str | Path = "simlab-data",
    api_key: str | None = None,
    limits: Limits | None = None,
    *,
    protect_reads: bool = False,
    compact_min: int = 2000,
    background: bool = True,
    fast_path: bool = True,
) -> FastAPI:
    """Build the service.

    Args:
        artifacts: artifact directories to serve (names = directory names), or ``{name: path}``.
        data_dir: where collections are stored (created when absent).
        api_key: key required for writes (header ``X-API-Key`` or ``Authorization: Bearer``); None: open.
        limits: request limits (:class:`Limits` defaults).
        protect_reads: require the key for every request (what ``simlab serve`` does off loopback).
        compact_min: delta rows + tombstones of a collection that trigger a background compaction.
        background: run the compaction thread (tests may call ``compact`` themselves).
        fast_path: answer vector searches of collections without FastAPI's per-request work
            (:mod:`simlab.service.fastpath`; same answers).

    Returns:
        A FastAPI app; ``app.state.simlab`` is its :class:`ServiceState`.
    """
    from simlab.service import routes_collections, routes_models

    if protect_reads and not api_key:
        raise ConfigError("protect_reads needs an api_key")
    items = artifacts.items() if isinstance(artifacts, dict) else [(None, p) for p in (artifacts or [])]
    models: dict[str, ServedModel] = {}
    for name, path in items:
        m = serve_model(path, name)
        if m.name in models:
            raise ConfigError(f"two artifacts are served as {m.name!r}; name them (NAME=PATH)")
        models[m.name] = m
    state = ServiceState(
        models,
        Collections(data_dir, models, compact_min, background),
        limits or Limits(),
        api_key,
        protect_reads,
    )

    app = SimlabAPI(
        title="simlab",
        version="1",
        description="Similarity models and durable collections over HTTP.",
        on_shutdown=[state.collections.close],
    )
    app.state.simlab = state
    _install_errors(app)

    if fast_path:  # in front of FastAPI's and Starlette's own per-request layers
        from simlab.service.fastpath import FastSearch

        app.fast = FastSearch(functools.partial(FastAPI.__call__, app), state)
    app.add_middleware(BodyLimit, max_bytes=state.limits.max_body_bytes)

    app.include_router(routes_models.router)
    app.include_router(routes_collections.router)
    app.add_api_route("/healthz", healthz, methods=["GET"], tags=["service"])
    app.add_api_route("/", explorer, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
