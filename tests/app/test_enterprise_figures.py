"""一库: the departments' yearly figures on real PostGIS — the sheet (kind=figures), the JSON of a department's
system with a figures key, one enterprise's figures with their history, and what was in force at a time.

The year used here (2031) has no demo figures, so every count is this test's own.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.core.uow import unit_of_work
from app.enterprises.figures import FIELD_LABELS, figures_in_force
from app.enterprises.models import FIGURE_FIELDS, EnterpriseFigure
from app.enterprises.schemas import EnterpriseFigures, FiguresImport
from app.models import Enterprise
from app.ogc import apikeys
from tests.app.test_enterprise_register import code, wrong_check
from tests.app.test_enterprise_register import gbk_csv as register_csv
from tests.app.test_enterprise_register import xlsx as register_xlsx

URL = "/api/enterprises/imports"
JSON_URL = "/api/enterprises/figures"
YEAR = 2031


@pytest.fixture()
def clerk(login_as):
    return login_as("gis_staff")


def enterprises(session, n: int) -> list[Enterprise]:
    with unit_of_work(session):
        return list(session.scalars(select(Enterprise).where(Enterprise.credit_code.is_not(None))
                                    .order_by(Enterprise.id).limit(n)))


def gbk_csv(header: list[str], rows: list[list]) -> bytes:
    return register_csv(rows, header)


def xlsx(header: list[str], rows: list[list]) -> bytes:
    return register_xlsx(rows, header)


def stage(client, data: bytes, name: str, department: str = "税务局", year: int = YEAR):
    return client.post(URL, data={"kind": "figures", "year": str(year), "department": department},
                       files={"file": (name, data, "application/octet-stream")})


def current(session, ent_id: int, field: str = "tax_10k") -> list[EnterpriseFigure]:
    with unit_of_work(session):
        return list(session.scalars(select(EnterpriseFigure).where(
            EnterpriseFigure.enterprise_id == ent_id, EnterpriseFigure.year == YEAR,
            EnterpriseFigure.field == field).order_by(EnterpriseFigure.id)))


def count_figures(session) -> int:
    with unit_of_work(session):
        return session.scalar(select(func.count()).select_from(EnterpriseFigure).where(EnterpriseFigure.year == YEAR))


def messages(report: dict, row: int) -> str:
    return "；".join(p["message"] for r in report["rows"] if r["row"] == row for p in r["problems"])


def test_labels_cover_every_field():
    assert set(FIELD_LABELS) == set(FIGURE_FIELDS) and FIELD_LABELS["tax_10k"] == "税收（万元）"
    assert tuple(apikeys.FIGURE_FIELDS) == FIGURE_FIELDS


def test_a_tax_sheet_is_refused_row_by_row_then_committed_and_changes_supersede(clerk, db_session):
    a, b, c, d = enterprises(db_session, 4)
    header = ["统一社会信用代码", "纳税人名称", "税收实际贡献（万元）"]
    bad = [[a.credit_code, a.name, "1,234.5"],
           [wrong_check(b.credit_code), b.name, "88"],  # check digit
           [code(777_001), "不在库中的企业", "12"],  # unknown in the register
           [a.credit_code, a.name, "5"],  # duplicate of row 2
           [c.credit_code, c.name, "很多"],  # not a number
           [d.credit_code, d.name, "-3"],  # negative
           [b.credit_code, b.name, ""]]  # blank: no figure (not zero)
    r = stage(clerk, gbk_csv(header, bad), "2031-税务局-税收.csv")
    assert r.status_code == 201, r.text
    report = FiguresImport.model_validate(r.json()).model_dump()
    assert report["encoding"] == "gbk" and report["year"] == YEAR and report["departments"] == {"tax_10k": "税务局"}
    assert report["mapping"] == {"credit_code": "统一社会信用代码", "name": "纳税人名称", "tax_10k": "税收实际贡献（万元）"}
    assert {r["row"] for r in report["rows"] if r["action"] == "refused"} == {3, 4, 5, 6, 7}
    assert "校验位" in messages(report, 3)
    assert f"统一社会信用代码 {code(777_001)} 不在企业库中" in messages(report, 4)
    assert "与第 2 行重复" in messages(report, 5)
    assert "第 6 行“税收实际贡献（万元）”：“很多”不是数字" in messages(report, 6)
    assert "不能为负数" in messages(report, 7)
    row2 = next(x for x in report["rows"] if x["row"] == 2)
    assert row2["changes"] == [{"field": "tax_10k", "label": "税收（万元）", "old": None, "new": "1234.5", "kind": "new",
                                "department": "税务局"}]
    assert next(x for x in report["rows"] if x["row"] == 8)["changes"] == []
    assert not report["can_commit"]
    refused = clerk.post(f"{URL}/{report['id']}/commit")
    assert refused.status_code == 422 and "未导入任何数据" in refused.json()["detail"]
    assert {e["feature"] for e in refused.json()["errors"]} == {3, 4, 5, 6, 7}
    assert count_figures(db_session) == 0

    good = [[a.credit_code, a.name, "1,234.5"], [b.credit_code, b.name, "88"], [c.credit_code, c.name, "0"],
            [d.credit_code, d.name, ""]]
    r = stage(clerk, gbk_csv(header, good), "2031-税务局-税收.csv")
    assert r.json()["can_commit"] and r.json()["counts"] == {"rows": 4, "refused": 0, "new": 3, "changed": 0,
                                                            "unchanged": 0}
    done = clerk.post(f"{URL}/{r.json()['id']}/commit")
    assert done.status_code == 200, done.text
    assert done.json() == {"id": r.json()["id"], "year": YEAR, "new": 3, "changed": 0, "unchanged": 0}
    assert clerk.post(f"{URL}/{r.json()['id']}/commit").status_code == 409
    again = clerk.get(f"{URL}/{r.json()['id']}").json()
    assert again["status"] == "committed" and again["outcome"] == {"new": 3, "changed": 0, "unchanged": 0}
    first = current(db_session, a.id)
    assert [f.value for f in first] == [Decimal("1234.5")] and first[0].department == "税务局"
    assert first[0].recorded_by.endswith("gis_staff") and str(first[0].import_id) == r.json()["id"]

    # The first figures a while ago: a changed value then supersedes them, an unchanged one is not rewritten.
    with unit_of_work(db_session):
        db_session.execute(text("UPDATE enterprise_figures SET recorded_at = recorded_at - interval '2 hours'"
                                " WHERE year = :y"), {"y": YEAR})
        hour_ago = db_session.scalar(select(func.now() - text("interval '1 hour'")))
    changed = [[a.credit_code, a.name, "1300"], [b.credit_code, b.name, "88.0"]]
    r = stage(clerk, gbk_csv(header, changed), "2031-税务局-税收（更正）.csv")
    rows = {x["row"]: x for x in r.json()["rows"]}
    assert rows[2]["action"] == "write" and rows[2]["changes"][0]["old"] == "1234.5" and \
        rows[2]["changes"][0]["kind"] == "changed"
    assert rows[3]["action"] == "unchanged"
    done = clerk.post(f"{URL}/{r.json()['id']}/commit")
    assert done.json()["changed"] == 1 and done.json()["unchanged"] == 1 and done.json()["new"] == 0
    history = current(db_session, a.id)
    assert [f.value for f in history] == [Decimal("1234.5"), Decimal("1300")]
    assert history[0].superseded_at is not None and history[1].superseded_at is None
    assert len(current(db_session, b.id)) == 1  # unchanged: not rewritten
    with unit_of_work(db_session):
        past = figures_in_force(db_session, YEAR, hour_ago)
        now = figures_in_force(db_session, YEAR)
    assert past[a.id]["tax_10k"].value == Decimal("1234.5") and now[a.id]["tax_10k"].value == Decimal("1300")
    assert now[a.id]["tax_10k"].source == "导入文件“2031-税务局-税收（更正）.csv”"
    # Nothing new: a third identical file has nothing to import.
    r = stage(clerk, gbk_csv(header, changed), "same.csv")
    assert not r.json()["can_commit"] and clerk.post(f"{URL}/{r.json()['id']}/commit").status_code == 409

    # The enterprise's figures: label, current value, department, source, history.
    shown = clerk.get(f"/api/enterprises/{a.credit_code}/figures", params={"year": YEAR})
    assert shown.status_code == 200, shown.text
    body = EnterpriseFigures.model_validate(shown.json()).model_dump()
    tax = next(f for f in body["fields"] if f["field"] == "tax_10k")
    assert tax["label"] == "税收（万元）" and tax["current"]["value"] == "1300" and tax["current"]["department"] == "税务局"
    assert [h["value"] for h in tax["history"]] == ["1234.5"] and YEAR in body["years"]
    assert clerk.get(f"/api/enterprises/{code(777_002)}/figures").status_code == 404


def test_a_statistics_workbook_with_columns_of_two_departments(clerk, db_session):
    a, b = enterprises(db_session, 2)
    header = ["统一社会信用代码", "企业名称", "营业收入（万元）", "工业增加值", "综合能耗（吨标准煤）", "R&D经费支出",
              "年平均职工人数", "安全生产扣分", "说明"]
    rows = [[a.credit_code, a.name, 5000, 1200.5, 300, 80, 120, -2, "2031年发生一般事故一起"],
            [b.credit_code, b.name, 800, None, None, None, 15, None, None]]
    r = stage(clerk, xlsx(header, rows), "2031-统计局-主要指标.xlsx", department="统计局")
    assert r.status_code == 201, r.text
    assert set(r.json()["mapping"]) == {"credit_code", "name", "revenue_10k", "value_added_10k", "energy_tce", "rd_10k",
                                        "employees", "safety_points", "note"}
    bad = clerk.put(f"{URL}/{r.json()['id']}/mapping", json={"mapping": {}, "departments": {"tax": "税务局"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "departments.tax"
    r = clerk.put(f"{URL}/{r.json()['id']}/mapping",
                  json={"mapping": {}, "departments": {"employees": "人社局", "safety_points": "应急管理局"}})
    assert r.status_code == 200, r.text
    assert r.json()["departments"]["employees"] == "人社局" and r.json()["departments"]["revenue_10k"] == "统计局"
    assert r.json()["counts"]["new"] == 8
    assert clerk.post(f"{URL}/{r.json()['id']}/commit").status_code == 200
    safety = current(db_session, a.id, "safety_points")[0]
    assert safety.value == Decimal(-2) and safety.department == "应急管理局" and safety.note == "2031年发生一般事故一起"
    assert current(db_session, b.id, "employees")[0].department == "人社局"
    assert current(db_session, b.id, "energy_tce") == []


def test_points_bounds_and_a_column_in_yuan(clerk, db_session):
    a, b, c = enterprises(db_session, 3)
    header = ["统一社会信用代码", "安全生产扣分", "科技创新加分"]
    r = stage(clerk, gbk_csv(header, [[a.credit_code, "3", "-1"], [b.credit_code, "-101", "5"], [c.credit_code, "", "1e13"]]),
              "points.csv", department="应急管理局")
    report = r.json()
    assert "扣分应填 0 或负数" in messages(report, 2) and "加分应填 0 或正数" in messages(report, 2)
    assert "超出范围" in messages(report, 3) and "超出范围" in messages(report, 4)
    r = stage(clerk, gbk_csv(["统一社会信用代码", "税收（元）"], [[a.credit_code, "12345678"]]), "tax.csv")
    assert r.status_code == 201 and r.json()["mapping"]["tax_10k"] == "税收（元）"
    assert any("“税收（元）”列的单位与系统不符" in m for m in r.json()["mapping_problems"]) and not r.json()["can_commit"]
    refused = clerk.post(f"{URL}/{r.json()['id']}/commit")
    assert refused.status_code == 422 and "税收（元）" in refused.json()["detail"]
    assert stage(clerk, gbk_csv(header, [[a.credit_code, "-1", "1"]]), "x.csv", year=1999).status_code == 422
    r = stage(clerk, gbk_csv(header, [[a.credit_code, "-1", "1"]]), "x.csv", department=" ")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "department"
    assert count_figures(db_session) == 0


def _key(session, scope: str = "figures_write", department: str | None = "供电公司",
         fields: list[str] | None = None, rate: int = 600) -> str:
    with unit_of_work(session):
        return apikeys.create_key(session, f"{department or '只读'} 系统", rate, scope=scope, department=department,
                                  figure_fields=fields).key


def test_json_from_a_department_system(client, login_as, db_session):
    a, b, c = enterprises(db_session, 3)
    key = _key(db_session, fields=["electricity_10k_kwh", "employees"])
    body = {"year": YEAR, "rows": [{"credit_code": a.credit_code, "electricity_10k_kwh": 120.5},
                                   {"credit_code": b.credit_code, "electricity_10k_kwh": "1,000", "employees": 40}]}
    r = client.post(JSON_URL, json=body, headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    assert r.json() == {"year": YEAR, "department": "供电公司", "rows": 2, "new": 3, "changed": 0, "unchanged": 0}
    with unit_of_work(db_session):
        got = figures_in_force(db_session, YEAR)
    assert got[b.id]["electricity_10k_kwh"].value == Decimal(1000)
    assert got[a.id]["electricity_10k_kwh"].source == "接口报送（供电公司 系统）"

    # Row errors: 422 naming rows[i].field in Chinese, nothing written.
    bad = {"year": YEAR, "rows": [{"credit_code": a.credit_code, "electricity_10k_kwh": 130},
                                  {"credit_code": c.credit_code, "electricity_10k_kwh": "abc"},
                                  {"credit_code": code(777_003), "employees": -1}]}
    r = client.post(JSON_URL, json=bad, headers={"X-API-Key": key})
    assert r.status_code == 422, r.text
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["rows[1].electricity_10k_kwh"].startswith("第 2 行 用电量：")
    assert "rows[2].credit_code" in fields and "rows[2].employees" in fields
    with unit_of_work(db_session):
        assert figures_in_force(db_session, YEAR)[a.id]["electricity_10k_kwh"].value == Decimal("120.5")

    # A field outside the key's list, a read-only key, no key, a bad key, a bad year.
    r = client.post(JSON_URL, json={"year": YEAR, "rows": [{"credit_code": a.credit_code, "tax_10k": 1}]},
                    headers={"X-API-Key": key})
    assert r.status_code == 403 and "税收" in r.json()["detail"]
    reader = _key(db_session, scope="ogc_read", department=None)
    r = client.post(JSON_URL, json=body, headers={"X-API-Key": reader})
    assert r.status_code == 403 and "只能读取" in r.json()["detail"]
    assert client.post(JSON_URL, json=body).status_code == 401
    assert client.post(JSON_URL, json=body, headers={"X-API-Key": key[:-3] + "xyz"}).status_code == 401
    r = client.post(JSON_URL, json={**body, "year": 1900}, headers={"X-API-Key": key})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    r = client.post(JSON_URL, content=b"{not json", headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert r.status_code == 422
    r = client.post(JSON_URL, content=b" " * (5 * 1024 * 1024 + 1), headers={"X-API-Key": key})
    assert r.status_code == 413

    # An admin may send it too (department in the body); a planner may not.
    admin = login_as("admin")
    r = admin.post(JSON_URL, json={"year": YEAR, "rows": [{"credit_code": c.credit_code, "tax_10k": 9}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "department"
    r = admin.post(JSON_URL, json={"year": YEAR, "department": "税务局",
                                   "rows": [{"credit_code": c.credit_code, "tax_10k": 9}]})
    assert r.status_code == 200 and r.json()["new"] == 1
    assert login_as("planner").post(JSON_URL, json=body).status_code == 403


def test_a_unit_officer_reads_only_the_enterprises_of_the_unit(login_as, db_session):
    with unit_of_work(db_session):
        rows = db_session.execute(text(
            "SELECT e.credit_code, u.code FROM enterprises e JOIN parcels p ON p.enterprise_id = e.id"
            " JOIN units u ON u.id = p.unit_id WHERE e.credit_code IS NOT NULL ORDER BY e.id")).all()
    ours = next(c for c, u in rows if u == "chongfu")
    theirs = next(c for c, u in rows if u != "chongfu" and all(c2 != c or u2 != "chongfu" for c2, u2 in rows))
    officer = login_as("unit_officer", unit="chongfu")
    assert officer.get(f"/api/enterprises/{ours}/figures").status_code == 200
    r = officer.get(f"/api/enterprises/{theirs}/figures")
    assert r.status_code == 403 and "不在本单位" in r.json()["detail"]
    assert login_as("planner").get(f"/api/enterprises/{theirs}/figures").status_code == 200
    assert login_as("planner").post(URL, data={"kind": "figures"}).status_code == 403


def test_in_force_at_a_time_is_recorded_by_then_and_not_yet_superseded(db_session):
    (a,) = enterprises(db_session, 1)
    t0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with unit_of_work(db_session):
        db_session.add_all([
            EnterpriseFigure(enterprise_id=a.id, year=YEAR, field="employees", value=10, department="人社局",
                             recorded_by="t", recorded_at=t0, superseded_at=t0 + dt.timedelta(days=10)),
            EnterpriseFigure(enterprise_id=a.id, year=YEAR, field="employees", value=12, department="人社局",
                             recorded_by="t", recorded_at=t0 + dt.timedelta(days=10)),
        ])
    with unit_of_work(db_session):
        assert figures_in_force(db_session, YEAR, t0 - dt.timedelta(days=1)) == {}
        assert figures_in_force(db_session, YEAR, t0 + dt.timedelta(days=5))[a.id]["employees"].value == 10
        assert figures_in_force(db_session, YEAR, t0 + dt.timedelta(days=10))[a.id]["employees"].value == 12
        assert figures_in_force(db_session, YEAR, None, [a.id + 100_000]) == {}


def test_a_figures_key_has_its_rate_limit(client, db_session):
    (a,) = enterprises(db_session, 1)
    key = _key(db_session, department="统计局", rate=1)
    body = {"year": YEAR, "rows": [{"credit_code": a.credit_code, "revenue_10k": 10}]}
    assert client.post(JSON_URL, json=body, headers={"X-API-Key": key}).status_code == 200
    r = client.post(JSON_URL, json=body, headers={"X-API-Key": key})
    assert r.status_code == 429 and "每分钟最多 1 次" in r.json()["detail"]


def test_a_value_with_more_decimals_than_stored_is_unchanged_when_sent_again(client, db_session):
    (a,) = enterprises(db_session, 1)
    key = _key(db_session, department="统计局")
    body = {"year": YEAR, "rows": [{"credit_code": a.credit_code, "revenue_10k": 10.123456}]}
    assert client.post(JSON_URL, json=body, headers={"X-API-Key": key}).json()["new"] == 1
    assert client.post(JSON_URL, json=body, headers={"X-API-Key": key}).json()["unchanged"] == 1
    assert current(db_session, a.id, "revenue_10k")[0].value == Decimal("10.1235")
