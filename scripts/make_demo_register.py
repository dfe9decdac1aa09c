#!/usr/bin/env python
"""Generate the demo 一库 register and the departments' 2023 figures in ``data/enterprises/`` (示意 demo data).

Inputs: ``data/geojson/enterprises.json`` (342 enterprises: credit code, name, tax and output of 2021) and
``data/geojson/parcels.geojson`` (each parcel's unit and enterprise). Everything written is synthetic, made
with fixed seeds, byte for byte the same on every run (Excel files are re-zipped with fixed times):

* ``register.xlsx`` — the register: 统一社会信用代码, 企业名称, 行业代码 (GB/T 4754-2017), 行业名称, 规模
  (规上 when output ≥ 2000 万元), 投产年份, 地址, 所在镇街 (the unit of the enterprise's largest parcel);
  three utilities (D4430 热力, D4610 自来水) added, about 15 enterprises started in 2022–2023;
* one file per department for 2023, in the formats departments send them (see data/enterprises/README.md).

Usage (from the repository root)::

    .venv/bin/python scripts/make_demo_register.py           # (re)write data/enterprises/
    .venv/bin/python scripts/make_demo_register.py --check   # exit 1 if the files differ
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapely
from openpyxl import Workbook
from pyproj import Transformer
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.credit_code import ALPHABET, check_character  # noqa: E402

YEAR = 2023
SEED = 20240115
UNIT_NAMES = {"chongfu": "崇福镇", "dama": "大麻镇", "fengming": "凤鸣街道", "heshan": "河山镇",
              "kaifaqu": "开发区（高桥街道）", "puyuan": "濮院镇", "shimen": "石门镇", "tudian": "屠甸镇",
              "wutong": "梧桐街道", "wuzhen": "乌镇镇", "zhouquan": "洲泉镇"}
ADDRESS_TOWN = {**UNIT_NAMES, "kaifaqu": "高桥街道"}
ROADS = ["庆丰路", "振兴路", "环城路", "崇德路", "复兴路", "梧桐大道", "校场路", "世纪大道", "发展大道", "工业园路",
         "新华路", "凤鸣路", "同德路", "康泰路", "毛衫路", "致富路", "永兴路", "兴业路"]
# (name keywords, code, name) — the first that fits the enterprise's name; GB/T 4754-2017 classes.
INDUSTRIES = [
    (("合成纤维", "化学纤维", "化纤"), "C2822", "涤纶纤维制造"),
    (("羊毛衫", "针织", "毛衫"), "C1820", "针织或钩针编织服装制造"),
    (("经编", "织造"), "C1752", "化纤织物染整精加工"),
    (("家用纺织品",), "C1771", "床上用品制造"),
    (("纺织",), "C1713", "棉印染精加工"),
    (("服装", "服饰"), "C1810", "机织服装制造"),
    (("毛皮", "皮草"), "C1931", "毛皮鞣制加工"),
    (("羽绒",), "C1941", "羽毛（绒）加工"),
    (("汽车零部件", "汽配"), "C3670", "汽车零部件及配件制造"),
    (("机械", "智能装备"), "C3489", "其他通用零部件制造"),
    (("金属制品", "五金"), "C3340", "金属丝绳及其制品制造"),
    (("电线", "电缆"), "C3831", "电线、电缆制造"),
    (("电器",), "C3859", "其他家用电力器具制造"),
    (("电子",), "C3989", "其他电子元件制造"),
    (("塑料",), "C2927", "日用塑料制品制造"),
    (("包装",), "C2231", "纸和纸板容器制造"),
    (("复合材料", "玻璃"), "C3061", "玻璃纤维及制品制造"),
    (("建材",), "C3021", "水泥制品制造"),
    (("化学", "化工"), "C2661", "化学试剂和助剂制造"),
]
FALLBACK = [("C2822", "涤纶纤维制造"), ("C1752", "化纤织物染整精加工"), ("C3340", "金属丝绳及其制品制造"),
            ("C3831", "电线、电缆制造"), ("C2927", "日用塑料制品制造"), ("C3670", "汽车零部件及配件制造")]
UTILITIES = [("桐乡市泰石热电有限公司", "D4430", "热力生产和供应", "chongfu"),
             ("桐乡市濮院热电有限公司", "D4430", "热力生产和供应", "puyuan"),
             ("桐乡市自来水有限公司", "D4610", "自来水生产和供应", "wutong")]
SAFETY = ["发生一般生产安全事故一起", "重大事故隐患未按期整改", "危险化学品储存不规范被责令整改",
          "特种设备未按期检验", "消防设施不完善被处罚"]
INNOVATION = ["新认定国家高新技术企业", "新认定省级企业研究开发中心", "获评省级专精特新中小企业",
              "新认定市级企业技术中心", "获省科学技术进步奖三等奖"]
FIXED_TIME = (2024, 1, 15, 9, 0, 0)


def _credit_code(rng: random.Random) -> str:
    first17 = "91330483" + "MA" + "".join(rng.choice(ALPHABET) for _ in range(7))
    return first17 + check_character(first17)


def _largest_units(parcels: dict) -> dict[str, str]:
    """credit code → unit code of its largest parcel (plane area in EPSG:4549)."""
    to_4549 = Transformer.from_crs(4490, 4549, always_xy=True)

    def project(xy):
        return np.column_stack(to_4549.transform(xy[:, 0], xy[:, 1]))
    best: dict[str, tuple[float, str]] = {}
    for f in parcels["features"]:
        p = f["properties"]
        code = p.get("enterprise_credit_code")
        if not code:
            continue
        area = shapely.transform(shape(f["geometry"]), project).area
        if area > best.get(code, (-1.0, ""))[0]:
            best[code] = (area, p["unit_code"])
    return {c: u for c, (_a, u) in best.items()}


def _industry(name: str, rng: random.Random) -> tuple[str, str]:
    for words, code, label in INDUSTRIES:
        if any(w in name for w in words):
            return code, label
    return rng.choice(FALLBACK)


def _round(value: float, digits: int = 1) -> float:
    return round(value, digits)


def build(root: Path = ROOT) -> dict[str, bytes]:
    rng = random.Random(SEED)
    enterprises = json.loads((root / "data/geojson/enterprises.json").read_text(encoding="utf-8"))
    units = _largest_units(json.loads((root / "data/geojson/parcels.geojson").read_text(encoding="utf-8")))
    register = []
    recent = set(rng.sample(range(len(enterprises)), 15))
    for i, e in enumerate(enterprises):
        code, label = _industry(e["name"], rng)
        unit = units.get(e["credit_code"])
        year = rng.choice((2022, 2023)) if i in recent else rng.randint(1995, 2019)
        town = ADDRESS_TOWN.get(unit or "", "梧桐街道")
        register.append({"credit_code": e["credit_code"], "name": e["name"], "industry_code": code,
                         "industry_name": label, "above": (e["output_10k_yuan"] or 0) >= 2000, "year": year,
                         "address": f"桐乡市{town}{rng.choice(ROADS)}{rng.randint(1, 999)}号", "unit": unit,
                         "tax": e["tax_10k_yuan"], "output": e["output_10k_yuan"], "employees": e["employees"]})
    for name, code, label, unit in UTILITIES:
        register.append({"credit_code": _credit_code(rng), "name": name, "industry_code": code, "industry_name": label,
                         "above": True, "year": rng.randint(1998, 2010), "address":
                         f"桐乡市{ADDRESS_TOWN[unit]}{rng.choice(ROADS)}{rng.randint(1, 999)}号", "unit": unit,
                         "tax": rng.uniform(300, 900), "output": rng.uniform(20000, 60000),
                         "employees": rng.randint(80, 300)})
    files: dict[str, bytes] = {}
    files["register.xlsx"] = _xlsx(
        ["统一社会信用代码", "企业名称", "行业代码", "行业名称", "规模", "投产年份", "地址", "所在镇街"],
        [[r["credit_code"], r["name"], r["industry_code"], r["industry_name"], "规上" if r["above"] else "规下",
          r["year"], r["address"], UNIT_NAMES.get(r["unit"] or "", "")] for r in register],
        title="桐乡市工业企业名录（示意数据）")

    # Each enterprise's 2023: tax per 亩 spread on purpose (some grow, some fall) so that A–D all occur.
    figures = []
    for r in register:
        trend = rng.choice((0.55, 0.8, 1.0, 1.0, 1.1, 1.3, 1.6))
        tax = r["tax"] * trend * rng.uniform(0.9, 1.1)
        revenue = (r["output"] or r["tax"] * 25) * rng.uniform(0.9, 1.15)
        figures.append({**r, "tax_2023": tax, "revenue": revenue, "value_added": revenue * rng.uniform(0.16, 0.3),
                        "energy": revenue * rng.uniform(0.02, 0.2), "rd": revenue * rng.uniform(0.004, 0.045),
                        "electricity": revenue * rng.uniform(0.03, 0.18),
                        "emission": revenue * rng.uniform(0.0002, 0.003),
                        "staff": max(3, round((r["employees"] or 20) * rng.uniform(0.9, 1.1)))})
    files[f"{YEAR}-税务局-税收.csv"] = _csv(
        ["统一社会信用代码", "纳税人名称", "税收实际贡献（万元）"],
        [[f["credit_code"], f["name"], f"{f['tax_2023']:,.1f}"] for f in figures], "gbk")
    files[f"{YEAR}-统计局-主要指标.xlsx"] = _xlsx(
        ["统一社会信用代码", "企业名称", "营业收入（万元）", "工业增加值（万元）", "综合能耗（吨标准煤）", "R&D经费支出（万元）"],
        [[f["credit_code"], f["name"], _round(f["revenue"])]
         + ([_round(f["value_added"]), _round(f["energy"]), _round(f["rd"])] if f["above"] else [None, None, None])
         for f in figures], title=f"{YEAR}年度工业企业主要经济指标（规下企业仅营业收入）")
    files[f"{YEAR}-供电公司-用电量.csv"] = _csv(
        ["户号", "统一社会信用代码", "用电单位", "用电量（万千瓦时）"],
        [[f"33{i + 1:08d}", f["credit_code"], f["name"], _round(f["electricity"], 2)] for i, f in enumerate(figures)],
        "utf-8")
    files[f"{YEAR}-生态环境局-排放.xlsx"] = _xlsx(
        ["统一社会信用代码", "排污单位名称", "主要污染物排放量（吨）"],
        [[f["credit_code"], f["name"], _round(f["emission"], 2)] for f in figures if f["above"]])
    files[f"{YEAR}-人社局-职工.csv"] = _csv(
        ["统一社会信用代码", "单位名称", "年平均职工人数"],
        [[f["credit_code"], f["name"], f["staff"]] for f in figures], "utf-8-sig")
    picked = rng.sample(figures[:len(enterprises)], 16)
    files[f"{YEAR}-应急管理局-安全生产.xlsx"] = _xlsx(
        ["统一社会信用代码", "企业名称", "安全生产扣分", "说明"],
        [[f["credit_code"], f["name"], -rng.choice((1, 2, 3, 5)), rng.choice(SAFETY)] for f in picked[:6]])
    files[f"{YEAR}-科技局-科技创新.xlsx"] = _xlsx(
        ["统一社会信用代码", "企业名称", "科技创新加分", "说明"],
        [[f["credit_code"], f["name"], rng.choice((1, 2, 3, 5)), rng.choice(INNOVATION)] for f in picked[6:]])
    return files


def _csv(header: list[str], rows: list[list], encoding: str) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def _xlsx(header: list[str], rows: list[list], title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 34
    raw = io.BytesIO()
    wb.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same workbook with fixed file times and document dates, so the bytes do not depend on the clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-15T09:00:00Z", body)
            info = zipfile.ZipInfo(item.filename, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, body)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files differ")
    parser.add_argument("--out", type=Path, default=ROOT / "data/enterprises")
    args = parser.parse_args(argv)
    files = build()
    if args.check:
        stale = [n for n, b in files.items() if not (args.out / n).exists() or (args.out / n).read_bytes() != b]
        for n in stale:
            print(f"stale: {n}")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (args.out / name).write_bytes(body)
        print(f"{name}\t{len(body):,} bytes\t{hashlib.sha256(body).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
