"""Benchmark: staging + commit of the 100k-parcel shapefile (and a GBK / EPSG:4549 variant of it)
against ``ogr2ogr -f PostgreSQL`` of the same file into the same server, in the same run.

    .venv/bin/python bench/bench_import.py [--n 100000] [--data /tmp/parcels] [--repeat 2]

Our import runs in a child process so its peak memory (max RSS) is its own; it
does everything the API does: read (pyogrio), encoding and CRS detection, full
validation (validity, overlaps inside the file and with stored parcels through
an STRtree, units by point-in-polygon, codes, figures), COPY into the staging
table, and the commit (INSERT … SELECT into parcels, GiST index maintained).
ogr2ogr only copies the rows in (with a GiST index), no checks. The figures
are printed; nothing is asserted. Target: ≥ 0.5× ogr2ogr's rate, < 1 GiB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GEN = ROOT.parent / "shared" / "bench" / "gen_parcels.py"
CHINESE = {"PARCEL_CD": "宗地编号", "ENT_NAME": "权利人", "AREA_MU": "面积亩", "FLOOR_M2": "建筑面积", "FAR": "容积率",
           "TOWN": "镇街", "CATEGORY": "分类"}


def ensure_data(n: int, folder: Path) -> Path:
    tag = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    path = folder / f"parcels_{tag}.shp.zip"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(GEN), str(n), "--out", str(folder)], check=True)
    return path


def make_gbk_4549_variant(src_zip: Path, out: Path) -> Path:
    """The same parcels as a clerk sends them: EPSG:4549 metres, GBK DBF, Chinese field names, no .cpg."""
    if out.exists():
        return out
    import pyogrio

    import spatial

    df = pyogrio.read_dataframe(f"/vsizip/{src_zip}")
    df = df.rename(columns=CHINESE)
    df.geometry = spatial.reproject(df.geometry.values, 4490, 4549)
    df = df.set_crs(4549, allow_override=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-gbk-"))
    try:
        pyogrio.write_dataframe(df, tmp / "宗地.shp", encoding="GBK")
        (tmp / "宗地.cpg").unlink(missing_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(tmp.iterdir()):
                zf.write(p, f"成果/{p.name}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def make_changed_variant(src_zip: Path, out: Path) -> Path:
    """The same parcels sent again with every floor area changed (+5 %): each one is replaced on re-upload."""
    if out.exists():
        return out
    import pyogrio

    df = pyogrio.read_dataframe(f"/vsizip/{src_zip}")
    df["FLOOR_M2"] = (df["FLOOR_M2"].astype(float) * 1.05).round(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-changed-"))
    try:
        pyogrio.write_dataframe(df, tmp / "parcels.shp", encoding="UTF-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(tmp.iterdir()):
                zf.write(p, p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def prepare_database() -> str:
    """A fresh database with the 11 unit boundaries only (demo parcels would overlap the synthetic ones)."""
    from app.core.db import make_engine, make_sessionmaker
    from app.seed import seed
    from app.settings import Settings
    from tests.dbutil import create_database, migrate

    url = create_database("txmap_bench_import")
    migrate(url)
    engine = make_engine(Settings(database_url=url), url)
    with make_sessionmaker(engine)() as session:
        seed(session, ROOT / "data")
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("TRUNCATE parcels, renewal_blocks, enterprises CASCADE"))
        # The generator scatters parcels over a rough box around Tongxiang (120.30–120.80°E), 59 % of them
        # outside the real city outline, where the import rightly refuses them. For the benchmark one more
        # (synthetic) unit covers the rest of the box, so every parcel is located and imported.
        conn.execute(text(
            "INSERT INTO units (code, name, kind, geom, area_mu, is_schematic)"
            " SELECT 'BENCH', '基准测试外围（合成）', 'town', ST_Multi(d), 0, true FROM ("
            "  SELECT ST_Difference(ST_MakeEnvelope(120.25, 30.38, 120.85, 30.90, 4490), ST_Union(geom)) AS d"
            "  FROM units) x"))
    engine.dispose()
    return url


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM feature_history; DELETE FROM parcels; DELETE FROM uploads;"
                          " DROP TABLE IF EXISTS ogr_reference"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE parcels"))
        conn.execute(text("VACUUM ANALYZE upload_features"))
    engine.dispose()


def run_ogr2ogr(url: str, path: Path) -> float:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    pg = f"PG:host={u.host} port={u.port} dbname={u.database} user={u.username}" + (
        f" password={u.password}" if u.password else "")
    with zipfile.ZipFile(path) as zf:  # /vsizip finds a shapefile only at the zip's root: name it
        inner = next(n for n in zf.namelist() if n.lower().endswith(".shp"))
        has_cpg = any(n.lower().endswith(".cpg") for n in zf.namelist())
    # a GBK .dbf without .cpg: tell GDAL, so the reference decodes the same text we do
    encoding = [] if has_cpg else ["--config", "SHAPE_ENCODING", "CP936"]
    cmd = ["ogr2ogr", "-f", "PostgreSQL", pg, f"/vsizip/{path}/{inner}", *encoding, "-nln", "ogr_reference",
           "-overwrite",
           "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-nlt", "PROMOTE_TO_MULTI",
           "--config", "PG_USE_COPY", "YES"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def run_ours(url: str, path: Path, extra: list[str]) -> dict:
    """Our stage + commit in a child process: its own timings and its own peak RSS (ru_maxrss)."""
    # a 100k commit is one long statement by design: not cut by the API's per-statement timeout
    env = {**os.environ, "DATABASE_URL": url, "CLOUDMAP_DB_STATEMENT_TIMEOUT_MS": "600000"}
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(path), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"our import failed:\n{err.decode()[-3000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return result


def child(path: Path, crs: str | None, again: Path | None = None) -> None:
    """Runs inside the child: the same steps as POST /api/uploads then POST …/commit.

    With ``again``, that file is then staged and committed with on_existing=replace (a re-upload
    of the same parcels, changed): its stage and commit times are reported as ``replace_*``.
    """
    t_import = time.perf_counter()
    from sqlalchemy.orm import Session

    from app.core.db import make_engine
    from app.ingest import store
    from app.ingest.routes import limits_of
    from app.ingest.service import StageRequest, stage
    from app.settings import Settings

    settings = Settings()
    engine = make_engine(settings)
    marks: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())

    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    imports_s = time.perf_counter() - t_import
    try:
        t0 = time.perf_counter()
        with Session(engine, expire_on_commit=False) as session:
            req = StageRequest(path=path, filename=path.name, workdir=folder, limits=limits_of(settings),
                               uploader="bench", crs=crs)
            upload = stage(session, req, progress=progress)
            t1 = time.perf_counter()
            # the generated owners are not in the register: imported without one, as ogr2ogr would
            outcome = store.commit_upload(session, upload.id, confirm_crs=True, unknown_owners="none")
            t2 = time.perf_counter()
            counts = upload.counts
            again_figures = {}
            if again is not None:
                (folder / "again").mkdir()
                req = StageRequest(path=again, filename=again.name, workdir=folder / "again", limits=limits_of(settings),
                                   uploader="bench", crs=crs)
                second = stage(session, req)
                t3 = time.perf_counter()
                replaced = store.commit_upload(session, second.id, on_existing="replace", confirm_crs=True,
                                               unknown_owners="none")
                again_figures = {"replace_stage_s": t3 - t2, "replace_commit_s": time.perf_counter() - t3,
                                 "replaced": replaced["replaced"]}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        engine.dispose()
    phases = {}
    order = ["reading", "checking", "saving"]
    stamps = [t0] + [marks.get(p, t0) for p in order] + [t1]
    for name, a, b in zip(["setup"] + order, stamps[:-1], stamps[1:]):
        phases[name] = round(b - a, 3)
    print(json.dumps({
        "stage_s": t1 - t0, "commit_s": t2 - t1, "imports_s": imports_s, "phases": phases,
        "inserted": outcome["inserted"], "counts": counts,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **again_figures,
    }, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=Path("/tmp/parcels"))
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--crs", help=argparse.SUPPRESS)
    ap.add_argument("--again", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--only-replace", action="store_true",
                    help="only the re-upload with replace (first insert, then the changed file), not the variants")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.crs, args.again)
        return
    if shutil.which("ogr2ogr") is None:
        raise SystemExit("ogr2ogr not found: install gdal-bin (apt-get install gdal-bin) for the reference")

    from tests.dbutil import drop_database

    src = ensure_data(args.n, args.data)
    gbk = make_gbk_4549_variant(src, args.data / f"{src.name.split('.')[0]}_gbk_4549.shp.zip")
    changed = make_changed_variant(src, args.data / f"{src.name.split('.')[0]}_changed.shp.zip")
    url = prepare_database()
    try:
        print(f"{args.n} parcels; best of {args.repeat}; server {url.rsplit('@', 1)[-1]}")
        replace_runs, ogr_runs = [], []
        for _ in range(args.repeat):
            reset(url)
            ogr_runs.append(run_ogr2ogr(url, src))
            reset(url)
            replace_runs.append(run_ours(url, src, ["--again", str(changed)]))
        best = min(replace_runs, key=lambda r: r["replace_commit_s"])
        print(f"re-upload with replace: first insert commit {best['commit_s']:.2f}s (stage {best['stage_s']:.2f}s);"
              f" replace commit {best['replace_commit_s']:.2f}s (stage {best['replace_stage_s']:.2f}s),"
              f" {best['replaced']} replaced; ogr2ogr (insert only) {min(ogr_runs):.2f}s")
        if args.only_replace:
            return
        print(f"{'file':<34}{'ogr2ogr':>10}{'ours':>10}{'stage':>8}{'commit':>8}{'ours/s':>10}{'ogr/s':>10}"
              f"{'ratio':>7}{'peak MiB':>10}")
        for label, path in (("UTF-8, EPSG:4490, .cpg", src), ("GBK no .cpg, EPSG:4549, 中文字段", gbk)):
            ogr, ours = [], []
            for _ in range(args.repeat):
                reset(url)
                ogr.append(run_ogr2ogr(url, path))
                reset(url)
                ours.append(run_ours(url, path, []))
            best = min(ours, key=lambda r: r["stage_s"] + r["commit_s"])
            o = min(ogr)
            ours_s = best["stage_s"] + best["commit_s"]
            n = best["inserted"]
            assert n == args.n - best["counts"]["errors"], best["counts"]
            rate, ogr_rate = n / ours_s, args.n / o
            print(f"{label:<34}{o:>9.2f}s{ours_s:>9.2f}s{best['stage_s']:>7.2f}s{best['commit_s']:>7.2f}s"
                  f"{rate:>10,.0f}{ogr_rate:>10,.0f}{rate / ogr_rate:>7.2f}{best['maxrss_kib'] / 1024:>10,.0f}")
            print(f"    phases {best['phases']}; report: {best['counts']}")
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
