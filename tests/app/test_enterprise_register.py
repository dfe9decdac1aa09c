"""一库: the enterprise register import (POST /api/enterprises/imports …) on real PostGIS.

A register of a few thousand rows generated here, with bad credit codes, duplicates, a name change,
GBK CSV text, an unknown 镇街, bad 行业代码, years and 规模: the report names every bad row and column,
the commit writes nothing; the fixed file commits everything, with a history row for every changed
field, parcels linked by the credit code their upload gave and a name-only upload enterprise merged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from app.core.uow import unit_of_work
from app.credit_code import ALPHABET, check_character
from app.enterprises.models import EnterpriseFieldHistory
from app.enterprises.schemas import RegisterImport
from app.models import Enterprise, Parcel
from tests.app import upload_corpus as corpus

URL = "/api/enterprises/imports"
THIS_YEAR = dt.date.today().year
HEADER = ["统一社会信用代码", "企业名称", "行业代码", "行业名称", "规模", "投产年份", "地址", "所在镇街"]
TOWNS = ["崇福镇", "梧桐街道", "chongfu", "濮院", "开发区", "乌镇镇", "洲泉"]


@pytest.fixture()
def clerk(login_as):
    return login_as("gis_staff")


def code(n: int, prefix: str = "91330483MA") -> str:
    """A valid credit code, different for each n (7 characters of the code alphabet after the prefix)."""
    body = ""
    for _ in range(7):
        n, k = divmod(n, len(ALPHABET))
        body = ALPHABET[k] + body
    first17 = prefix + body
    return first17 + check_character(first17)


def wrong_check(valid: str) -> str:
    bad = ALPHABET[(ALPHABET.index(valid[-1]) + 1) % len(ALPHABET)]
    return valid[:-1] + bad


def gbk_csv(rows: list[list], header: list[str] = HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("gbk")


def xlsx(rows: list[list], header: list[str] = HEADER, title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def stage(client, data: bytes, name: str = "企业名录.csv", kind: str | None = "register"):
    return client.post(URL, data={"kind": kind} if kind else {}, files={"file": (name, data, "application/octet-stream")})


def scalar(session, sql: str, **params):
    with unit_of_work(session):
        return session.execute(text(sql), params).scalar()


def demo_enterprises(session, n: int) -> list[Enterprise]:
    with unit_of_work(session):
        return list(session.scalars(select(Enterprise).where(Enterprise.credit_code.is_not(None))
                                    .order_by(Enterprise.id).limit(n)))


def row_of(report: dict, number: int) -> dict:
    return next(r for r in report["rows"] if r["row"] == number)


def messages_of(report: dict, number: int) -> str:
    return "；".join(p["message"] for p in row_of(report, number)["problems"])


def upload_owners(clerk, tmp_path, owners: list[tuple[str, str]]) -> None:
    """Parcels uploaded with owners (name, credit code) the register does not know: registered by name."""
    gdf = corpus.parcels(len(owners), style="zh", prefix="REG", row=29)
    gdf["权利人"] = [o[0] for o in owners]
    gdf["TYSHXYDM"] = [o[1] for o in owners]
    data = corpus.shapefile_zip(gdf, tmp_path / "reg", encoding="GBK", cpg=False)
    r = clerk.post("/api/uploads", files={"file": ("宗地.zip", data)})
    assert r.status_code == 201, r.text
    done = clerk.post(f"/api/uploads/{r.json()['id']}/commit", json={"unknown_owners": "register"})
    assert done.status_code == 200, done.text


def test_a_register_of_thousands_is_refused_row_by_row_then_commits_whole(clerk, db_session, tmp_path):
    merge_code, link_code = code(900_001), code(900_002)
    upload_owners(clerk, tmp_path, [("桐乡合并测试纺织有限公司", merge_code), ("上传时的另一个名字", link_code)])
    with unit_of_work(db_session):
        pending = {e.name: e.id for e in db_session.scalars(
            select(Enterprise).where(Enterprise.credit_code.is_(None),
                                     Enterprise.name.in_(["桐乡合并测试纺织有限公司", "上传时的另一个名字"])))}
        assert len(pending) == 2
        parcel_ids = dict(db_session.execute(select(Parcel.code, Parcel.id).where(Parcel.code.like("REG%"))).all())
    # The demo register the seed imported (app/enterprises/demo.py) set aside: start from codes and names only.
    scalar(db_session, "WITH d AS (DELETE FROM enterprise_field_history RETURNING 1) SELECT count(*) FROM d")
    scalar(db_session, "WITH u AS (UPDATE enterprises SET industry_code = NULL, industry_name = NULL, scale = NULL,"
                       " production_year = NULL, address = NULL, unit_id = NULL RETURNING 1) SELECT count(*) FROM u")
    renamed, updated, name_owner = demo_enterprises(db_session, 3)
    old_name, old_updated_industry = renamed.name, updated.industry_code

    n = 3000
    good = [[code(i), f"桐乡测试企业{i:05d}有限公司", "C1713", "棉纺纱加工", "规上" if i % 2 else "规下",
             2000 + i % 20, f"桐乡市测试路{i}号", TOWNS[i % len(TOWNS)]] for i in range(n)]
    good.append([merge_code, "桐乡合并测试纺织有限公司", "C1713", "", "规上", 2010, "", "崇福镇"])
    good.append([link_code, "桐乡按代码关联有限公司", "C3311", "", "规下", 2012, "", "梧桐街道"])
    good.append([renamed.credit_code, renamed.name + "（新名称）", "C2829", "", "规上", 2001, "", "濮院镇"])
    good.append([updated.credit_code, updated.name, "C1810", "", "规下", "", "", ""])
    # Row numbers in the file: header is row 1, good[k] is row k + 2.
    rownum = {k: k + 2 for k in range(len(good))}
    bad = [list(r) for r in good]
    bad[10][0] = wrong_check(good[10][0])  # check digit
    bad[11][0] = good[11][0][:17]  # 17 characters
    bad[12][0] = good[5][0]  # duplicate of row 7
    bad[13][7] = "火星镇"  # unknown town
    bad[14][2] = "Z99"  # no such section
    bad[15][2] = "C05"  # division of another section
    bad[16][5] = 1800  # year out of range
    bad[17][5] = THIS_YEAR + 3
    bad[18][4] = "大型"  # scale not understood
    bad[19][1] = name_owner.name  # the name of a registered enterprise with another code
    bad[20][1] = ""  # name missing
    bad[21][1] = good[22][1]  # same name as the next row, other code
    bad_rows = {rownum[k] for k in range(10, 21)} | {rownum[22]}  # row 23 is the first of the two names

    before = scalar(db_session, "SELECT count(*) FROM enterprises")
    r = stage(clerk, gbk_csv(bad))
    assert r.status_code == 201, r.text
    report = r.json()
    RegisterImport.model_validate(report)
    assert report["file_format"] == "csv" and report["encoding"] == "gbk" and report["header_row"] == 1
    assert report["mapping"] == {"credit_code": "统一社会信用代码", "name": "企业名称", "industry_code": "行业代码",
                                 "industry_name": "行业名称", "scale": "规模", "production_year": "投产年份",
                                 "address": "地址", "unit": "所在镇街"}
    assert report["counts"]["rows"] == len(bad) and not report["can_commit"]
    refused = {r["row"] for r in report["rows"] if r["action"] == "refused"}
    assert refused == bad_rows, sorted(refused ^ bad_rows)
    assert report["counts"]["refused"] == len(bad_rows)
    assert f"第 {rownum[10]} 行“统一社会信用代码”：统一社会信用代码校验位错误" in messages_of(report, rownum[10])
    assert "统一社会信用代码应为 18 位，实际 17 位" in messages_of(report, rownum[11])
    assert f"与第 {rownum[5]} 行重复" in messages_of(report, rownum[12])
    assert f"第 {rownum[13]} 行“所在镇街”：镇街“火星镇”不在本市镇街中" in messages_of(report, rownum[13])
    assert "门类“Z”不存在" in messages_of(report, rownum[14])
    assert "大类 05 不属于门类 C（制造业，大类 13～43）" in messages_of(report, rownum[15])
    assert f"投产年份 1800 应在 1949～{THIS_YEAR} 之间" in messages_of(report, rownum[16])
    assert f"投产年份 {THIS_YEAR + 3} 应在" in messages_of(report, rownum[17])
    assert "规模“大型”无法识别：应填 规上 或 规下" in messages_of(report, rownum[18])
    assert f"企业库中已有同名企业“{name_owner.name}”，其统一社会信用代码为 {name_owner.credit_code}" in \
        messages_of(report, rownum[19])
    assert f"第 {rownum[20]} 行“企业名称”：未填写" in messages_of(report, rownum[20])
    assert f"企业名称与第 {rownum[21]} 行相同，但统一社会信用代码不同" in messages_of(report, rownum[22])
    # The name change of a known code is a warning, old → new; the merge an information.
    change = row_of(report, rownum[n + 2])
    assert change["action"] == "update" and change["enterprise_id"] == renamed.id
    warning = next(p for p in change["problems"] if p["severity"] == "warning")
    assert warning["message"] == f"第 {rownum[n + 2]} 行“企业名称”：名称变更：{old_name} → {old_name}（新名称）"
    merge_row = row_of(report, rownum[n])
    assert merge_row["action"] == "create" and "将合并上传宗地时按名称登记的同名企业（1 宗地转到本企业）" in \
        messages_of(report, rownum[n])
    assert {"field": "unit", "label": "所在镇街", "old": None, "new": "崇福镇"} in merge_row["changes"]
    assert report["counts"]["warnings"] >= 1 and report["counts"]["merges"] == 1

    # GET gives the same report again; the commit is refused naming the rows, and nothing is written.
    again = clerk.get(f"{URL}/{report['id']}")
    assert again.status_code == 200 and again.json()["rows"] == report["rows"]
    refused_commit = clerk.post(f"{URL}/{report['id']}/commit")
    assert refused_commit.status_code == 422, refused_commit.text
    body = refused_commit.json()
    assert body["detail"].startswith(f"企业名录有 {len(bad_rows)} 行有问题，未导入任何企业")
    assert str(rownum[10]) in body["detail"]
    assert {e["feature"] for e in body["errors"]} == bad_rows
    assert scalar(db_session, "SELECT count(*) FROM enterprises") == before
    assert scalar(db_session, "SELECT count(*) FROM enterprise_field_history") == 0

    # Fixed: everything commits.
    fixed = stage(clerk, gbk_csv(good))
    assert fixed.status_code == 201 and fixed.json()["can_commit"], fixed.json()["mapping_problems"]
    fixed_report = fixed.json()
    expected_changes = sum(len(r["changes"]) for r in fixed_report["rows"])
    done = clerk.post(f"{URL}/{fixed_report['id']}/commit")
    assert done.status_code == 200, done.text
    outcome = done.json()
    assert outcome["created"] == n + 2 and outcome["updated"] == 2
    assert outcome["merged"] == 1 and outcome["parcels_moved"] == 1 and outcome["parcels_linked"] == 1
    # one row per changed field, one for each new enterprise's code, one for the merge
    assert outcome["fields_changed"] == expected_changes + (n + 2) + 1
    assert scalar(db_session, "SELECT count(*) FROM enterprises") == before + n + 2 - 1  # the name-only one went
    assert scalar(db_session, "SELECT count(*) FROM enterprise_field_history WHERE import_id = :id",
                  id=fixed_report["id"]) == outcome["fields_changed"]

    with unit_of_work(db_session):
        db_session.expire_all()
        ent = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == code(7)))
        assert (ent.name, ent.industry_code, ent.industry_name, ent.scale.label, ent.production_year, ent.address,
                ent.unit.name) == ("桐乡测试企业00007有限公司", "C1713", "棉纺纱加工", "规上", 2007, "桐乡市测试路7号",
                                   "崇福镇")
        assert db_session.scalar(select(Enterprise).where(Enterprise.credit_code == code(4))).unit.name == \
            "开发区（高桥街道）"
        got = db_session.get(Enterprise, renamed.id)
        assert got.name == old_name + "（新名称）" and got.industry_code == "C2829" and got.unit.name == "濮院镇"
        hist = {(h.field, h.old_value, h.new_value) for h in db_session.scalars(
            select(EnterpriseFieldHistory).where(EnterpriseFieldHistory.enterprise_id == renamed.id))}
        assert ("name", old_name, old_name + "（新名称）") in hist
        assert ("scale", None, "规上") in hist and ("unit", None, "濮院镇") in hist
        upd = db_session.get(Enterprise, updated.id)
        assert upd.industry_code == "C1810" and upd.scale.label == "规下"
        assert {h.field for h in db_session.scalars(select(EnterpriseFieldHistory).where(
            EnterpriseFieldHistory.enterprise_id == updated.id))} == (
            {"industry_code", "scale"} if old_updated_industry != "C1810" else {"scale"})
        # the merge: the parcel moved to the registered enterprise, the name-only row is gone, the history says so
        merged = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == merge_code))
        assert db_session.get(Enterprise, pending["桐乡合并测试纺织有限公司"]) is None
        assert db_session.get(Parcel, parcel_ids["REG0001"]).enterprise_id == merged.id
        merge_note = db_session.scalar(select(EnterpriseFieldHistory).where(
            EnterpriseFieldHistory.enterprise_id == merged.id, EnterpriseFieldHistory.field == "merged"))
        assert merge_note.old_value == "桐乡合并测试纺织有限公司" and "1 宗地" in merge_note.new_value
        assert merge_note.changed_by == "test_gis_staff" and merge_note.source == f"import:{fixed_report['id']}"
        # linked by the credit code the upload gave (its owner's name was another one)
        linked = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == link_code))
        assert db_session.get(Parcel, parcel_ids["REG0002"]).enterprise_id == linked.id
        # the audit log has the rows too
        audited = db_session.scalar(select(func.count()).select_from(text("audit_log")).where(
            text("action = 'commit_enterprise_import' AND object_type = 'enterprises'")))
        assert audited >= n + 2

    committed = clerk.get(f"{URL}/{fixed_report['id']}").json()
    assert committed["status"] == "committed" and committed["outcome"]["created"] == n + 2
    assert clerk.post(f"{URL}/{fixed_report['id']}/commit").status_code == 409
    # the same file again: nothing to do
    twice = stage(clerk, gbk_csv(good)).json()
    assert twice["counts"]["unchanged"] == len(good) and not twice["can_commit"]


def test_the_mapping_is_suggested_from_pinyin_and_editable(clerk, db_session):
    header = ["TYSHXYDM", "QYMC", "HYDM", "是否规上", "TCNF", "乡镇名称", "备注"]
    rows = [[code(5000 + i), f"映射测试企业{i}", "C17", "是", 2015, "崇福镇", ""] for i in range(5)]
    r = stage(clerk, xlsx(rows, header, title="2026 年企业名录（示例）"), name="名录.xlsx")
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["file_format"] == "xlsx" and report["header_row"] == 2
    assert report["mapping"] == {"credit_code": "TYSHXYDM", "name": "QYMC", "industry_code": "HYDM",
                                 "scale": "是否规上", "production_year": "TCNF"}
    unit = next(t for t in report["targets"] if t["field"] == "unit")
    assert unit["label"] == "所在镇街" and not unit["required"]
    mid = report["id"]
    mapped = clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"unit": "乡镇名称"}})
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["mapping"]["unit"] == "乡镇名称"
    assert {"field": "unit", "label": "所在镇街", "old": None, "new": "崇福镇"} in mapped.json()["rows"][0]["changes"]
    wrong = clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"unit": "没有这一列"}})
    assert wrong.status_code == 422 and "没有这一列" in wrong.json()["detail"]
    unknown = clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"colour": "备注"}})
    assert unknown.status_code == 422
    unmapped = clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"credit_code": None}}).json()
    assert unmapped["mapping_problems"] == ["表中没有对应“统一社会信用代码”的列：请在字段对应中指定"]
    assert not unmapped["can_commit"]
    refused = clerk.post(f"{URL}/{mid}/commit")
    assert refused.status_code == 422 and "统一社会信用代码" in refused.json()["detail"]
    clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"credit_code": "TYSHXYDM"}})
    done = clerk.post(f"{URL}/{mid}/commit")
    assert done.status_code == 200 and done.json()["created"] == 5
    with unit_of_work(db_session):
        ent = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == code(5000)))
        assert ent.unit.name == "崇福镇" and ent.scale.label == "规上" and ent.industry_code == "C17"
    assert clerk.put(f"{URL}/{mid}/mapping", json={"mapping": {"unit": None}}).status_code == 409


def test_an_old_excel_xls_file_is_read(clerk):
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("企业名录")
    for c, name in enumerate(["信用代码", "单位名称", "投产时间", "是否规上", "镇街"]):
        ws.write(0, c, name)
    ws.write(1, 0, code(7100))
    ws.write(1, 1, "旧版表格企业")
    ws.write(1, 2, dt.datetime(2016, 5, 1), xlwt.easyxf(num_format_str="yyyy-mm-dd"))
    ws.write(1, 3, True)
    ws.write(1, 4, "石门镇")
    ws.write(2, 0, code(7101))
    ws.write(2, 1, "旧版表格企业二")
    ws.write(2, 2, 2011)
    ws.write(2, 3, "否")
    out = io.BytesIO()
    wb.save(out)
    r = stage(clerk, out.getvalue(), name="名录.xls")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["file_format"] == "xls" and body["mapping"] == {
        "credit_code": "信用代码", "name": "单位名称", "scale": "是否规上", "production_year": "投产时间", "unit": "镇街"}
    first, second = body["rows"]
    assert {(c["field"], c["new"]) for c in first["changes"]} == {
        ("name", "旧版表格企业"), ("production_year", "2016"), ("scale", "规上"), ("unit", "石门镇")}
    assert ("production_year", "2011") in {(c["field"], c["new"]) for c in second["changes"]}
    assert body["can_commit"]


def test_utf8_csv_with_bom_and_english_names(clerk):
    data = "\ufeffcredit_code,name,scale,town\n" + f"{code(7000)},UTF8 企业,below,wutong\n"
    r = stage(clerk, data.encode("utf-8"), name="register.csv")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["encoding"] == "utf-8" and body["mapping"] == {"credit_code": "credit_code", "name": "name",
                                                               "scale": "scale", "unit": "town"}
    assert body["rows"][0]["action"] == "create" and body["can_commit"]


@pytest.mark.parametrize(("role", "unit"), [("planner", None), ("reviewer", None), ("unit_officer", "chongfu")])
def test_only_administrators_and_gis_staff_import(login_as, role, unit, clerk):
    other = login_as(role, unit)
    data = gbk_csv([[code(8000), "角色测试企业", "", "", "", "", "", ""]])
    refused = stage(other, data)
    assert refused.status_code == 403 and "管理员" in refused.json()["detail"]
    staged = stage(clerk, data).json()
    assert other.get(f"{URL}/{staged['id']}").status_code == 403
    assert other.post(f"{URL}/{staged['id']}/commit").status_code == 403
    assert login_as("admin").post(f"{URL}/{staged['id']}/commit").status_code == 200


def test_without_login_401(client):
    assert client.post(URL, files={"file": ("a.csv", b"x")}).status_code == 401


def _broken_xlsx() -> bytes:
    data = xlsx([[code(1), "甲"]])
    return data[: len(data) // 2]


@pytest.mark.parametrize(("name", "data", "status", "code_", "words"), [
    ("名录.xlsx", b"PK\x03\x04" + b"\x00" * 200, 422, "not_xlsx", "无法作为 Excel 文件读取"),
    ("名录.xlsx", "broken", 422, "not_xlsx", "无法作为 Excel 文件读取"),
    ("名录.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, 422, "not_xls", "无法作为 Excel 文件读取"),
    ("名录.xls", "plain text, not a workbook".encode(), 422, "not_xls", "无法作为 Excel 文件读取"),
    ("名录.pdf", b"%PDF-1.4 \x00\x01", 415, "unsupported_format", "不支持的文件类型"),
    ("名录.csv", b"", 422, "sheet_empty", "没有任何内容"),
    ("名录.csv", "\n\n,,\n".encode(), 422, "sheet_empty", "没有任何内容"),
    ("名录.csv", "统一社会信用代码,企业名称\n".encode("gbk"), 422, "sheet_no_rows", "只有表头"),
    ("名录.csv", f"{code(3)},甲公司\n{code(4)},乙公司\n".encode("gbk"), 422, "sheet_no_header", "是数据而不是表头"),
    ("名录.csv", b"\xff\xfe\x00\x00\x81\x30\xff\xff" * 50, 422, "invalid_encoding", "不是 UTF-8 或 GBK"),
])
def test_damaged_and_empty_files_are_4xx_in_chinese(clerk, name, data, status, code_, words):
    if data == "broken":
        data = _broken_xlsx()
    r = stage(clerk, data, name=name)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code_ and words in r.json()["detail"]


def test_no_file_and_unknown_kind(clerk):
    assert clerk.post(URL, data={"kind": "register"}, files={"other": ("a.csv", b"x")}).status_code == 422
    r = stage(clerk, gbk_csv([[code(1), "甲"]]), kind="parcels")
    assert r.status_code == 422 and "figures" in r.json()["detail"] and r.json()["errors"][0]["field"] == "kind"
    r = stage(clerk, gbk_csv([[code(1), "甲"]]), kind="figures")  # figures need their year (and department)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    assert clerk.get(f"{URL}/00000000-0000-0000-0000-000000000000").status_code == 404
    assert clerk.get(f"{URL}/not-a-uuid").status_code in (400, 422)


def test_ten_thousand_rows_are_staged_and_committed(clerk):
    rows = [[code(20_000 + i), f"万行企业{i}", "C3311", "", "规下", 2018, "", "崇福镇"] for i in range(10_000)]
    r = stage(clerk, gbk_csv(rows))
    assert r.status_code == 201, r.text[:300]
    assert r.json()["counts"]["create"] == 10_000 and r.json()["can_commit"]
    done = clerk.post(f"{URL}/{r.json()['id']}/commit")
    assert done.status_code == 200, done.text[:300]
    assert done.json()["created"] == 10_000 and done.json()["fields_changed"] == 10_000 * 6  # code, name, 行业代码, 规模, 年份, 镇街


def test_the_commit_checks_again_against_the_register_as_it_is_then(clerk, db_session):
    staged = stage(clerk, gbk_csv([[code(7200), "后来同名的企业", "", "", "", "", "", ""],
                                   [code(7201), "另一家企业", "", "", "", "", "", ""]])).json()
    assert staged["can_commit"]
    with unit_of_work(db_session):  # meanwhile someone registers the name under another code
        db_session.add(Enterprise(name="后来同名的企业", credit_code=code(7299)))
    r = clerk.post(f"{URL}/{staged['id']}/commit")
    assert r.status_code == 422, r.text
    assert "第 2 行" in r.json()["detail"] and r.json()["errors"][0]["feature"] == 2
    assert f"统一社会信用代码为 {code(7299)}" in r.json()["errors"][0]["message"]
    assert scalar(db_session, "SELECT count(*) FROM enterprises WHERE credit_code = :c", c=code(7201)) == 0
    assert clerk.get(f"{URL}/{staged['id']}").json()["rows"][0]["action"] == "refused"


def test_a_merge_moves_every_reference_of_the_name_only_enterprise(clerk, db_session):
    from app.enums import Classification
    from app.workflow.models import EnterpriseGovernance

    with unit_of_work(db_session):
        pending = Enterprise(name="只有名称的测试企业")
        db_session.add(pending)
        db_session.flush()
        db_session.add(EnterpriseGovernance(enterprise=pending, classification=Classification.UPGRADE,
                                            reason="上传后分类"))
        parcel = db_session.scalar(select(Parcel).where(Parcel.enterprise_id.is_(None)).order_by(Parcel.id).limit(1))
        parcel.enterprise_id = pending.id
        pending_id, parcel_id = pending.id, parcel.id
    staged = stage(clerk, gbk_csv([[code(7300), "只有名称的测试企业", "C1713", "", "规上", 2010, "", "洲泉镇"]])).json()
    assert staged["counts"]["merges"] == 1
    done = clerk.post(f"{URL}/{staged['id']}/commit")
    assert done.status_code == 200, done.text
    assert done.json()["merged"] == 1 and done.json()["parcels_moved"] == 1
    with unit_of_work(db_session):
        db_session.expire_all()
        registered = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == code(7300)))
        assert db_session.get(Enterprise, pending_id) is None
        assert db_session.get(Parcel, parcel_id).enterprise_id == registered.id
        governance = db_session.get(EnterpriseGovernance, registered.id)
        assert governance is not None and governance.classification == Classification.UPGRADE
    detail = clerk.get(f"/api/enterprises/{code(7300)}")
    assert detail.status_code == 200 and "改造提升" in detail.text
