"""Authorisation matrix of the parks' state-changing endpoints (issue 19 part 1): every actor gets exactly
401, 403 or its 2xx. Park boundaries come by upload (target parks) and are edited by GIS staff and admins."""

from __future__ import annotations

import pytest

from tests.app import upload_corpus as corpus
from tests.app.test_parks import _parks_file
from tests.app.test_workflow_matrix import ACTORS, _client, stack  # noqa: F401 (fixture)

EDITORS = {"gis_staff", "admin"}


def _expected(actor: str, ok: int) -> int:
    return 401 if actor == "anonymous" else ok if actor in EDITORS else 403


@pytest.mark.parametrize("actor", ACTORS)
def test_edit_a_park(actor, login_as, db_session, settings, stack):  # noqa: F811
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.patch("/api/parks/YQ-shimen", json={"approval": "桐政〔2019〕8号"}, headers={"If-Match": "*"})
    assert r.status_code == _expected(actor, 200), f"{actor}: {r.status_code} {r.text[:300]}"
    if r.status_code in (401, 403):
        assert r.json()["code"] in {"unauthenticated", "forbidden"}


@pytest.mark.parametrize("actor", ACTORS)
def test_delete_a_park(actor, login_as, db_session, settings, stack):  # noqa: F811
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.delete("/api/parks/YQ-tudian", headers={"If-Match": "*"})
    assert r.status_code == _expected(actor, 200), f"{actor}: {r.status_code} {r.text[:300]}"
    if r.status_code == 200:
        assert client.get("/api/parks/YQ-tudian").status_code == 404


@pytest.mark.parametrize("actor", ACTORS)
def test_upload_parks(actor, login_as, db_session, settings, stack, tmp_path):  # noqa: F811
    client = _client(actor, login_as, settings, db_session, stack)
    data = _parks_file(tmp_path, [{"园区编号": "MPK-1", "园区名称": "矩阵园区", "类型": "开发区"}],
                       corpus.rectangles(1, row=24))
    r = client.post("/api/uploads", files={"file": ("园区.geojson", data)}, data={"target": "parks"})
    assert r.status_code == _expected(actor, 201), f"{actor}: {r.status_code} {r.text[:300]}"
