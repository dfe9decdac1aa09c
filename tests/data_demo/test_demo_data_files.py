"""The committed demo data (data/geojson/) is current, deterministic and passes its own checks.

No database needed: these tests exercise scripts/make_demo_data.py and the files it wrote.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_demo_data.py"
DATA = ROOT / "data" / "geojson"
NAMES = ("units.geojson", "blocks.geojson", "parcels.geojson", "enterprises.json")


@pytest.fixture(scope="module")
def mdd():
    spec = importlib.util.spec_from_file_location("make_demo_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_data"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def texts():
    return {n: (DATA / n).read_text(encoding="utf-8") for n in NAMES}


@pytest.fixture(scope="module")
def outline(mdd):
    return mdd.gcj02_to_storage(shape(json.loads(mdd.OUTLINE_PATH.read_text(encoding="utf-8"))))


def test_committed_files_are_what_the_script_writes():
    run = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr


def test_two_builds_are_identical(mdd):
    first, _ = mdd.build()
    second, _ = mdd.build()
    assert first == second


def test_committed_files_pass_every_check(mdd, texts, outline):
    problems, summary = mdd.verify(texts, outline)
    assert problems == []
    assert len(summary["blocks"]) == 6
    assert abs(summary["units_union_km2"] - summary["outline_km2"]) / summary["outline_km2"] < 1e-4


def test_no_area_or_far_fields(texts):
    for name in ("blocks.geojson", "parcels.geojson"):
        for f in json.loads(texts[name])["features"]:
            assert not any("area_mu" in k or k in {"far", "area", "land_area_mu"} for k in f["properties"])


def test_an_overlap_is_caught(mdd, texts, outline):
    fc = json.loads(texts["parcels.geojson"])
    feats = fc["features"]
    geoms = [shape(f["geometry"]) for f in feats]
    for i, gi in enumerate(geoms):
        j = next((j for j in range(i + 1, len(geoms)) if gi.intersection(geoms[j]).length > 1e-6), None)
        if j is not None:
            break
    else:
        pytest.skip("no parcels share an edge")
    ring = feats[i]["geometry"]["coordinates"][0]
    k = next(k for k, p in enumerate(ring[:-1]) if p in feats[j]["geometry"]["coordinates"][0])
    c = geoms[j].centroid
    ring[k] = [ring[k][0] + (c.x - ring[k][0]) * 0.05, ring[k][1] + (c.y - ring[k][1]) * 0.05]
    if k == 0:
        ring[-1] = ring[0]
    broken = dict(texts, **{"parcels.geojson": json.dumps(fc, ensure_ascii=False)})
    problems, _ = mdd.verify(broken, outline)
    assert any("overlap" in p for p in problems)


def test_a_bad_credit_code_is_caught(mdd, texts, outline):
    ents = json.loads(texts["enterprises.json"])
    code = ents[0]["credit_code"]
    ents[0]["credit_code"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    broken = dict(texts, **{"enterprises.json": json.dumps(ents, ensure_ascii=False)})
    problems, _ = mdd.verify(broken, outline)
    assert any("credit code" in p for p in problems)
