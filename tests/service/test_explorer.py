"""The web explorer end to end in headless Chromium (Debian's `chromium`, driven by playwright): the server
runs as a subprocess, the page queries a model and a collection, the neighbours shown equal the API's,
screenshots are saved under the test's tmp directory. Skipped (with the reason) without playwright or
chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from simlab.client import Client

from .conftest import Server

CHROMIUM = os.environ.get("SIMLAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def test_explorer_static_files_are_served(artifact, tmp_path):
    from fastapi.testclient import TestClient

    from simlab.service import create_app

    tc = TestClient(create_app([artifact("vecs")], data_dir=tmp_path / "d", background=False))
    page = tc.get("/")
    assert page.status_code == 200 and "simlab explorer" in page.text
    assert "/static/app.js" in page.text and "http" not in page.text.split("<body>")[1].replace("/docs", "")
    js = tc.get("/static/app.js")
    assert js.status_code == 200 and "drawMap" in js.text


@pytest.fixture
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if CHROMIUM is None:
        pytest.skip("no chromium binary (apt-get install -y chromium); set SIMLAB_CHROMIUM to its path")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def shown(page) -> list[str]:
    page.wait_for_selector("#neighbours tbody tr")
    return page.eval_on_selector_all("#neighbours tbody tr", "rows => rows.map(r => r.dataset.key)")


def test_explorer_in_chromium(browser, artifact, tmp_path):
    srv = Server([f"vecs={artifact('vecs')}"], tmp_path / "data").start()
    try:
        with Client(srv.url, api_key=srv.api_key) as c:
            c.create_collection("docs", dim=16)
            rng = np.random.default_rng(1)
            x = rng.normal(size=(300, 16))
            c.upsert(
                "docs",
                [f"d{i}" for i in range(300)],
                vectors=x,
                metadata=[{"group": ["red", "green", "blue"][i % 3], "i": i} for i in range(300)],
            )
            api_model = [h for h in c.most_similar("vecs", "v7", k=10).keys]
            api_coll = [h["id"] for h in c.search("docs", ids=["d5"], k=8)[0]]
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/")
        page.wait_for_selector("#source option", state="attached")
        # a model, queried by key
        page.select_option("#source", "m:vecs")
        page.fill("#query", "v7")
        page.click("#go")
        assert shown(page) == [str(k) for k in api_model]
        page.wait_for_selector("#map circle.neighbour")
        ringed = page.eval_on_selector_all("#map circle.neighbour", "cs => cs.map(c => c.dataset.key)")
        assert set(ringed) == set(api_model)  # every true neighbour is on the map, highlighted
        page.screenshot(path=str(tmp_path / "explorer-model.png"))
        # clicking a point shows that point's neighbours
        page.click("#map circle.neighbour >> nth=0", force=True)
        page.wait_for_function(
            "document.querySelector('#qlabel').textContent.startsWith('of ') && "
            "document.querySelector('#query').value !== 'v7'"
        )
        clicked = page.input_value("#query")
        page.wait_for_function(
            f"document.querySelector('#neighbours tbody tr') && "
            "!Array.from(document.querySelectorAll('#neighbours tbody tr'))"
            f".some(r => r.dataset.key === {clicked!r})"
        )
        with Client(srv.url) as c:
            assert shown(page) == [str(k) for k in c.most_similar("vecs", clicked, k=10).keys]
        # a collection, by id, coloured by a metadata field
        page.select_option("#source", "c:docs")
        page.wait_for_selector("#color option[value=group]", state="attached")
        page.select_option("#color", "group")
        page.fill("#query", "d5")
        page.select_option("#mode", "id")
        page.fill("#k", "8")
        page.click("#go")
        page.wait_for_function("document.querySelectorAll('#neighbours tbody tr').length === 8")
        assert shown(page) == api_coll
        page.wait_for_selector("#legend span")
        assert len(page.query_selector_all("#legend span")) == 3
        page.screenshot(path=str(tmp_path / "explorer-collection.png"))
        assert not errors, errors
        out = os.environ.get("SIMLAB_SCREENSHOTS")
        if out:
            for p in tmp_path.glob("explorer-*.png"):
                shutil.copy(p, Path(out) / p.name)
    finally:
        srv.stop()


@pytest.mark.slow
def test_explorer_draws_graphs_in_chromium(browser, artifact, tmp_path):
    srv = Server([f"graph={artifact('graph')}"], tmp_path / "data").start()
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(srv.url + "/")
        page.wait_for_selector("#source option", state="attached")
        gid = srv_first_graph(srv)
        page.fill("#query", gid)
        page.fill("#k", "5")
        page.click("#go")
        page.wait_for_selector("#graphs figure >> nth=3")
        with Client(srv.url) as c:
            assert shown(page) == [str(k) for k in c.most_similar("graph", gid, k=5).keys]
        assert len(page.query_selector_all("#graphs figure")) == 6  # the query and its top 5
        page.check("#rerank")
        page.click("#go")
        page.wait_for_function("document.querySelectorAll('#neighbours tbody tr').length === 5")
        with Client(srv.url) as c:
            ref = c.most_similar("graph", gid, k=5, rerank="editpath").keys
        page.wait_for_function(
            f"Array.from(document.querySelectorAll('#neighbours tbody tr')).map(r => r.dataset.key)"
            f".join(',') === {','.join(map(str, ref))!r}"
        )
        page.screenshot(path=str(tmp_path / "explorer-graph.png"))
        assert not errors, errors
        out = os.environ.get("SIMLAB_SCREENSHOTS")
        if out:
            shutil.copy(tmp_path / "explorer-graph.png", Path(out) / "explorer-graph.png")
    finally:
        srv.stop()


def srv_first_graph(srv) -> str:
    import httpx

    m = httpx.get(srv.url + "/v1/models/graph/map?n=5").json()
    return str(m["points"][0]["key"])
