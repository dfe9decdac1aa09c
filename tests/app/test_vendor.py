"""/vendor/npm/ serves the files the pages import and nothing else of node_modules (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
_URL = re.compile(r"""/vendor/npm/[^"'`\s)]+""")
_RELATIVE_IMPORT = re.compile(r"""(?:import|export)[^'"]*?from\s*['"](\.{1,2}/[^'"]+)['"]""")


def _page_urls() -> set[str]:
    files = [*FRONTEND.glob("*.html"), *(FRONTEND / "src").rglob("*.html"), *(FRONTEND / "src").rglob("*.js")]
    return {u for f in files for u in _URL.findall(f.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def test_every_module_the_pages_import_is_served_with_its_relative_imports(client):
    todo = sorted(_page_urls())
    assert len(todo) >= 8, todo
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200, url
        if url.endswith((".js", ".mjs")):
            for rel in _RELATIVE_IMPORT.findall(r.text):
                todo.append(str(Path(url).parent / rel).replace("\\", "/"))
    assert "/vendor/npm/robust-predicates/esm/orient2d.js" in seen


@pytest.mark.parametrize(
    "path",
    [
        "package-lock.json",
        "../package-lock.json",
        "%2e%2e/package-lock.json",
        "../package.json",
        ".package-lock.json",
        "leaflet/package.json",
        "pbf/package.json",
        "pbf/README.md",
        "pbf/bin/pbf",
        "pbf/compile.js",
        "@mapbox/vector-tile/index.d.ts",
        "chart.js/dist/chart.cjs",
        "chart.js/dist/chart.js",
        "lodash/lodash.js",
        "@turf/bbox/package.json",
        "tslib/tslib.js",
        "@types/geojson/index.d.ts",
        "point-in-polygon-hao/package.json",
        "robust-predicates/umd/predicates.js",
        "",
    ],
)
def test_lock_files_sources_and_unlisted_packages_are_not_served(client, path):
    assert client.get("/vendor/npm/" + path).status_code == 404
