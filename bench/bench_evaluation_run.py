"""A whole 亩均效益综合评价 run of 10 000 enterprises through the service, on PostGIS.

    .venv/bin/python bench/bench_evaluation_run.py [--n 10000] [--repeat 3] [--data var/bench/parcels]

Makes a throw-away database (migrated, the demo data), loads the 100 000 synthetic parcels of
``../shared/bench/gen_parcels.py`` (as bench_progress.py does), registers ``--n`` enterprises (the
deterministic ones of bench_evaluation.py: 规上/规下, 投产年份) holding ten parcels each, and records
their eight figures and bonus/minus points for the year as the departments would (``enterprise_figures``,
about 80 000 rows). Then times, best of ``--repeat``:

* ``build_inputs`` — the register, the parcels' 亩, the leased floor area, the figures in force;
* ``compute_run`` — the above, the engine and the frozen run written (what 试算 does);
* ``results`` — the year's result as ``GET /api/evaluation/{year}`` builds it (with the changed-figure check);

and beside them, in the same run on the same inputs, the pure engine alone and the pandas implementation
of bench_evaluation.py (floats, the same formula). Target for the run: < 2 s. Nothing is asserted; the
database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
YEAR = 2025


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def register(session, firms, year: int) -> dict:
    """The firms as enterprises holding ten parcels each, and their figures of ``year``."""
    from sqlalchemy import text

    from app.credit_code import ALPHABET, check_character

    def code_of(k: int) -> str:
        body = ""
        for _ in range(7):
            k, r = divmod(k, len(ALPHABET))
            body = ALPHABET[r] + body
        return "91330483MA" + body + check_character("91330483MA" + body)

    t0 = time.perf_counter()
    raw = session.connection().connection.dbapi_connection
    codes = []
    with raw.cursor() as cur, cur.copy("COPY enterprises (name, credit_code, scale, production_year, industry_code) "
                                       "FROM STDIN") as cp:
        for k, e in enumerate(firms):
            code = code_of(k)
            codes.append(code)
            cp.write_row((e.name, code, "above_scale" if e.scale == "above" else "below_scale", e.start_year,
                          "D4430" if e.is_utility else "C1713"))
    session.execute(text("""
        WITH e AS (SELECT id, row_number() OVER (ORDER BY credit_code) - 1 AS k FROM enterprises
                   WHERE name LIKE '企业%'),
             p AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM parcels WHERE code LIKE 'B%')
        UPDATE parcels SET enterprise_id = e.id FROM p JOIN e ON e.k = p.k % :n WHERE parcels.id = p.id"""),
                    {"n": len(firms)})
    ids = dict(session.execute(text("SELECT credit_code, id FROM enterprises WHERE name LIKE '企业%'")).all())
    fields = ("tax_10k", "revenue_10k", "value_added_10k", "energy_tce", "emission_t", "electricity_10k_kwh",
              "employees", "rd_10k")
    departments = ("税务局", "统计局", "统计局", "统计局", "生态环境局", "供电公司", "人社局", "统计局")
    points = {"safety": "safety_points", "environment": "environment_points", "innovation": "innovation_points"}
    rows = 0
    with raw.cursor() as cur, cur.copy("COPY enterprise_figures (enterprise_id, year, field, value, department, "
                                       "recorded_by) FROM STDIN") as cp:
        for e, code in zip(firms, codes, strict=True):
            for field, dept in zip(fields, departments, strict=True):
                value = getattr(e.figures, field)
                if value is not None:
                    cp.write_row((ids[code], year, field, value, dept, "bench"))
                    rows += 1
            for a in e.adjustments:
                cp.write_row((ids[code], year, points[a.kind], a.points, "应急管理局", "bench"))
                rows += 1
    session.commit()
    session.execute(text("ANALYZE"))
    return {"enterprises": len(firms), "figures": rows, "register_s": round(time.perf_counter() - t0, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / "var" / "bench" / "parcels")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print where one compute_run spends its time")
    ap.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    ap.add_argument("--url", help="time on a database kept by an earlier --keep run (no loading)")
    args = ap.parse_args()

    import evaluation as engine
    from app.appraisal import service
    from app.auth.deps import Principal
    from app.auth.models import User
    from app.auth.roles import Role
    from app.core.db import make_engine, make_sessionmaker
    from app.settings import Settings
    from tests.dbutil import create_database, drop_database, migrate, seed_demo

    progress, pure = _module("bench_progress"), _module("bench_evaluation")
    url = args.url or create_database("txmap_bench_evaluation")
    try:
        db = make_engine(Settings(database_url=url), url)
        if not args.url:
            gpkg = progress.ensure_data(args.parcels, args.data)
            migrate(url)
            seed_demo(url)
            firms = pure.generate(args.n, 2025)
            with make_sessionmaker(db)() as session:
                counts = progress.load(session, gpkg)
                counts.update(register(session, firms, YEAR))
            print("data:", ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
        with make_sessionmaker(db)() as session:
            from sqlalchemy import func, select

            admin = Principal(User(username="bench", role=Role.ADMIN))
            at = session.scalar(select(func.now()))
            config = engine.default_config(YEAR)
            build_s, _, (inputs, firms_in) = pure.timed(lambda: service.build_inputs(session, YEAR, at), args.repeat)
            engine_s, _, _ = pure.timed(lambda: engine.evaluate(firms_in, config), args.repeat)
            frame = pure.to_frame([e for e in firms_in if e.land_mu is not None])
            pandas_s, _, _ = pure.timed(lambda: pure.pandas_evaluate(frame, config), args.repeat)
            run_s, _, run = pure.timed(lambda: service.compute_run(session, admin, YEAR, "bench"), args.repeat)
            if args.profile:
                import cProfile
                import pstats

                prof = cProfile.Profile()
                prof.runcall(service.compute_run, session, admin, YEAR, "profile")
                pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
            flt = service.ResultFilter()
            results_s, _, shown = pure.timed(lambda: service.results(session, admin, YEAR, run.id, flt), args.repeat)
        print(f"inputs of {len(inputs)} enterprises: build_inputs {build_s:.3f} s")
        print(f"the pure engine on them: {engine_s:.3f} s; pandas (floats, ready DataFrame): {pandas_s:.3f} s")
        print(f"compute_run (试算: inputs + engine + frozen run written): {run_s:.3f} s  (target < 2 s)")
        print(f"results (GET /api/evaluation/{YEAR} of {len(shown['enterprises'])} rows): {results_s:.3f} s")
        print(f"ratios: compute_run / engine {run_s / engine_s:.2f}, compute_run / pandas {run_s / pandas_s:.2f}, "
              f"engine / pandas {engine_s / pandas_s:.2f}")
        db.dispose()
    finally:
        if args.keep or args.url:
            print(f"database kept: {url}")
        else:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
