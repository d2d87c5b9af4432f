"""Where the tasks of a scale job run: in this process (``local``) or on a Ray cluster (``ray``).

A job is a fixed plan of independent tasks (a shard of the input, a block of pairs); the engine only decides
where they run. Both engines run the *same* tasks with the same inputs, so a job's output does not depend on
the engine. Each task writes its own shard atomically under a name fixed by the plan (see
:mod:`simlab.scale.store`), so a task that Ray retries after a worker died rewrites the same file with the
same content, and a job that was interrupted resumes by skipping the shards already written.

"Same tasks" includes the same code: a Ray worker imports simlab from its own path (the installed package, or
the checkout that ``PYTHONPATH`` names), not from the driver's ``sys.path``, and a worker started mid-job (a
retry) imports whatever is on disk then. Every task therefore first compares :func:`code_fingerprint` with the
driver's and refuses to run other code, instead of silently mixing results of two versions.

Ray is imported only when ``engine="ray"`` is used (``pip install 'simlab[ray]'``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simlab.errors import ConfigError, SimlabError

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
#: object store of a Ray instance started by simlab (bytes); the machine's memory is shared with other work
DEFAULT_OBJECT_STORE = 1 << 30
#: task retries after a worker process died (Ray re-runs the task; its shard is rewritten identically)
MAX_RETRIES = 4
#: CPUs a Ray task reserves, and so the BLAS/OpenMP/torch threads it computes with (see :func:`task_threads`)
TASK_CPUS = 1


@dataclass(frozen=True)
class Engine:
    """Where a job's tasks run.

    Attributes:
        name: ``"local"`` (this process, tasks one after another) or ``"ray"``.
        address: Ray cluster address (``"auto"``, ``"ray://head:10001"``, ``"10.0.0.1:6379"``); None starts a
            local Ray instance for the job.
        cpus: CPUs of a local Ray instance (default: all of this machine); ignored with `address`.
        object_store_bytes: object store of a local Ray instance.
    """

    name: str = "local"
    address: str | None = None
    cpus: int | None = None
    object_store_bytes: int = DEFAULT_OBJECT_STORE

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ConfigError(f"unknown engine {self.name!r}; valid: {', '.join(ENGINES)}")
        if self.cpus is not None and self.cpus < 1:
            raise ConfigError(f"cpus must be >= 1, got {self.cpus}")
        if self.address is not None and self.name != "ray":
            raise ConfigError("address= needs engine='ray'")

    @property
    def is_ray(self) -> bool:
        return self.name == "ray"


def resolve(engine: str | Engine = "local", address: str | None = None, cpus: int | None = None) -> Engine:
    """An :class:`Engine` from a name and options (``address`` alone implies ``engine="ray"``)."""
    if isinstance(engine, Engine):
        return engine
    if address is not None and engine == "local":
        engine = "ray"
    return Engine(engine, address, cpus)


def require_ray() -> Any:
    """Import ray or raise :class:`MissingDependency` naming the ``ray`` extra."""
    from simlab._deps import require

    return require("ray")


@contextlib.contextmanager
def session(engine: Engine) -> Iterator[Any]:
    """Yield the ray module with a connection open for the job (None for the local engine).

    Connects to ``engine.address`` when given; otherwise reuses an already initialised Ray (a test's or the
    caller's) or starts a local instance with ``engine.cpus`` CPUs and a bounded object store, shut down at
    the end.
    """
    if not engine.is_ray:
        yield None
        return
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if engine.address is not None:
            kw["address"] = engine.address
        else:
            kw.update(
                num_cpus=engine.cpus or os.cpu_count() or 1, object_store_memory=engine.object_store_bytes
            )
        try:
            ray.init(**kw)
        except Exception as exc:  # connection refused, bad address, no resources
            raise SimlabError(f"cannot start or reach Ray ({type(exc).__name__}: {exc})") from None
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def cluster_cpus(ray: Any, engine: Engine) -> int:
    """CPUs the job may use (the cluster's, or ``engine.cpus`` when smaller)."""
    total = int(ray.cluster_resources().get("CPU", 1))
    return max(1, min(total, engine.cpus) if engine.cpus else total)


def source_fingerprint(root: str | os.PathLike[str]) -> str:
    """Hash of the Python sources under `root` (relative names and bytes, in name order)."""
    base, h = Path(root), hashlib.sha256()
    for f in sorted(base.rglob("*.py")):
        h.update(f.relative_to(base).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """The code this process computes with: simlab's ``VERSION+HASH`` of its sources, and the versions of the
    numeric libraries under it (numpy, FAISS), read once per process."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        from importlib import metadata

        import simlab

        def version(dist: str) -> str:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return "-"

        code = source_fingerprint(Path(simlab.__file__).parent)
        _FINGERPRINT = (
            f"simlab {simlab.__version__}+{code}, numpy {version('numpy')}, faiss {version('faiss-cpu')}"
        )
    return _FINGERPRINT


def check_code(expected: str) -> None:
    """Raise :class:`SimlabError` when this process (a Ray worker) runs other code than the driver."""
    mine = code_fingerprint()
    if mine != expected:
        import simlab

        raise SimlabError(
            f"a Ray worker runs other simlab code ({mine}; simlab from {Path(simlab.__file__).parent}) than "
            f"the driver ({expected}); its results could differ from the local engine's. Install the same "
            "simlab, numpy and FAISS on every node (or point PYTHONPATH at the same checkout) and do not "
            "change them mid-job"
        )


@contextlib.contextmanager
def task_threads(n: int = TASK_CPUS) -> Iterator[None]:
    """Compute with `n` BLAS/OpenMP/torch threads during a task on a Ray worker, then restore.

    A worker inherits the environment of the process that started Ray: ``OPENBLAS_NUM_THREADS=2`` exported
    there gives every one-CPU worker two BLAS threads, and two such workers on two cores spin against each
    other (an exact join ran ~2x slower than in one process). Ray's own ``OMP_NUM_THREADS=1`` does not
    cover OpenBLAS's variable, nor a cluster whose nodes export other values. FAISS is imported first
    (when installed) so that its OpenMP and BLAS pools exist and are limited too.
    """
    import importlib.util

    from simlab.model import thread_limit

    if "faiss" not in sys.modules and importlib.util.find_spec("faiss") is not None:
        import faiss  # noqa: F401

    with thread_limit(n):
        yield


def _checked_task(fn: Callable[..., Any], code: str, task: Any, **shared: Any) -> Any:
    """``fn(task, **shared)`` on a worker, after :func:`check_code`, on :data:`TASK_CPUS` threads."""
    check_code(code)
    with task_threads():
        return fn(task, **shared)


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[Any],
    engine: Engine,
    ray: Any = None,
    *,
    shared: dict[str, Any] | None = None,
    on_result: Callable[[Any], None] | None = None,
    max_in_flight: int | None = None,
) -> list[Any]:
    """Run ``fn(task, **shared)`` for every task and return the results in task order.

    Args:
        fn: a module-level function (Ray ships it by reference to the workers).
        tasks: small task descriptions (shard ranges, block numbers): the data itself is read by the task.
        engine: where to run.
        ray: the module from :func:`session` (ray engine).
        shared: keyword arguments common to all tasks; with Ray they are put in the object store once.
        on_result: called with each result as it arrives (progress).
        max_in_flight: at most this many Ray tasks submitted at once (default: 4 per CPU).

    Returns:
        ``[fn(t, **shared) for t in tasks]``.

    Raises:
        SimlabError: a task failed, or a Ray worker runs other simlab code than the driver (see
            :func:`check_code`).
    """
    shared = shared or {}
    if not engine.is_ray:
        out = []
        for t in tasks:
            r = fn(t, **shared)
            if on_result is not None:
                on_result(r)
            out.append(r)
        return out
    remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_checked_task).options(name=fn.__name__)
    refs = {name: ray.put(value) for name, value in shared.items()}
    code = code_fingerprint()
    limit = max_in_flight or 4 * cluster_cpus(ray, engine)
    results: list[Any] = [None] * len(tasks)
    pending: dict[Any, int] = {}
    nxt = 0
    while nxt < len(tasks) or pending:
        while nxt < len(tasks) and len(pending) < limit:
            pending[remote.remote(fn, code, tasks[nxt], **refs)] = nxt
            nxt += 1
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            i = pending.pop(ref)
            try:
                results[i] = ray.get(ref)
            except Exception as exc:
                raise _task_error(exc) from None
            if on_result is not None:
                on_result(results[i])
    return results


def _task_error(exc: Exception) -> Exception:
    """A SimlabError raised in a task, unwrapped from Ray's RayTaskError; anything else as one line."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, SimlabError):
        return cause
    return SimlabError(f"a Ray task failed: {type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300]}")
