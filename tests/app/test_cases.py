"""典型案例 (issue 19 part 5): one 现场会 block per quarter, its photos checked, the list and its export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app.subsidies.demo import _png
from tests.browser.words import workbook_offending

TEST_ACCOUNTS = ("test_", "unit_officer_")  # the fixtures' account names (demo accounts have Chinese names)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture()
def admin(login_as):
    return login_as("admin")


def _form(year=2024, quarter=1, block="TX2022-WT-01", held_on="2024-03-20", notes="梧桐百桃工业区块腾退整治经验交流"):
    """The fields as multipart parts (as the page's FormData sends them, with or without photos)."""
    return [(k, (None, v)) for k, v in {"year": str(year), "quarter": str(quarter), "block": block,
                                        "held_on": held_on, "notes": notes}.items()]


def test_one_block_per_quarter_with_photos(admin, login_as):
    r = admin.post("/api/cases", files=_form() + [("photos", ("现场.png", _png(), "image/png"))])
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["label"], case["block_name"], len(case["photos"])) == ("2024 年第 1 季度", "梧桐百桃工业区块", 1)
    photo = admin.get(case["photos"][0]["url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    # a second block for the same quarter
    r = admin.post("/api/cases", files=_form(block="TX2022-CF-02"))
    assert r.status_code == 409 and "2024 年第 1 季度" in r.json()["detail"] and "只能有一个" in r.json()["detail"], r.text
    # every signed-in role reads the list; the block panel asks by block
    planner = login_as("planner")
    listed = planner.get("/api/cases", params={"block": "TX2022-WT-01"}).json()["data"]
    assert [c["id"] for c in listed] == [case["id"]]
    assert planner.post("/api/cases", files=_form(quarter=2, held_on="2024-05-01")).status_code == 403
    # notes changed with If-Match; a stale one is 409
    etag = admin.get(f"/api/cases/{case['id']}").headers["ETag"]
    r = admin.patch(f"/api/cases/{case['id']}", json={"notes": "补充：统一规划标准厂房"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["notes"] == "补充：统一规划标准厂房"
    r = admin.patch(f"/api/cases/{case['id']}", json={"notes": "再改"}, headers={"If-Match": etag})
    assert r.status_code == 409
    # the block corrected (the quarter keeps one)
    etag = admin.get(f"/api/cases/{case['id']}").headers["ETag"]
    r = admin.patch(f"/api/cases/{case['id']}", json={"block": "TX2022-CF-02"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["block_name"] == "崇福石马区块"
    r = admin.patch(f"/api/cases/{case['id']}", json={"block": "TX-无"}, headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 422 and "TX-无" in r.json()["detail"]
    r = admin.patch(f"/api/cases/{case['id']}", json={"block": "TX2022-WT-01"}, headers={"If-Match": "*"})
    assert r.status_code == 200
    # more photos, the version moving with them
    etag = admin.get(f"/api/cases/{case['id']}").headers["ETag"]
    r = admin.post(f"/api/cases/{case['id']}/photos", files=[("photos", ("二.png", _png(), "image/png"))],
                   headers={"If-Match": etag})
    assert r.status_code == 200 and len(r.json()["photos"]) == 2 and r.headers["ETag"] != etag
    # the export
    r = planner.get("/api/cases/export.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content))["典型案例"]
    assert [w for w in workbook_offending(r.content) if not w.startswith(TEST_ACCOUNTS)] == []
    assert any(c.value == "梧桐百桃工业区块" for row in ws.iter_rows() for c in row)


def test_photo_and_field_checks(admin):
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01")
                   + [("photos", ("方案.pdf", PDF, "application/pdf"))])
    assert r.status_code == 415 and "方案.pdf" in r.json()["detail"] and "JPEG 或 PNG" in r.json()["detail"]
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01")
                   + [("photos", ("假图.png", b"not an image at all", "image/png"))])
    assert r.status_code == 415
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01")
                   + [("photos", ("空.png", b"", "image/png"))])
    assert r.status_code == 422
    big = _png() + b"\0" * (10 * 1048576)
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01") + [("photos", ("大.png", big, "image/png"))])
    assert r.status_code == 413
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-05-01"))
    assert r.status_code == 422 and "不在 2024 年第 3 季度内" in r.json()["detail"]
    r = admin.post("/api/cases", files=_form(quarter=5, held_on="2024-08-01"))
    assert r.status_code == 422 and "季度" in r.json()["detail"]
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01", block="TX-无此区块"))
    assert r.status_code == 422 and "TX-无此区块" in r.json()["detail"]
    r = admin.post("/api/cases", files=_form(quarter=3, held_on="2024-08-01", notes=""))
    assert r.status_code == 422
    # nothing of the refused forms was stored
    assert all(c["quarter"] != 3 or c["year"] != 2024 for c in admin.get("/api/cases").json()["data"])
