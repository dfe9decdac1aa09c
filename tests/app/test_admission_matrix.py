"""Authorisation matrix of 项目准入: every state-changing /api/admissions endpoint × every role (and
anonymous, and another unit's officer) gets exactly 401, 403 or its 2xx; and who reads which applications."""

from __future__ import annotations

import pytest

from tests.app.test_workflow_matrix import ACTORS, OWN, REVIEW, _client, stack  # noqa: F401  (stack: fixture)

BODY = {"block": "TX2022-WT-01", "parcels": ["330483-WT-0001"], "enterprise": "9133048332155419FA",
        "project_name": "矩阵准入项目", "industry_code": "C3340", "investment_10k": 8000, "output_10k": 30000,
        "tax_10k": 900, "floor_area_m2": 12000, "far": 2.2, "start_on": "2024-04-01", "complete_on": "2025-10-31"}


class World:
    def __init__(self, login_as):
        self.officer = login_as("unit_officer", unit="wutong")

    def draft(self) -> int:
        r = self.officer.post("/api/admissions", json=BODY)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def submitted(self) -> int:
        admission_id = self.draft()
        assert self.officer.post(f"/api/admissions/{admission_id}/submit").status_code == 200
        return admission_id


CASES = [
    ("admission_create", OWN, 201, "post", "/api/admissions", BODY, None),
    ("admission_check", OWN, 200, "post", "/api/admissions/check", BODY, None),
    ("admission_update", OWN, 200, "patch", "/api/admissions/{0}", {**BODY, "far": 2.4}, "draft"),
    ("admission_submit", OWN, 200, "post", "/api/admissions/{0}/submit", None, "draft"),
    ("admission_approve", REVIEW, 200, "post", "/api/admissions/{0}/approve", {"comment": "同意"}, "submitted"),
    ("admission_return", REVIEW, 200, "post", "/api/admissions/{0}/return", {"comment": "补充"}, "submitted"),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "allowed", "ok", "method", "path", "body", "setup"), CASES, ids=[c[0] for c in CASES])
def test_matrix(name, allowed, ok, method, path, body, setup, actor, login_as, db_session, settings, stack):  # noqa: F811
    world = World(login_as)
    arg = getattr(world, setup)() if setup else None
    client = _client(actor, login_as, settings, db_session, stack)
    r = getattr(client, method)(path.format(arg), json=body, headers={"If-Match": "*"})
    expected = 401 if actor == "anonymous" else ok if actor in allowed else 403
    assert r.status_code == expected, f"{name} as {actor}: {r.status_code} {r.text[:300]}"
    if expected in (401, 403):
        assert r.json()["code"] in {"unauthenticated", "forbidden", "separation_of_duties"}
        assert r.json()["detail"]


@pytest.mark.parametrize("actor", ACTORS)
def test_who_reads_which_applications(actor, login_as, db_session, settings, stack):  # noqa: F811
    world = World(login_as)
    draft, sent = world.draft(), world.submitted()
    client = _client(actor, login_as, settings, db_session, stack)
    r = client.get("/api/admissions")
    if actor == "anonymous":
        assert r.status_code == 401
        return
    assert r.status_code == 200, r.text
    seen = {row["id"] for row in r.json()["data"]}
    sees_draft = actor in {"officer", "admin"}
    sees_sent = actor != "other_officer"
    assert (draft in seen) == sees_draft and (sent in seen) == sees_sent, (actor, seen)
    assert client.get(f"/api/admissions/{sent}").status_code == (200 if sees_sent else 404)
    assert client.get("/api/admissions/export.xlsx").status_code == 200
