"""``simlab serve``: the HTTP API and web explorer over model artifacts and durable collections (uvicorn).

No heavy imports at module level (FastAPI, uvicorn and the models load when the command runs).
"""

from __future__ import annotations

import gc
import importlib.util
import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from simlab.errors import ConfigError


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_artifacts(specs: list[str]) -> dict[str, Path]:
    """``PATH`` or ``NAME=PATH`` arguments -> ``{name: path}`` (default name: the directory name)."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        p = Path(path if sep else spec)
        key = name if sep else p.resolve().name
        if key in out:
            raise ConfigError(f"two artifacts named {key!r}; give them names with NAME=PATH")
        out[key] = p
    return out


Artifacts = Annotated[
    list[str] | None,
    typer.Argument(help="Artifact directories to serve (PATH or NAME=PATH); none: collections only."),
]
Host = Annotated[str, typer.Option("--host", help="Address to bind (loopback by default).")]
Port = Annotated[int, typer.Option("--port", help="TCP port to listen on.")]
Data = Annotated[Path, typer.Option("--data", help="Directory of the durable collections.")]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key", help="Key for writes (and for everything off loopback); default $SIMLAB_API_KEY."
    ),
]
Threads = Annotated[int, typer.Option("--threads", help="BLAS/torch threads of the server.")]
CompactMin = Annotated[
    int,
    typer.Option("--compact-min", help="Delta rows + tombstones of a collection that trigger a compaction."),
]


def serve(
    artifacts: Artifacts = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    data: Data = Path("simlab-data"),
    api_key: ApiKey = None,
    threads: Threads = 1,
    compact_min: CompactMin = 2000,
) -> None:
    """Serve models and collections over HTTP with a web explorer at / (API docs at /docs).

    Example: simlab serve runs/w2v words=runs/w2v-hnsw --port 8000
    """
    from simlab._deps import require

    require("uvicorn")
    import uvicorn

    from simlab.cli.common import thread_scope
    from simlab.service import create_app

    key = api_key or os.environ.get("SIMLAB_API_KEY") or None
    public = not is_loopback(host)
    if public and not key:
        raise ConfigError(f"binding {host} (not loopback) needs --api-key or SIMLAB_API_KEY")
    web = create_app(
        parse_artifacts(artifacts or []),
        data_dir=data,
        api_key=key,
        protect_reads=public,
        compact_min=compact_min,
    )
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"simlab serve: {len(web.state.simlab.models)} model(s), data in {data}; "
        f"explorer at http://{shown}:{port}/ , API docs at http://{shown}:{port}/docs"
        + ("" if key else " (writes open: no API key)")
    )
    if importlib.util.find_spec("faiss") is not None:
        import faiss  # noqa: F401  (loaded before the thread scope, so that its OpenMP threads are bounded too)
    # what is loaded now (models, indexes, ids and metadata) lives as long as the server: out of the garbage
    # collector's generations, so that its full passes do not walk it again and again under load
    gc.collect()
    gc.freeze()
    with thread_scope(threads):  # the models are loaded: torch's threads too, for the server's lifetime
        # proxy_headers off: the service uses no client address (no access log), so X-Forwarded-* are not read
        uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    """Add ``simlab serve``."""
    app.command()(serve)
