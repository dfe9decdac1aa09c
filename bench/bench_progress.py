"""一表 as of a day on a 100k-parcel city: the monthly table (< 2 s) and a whole year's scores (< 5 s).

    .venv/bin/python bench/bench_progress.py [--data var/bench/parcels] [--repeat 3]

It makes a throw-away database txmap_bench_progress_<hex> (migrated, the demo data), loads the
100 000 synthetic parcels of ``../shared/bench/gen_parcels.py`` (made if missing) as history (source
seed: a quarter completed between 2022-01-01 and 2023-12-31, a tenth under way), one approved block
per industrial zone for 300 zones (block plan, approved version 1 in 2022 or 2023, and for every
third a version 2 approved later with a fifth of its parcels dropped), 2 000 corrections recorded
later, and then times, best of ``--repeat``:

* the monthly table (``service.monthly_progress``) of October 2023, as of its end;
* the 2023 scores (``scoring.scores``) as of 2023-12-31;
* the indicators as of 2023-12-31;

and beside them, in the same run, the naive way: the same functions as they were before the as-of
change (the current columns of parcels and blocks; ``git show 093052e^:app/progress/…``), and a
direct SQL sum of the current state. It prints the figures, the ratios and the targets; nothing is
asserted. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GEN = ROOT.parent / "shared" / "bench" / "gen_parcels.py"
BEFORE = "093052e^"  # the commit before the as-of change


def ensure_data(n: int, folder: Path) -> Path:
    path = folder / f"parcels_{n // 1000}k.gpkg"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GEN), str(n), "--out", str(folder)], check=True)
    return path


def load(session, gpkg: Path) -> dict:
    import pyogrio
    from sqlalchemy import text

    t0 = time.perf_counter()
    df = pyogrio.read_dataframe(gpkg, layer="parcels", columns=["parcel_code", "floor_area_m2"])
    wkb = df.geometry.to_wkb()
    units = [r[0] for r in session.execute(text("SELECT id FROM units ORDER BY id"))]
    session.execute(text("CREATE TEMP TABLE bench_in (k int, code text, floor numeric, wkb bytea)"))
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cur, cur.copy("COPY bench_in (k, code, floor, wkb) FROM STDIN") as cp:
        for k, (code, floor, g) in enumerate(zip(df["parcel_code"], df["floor_area_m2"], wkb)):
            cp.write_row((k, "B" + code, None if floor != floor else float(floor), g))
    # a quarter completed over the two years, a tenth under way; loaded as history (source seed)
    session.execute(text("SELECT set_config('cloudmap.event_source', 'seed', true)"))
    session.execute(text("""
        INSERT INTO parcels (code, unit_id, geom, land_area_mu, floor_area_m2, planned_floor_area_m2, far,
                             planned_far, status, completed_on)
        SELECT b.code, (:units)[1 + b.k % cardinality(:units)], g.geom, g.mu, b.floor, g.mu * 666.67 * 2.2,
               round(b.floor / nullif(g.mu * 666.67, 0), 4), 2.2,
               CASE WHEN b.k % 4 = 0 THEN 'completed' WHEN b.k % 10 = 1 THEN 'rebuilding' ELSE 'not_started' END,
               CASE WHEN b.k % 4 = 0 THEN DATE '2022-01-01' + (b.k * 37) % 730 END
        FROM bench_in b
        CROSS JOIN LATERAL (SELECT ST_Multi(ST_SetSRID(ST_GeomFromWKB(b.wkb), 4490)) AS geom) g0
        CROSS JOIN LATERAL (SELECT g0.geom, round((ST_Area(ST_Transform(g0.geom, 4549)) / 666.6667)::numeric, 2) AS mu) g
        """), {"units": units})
    # one approved block per zone for 300 zones (zone = 330483 + town + zone digits of the code)
    session.execute(text("""
        CREATE TEMP TABLE bench_zone AS
        SELECT substr(code, 2, 12) AS zone, row_number() OVER (ORDER BY substr(code, 2, 12)) AS n
        FROM parcels WHERE code LIKE 'B%' GROUP BY substr(code, 2, 12) ORDER BY 1 LIMIT 300"""))
    session.execute(text("""
        INSERT INTO renewal_blocks (code, name, unit_id, designated_year, stage, review_status, geom, area_mu,
                                    approval_doc_no, approval_date)
        SELECT 'BK-' || z.n, '测试区块' || z.n, min(p.unit_id), 2022 + (z.n % 2)::int, 'in_progress', 'approved',
               ST_Multi(ST_ConvexHull(ST_Collect(p.geom))), sum(p.land_area_mu), '桐有更〔测〕' || z.n || '号',
               DATE '2022-02-01' + (z.n * 5 % 600)::int
        FROM bench_zone z JOIN parcels p ON substr(p.code, 2, 12) = z.zone GROUP BY z.n"""))
    session.execute(text("""
        UPDATE parcels p SET block_id = b.id FROM bench_zone z JOIN renewal_blocks b ON b.code = 'BK-' || z.n
        WHERE substr(p.code, 2, 12) = z.zone"""))
    session.execute(text("""
        INSERT INTO block_plans (code, unit_id, block_id, status, current_version_no, row_version)
        SELECT b.code, b.unit_id, b.id, 'approved', 1, 1 FROM renewal_blocks b WHERE b.code LIKE 'BK-%'"""))
    for v in (1, 2):
        session.execute(text(f"""
            INSERT INTO block_versions (plan_id, version_no, status, name, year, geom, area_mu, boundary_source,
                                        is_imported, approval_doc_no, approval_date)
            SELECT bp.id, {v}, 'draft', b.name, b.designated_year, b.geom, b.area_mu, 'file', false,
                   b.approval_doc_no, b.approval_date + {0 if v == 1 else 120}
            FROM block_plans bp JOIN renewal_blocks b ON b.id = bp.block_id
            WHERE b.code LIKE 'BK-%' AND ({v} = 1 OR b.id % 3 = 0)"""))
        session.execute(text(f"""
            INSERT INTO block_version_parcels (version_id, parcel_id, parcel_code, land_area_mu, enterprise_id)
            SELECT v.id, p.id, p.code, p.land_area_mu, p.enterprise_id
            FROM block_versions v JOIN block_plans bp ON bp.id = v.plan_id JOIN parcels p ON p.block_id = bp.block_id
            WHERE v.version_no = {v} AND v.status = 'draft' AND ({v} = 1 OR p.id % 5 <> 0)"""))
        session.execute(text(f"UPDATE block_versions SET status = 'approved' WHERE version_no = {v} AND status = 'draft'"))
    # 2 000 corrections recorded later: a completion that did not happen, known 90 days after
    session.execute(text("SELECT set_config('cloudmap.event_source', '', true)"))
    session.execute(text("""
        INSERT INTO parcel_status_events (parcel_id, status, land_area_mu, happened_on, known_on, source, note,
                                          corrects_id)
        SELECT e.parcel_id, 'rebuilding', e.land_area_mu, e.happened_on, e.happened_on + 90, 'correction', 'bench', e.id
        FROM parcel_status_events e WHERE e.status = 'completed' AND e.parcel_id % 25 = 0 ORDER BY e.id LIMIT 2000"""))
    session.commit()
    session.execute(text("ANALYZE"))
    counts = dict(session.execute(text("""
        SELECT 'parcels', count(*) FROM parcels UNION ALL SELECT 'completed', count(*) FROM parcels WHERE status = 'completed'
        UNION ALL SELECT 'events', count(*) FROM parcel_status_events
        UNION ALL SELECT 'approved versions', count(*) FROM block_versions WHERE status = 'approved'
        UNION ALL SELECT 'version parcels', count(*) FROM block_version_parcels""")).all())
    counts["load_s"] = round(time.perf_counter() - t0, 1)
    return counts


def module_before(name: str, replace: dict[str, str] | None = None):
    """app.progress.<name> as it was before the as-of change, loaded beside the current one."""
    source = subprocess.run(["git", "show", f"{BEFORE}:app/progress/{name}.py"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    for old, new in (replace or {}).items():
        source = source.replace(old, new)
    full = f"app.progress.{name}_before"
    spec = importlib.util.spec_from_loader(full, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "app.progress"
    sys.modules[full] = module
    exec(compile(source, f"{BEFORE}:app/progress/{name}.py", "exec"), module.__dict__)
    return module


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / "var" / "bench" / "parcels")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL is printed) to look into it")
    args = ap.parse_args()

    from sqlalchemy import text

    from app.core.db import make_engine, make_sessionmaker
    from app.progress import scoring, service
    from app.settings import Settings
    from tests.dbutil import create_database, drop_database, migrate, seed_demo

    gpkg = ensure_data(args.n, args.data)
    url = create_database("txmap_bench_progress")
    try:
        migrate(url)
        seed_demo(url)
        engine = make_engine(Settings(database_url=url), url)
        with make_sessionmaker(engine)() as session:
            counts = load(session, gpkg)
        print("data:", ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
        old_service = module_before("service")
        old_scoring = module_before("scoring", {"from . import service\n": "from . import service_before as service\n",
                                                "from .service import": "from .service_before import"})
        as_of = dt.date(2023, 12, 31)
        with make_sessionmaker(engine)() as s:
            cases = [
                ("monthly table 2023-10", 2.0,
                 lambda: service.monthly_progress(s, 2023, 10), lambda: old_service.monthly_progress(s, 2023, 10)),
                ("scores 2023 (as of 12-31)", 5.0,
                 lambda: scoring.scores(s, 2023, as_of), lambda: old_scoring.scores(s, 2023, as_of)),
                ("indicators as of 2023-12-31", None,
                 lambda: service.indicators(s, as_of), lambda: old_service.indicators(s, as_of)),
                ("renewed parcels 2023 (the query)", None,
                 lambda: service.renewed_parcels(s, as_of, dt.date(2023, 1, 1)),
                 lambda: old_service.renewed_parcels(s, as_of, dt.date(2023, 1, 1))),
            ]
            sql_s, sql_mu = best(lambda: s.execute(text(
                "SELECT sum(land_area_mu) FROM parcels WHERE status = 'completed'"
                " AND completed_on BETWEEN '2023-01-01' AND '2023-10-31'")).scalar(), args.repeat)
            print(f"{'':34} {'as of (s)':>10} {'before (s)':>11} {'ratio':>7}  target", flush=True)
            for name, target, new, old in cases:
                t_new, out_new = best(new, args.repeat)
                t_old, _out_old = best(old, args.repeat)
                verdict = "" if target is None else (f"< {target:.0f} s " + ("met" if t_new < target else "MISSED"))
                print(f"{name:34} {t_new:10.3f} {t_old:11.3f} {t_new / t_old:7.2f}  {verdict}", flush=True)
                if name.startswith("monthly"):
                    city = out_new["citywide"]
                    print(f"    全市 1–10 月累计 {city['done_ytd_mu']} 亩（连片 {city['done_ytd_contiguous_mu']}、零星 "
                          f"{city['done_ytd_scattered_mu']}），本月 {city['done_month_mu']} 亩，"
                          f"{city['done_ytd_parcels']} 宗；更正 {len(out_new['corrections'])} 条", flush=True)
                if name.startswith("scores"):
                    top = out_new["units"][0]
                    print(f"    第一名 {top['unit_name']} {top['total']} 分；{len(out_new['units'])} 个单位", flush=True)
            print(f"direct SQL sum of the current state (1–10 月, no 连片 split): {sql_s:.3f} s, {float(sql_mu or 0):.2f} 亩",
                  flush=True)
            plan = s.execute(text("EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY ON) " + service.RENEWED_SQL),
                             {**service.as_of_params(s, as_of), "as_of_year": 2023, "since": dt.date(2023, 1, 1), "until": as_of}).all()
            print("renewed-parcels query, " + plan[-1][0], flush=True)
        engine.dispose()
    finally:
        if args.keep:
            print(f"kept: {url}", flush=True)
        else:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
