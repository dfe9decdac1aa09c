"""``cloudmap import FILE``: bulk loads with the same checks and the same report as the API.

Exit status: 0 imported (or, with --dry-run, importable), 1 the report has
errors that block the commit, 2 the file was refused (the reason is printed).
The progress bar goes to stderr; the report to stdout (``--json`` for the API's JSON).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

EXIT_OK, EXIT_BLOCKED, EXIT_REFUSED = 0, 1, 2
SHOW_PROBLEMS = 50
PHASES_ZH = {"reading": "读取", "checking": "检查", "saving": "暂存", "committing": "入库"}
# The command-line options behind the choices a refused commit asks for (the API's body fields).
OPTION_HINTS = {
    "confirm_crs": "命令行：核对坐标系后加 --confirm-crs，或用 --crs 指定",
    "unknown_owners": "命令行：加 --unknown-owners register（登记为新企业，信用代码待补充）"
                      "或 --unknown-owners none（这些宗地不关联企业）",
}


def add_parser(sub) -> None:
    p = sub.add_parser("import", help="import a parcel or block file (zipped Shapefile, GeoPackage, GeoJSON)")
    p.add_argument("file", type=Path, help="the file: .zip (Shapefile), .gpkg or .geojson")
    p.add_argument("--layer", help="layer to import when the file has several (shapefile path in the zip or gpkg layer)")
    p.add_argument("--crs", help="CRS of the coordinates when there is no .prj, e.g. 4549 or 4528")
    p.add_argument("--encoding", help="attribute encoding when there is no .cpg, e.g. GBK or UTF-8")
    p.add_argument("--target", choices=["parcels", "blocks", "parks"], default="parcels", help="table to import into")
    p.add_argument("--mapping", help='field mapping as JSON, e.g. \'{"code": "ZDBH", "enterprise": "QLR"}\'')
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    p.add_argument("--replace", action="store_true",
                   help="replace stored features that have the same code (default: keep them); old versions go to history")
    p.add_argument("--accept-repairs", action="store_true", help="store the repaired form of invalid geometries")
    p.add_argument("--confirm-crs", action="store_true", help="accept a CRS guessed from the coordinates")
    p.add_argument("--unknown-owners", choices=["register", "none"],
                   help="owners (权利人) not in the enterprise register: register them as new enterprises "
                        "(credit code to be completed) or import their parcels without one; required when there are any")
    p.add_argument("--user", default="cli", help="who is importing (recorded on the upload)")
    p.add_argument("--json", action="store_true", help="print the report as the API's JSON")
    p.set_defaults(func=cmd_import)


class ProgressBar:
    """A one-line progress bar on stderr (redrawn at most 10 times a second)."""

    def __init__(self, stream=None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        bar = "█" * filled + "·" * (self.width - filled)
        label = PHASES_ZH.get(phase, phase)
        self.stream.write(f"\r{label} [{bar}] {frac * 100:5.1f}% {done}/{total} {now - self._started:6.1f}s")
        self.stream.flush()

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def cmd_import(args: argparse.Namespace, settings) -> int:
    from ..core.db import database_url, make_engine
    from ..core.uow import session_for
    from ..errors import AppError
    from . import store
    from .routes import limits_of, payload
    from .service import StageRequest, stage

    if not args.file.is_file():
        print(f"cloudmap import: 找不到文件 {args.file}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        mapping = json.loads(args.mapping) if args.mapping else None
    except json.JSONDecodeError:
        mapping = None
    if args.mapping and not isinstance(mapping, dict):
        print("cloudmap import: --mapping 应为 JSON 对象，例如 {\"code\": \"ZDBH\"}", file=sys.stderr)
        return EXIT_REFUSED

    engine = make_engine(settings, database_url(settings))
    base = settings.upload_tmp_dir
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="cloudmap-import-", dir=base))
    bar = ProgressBar()
    try:
        if args.file.stat().st_size > settings.upload_max_mb * 2**20:
            from ..messages import message

            print(f"cloudmap import: {message('upload_too_large', max_mb=settings.upload_max_mb)}", file=sys.stderr)
            return EXIT_REFUSED
        req = StageRequest(path=args.file, filename=args.file.name, workdir=folder, limits=limits_of(settings),
                           uploader=args.user, target=args.target, layer=args.layer, crs=args.crs,
                           encoding=args.encoding, mapping=mapping, keep_source=False)
        blocked = None
        # --dry-run: everything happens inside one outer transaction, rolled back at the end;
        # otherwise the staging and the commit are each their own transaction, as through the API.
        with session_for(engine, dry_run=args.dry_run) as session:
            upload = stage(session, req, progress=bar)
            bar.done()
            if not args.dry_run:
                try:
                    bar("committing", 0, 1)
                    store.commit_upload(session, upload.id, on_existing="replace" if args.replace else "keep",
                                        accept_repairs=args.accept_repairs, confirm_crs=args.confirm_crs,
                                        unknown_owners=args.unknown_owners)
                    bar("committing", 1, 1)
                except AppError as exc:
                    blocked = exc
                bar.done()
            report = json.loads(payload(session, store.get_upload(session, upload.id)))
    except AppError as exc:
        bar.done()
        print(f"cloudmap import: 未导入。{exc.detail}", file=sys.stderr)
        for e in exc.errors[:SHOW_PROBLEMS]:
            where = f"第 {e.feature} 个要素 " if e.feature is not None else ""
            print(f"  - {where}{e.field or ''}：{e.message}", file=sys.stderr)
        return EXIT_BLOCKED if exc.code == "invalid_features" else EXIT_REFUSED
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        engine.dispose()

    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        _print_report(report, dry_run=args.dry_run)
    if blocked is not None:
        print(f"未入库：{blocked.detail}", file=sys.stderr)
        for field in dict.fromkeys(e.field for e in blocked.errors):
            if field in OPTION_HINTS:
                print(f"  {OPTION_HINTS[field]}", file=sys.stderr)
        return EXIT_BLOCKED
    if args.dry_run:
        return EXIT_OK if report["can_commit"] else EXIT_BLOCKED
    return EXIT_OK


def _print_report(r: dict, *, dry_run: bool) -> None:
    c = r["counts"]
    crs = r["crs"]
    print(f"文件：{r['filename']}（{r['format']}，图层 {r['layer']}）")
    print(f"编码：{r['encoding']['name']}（{ {'cpg': '来自 .cpg', 'detected': '自动识别', 'override': '指定', 'format': '格式规定'}.get(r['encoding']['source'], r['encoding']['source'])}）")
    print(f"坐标系：EPSG:{crs.get('epsg')} {crs.get('name', '')}（{crs.get('source')}）{crs.get('explanation_zh', '')}")
    labels = {m["field"]: m["label"] for m in r.get("mapping_fields", [])}
    print("字段对应：" + "，".join(f"{labels.get(k, k)}←{v}" for k, v in r["mapping"].items()))
    for m in r.get("mapping_fields", []):
        if m["field"] in r.get("mapping_missing", []):
            maybe = "、".join(s["source"] for s in m["suggestions"]) or "无"
            print(f"  未对应：{m['label']}（可能是：{maybe}；用 --mapping 指定）")
    for note in r.get("notes", []):
        print(f"提示：{note['message']}")
    print(f"要素 {c['features']} 个，合计 {c['area_mu']:.2f} 亩；无问题 {c['ok']}，警告 {c['warnings']}，错误 {c['errors']}"
          f"（可修复 {c['repairable']}）；新增 {c['new']}，已存在 {c['existing']}（其中无变化 {c['unchanged']}）")
    problems = [p for p in r.get("problems", []) if p["severity"] != "info"]
    for p in problems[:SHOW_PROBLEMS]:
        code = f"（{p['feature_code']}）" if p.get("feature_code") else ""
        print(f"  [{'错误' if p['severity'] == 'error' else '警告'}] 第 {p['feature']} 个要素{code}：{p['message']}")
    if len(problems) > SHOW_PROBLEMS:
        print(f"  …… 另有 {len(problems) - SHOW_PROBLEMS} 处，完整报告请加 --json")
    if dry_run:
        print("试运行（--dry-run）：未写入数据库。" + ("可以入库。" if r["can_commit"] else "存在错误，不能入库。"))
    elif r.get("outcome"):
        o = r["outcome"]
        print(f"已入库：新增 {o['inserted']}，替换 {o['replaced']}，保留 {o['kept']}，无变化 {o['unchanged']}。上传编号 {r['id']}")
