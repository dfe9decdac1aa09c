"""亩均效益综合评价 as a service, on real PostGIS: configuration, frozen runs, 公示, 异议, 定档.

Each test evaluates a year of its own (2031…) for which it records departments' figures of a few demo
enterprises, so the seed's own figures and runs never interfere; every test's writes are rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

import evaluation as engine
from app.appraisal import service
from app.core.uow import unit_of_work
from app.enterprises.figures import figures_in_force
from app.enterprises.models import EnterpriseFigure
from app.models import Enterprise, Parcel, Unit

YEAR = 2031
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
TODAY = service.today()
EVIDENCE = [("files", ("说明.pdf", PDF, "application/pdf"))]


def _enterprises(session, unit_code: str, n: int) -> list[Enterprise]:
    """n demo enterprises whose land lies in the unit, the largest holders first (none utilities)."""
    land = func.sum(Parcel.land_area_mu)
    rows = session.execute(
        select(Enterprise).join(Parcel, Parcel.enterprise_id == Enterprise.id).join(Unit, Unit.id == Parcel.unit_id)
        .where(Unit.code == unit_code, Enterprise.credit_code.is_not(None))
        .group_by(Enterprise.id).order_by(land.desc(), Enterprise.credit_code).limit(n)).scalars().all()
    assert len(rows) == n
    return list(rows)


def _record(session, enterprise: Enterprise, year: int, department: str = "税务局", **values) -> None:
    with unit_of_work(session):
        for field, value in values.items():
            old = session.scalar(select(EnterpriseFigure).where(
                EnterpriseFigure.enterprise_id == enterprise.id, EnterpriseFigure.year == year,
                EnterpriseFigure.field == field, EnterpriseFigure.superseded_at.is_(None)))
            if old is not None:
                old.superseded_at = func.now()
                session.flush()
            session.add(EnterpriseFigure(enterprise_id=enterprise.id, year=year, field=field, value=Decimal(value),
                                         department=department, recorded_by="test"))


@pytest.fixture()
def firms(db_session):
    """Six enterprises of 崇福镇 with 规上 figures, the sixth in production only since 2030 (不参评)."""
    firms = _enterprises(db_session, "chongfu", 6)
    with unit_of_work(db_session):
        for k, e in enumerate(firms):
            e.scale, e.production_year, e.industry_code = None, 2030 if k == 5 else 2005, "C1713"
    for k, e in enumerate(firms):
        _record(db_session, e, YEAR, tax_10k=100 * (k + 1), revenue_10k=5000 + 100 * k, value_added_10k=900 + 50 * k,
                energy_tce=300, emission_t=4, employees=80, rd_10k=100)
    _record(db_session, firms[0], YEAR, "应急管理局", safety_points=-5)
    return firms


@pytest.fixture()
def admin(login_as):
    return login_as("admin")


@pytest.fixture()
def reviewer(login_as):
    return login_as("reviewer")


@pytest.fixture()
def officer(login_as):
    return login_as("unit_officer", "chongfu")


def _compute(admin, year: int = YEAR, note: str = "试算"):
    r = admin.post(f"/api/evaluation/{year}/runs", json={"note": note})
    assert r.status_code == 201, r.text
    return r.json()


def _publish(admin, run: dict, start: dt.date = TODAY, end: dt.date = TODAY + dt.timedelta(days=6)) -> dict:
    r = admin.post(f"/api/evaluation/runs/{run['id']}/publish", headers={"If-Match": f'"{run["version"]}"'},
                   json={"publicity_start": start.isoformat(), "publicity_end": end.isoformat()})
    assert r.status_code == 200, r.text
    return r.json()


def _land(session, e: Enterprise) -> Decimal:
    return session.scalar(select(func.sum(Parcel.land_area_mu)).where(Parcel.enterprise_id == e.id))


def test_a_run_equals_the_engine_on_the_same_inputs_and_explains_why(db_session, admin, firms):
    run = _compute(admin)
    assert run["status"] == "computed" and run["status_label"] == "试算"
    assert run["counts"]["enterprises"] == 6 and run["counts"]["graded"] == 5 and run["counts"]["not_graded"] == 1
    body = admin.get(f"/api/evaluation/{YEAR}").json()
    assert body["run"]["id"] == run["id"]
    by_code = {e["credit_code"]: e for e in body["enterprises"]}
    # the same inputs given to the pure engine by hand: the parcels' 亩, the figures, the minus point
    inputs = []
    for k, e in enumerate(firms):
        inputs.append(engine.Enterprise(
            e.credit_code, e.name, land_mu=_land(db_session, e), start_year=2030 if k == 5 else 2005,
            figures=engine.Figures(tax_10k=100 * (k + 1), revenue_10k=5000 + 100 * k, value_added_10k=900 + 50 * k,
                                   energy_tce=300, emission_t=4, employees=80, rd_10k=100),
            adjustments=(engine.Adjustment("safety", -5),) if k == 0 else ()))
    expected = engine.evaluate(inputs, engine.default_config(YEAR))
    for e in expected.enterprises:
        got = by_code[e.credit_code]
        assert got["grade"] == e.grade and got["rank"] == e.rank and got["reason"] == e.reason
        assert got["total"] == (None if e.total is None else f"{e.total:f}")
        assert got["unit_name"] == "崇福镇"
    # what a run keeps is what the engine reads back: the same objects
    kept, objects = service.build_inputs(db_session, YEAR, db_session.scalar(select(func.now())))
    assert [engine.enterprise_from_dict(v["input"]) for v in kept.values()] == objects
    new = by_code[firms[5].credit_code]
    assert new["grade"] is None and new["reason"] == "不参评：投产不满两年"
    first = by_code[firms[0].credit_code]
    assert any("安全生产减 5 分" in line for line in first["explanations"]), first["explanations"]
    assert any("按营业收入" in line for line in first["explanations"])  # no 规上/规下 in the register
    one = admin.get(f"/api/evaluation/{YEAR}/enterprises/{firms[0].credit_code}").json()
    assert one["enterprise"]["grade"] == first["grade"]
    assert one["sources"]["tax_10k"]["department"] == "税务局"
    assert one["sources"]["safety_points"]["department"] == "应急管理局"


def test_an_admins_weights_change_the_scores(admin, firms):
    cfg = admin.get(f"/api/evaluation/{YEAR}/config")
    assert cfg.status_code == 200 and cfg.json()["stored"] is False and cfg.headers["ETag"] == '"0"'
    before = {e["credit_code"]: e for e in admin.get(f"/api/evaluation/{YEAR}").json()["enterprises"]}
    assert before == {}
    _compute(admin)
    before = {e["credit_code"]: e["total"] for e in admin.get(f"/api/evaluation/{YEAR}").json()["enterprises"]}
    config = cfg.json()["config"]
    above = config["groups"][0]
    weights = {"tax_per_mu": 60, "value_added_per_mu": 10, "value_added_per_energy": 10,
               "value_added_per_emission": 10, "labour_productivity": 5, "rd_ratio": 5}
    for i in above["indicators"]:
        i["weight"] = weights[i["code"]]
    r = admin.put(f"/api/evaluation/{YEAR}/config", json={"config": config})
    assert r.status_code == 200, r.text
    assert r.json()["stored"] is True and r.headers["ETag"] == '"1"'
    second = _compute(admin, note="改权重后")
    after = admin.get(f"/api/evaluation/{YEAR}", params={"run": second["id"]}).json()
    totals = {e["credit_code"]: e["total"] for e in after["enterprises"]}
    assert totals != before
    assert after["groups"][0]["indicators"][0]["weight"] == "60"
    # the first run keeps its configuration and result (frozen)
    first = admin.get(f"/api/evaluation/{YEAR}/runs").json()["runs"][-1]
    old = admin.get(f"/api/evaluation/{YEAR}", params={"run": first["id"]}).json()
    assert {e["credit_code"]: e["total"] for e in old["enterprises"]} == before


def test_a_bad_configuration_names_every_problem_and_saves_nothing(admin):
    config = admin.get(f"/api/evaluation/{YEAR}/config").json()["config"]
    config["groups"][0]["indicators"][0]["weight"] = -1
    config["groups"][1]["classes"][0]["top_pct"] = "多"
    r = admin.put(f"/api/evaluation/{YEAR}/config", json={"config": config})
    assert r.status_code == 422
    fields = {f["field"]: f["message"] for f in r.json()["errors"]}
    assert "config.groups[0].indicators[0].weight" in fields
    assert any("规上企业" in m and "权重" in m for m in fields.values())
    assert any("规下企业" in m for m in fields.values())
    assert admin.get(f"/api/evaluation/{YEAR}/config").json()["stored"] is False
    good = admin.get(f"/api/evaluation/{YEAR}/config").json()["config"]
    assert admin.put(f"/api/evaluation/{YEAR}/config", json={"config": good}).status_code == 200
    assert admin.put(f"/api/evaluation/{YEAR}/config", json={"config": good}).status_code == 428
    assert admin.put(f"/api/evaluation/{YEAR}/config", json={"config": good},
                     headers={"If-Match": '"7"'}).status_code == 409


def test_roles(login_as, admin, firms):
    planner = login_as("planner")
    assert planner.post(f"/api/evaluation/{YEAR}/runs", json={}).status_code == 403
    assert planner.get(f"/api/evaluation/{YEAR}").status_code == 200
    run = _compute(admin)
    reviewer = login_as("reviewer")
    assert reviewer.post(f"/api/evaluation/runs/{run['id']}/publish", headers={"If-Match": '"1"'},
                         json={"publicity_start": str(TODAY), "publicity_end": str(TODAY)}).status_code == 403
    assert login_as("unit_officer", "chongfu").post(
        f"/api/evaluation/runs/{run['id']}/fix", headers={"If-Match": '"1"'}).status_code == 403


def test_publicity_objection_decision_and_fixing(db_session, admin, reviewer, officer, login_as, firms):
    run = _compute(admin)
    assert "object" not in officer.get(f"/api/evaluation/{YEAR}/runs").json()["runs"][0]["actions"]
    # a period that is over already, or too long, is refused; then a week from today
    bad = admin.post(f"/api/evaluation/runs/{run['id']}/publish", headers={"If-Match": f'"{run["version"]}"'},
                     json={"publicity_start": "2020-01-01", "publicity_end": "2020-01-07"})
    assert bad.status_code == 422 and "已过" in bad.json()["detail"]
    run = _publish(admin, run)
    assert run["status"] == "published" and run["in_publicity"] and "fix" not in run["actions"]
    assert "close_publicity" in run["actions"]
    officer_view = officer.get(f"/api/evaluation/{YEAR}/runs").json()["runs"][0]
    assert "object" in officer_view["actions"]

    target = firms[4]
    claim = {"tax_10k": "1500", "safety_points": "0"}
    r = officer.post(f"/api/evaluation/runs/{run['id']}/objections",
                     data={"credit_code": target.credit_code, "reason": "税务局数据漏计第四季度入库税收",
                           "corrections": json.dumps(claim)},
                     files=[("files", ("完税证明.pdf", PDF, "application/pdf"))])
    assert r.status_code == 201, r.text
    objection = r.json()
    assert objection["status_label"] == "待处理" and objection["evidence"][0]["filename"] == "完税证明.pdf"
    assert {c["field"]: c["claimed"] for c in objection["corrections"]} == claim
    assert officer.get(objection["evidence"][0]["url"]).content == PDF
    again = officer.post(f"/api/evaluation/runs/{run['id']}/objections",
                         data={"credit_code": target.credit_code, "reason": "再提一次"}, files=EVIDENCE)
    assert again.status_code == 409
    wutong = login_as("unit_officer", "wutong")
    other = wutong.post(f"/api/evaluation/runs/{run['id']}/objections",
                        data={"credit_code": firms[3].credit_code, "reason": "非本镇企业"}, files=EVIDENCE)
    assert other.status_code == 403 and "不属于本单位" in other.json()["detail"]
    exe = officer.post(f"/api/evaluation/runs/{run['id']}/objections",
                       data={"credit_code": firms[3].credit_code, "reason": "x"},
                       files=[("files", ("a.exe", b"MZ\x90\x00" * 50, "application/octet-stream"))])
    assert exe.status_code == 415

    # not fixable while the period runs and an objection is open
    run = admin.get(f"/api/evaluation/runs/{run['id']}").json()
    assert run["objections"]["open"] == 1 and "公示期" in run["fix_blocked_by"]
    assert reviewer.post(f"/api/evaluation/runs/{run['id']}/fix",
                         headers={"If-Match": f'"{run["version"]}"'}).status_code == 409

    upheld = reviewer.post(f"/api/evaluation/objections/{objection['id']}/resolve",
                           headers={"If-Match": f'"{objection["version"]}"'},
                           json={"decision": "upheld", "resolution": "经税务局核实，采纳更正"})
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status_label"] == "已采纳"
    # the correction is now the figure in force, and the published run flags it
    now = figures_in_force(db_session, YEAR, None, [target.id])[target.id]
    assert now["tax_10k"].value == Decimal("1500") and now["tax_10k"].department == "异议核定"
    shown = admin.get(f"/api/evaluation/{YEAR}").json()
    row = next(e for e in shown["enterprises"] if e["credit_code"] == target.credit_code)
    assert [c["field"] for c in row["changed_figures"]] == ["tax_10k"]
    assert shown["run"]["changed_figures"] == 1

    run = admin.get(f"/api/evaluation/runs/{run['id']}").json()
    closed = admin.post(f"/api/evaluation/runs/{run['id']}/close-publicity",
                        headers={"If-Match": f'"{run["version"]}"'}, json={"reason": "领导小组决定提前结束"})
    assert closed.status_code == 200 and closed.json()["publicity_closed_at"]
    assert "object" not in officer.get(f"/api/evaluation/{YEAR}/runs").json()["runs"][0]["actions"]
    run = closed.json()
    fixed = reviewer.post(f"/api/evaluation/runs/{run['id']}/fix", headers={"If-Match": f'"{run["version"]}"'})
    assert fixed.status_code == 200, fixed.text
    final = fixed.json()
    assert final["status"] == "final" and final["based_on"] == run["id"] and final["id"] != run["id"]
    result = admin.get(f"/api/evaluation/{YEAR}").json()
    assert result["run"]["id"] == final["id"]
    row = next(e for e in result["enterprises"] if e["credit_code"] == target.credit_code)
    assert row["rank"] == 1 and row["changed_figures"] == []  # recomputed with the upheld correction
    assert row["objections"][0]["status"] == "upheld"
    db_session.expire_all()
    grades = dict(db_session.execute(select(Enterprise.credit_code, Enterprise.evaluation_grade)
                                     .where(Enterprise.id.in_([f.id for f in firms]))).all())
    assert grades[target.credit_code] == "A" and grades[firms[5].credit_code] is None
    d = [e for e in result["enterprises"] if e["grade"] == "D"]
    assert d and all(e["proposed_clearance"] for e in d if e["classification"] != "clear_out")
    # the map shows the fixed class
    parcels = admin.get("/api/map/parcels", params={"unit": "chongfu", "limit": 5000}).json()["features"]
    assert any(p["properties"].get("evaluation_grade") == "A" for p in parcels)
    # the year is fixed: no new run, no configuration change
    assert admin.post(f"/api/evaluation/{YEAR}/runs", json={}).status_code == 409
    cfg = admin.get(f"/api/evaluation/{YEAR}/config").json()
    assert cfg["frozen"] is True
    assert admin.put(f"/api/evaluation/{YEAR}/config", json={"config": cfg["config"]}).status_code == 409


def test_fixing_without_corrections_keeps_the_published_run_and_later_figures_are_flagged(
        db_session, admin, reviewer, firms):
    run = _publish(admin, _compute(admin))
    run = admin.post(f"/api/evaluation/runs/{run['id']}/close-publicity", headers={"If-Match": f'"{run["version"]}"'},
                     json={"reason": "公示期内无异议"}).json()
    final = reviewer.post(f"/api/evaluation/runs/{run['id']}/fix", headers={"If-Match": f'"{run["version"]}"'}).json()
    assert final["id"] == run["id"] and final["status_label"] == "已定档"
    before = admin.get(f"/api/evaluation/{YEAR}").json()
    _record(db_session, firms[1], YEAR, "统计局", value_added_10k=5000)
    after = admin.get(f"/api/evaluation/{YEAR}").json()
    assert [(e["credit_code"], e["total"]) for e in after["enterprises"]] == \
           [(e["credit_code"], e["total"]) for e in before["enterprises"]]  # a fixed result never moves
    row = next(e for e in after["enterprises"] if e["credit_code"] == firms[1].credit_code)
    assert row["changed_figures"][0]["department"] == "统计局" and row["changed_figures"][0]["now"] == "5000"
    assert after["run"]["changed_figures"] == 1


def test_excel_and_filters(admin, firms):
    _compute(admin)
    only_a = admin.get(f"/api/evaluation/{YEAR}", params={"grade": "none"}).json()["enterprises"]
    assert [e["credit_code"] for e in only_a] == [firms[5].credit_code]
    assert admin.get(f"/api/evaluation/{YEAR}", params={"q": firms[0].name}).json()["enterprises"][0]["name"] == \
        firms[0].name
    r = admin.get(f"/api/evaluation/{YEAR}/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["规上企业", "规下企业", "不参评"]
    ws = wb["规上企业"]
    assert "亩均效益综合评价" in ws["A1"].value and str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4
    assert ws.cell(4, 1).value == 1 and isinstance(ws.cell(4, 5).value, float)
    assert wb["不参评"].cell(4, 6).value == "不参评：投产不满两年"


def test_errors_are_clear(admin, firms):
    assert admin.get("/api/evaluation/1999").status_code == 422
    assert admin.get("/api/evaluation/runs/99999999").status_code == 404
    assert admin.get(f"/api/evaluation/{YEAR}/enterprises/91330483MA2B000001").status_code == 404
    assert admin.post("/api/evaluation/2032/runs", json={}).status_code == 409  # no figures at all
    run = _compute(admin)
    r = admin.post(f"/api/evaluation/runs/{run['id']}/objections", data={"credit_code": firms[0].credit_code,
                                                                          "reason": "x"}, files=EVIDENCE)
    assert r.status_code == 409 and "公示期" in r.json()["detail"]
    run = _publish(admin, run)
    bad = admin.post(f"/api/evaluation/runs/{run['id']}/objections",
                     data={"credit_code": firms[0].credit_code, "reason": "x", "corrections": '{"tax_10k": "abc"}'},
                     files=EVIDENCE)
    assert bad.status_code == 422 and "税收（万元）须为数字" in bad.json()["detail"]
    second = _compute(admin)
    clash = admin.post(f"/api/evaluation/runs/{second['id']}/publish", headers={"If-Match": '"1"'},
                       json={"publicity_start": str(TODAY), "publicity_end": str(TODAY)})
    assert clash.status_code == 409 and "公示中" in clash.json()["detail"]
    with_draw = admin.post(f"/api/evaluation/runs/{run['id']}/withdraw", headers={"If-Match": f'"{run["version"]}"'})
    assert with_draw.status_code == 200 and with_draw.json()["status"] == "withdrawn"
    assert admin.get(f"/api/evaluation/{YEAR}").json()["run"]["id"] == second["id"]
