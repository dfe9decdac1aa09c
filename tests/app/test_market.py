"""转让与租赁 (real PostGIS): records in renewal blocks, their flags as of their date, the referral to 十剑联动 in
one action, 登记为厂中厂, the sheet import (all or nothing, rows named), If-Match, who reads what."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.core.models import AuditEntry
from app.models import Enterprise, Parcel
from app.workflow.models import EnforcementReferral, Tenant
from tests.app.workflow_site import FOUR, SIDE_M, credit_code, make_site
from tests.browser.words import workbook_offending

TODAY = dt.date.today().isoformat()
LESSEE_CODE = credit_code(4_400_001)


def _approved_block(login_as, db_session, guidance=("C17",)):
    """A wutong block approved today (its version in force from today) with 产业导向 C17."""
    officer = login_as("unit_officer", unit="wutong")
    admin = login_as("admin")
    parcels = make_site(db_session, "wutong", "WT-MK", [(0, 0), (SIDE_M, 0)])
    r = officer.post("/api/plans", json={"code": "TX2023-WT-MK", "name": "转让区块", "year": 2023, "parcels": parcels,
                                         "industry_guidance": list(guidance), **FOUR})
    assert r.status_code == 201, r.text
    r = officer.post("/api/plans/TX2023-WT-MK/submit")
    assert r.status_code == 200, r.text
    r = admin.post("/api/plans/TX2023-WT-MK/approve", json={"doc_no": "桐有更〔2023〕9号", "approval_date": TODAY})
    assert r.status_code == 200, r.text
    owner = db_session.scalar(select(Parcel).where(Parcel.code == parcels[0])).enterprise
    return officer, admin, parcels, owner


def _lease(parcel, owner, **extra):
    return {"kind": "lease", "parcels": [parcel], "signed_on": TODAY, "from_name": owner.name,
            "from_credit_code": owner.credit_code, "to_name": "桐乡某某经编厂", "to_credit_code": LESSEE_CODE,
            "lease_start": TODAY, "area_m2": 1200, "area_basis": "floor", "rent_yuan_per_m2_year": 180,
            "industry_code": "C1761", **extra}


def test_lease_from_a_clear_out_enterprise_is_flagged_and_referred_in_one_action(login_as, db_session):
    officer, admin, parcels, owner = _approved_block(login_as, db_session)
    r = admin.put(f"/api/enterprises/{owner.credit_code}/classification",
                  json={"classification": "clear_out", "reason": "亩均税收低于 1 万元", "decided_on": "2023-02-01"})
    assert r.status_code == 200, r.text
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner))
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["parcels"][0]["block_code"]
    kinds = {f["kind"]: f for f in record["flags"]}
    assert set(kinds) == {"clear_out", "unregistered_tenant"}  # C1761 is within C17: no industry flag
    flag = kinds["clear_out"]
    assert owner.name in flag["text"] and "整治清退" in flag["text"] and flag["status"] == "open" and flag["can_refer"]
    r = officer.post(f"/api/market/flags/{flag['id']}/refer", json={})
    assert r.status_code == 200, r.text
    after = {f["kind"]: f for f in r.json()["flags"]}["clear_out"]
    assert after["status"] == "referred" and after["status_label"] == "已移交十剑联动" and not after["can_refer"]
    ref = db_session.get(EnforcementReferral, after["referral_id"])
    assert ref.enterprise_id == owner.id and owner.name in ref.reason and f"第 {record['id']} 号" in ref.reason
    audited = db_session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"market:{record['id']}"))
    assert {"market_create", "market_refer"} <= set(audited)
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "refer",
                                                         AuditEntry.object_type == "enforcement_referrals"))
    r = officer.post(f"/api/market/flags/{flag['id']}/refer", json={})
    assert r.status_code == 409 and r.json()["detail"] == "该预警已移交十剑联动"
    listed = admin.get("/api/market/records", params={"flagged": "true", "block": "TX2023-WT-MK"}).json()
    assert listed["count"] == 1 and listed["flagged"] == 1
    geo = {f["properties"]["code"]: f for f in officer.get("/api/market/flags").json()["features"]}
    assert parcels[0] in geo and parcels[1] not in geo
    assert geo[parcels[0]]["properties"]["open_count"] == 1  # the 厂中厂 flag is still open


def test_lessee_outside_the_blocks_guidance_and_unregistered_tenant(login_as, db_session):
    officer, _admin, parcels, owner = _approved_block(login_as, db_session)
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner, industry_code="c26.14"))
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["industry_code"] == "C2614"
    flags = {f["kind"]: f for f in record["flags"]}
    assert set(flags) == {"industry", "unregistered_tenant"}
    assert "桐乡某某经编厂" in flags["industry"]["text"] and "C2614" in flags["industry"]["text"] \
        and "C17" in flags["industry"]["text"] and parcels[0] in flags["industry"]["text"]
    assert parcels[0] in flags["unregistered_tenant"]["text"] and flags["unregistered_tenant"]["can_register"]
    # 登记为厂中厂 in one action: the tenant made from the lease, linked to it
    r = officer.post(f"/api/market/records/{record['id']}/tenant", json={"business": "经编"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["tenants"][0]["lessee"] == "桐乡某某经编厂"
    assert {f["kind"]: f for f in out["flags"]}["unregistered_tenant"]["status"] == "registered"
    tenant = db_session.get(Tenant, out["tenants"][0]["id"])
    assert tenant.lease_id == record["id"] and tenant.credit_code == LESSEE_CODE and float(tenant.leased_area_m2) == 1200
    tenants = officer.get("/api/tenants", params={"parcel": parcels[0]}).json()["data"]
    assert tenants[0]["lease_id"] == record["id"]
    r = officer.post(f"/api/market/records/{record['id']}/tenant", json={})
    assert r.status_code == 409
    # a second lease to the now registered lessee raises no 厂中厂 flag
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner))
    assert [f["kind"] for f in r.json()["flags"]] == []


def test_refused_inputs_name_the_field(login_as, db_session):
    officer, _admin, parcels, owner = _approved_block(login_as, db_session)
    outside = make_site(db_session, "wutong", "WT-MO", [(5 * SIDE_M, 0)])
    r = officer.post("/api/market/records", json=_lease(outside[0], owner))
    assert r.status_code == 400 and "不在任何已认定的连片改造区块内" in r.json()["detail"]
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner, to_credit_code="91330483MA2B00000A"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "to_credit_code" and "承租方" in r.json()["detail"]
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner, industry_code="Z99"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "industry_code"
    r = officer.post("/api/market/records", json={**_lease(parcels[0], owner), "kind": "land_transfer"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"lease_start", "rent_yuan_per_m2_year"}
    other = login_as("unit_officer", unit="chongfu")
    r = other.post("/api/market/records", json=_lease(parcels[0], owner))
    assert r.status_code == 403 and "本单位" in r.json()["detail"]


def test_if_match_409_and_readers(login_as, db_session):
    officer, admin, parcels, owner = _approved_block(login_as, db_session)
    r = officer.post("/api/market/records", json=_lease(parcels[0], owner))
    rid, etag = r.json()["id"], r.headers["ETag"]
    r = officer.patch(f"/api/market/records/{rid}", json={"note": "第一次"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    r = admin.patch(f"/api/market/records/{rid}", json={"note": "第二次"}, headers={"If-Match": etag})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = admin.patch(f"/api/market/records/{rid}", json={"note": "第二次"})
    assert r.status_code == 428
    r = admin.patch(f"/api/market/records/{rid}", json={"parcels": None}, headers={"If-Match": "*"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "parcels"
    r = admin.patch(f"/api/market/records/{rid}", json={"area_m2": "999999999999.99", "rent_yuan_per_m2_year": 1e9},
                    headers={"If-Match": "*"})
    assert r.status_code == 422
    assert login_as("planner").get(f"/api/market/records/{rid}").status_code == 200
    assert login_as("gis_staff").get("/api/market/records").status_code == 403
    other = login_as("unit_officer", unit="chongfu")
    assert other.get(f"/api/market/records/{rid}").status_code == 403
    assert other.get("/api/market/records", params={"parcel": parcels[0]}).json()["count"] == 0
    assert other.get("/api/market/records", params={"unit": "wutong"}).status_code == 403


def test_a_past_records_flags_stay_as_of_its_date(login_as, db_session):
    """Demo block TX2022-CF-01 (approved 2022-04-18): a lease signed on 2023-06-01 from an enterprise classified
    整治清退 on 2023-02-01 is flagged; the enterprise reclassified 改造提升 on 2023-09-01 leaves that flag as it was —
    even when the record is edited later — and a lease signed after it raises none."""
    officer = login_as("unit_officer", unit="chongfu")
    admin = login_as("admin")
    parcel = db_session.scalar(select(Parcel).where(Parcel.code == "330483-CF-0001"))
    owner = parcel.enterprise
    assert admin.put(f"/api/enterprises/{owner.credit_code}/classification", json={
        "classification": "clear_out", "reason": "低效", "decided_on": "2023-02-01"}).status_code == 200
    body = {"kind": "factory_transfer", "parcels": [parcel.code], "signed_on": "2023-06-01", "from_name": owner.name,
            "from_credit_code": owner.credit_code, "to_name": "桐乡某某新材料有限公司", "price_10k_yuan": 1350}
    r = officer.post("/api/market/records", json=body)
    assert r.status_code == 201, r.text
    rid, etag = r.json()["id"], r.headers["ETag"]
    assert [f["kind"] for f in r.json()["flags"]] == ["clear_out"] and "2023-02-01" in r.json()["flags"][0]["text"]
    gov = admin.get(f"/api/enterprises/{owner.credit_code}")
    assert admin.put(f"/api/enterprises/{owner.credit_code}/classification", headers={"If-Match": gov.headers["ETag"]},
                     json={"classification": "upgrade", "reason": "已整改", "decided_on": "2023-09-01"}).status_code == 200
    assert [f["kind"] for f in officer.get(f"/api/market/records/{rid}").json()["flags"]] == ["clear_out"]
    r = officer.patch(f"/api/market/records/{rid}", json={"note": "补充合同编号"}, headers={"If-Match": etag})
    assert r.status_code == 200 and [f["kind"] for f in r.json()["flags"]] == ["clear_out"]
    r = officer.post("/api/market/records", json={**body, "signed_on": "2023-10-01"})
    assert r.status_code == 201 and r.json()["flags"] == []


def _sheet(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["类型", "宗地编号", "签订日期", "出租方", "承租方", "承租方统一社会信用代码", "租赁面积（平方米）",
               "面积类型", "租金（元/平方米·年）", "行业代码", "备注"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_is_all_or_nothing_with_row_errors(login_as, db_session):
    officer, _admin, parcels, owner = _approved_block(login_as, db_session)
    good = ["出租", parcels[0], TODAY, owner.name, "桐乡某某织造厂", "", 800, "建筑面积", 150, "C1751", ""]
    bad = ["租赁", "WT-NOPE-1", "2023/13/01", owner.name, "", "", "abc", "", "", "", ""]
    files = {"file": ("转让租赁.xlsx", _sheet([good, bad]),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    r = officer.post("/api/market/imports?dry_run=true", files=files)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["refused"] == 1 and not report["can_commit"] and report["created"] == 0
    assert report["rows"][0]["problems"] == [] and any("厂中厂" in f for f in report["rows"][0]["flags"])
    problems = report["rows"][1]["problems"]
    assert all(p.startswith("第 3 行：") for p in problems)
    assert any("签订日期" in p for p in problems) and any("承租方" in p for p in problems)
    r = officer.post("/api/market/imports?dry_run=false", files=files)
    assert r.status_code == 422 and "第 3 行" in r.json()["detail"]
    assert r.json()["errors"][0]["feature"] == 3
    mine = {"block": "TX2023-WT-MK"}
    assert officer.get("/api/market/records", params=mine).json()["count"] == 0  # nothing written
    files = {"file": ("转让租赁.xlsx", _sheet([good]), "application/octet-stream")}
    r = officer.post("/api/market/imports?dry_run=false", files=files)
    assert r.status_code == 200 and r.json()["created"] == 1, r.text
    assert officer.get("/api/market/records", params=mine).json()["count"] == 1
    csv = ("类型,宗地编号,签订日期,出租方,承租方\n出租," + parcels[1] + "," + TODAY + "," + owner.name + ",桐乡乙厂\n")
    r = officer.post("/api/market/imports?dry_run=true", files={"file": ("a.csv", csv.encode("gbk"), "text/csv")})
    assert r.status_code == 200 and r.json()["refused"] == 0, r.text


def test_template_and_export(login_as, db_session):
    officer, _admin, parcels, owner = _approved_block(login_as, db_session)
    officer.post("/api/market/records", json=_lease(parcels[0], owner))
    r = officer.get("/api/market/template.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.cell(4, 1).value == "类型" and ws.cell(4, 2).value == "宗地编号"
    assert workbook_offending(r.content) == []
    r = officer.get("/api/market/export.xlsx", params={"flagged": "true"})
    assert r.status_code == 200 and r.headers["X-Row-Count"] == "1"  # the demo's wutong record has no flag
    ws = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in ws[3]]
    row = [c.value for c in ws[4]]
    assert row[header.index("宗地编号")] == parcels[0] and "厂中厂" in row[header.index("预警")]
    assert workbook_offending(r.content) == []
    assert db_session.scalar(select(Enterprise.id).where(Enterprise.credit_code == LESSEE_CODE)) is None


def test_a_party_graded_d_in_the_evaluation_published_before_the_date(login_as, db_session):
    """The demo's 2023 evaluation, published on 2024-03-01, grades the owner of 330483-CF-0004 D: a transfer signed
    after that is flagged; one signed before it is not (the evaluation was not yet published)."""
    officer = login_as("unit_officer", unit="chongfu")
    parcel = db_session.scalar(select(Parcel).where(Parcel.code == "330483-CF-0004"))
    owner = parcel.enterprise
    body = {"kind": "land_transfer", "parcels": [parcel.code], "from_name": owner.name,
            "from_credit_code": owner.credit_code, "to_name": "桐乡某某置业有限公司", "price_10k_yuan": 900}
    r = officer.post("/api/market/records", json={**body, "signed_on": "2024-04-01"})
    assert r.status_code == 201, r.text
    flags = r.json()["flags"]
    assert [f["kind"] for f in flags] == ["grade_d"]
    assert owner.name in flags[0]["text"] and "2023 年度" in flags[0]["text"] and "D 档" in flags[0]["text"]
    assert flags[0]["can_refer"]  # every flag of a registered enterprise can go to 十剑联动, 整治清退 or not
    r = officer.post("/api/market/records", json={**body, "signed_on": "2024-02-01"})
    assert r.status_code == 201 and r.json()["flags"] == []
    # referred in one action although the owner is not classified 整治清退
    record = officer.get("/api/market/records?flagged=true").json()["data"]
    flag_id = next(f["id"] for rec in record for f in rec["flags"] if f["kind"] == "grade_d")
    r = officer.post(f"/api/market/flags/{flag_id}/refer", json={})
    assert r.status_code == 200, r.text
    assert [f["status"] for f in r.json()["flags"] if f["id"] == flag_id] == ["referred"], r.text
