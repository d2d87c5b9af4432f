"""The Ray engine on a local 2-CPU instance gives the local engine's results, also when a worker dies mid-job.

One Ray instance serves the whole module (starting one costs seconds). Skipped with the reason when Ray is not
installed or cannot start here.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'simlab[ray]'")


@pytest.fixture(scope="module", autouse=True)
def ray_2cpus():
    if ray.is_initialized():
        ray.shutdown()
    # the workers inherit this environment: a driver that pinned its BLAS to 2 threads (as the benchmarks do)
    # must not give every one-CPU task 2 threads (test_tasks_compute_on_one_thread)
    old = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "2"
    try:
        ray.init(
            num_cpus=2,
            object_store_memory=512 << 20,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    except Exception as exc:
        pytest.skip(f"Ray cannot start here ({type(exc).__name__}: {exc})")
    finally:
        if old is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old
    yield
    ray.shutdown()


def test_tasks_compute_on_one_thread():
    """A Ray task reserves one CPU and computes on one BLAS/OpenMP thread, whatever its worker inherited."""
    from simlab.scale import engine

    def threads(_task: int) -> list[int]:
        from threadpoolctl import threadpool_info

        return sorted({i["num_threads"] for i in threadpool_info()})

    eng = engine.Engine("ray")
    got = engine.run_tasks(threads, [0, 1, 2, 3], eng, ray)
    assert got == [[1]] * 4


def _descends_from(pid: int, ancestor: int) -> bool:
    """Whether `pid` is a descendant of `ancestor` (the workers of this test's own Ray instance only)."""
    for _ in range(16):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                pid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


class Killer:
    """Kills (SIGKILL) the first worker of this test's Ray instance whose title names `task`: a worker dying
    mid-task. Only descendants of this process are considered (never another user's Ray)."""

    def __init__(self, task: str) -> None:
        self.task, self.killed, self._stop = task, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set() and not self.killed:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        title = f.read().split(b"\0")[0].decode(errors="replace")
                except OSError:
                    continue
                if (
                    int(pid) != me
                    and title.startswith("ray::")
                    and self.task in title
                    and _descends_from(int(pid), me)
                ):
                    os.kill(int(pid), signal.SIGKILL)
                    self.killed.append((int(pid), title))
                    return
            time.sleep(0.02)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_embed_ray_equals_local(d2v, lee, tmp_path):
    from simlab.scale import embed

    model, path = d2v
    local = embed(path, lee, tmp_path / "local", shard_bytes=25_000)
    on_ray = embed(path, lee, tmp_path / "ray", shard_bytes=25_000, engine="ray")
    a, b = local.to_vectors(), on_ray.to_vectors()
    assert on_ray.engine == "ray" and on_ray.shards == local.shards > 5
    assert a.keys == b.keys == model.embed_file(lee).keys
    np.testing.assert_array_equal(a.matrix, b.matrix)


@pytest.mark.parametrize(("metric", "method"), [("cosine", "exact"), ("euclidean", "exact"), ("dot", "hnsw")])
def test_join_ray_equals_local(vector_sets, tmp_path, metric, method):
    from simlab.scale import join

    d = vector_sets["dir"]
    kw = {"metric": metric, "method": method, "block_rows": 250, "shard_rows": 400}
    local = join(d / "a.parquet", d / "b.parquet", 8, out=tmp_path / "l", **kw).read()
    on_ray = join(d / "a.parquet", d / "b.parquet", 8, out=tmp_path / "r", engine="ray", **kw).read()
    for x, y in zip(local, on_ray, strict=True):  # identical ids and scores, bit for bit
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def ged_local(graphs, tmp_path_factory):
    """GED TSVs of the local engine (the reference): editpath and exact. The exact searches take milliseconds;
    a generous timeout keeps every one of them proven (a search cut by its timeout depends on machine
    load)."""
    from simlab.scale import pairs

    d = tmp_path_factory.mktemp("ged")
    return {
        m: pairs(graphs, d / f"{m}.tsv", method=m, chunk=50, timeout=30.0).path for m in ("editpath", "exact")
    }


@pytest.mark.parametrize("method", ["editpath", "exact"])
def test_pairs_ray_equals_local(graphs, ged_local, tmp_path, method):
    from simlab.scale import pairs

    res = pairs(graphs, tmp_path / "r.tsv", method=method, chunk=50, timeout=30.0, engine="ray")
    assert res.pairs == 435 and res.engine == "ray"
    with open(ged_local[method], "rb") as f:
        assert f.read() == (tmp_path / "r.tsv").read_bytes()


def test_worker_killed_mid_pairs_job_same_result(graphs, ged_local, tmp_path):
    from simlab.scale import pairs

    with Killer("pairs_task") as killer:  # chunks of 40 exact pairs take long enough to be caught running
        res = pairs(graphs, tmp_path / "ray.tsv", method="exact", chunk=40, timeout=30.0, engine="ray")
    assert killer.killed, "no task was running long enough to be killed"
    assert res.pairs == 435
    with open(ged_local["exact"], "rb") as f:  # results do not depend on the chunking
        assert f.read() == (tmp_path / "ray.tsv").read_bytes()


def test_worker_killed_mid_join_same_result(tmp_path):
    from simlab.scale import join

    r = np.random.default_rng(5)
    np.save(tmp_path / "a.npy", r.normal(size=(3000, 32)).astype(np.float32))
    np.save(tmp_path / "b.npy", r.normal(size=(30000, 32)).astype(np.float32))  # HNSW builds take ~1 s
    kw = {"method": "hnsw", "block_rows": 500, "shard_rows": 15000}
    local = join(tmp_path / "a.npy", tmp_path / "b.npy", 5, out=tmp_path / "l", **kw).read()
    with Killer("search_task") as killer:
        on_ray = join(
            tmp_path / "a.npy", tmp_path / "b.npy", 5, out=tmp_path / "r", engine="ray", **kw
        ).read()
    assert killer.killed, "no task was running long enough to be killed"
    for x, y in zip(local, on_ray, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("job", ["join", "embed"])
def test_worker_running_other_simlab_code_is_refused(vector_sets, d2v, lee, tmp_path, monkeypatch, job):
    """A worker imports simlab from its own path (an install, the checkout PYTHONPATH names; at a retry, what
    is on disk then), not from the driver's sys.path: with other code it refuses the task instead of mixing
    two versions' results (an ulp of difference in a normalisation moves HNSW neighbours)."""
    from simlab.errors import SimlabError
    from simlab.scale import embed, engine, join

    monkeypatch.setattr(engine, "_FINGERPRINT", "0.0.0+another-checkout")  # the driver's code differs
    d = vector_sets["dir"]
    with pytest.raises(SimlabError, match="other simlab code"):
        if job == "join":
            join(
                d / "a.npy", d / "b.npy", 4, out=tmp_path / "r", engine="ray", block_rows=250, shard_rows=400
            )
        else:
            embed(d2v[1], lee, tmp_path / "r", shard_bytes=25_000, engine="ray")


def test_actor_killed_mid_embed_same_result(d2v, lee, tmp_path):
    from simlab.scale import embed

    _, path = d2v
    local = embed(path, lee, tmp_path / "l", shard_bytes=15_000).to_vectors()
    with Killer("EmbedActor") as killer:
        on_ray = embed(path, lee, tmp_path / "r", shard_bytes=15_000, engine="ray").to_vectors()
    assert killer.killed, "no actor was running long enough to be killed"
    assert local.keys == on_ray.keys
    np.testing.assert_array_equal(local.matrix, on_ray.matrix)


def test_cli_on_ray(graphs, ged_local, vector_sets, tmp_path):
    from typer.testing import CliRunner

    from simlab.cli.main import app

    graphs.write_jsonl(tmp_path / "g.jsonl")
    r = CliRunner()
    res = r.invoke(
        app,
        [
            "ged",
            str(tmp_path / "g.jsonl"),
            "--out",
            str(tmp_path / "g.tsv"),
            "--method",
            "editpath",
            "--engine",
            "ray",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "pairs/s, engine ray" in res.output
    with open(ged_local["editpath"], "rb") as f:
        assert f.read() == (tmp_path / "g.tsv").read_bytes()
    d = vector_sets["dir"]
    res = r.invoke(
        app,
        [
            "join",
            str(d / "a.npy"),
            str(d / "b.parquet"),
            "-k",
            "4",
            "--out",
            str(tmp_path / "j"),
            "--engine",
            "ray",
            "--metric",
            "l2",
        ],
    )
    assert res.exit_code == 0, res.output
    from simlab.scale import read_join

    _, nb, sc = read_join(tmp_path / "j")
    assert nb.shape == (700, 4) and str(nb[0, 0]).startswith("b") and (sc <= 0).all()  # negated distances
