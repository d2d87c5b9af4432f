"""What every handler depends on: the service state of the app and the API-key checks."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from simlab.errors import SimlabError
from simlab.service.adapters import ServedModel
from simlab.service.batching import SearchBatcher
from simlab.service.collections import Collections
from simlab.service.limits import Limits

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="the server's API key")


class Unauthorized(SimlabError):
    """A missing or wrong API key (HTTP 401)."""


@dataclass
class ServiceState:
    """What the handlers share: served models, collections, limits and the key policy."""

    models: dict[str, ServedModel]
    collections: Collections
    limits: Limits
    api_key: str | None = None
    protect_reads: bool = False
    batcher: SearchBatcher = field(default_factory=SearchBatcher)
    extras: dict[str, Any] = field(default_factory=dict)


async def get_state(request: Request) -> ServiceState:
    """The app's :class:`ServiceState` (async: a sync dependency costs a thread-pool hop per request)."""
    return request.app.state.simlab


State = Annotated[ServiceState, Depends(get_state)]


def _key_ok(state: ServiceState, request: Request, header: str | None) -> bool:
    if state.api_key is None:
        return True
    given = header
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:]
    return given is not None and hmac.compare_digest(given.encode(), state.api_key.encode())


async def read_access(request: Request, state: State, key: Annotated[str | None, Depends(API_KEY)]) -> None:
    """Every request: the key is needed when the server protects reads (off loopback)."""
    if state.protect_reads and not _key_ok(state, request, key):
        raise Unauthorized("this server needs an API key for every request (X-API-Key)")


async def write_access(request: Request, state: State, key: Annotated[str | None, Depends(API_KEY)]) -> None:
    """Writes: the key is needed whenever the server has one."""
    if not _key_ok(state, request, key):
        raise Unauthorized("writes need the server's API key (X-API-Key)")
