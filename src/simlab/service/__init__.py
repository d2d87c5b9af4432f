"""``simlab serve``: an HTTP API over models and durable, updatable collections, with a web explorer.

The app layer: it imports FastAPI (the ``service`` extra); ``import simlab`` never loads it.

Example::

    from simlab.service import create_app
    app = create_app(["runs/demo/word2vec"], data_dir="simlab-data")   # any ASGI server runs it
"""

from __future__ import annotations

from typing import Any

from simlab.service.limits import LimitExceeded, Limits

__all__ = ["LimitExceeded", "Limits", "create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """Build the FastAPI app; see :func:`simlab.service.app.create_app`."""
    from simlab._deps import require

    require("fastapi")
    from simlab.service.app import create_app as _create

    return _create(*args, **kwargs)
