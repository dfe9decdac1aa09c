"""``cloudmap progress …``: an admin's targets, the monthly report, a quick look at the figures.

    cloudmap progress targets set 凤鸣街道 2023 --contiguous 80 --scattered 40 --by 张三
    cloudmap progress targets list 2023
    cloudmap progress issue 2023 11 --by 张三 --signed-by 李四   # 印发月度通报 (snapshot + Excel)
    cloudmap progress monthly 2023 11                 # the live table, no snapshot
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from ..messages import message


def add_parser(sub) -> None:
    progress = sub.add_parser("progress", help="一表: targets, monthly reports (月度通报), progress")
    psub = progress.add_subparsers(dest="progress_command", required=True)

    targets = psub.add_parser("targets", help="年度任务 per unit")
    tsub = targets.add_subparsers(dest="targets_command", required=True)
    tset = tsub.add_parser("set", help="set a unit's yearly target (亩)")
    tset.add_argument("unit", help="unit code or name, e.g. fengming or 凤鸣街道")
    tset.add_argument("year", type=int)
    tset.add_argument("--contiguous", required=True, type=_mu, help="连片 亩")
    tset.add_argument("--scattered", required=True, type=_mu, help="零星 亩")
    tset.add_argument("--by", required=True, help="who sets it (recorded in the output)")
    tlist = tsub.add_parser("list", help="show a year's targets")
    tlist.add_argument("year", type=int)

    issue = psub.add_parser("issue", help="issue (印发) the monthly report: immutable snapshot + Excel")
    issue.add_argument("year", type=int)
    issue.add_argument("month", type=int)
    issue.add_argument("--by", required=True, help="who issues it (name shown on the report)")
    issue.add_argument("--signed-by", required=True, help="签发人: who signed the report off")
    issue.add_argument("--issue-no", type=int, help="第 X 期 (default: the year's next number)")
    issue.add_argument("--body", help="印发单位 (default: 桐乡市工业园区有机更新工作领导小组办公室)")
    issue.add_argument("--date", help="印发日期 YYYY-MM-DD (default: today)")
    issue.add_argument("--xlsx", help="also write the stored Excel file here")

    monthly = psub.add_parser("monthly", help="print a month's live progress table")
    monthly.add_argument("year", type=int)
    monthly.add_argument("month", type=int)
    progress.set_defaults(func=run)


def _mu(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(message("cli_not_mu", value=text)) from None
    return value


def run(args: argparse.Namespace, settings) -> int:
    from ..core.db import database_url, make_engine, make_sessionmaker
    from ..errors import AppError
    from . import reports, scoring, service

    engine = make_engine(settings, database_url(settings))
    try:
        with make_sessionmaker(engine)() as session:
            if args.progress_command == "targets" and args.targets_command == "set":
                unit, target, created = service.set_target(session, args.unit, args.year, args.contiguous, args.scattered)
                print(f"{unit.name} {args.year} 年任务{'已下达' if created else '已修改'}：{target.renewal_mu} 亩"
                      f"（连片 {target.contiguous_mu}，零星 {target.scattered_mu}），经办 {args.by}")
            elif args.progress_command == "targets":
                found = service.targets(session, args.year)
                for unit in service.units(session):
                    t = found.get(unit.code)
                    print(f"{unit.name}\t" + (f"{t.renewal_mu}\t{t.contiguous_mu}\t{t.scattered_mu}" if t else "未下达"))
            elif args.progress_command == "issue":
                report = reports.issue(session, args.year, args.month, args.by, signed_by=args.signed_by,
                                       issue_no=args.issue_no, issuing_body=args.body, issue_date=args.date)
                print(f"{args.year} 年 {args.month} 月通报（{args.year} 年第 {report.issue_no} 期）已印发："
                      f"截至 {report.as_of}，签发人 {report.signed_by}，Excel sha256 {report.xlsx_sha256}")
                if args.xlsx:
                    with open(args.xlsx, "wb") as fh:
                        fh.write(report.xlsx)
            else:
                config, _ = scoring.get_config(session, args.year)
                data = service.monthly_progress(session, args.year, args.month, schedule=config.schedule)
                print(format_table(data))
    except AppError as exc:
        print(f"cloudmap: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def format_table(data: dict) -> str:
    """The monthly table as plain text (also the sample in the closing note)."""
    lines = [f"{data['year']} 年 {data['month']} 月 · 截至 {data['as_of']} · 序时进度 {data['schedule_rate'] * 100:.2f}%",
             "排名  单位                任务(亩)  本月(亩)  累计(亩)  完成率   较上月    进度"]
    for r in data["rows"] + [data["citywide"]]:
        t = r["target"]
        rate = "—" if r["completion_rate"] is None else f"{r['completion_rate'] * 100:.2f}%"
        change = "—" if r["change_rate"] is None else f"{r['change_rate'] * 100:+.2f}"
        status = "未下达" if t is None else ("▲滞后" if r["behind_schedule"] else "正常")
        lines.append(f"{str(r.get('rank') or ''):>4}  {r['unit_name']:<16}{(t or {}).get('renewal_mu', '—'):>8}  "
                     f"{r['done_month_mu']:>8.2f}  {r['done_ytd_mu']:>8.2f}  {rate:>7}  {change:>7}   {status}")
    return "\n".join(lines)
