"""Crash test: `simlab serve` as a real subprocess on 127.0.0.1, concurrent writers, SIGKILL at random
moments, restart. Every acknowledged write is present and searchable, an unacknowledged batch is
all-or-nothing, no id is ever returned twice. Bounded: a few cycles of a few seconds (more when slow)."""

from __future__ import annotations

import random
import threading
import time

import httpx
import numpy as np
import pytest

from simlab.client import Client

from .conftest import Server

DIM = 16


def vec(key: str, version: int) -> list[float]:
    r = np.random.default_rng(abs(hash((key, version))) % (2**32))
    return r.normal(size=DIM).astype(np.float32).tolist()


class Writer(threading.Thread):
    """Sequential writes; each op is either acknowledged (recorded as truth) or, when the server dies during
    it, uncertain (recorded as the allowed alternatives)."""

    def __init__(self, wid: int, url: str, state: dict, seed: int) -> None:
        super().__init__(daemon=True)
        self.wid, self.url, self.state, self.rng = wid, url, state, random.Random(seed)
        self.acked_ops = 0

    def run(self) -> None:
        c = Client(self.url, api_key="test-key", timeout=10)
        st = self.state
        try:
            while True:
                op = self.rng.random()
                with st["lock"]:
                    mine = [
                        k for k, v in st["truth"].items() if k.startswith(f"w{self.wid}-") and v is not None
                    ]
                if op < 0.7 or not mine:  # a new batch of fresh ids
                    n = self.rng.randint(1, 40)
                    with st["lock"]:
                        st["batch"] += 1
                        b = st["batch"]
                    ids = [f"w{self.wid}-{b}-{i}" for i in range(n)]
                    change = {k: ({"w": self.wid, "b": b, "v": 0}, 0) for k in ids}
                    kind = "batch"
                elif op < 0.85:  # overwrite some acked ids with a new version
                    ids = self.rng.sample(mine, min(len(mine), self.rng.randint(1, 10)))
                    change = {
                        k: ({**st["truth"][k][0], "v": st["truth"][k][0]["v"] + 1}, st["truth"][k][1] + 1)
                        for k in ids
                    }
                    kind = "update"
                else:
                    ids = self.rng.sample(mine, min(len(mine), self.rng.randint(1, 10)))
                    change = dict.fromkeys(ids)
                    kind = "delete"
                st["pending"][self.wid] = (kind, change)
                if kind == "delete":
                    c.delete("d", ids)
                else:
                    c.upsert(
                        "d",
                        ids,
                        vectors=[vec(k, change[k][1]) for k in ids],
                        metadata=[change[k][0] for k in ids],
                    )
                with st["lock"]:
                    st["truth"].update(change)  # acknowledged
                st["pending"][self.wid] = None
                self.acked_ops += 1
        except (httpx.HTTPError, OSError):
            return  # the server died during the op: it stays in st["pending"]
        except BaseException as exc:  # anything else is a failure of the test
            st["errors"].append(repr(exc))
        finally:
            c.close()


def verify(c: Client, st: dict) -> dict:
    """Check the restarted server against the acknowledged truth; resolve uncertain ops; return counts."""
    truth = st["truth"]
    keys = list(dict.fromkeys([*truth, *[k for p in st["pending"].values() if p is not None for k in p[1]]]))
    got = {}
    for s in range(0, len(keys), 500):
        for k, item in zip(keys[s : s + 500], c.fetch("d", keys[s : s + 500]), strict=True):
            got[k] = item
    uncertain = {}
    for p in st["pending"].values():
        if p is not None:
            uncertain.update({k: p for k in p[1]})
    # an unacknowledged op is all-or-nothing
    for p in {id(p): p for p in st["pending"].values() if p is not None}.values():
        kind, change = p
        if kind == "delete":
            applied = [got.get(k) is None for k in change]
        else:
            applied = [got.get(k) is not None and got[k]["metadata"] == change[k][0] for k in change]
        assert all(applied) or not any(applied), (
            f"partial unacknowledged {kind}: {sum(applied)}/{len(applied)}"
        )
        if all(applied):
            truth.update(change)
    lost = wrong = 0
    for k, v in truth.items():
        item = got.get(k)
        if v is None:
            wrong += item is not None
        elif item is None:
            lost += 1
        else:
            wrong += item["metadata"] != v[0]
    assert lost == 0, f"{lost} acknowledged items lost"
    assert wrong == 0, f"{wrong} items with a state no acknowledged write left"
    live = [k for k, v in truth.items() if v is not None]
    info = c.collections()[0]
    assert info["count"] == len(live)
    # searchable: each sampled item is its own nearest neighbour, and no id comes back twice
    sample = random.Random(0).sample(live, min(len(live), 40))
    if sample:
        res = c.search("d", vectors=[vec(k, truth[k][1]) for k in sample], k=min(len(live), 1000))
        for k, hits in zip(sample, res, strict=True):
            assert hits[0]["id"] == k
            ids = [h["id"] for h in hits]
            assert len(ids) == len(set(ids)) == min(len(live), 1000)
    st["pending"] = {}
    return {"live": len(live), "uncertain_applied": sum(1 for k in uncertain if truth.get(k) is not None)}


def run_crash_cycles(tmp_path, cycles: int, writers: int, max_run_s: float, seed: int = 0) -> dict:
    rng = random.Random(seed)
    data = tmp_path / "data"
    st: dict = {"truth": {}, "pending": {}, "batch": 0, "lock": threading.Lock(), "errors": []}
    srv = Server(["--compact-min", "50"], data).start()
    with Client(srv.url, api_key="test-key") as c:
        c.create_collection("d", dim=DIM)
    acked = 0
    try:
        for cycle in range(cycles):
            ws = [Writer(w, srv.url, st, seed * 1000 + cycle * 10 + w) for w in range(writers)]
            for w in ws:
                w.start()
            time.sleep(rng.uniform(0.2, max_run_s))
            srv.kill()  # SIGKILL
            for w in ws:
                w.join(30)
                acked += w.acked_ops
            assert not st["errors"], st["errors"]
            srv = Server(["--compact-min", "50"], data).start()
            with Client(srv.url, api_key="test-key") as c:
                counts = verify(c, st)
        return {"cycles": cycles, "acked_ops": acked, **counts}
    finally:
        srv.stop()


def test_crash_restart_keeps_every_acknowledged_write(tmp_path):
    out = run_crash_cycles(tmp_path, cycles=2, writers=3, max_run_s=1.0)
    assert out["acked_ops"] > 0 and out["live"] > 0


@pytest.mark.slow
def test_crash_restart_long(tmp_path):
    out = run_crash_cycles(tmp_path, cycles=15, writers=4, max_run_s=4.0, seed=1)
    print("crash test:", out)
    assert out["acked_ops"] > 100
