"""OGC API benchmark: this service against tipg, same PostGIS, same 100k parcels, same run.

    python bench/bench_ogc.py [--data /tmp/ogcbench] [--tipg /tmp/tipg-venv] [--duration 5] [--baseline DIR]

Needs: the 100k set from ../shared/bench/gen_parcels.py (`gen_parcels.py 100000 --out DIR`;
its meta.json gives the dense ~2 km bbox, the z14/z16 tiles and the probe feature);
tipg installed in a separate venv (`python3 -m venv /tmp/tipg-venv &&
/tmp/tipg-venv/bin/pip install tipg==1.6.1 uvicorn httptools uvloop` — never into the
project's venv); `wrk` (Debian package) as the load generator on 127.0.0.1.

It makes a throw-away database txmap_bench_ogc_<hex> (migrated, demo units, plus the
100k parcels loaded with COPY, areas computed by spatial), starts one worker of each
server on loopback — ours with the tile cache off ("cold") and on ("warm"), and tipg —
and runs each probe for --duration seconds at 2 and 16 connections. Every server gets
one untimed warm-up pass first. It prints req/s, p50 and p99 and the ratios to tipg, and
the load average before and after. The ``api page`` probe is the same bbox page from
``/api/parcels`` (offset paging), compared with tipg's page. ``--baseline DIR`` also runs
the server of another checkout (e.g. ``git worktree add /tmp/before <commit>``) with the
tile cache off on the same database, so a change is measured against what it replaced in
the same run. All servers run at once and each probe is measured on each server in turn (the figures mean little when it was well above 1.5 on
a 2-core machine: re-run when the machine is idle).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.settings import PROJECT_ROOT, Settings  # noqa: E402
from spatial import AREA_SRID, areas_mu  # noqa: E402
from tests.dbutil import create_database, drop_database, migrate  # noqa: E402

CATEGORY = {"改造提升": "upgrade", "优化转型": "transform", "整治清退": "clear_out"}
TOWN_ALIASES = {"高桥街道": "开发区（高桥街道）"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load(url: str, gpkg: Path) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from app.core.db import make_engine, make_sessionmaker
    from app.seed import seed

    engine = make_engine(Settings(database_url=url), url)
    with make_sessionmaker(engine)() as session:
        seed(session, PROJECT_ROOT / "data")
    engine.dispose()
    df = pyogrio.read_dataframe(gpkg)
    geoms = np.array([shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else g for g in df.geometry.values])
    mu = areas_mu(df.geometry.to_crs(AREA_SRID).values)  # 亩 in EPSG:4549, as the app computes them
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        units = dict(conn.execute("SELECT name, id FROM units").fetchall())
        buf = io.StringIO()
        wkb = shapely.to_wkb(geoms, hex=True, include_srid=False)
        for i, row in enumerate(df.itertuples(index=False)):
            unit = units.get(TOWN_ALIASES.get(row.town, row.town)) or next(iter(units.values()))
            land_m2 = mu[i] * 10000 / 15
            far = row.floor_area_m2 / land_m2 if land_m2 > 0 else None
            buf.write("\t".join([
                row.parcel_code, str(unit), "SRID=4490;" + wkb[i], f"{mu[i]:.2f}", f"{row.floor_area_m2:.2f}",
                "\\N" if far is None else f"{far:.4f}", CATEGORY.get(row.category, "upgrade"), "not_started",
            ]) + "\n")
        with conn.cursor().copy(
            "COPY parcels (code, unit_id, geom, land_area_mu, floor_area_m2, far, classification, status) FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
        conn.execute("ANALYZE parcels")
        conn.execute("DELETE FROM tile_invalidations")


class Server:
    def __init__(self, name: str, cmd: list[str], env: dict, port: int, ready_path: str, cwd: Path | None = None) -> None:
        self.name, self.cmd, self.env, self.port, self.ready_path, self.cwd = name, cmd, env, port, ready_path, cwd
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, cwd=self.cwd or ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}{self.ready_path}", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start")

    def __exit__(self, *exc) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, connections: int, duration: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout

    def lat(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat("50"), "p99": lat("99"), "errors": int(errors.group(1)) if errors else 0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/ogcbench", type=Path)
    ap.add_argument("--tipg", default="/tmp/tipg-venv", type=Path)
    ap.add_argument("--duration", default=5, type=int)
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--baseline", type=Path, help="another checkout whose server is measured too (cache off)")
    args = ap.parse_args()
    meta = json.loads((args.data / "parcels_100k.meta.json").read_text())["probes"]
    if shutil.which("wrk") is None:
        print("bench_ogc: install wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    tipg_uvicorn = args.tipg / "bin" / "uvicorn"
    if not tipg_uvicorn.exists():
        print(f"bench_ogc: tipg venv not found at {args.tipg} (see the docstring)", file=sys.stderr)
        return 2

    load_before = os.getloadavg()
    url = create_database("txmap_bench_ogc")
    try:
        migrate(url)
        t0 = time.perf_counter()
        load(url, args.data / "parcels_100k.gpkg")
        print(f"loaded 100k parcels in {time.perf_counter() - t0:.1f} s")
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            # the same feature for both servers: tipg addresses it by id, we by code
            row = conn.execute(text(
                "SELECT id, code FROM parcels WHERE geom && ST_MakeEnvelope(:x0,:y0,:x1,:y1,4490) "
                "ORDER BY ST_Distance(ST_Centroid(geom), ST_SetSRID(ST_MakePoint(:cx,:cy),4490)) LIMIT 1"),
                {"x0": meta["bbox"][0], "y0": meta["bbox"][1], "x1": meta["bbox"][2], "y1": meta["bbox"][3],
                 "cx": meta["bbox_center"][0], "cy": meta["bbox_center"][1]}).one()
            in_bbox = conn.execute(text(
                "SELECT count(*) FROM parcels WHERE ST_Intersects(geom, ST_MakeEnvelope(:x0,:y0,:x1,:y1,4490))"),
                {"x0": meta["bbox"][0], "y0": meta["bbox"][1], "x1": meta["bbox"][2], "y1": meta["bbox"][3]}).scalar()
        engine.dispose()
        pid, pcode = row
        bbox = ",".join(str(v) for v in meta["bbox"])
        z14, z16 = meta["tile_z14"], meta["tile_z16"]
        print(f"probes: bbox {bbox} ({in_bbox} parcels), item id {pid} / {pcode}, tiles {z14} {z16}")

        from sqlalchemy.engine import make_url

        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
        ours_probes = {
            "page": "/ogc/collections/parcels/items?bbox={bbox}&limit=1000",
            "item": f"/ogc/collections/parcels/items/{pcode}",
            "tile z14": "/ogc/collections/parcels/tiles/WebMercatorQuad/{z14}",
            "tile z16": "/ogc/collections/parcels/tiles/WebMercatorQuad/{z16}",
            "api page": "/api/parcels?bbox={bbox}&limit=1000",
        }
        tipg_probes = {
            "page": "/collections/public.parcels/items?bbox={bbox}&limit=1000",
            "item": f"/collections/public.parcels/items/{pid}",
            "tile z14": "/collections/public.parcels/tiles/WebMercatorQuad/{z14}",
            "tile z16": "/collections/public.parcels/tiles/WebMercatorQuad/{z16}",
            "api page": "/collections/public.parcels/items?bbox={bbox}&limit=1000",
        }
        fmt = {"bbox": bbox, "z14": "/".join(map(str, z14)), "z16": "/".join(map(str, z16))}
        servers = []
        p1, p2, p3 = free_port(), free_port(), free_port()
        uvicorn = [str(ROOT / ".venv/bin/python"), "-m", "uvicorn", "--factory", "app.main:create_app",
                   "--host", "127.0.0.1", "--workers", "1", "--log-level", "warning", "--no-access-log"]
        servers.append(("tipg", Server("tipg", [str(tipg_uvicorn), "tipg.main:app", "--host", "127.0.0.1",
                                                 "--port", str(p3), "--workers", "1", "--log-level", "warning",
                                                 "--no-access-log"],
                                        {**base_env, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["public"]',
                                         "TIPG_MAX_FEATURES_PER_QUERY": "10000"}, p3, "/collections"), tipg_probes))
        servers.append(("ours, cache off", Server("ours-cold", [*uvicorn, "--port", str(p1)],
                                                   {**base_env, "DATABASE_URL": url, "CLOUDMAP_OGC_TILE_CACHE_MB": "0"},
                                                   p1, "/ogc"), ours_probes))
        servers.append(("ours, cache warm", Server("ours-warm", [*uvicorn, "--port", str(p2)],
                                                    {**base_env, "DATABASE_URL": url}, p2, "/ogc"), ours_probes))
        if args.baseline:
            p4 = free_port()
            base_uvicorn = [str(ROOT / ".venv/bin/python"), *uvicorn[1:]]
            servers.append(("baseline", Server("baseline", [*base_uvicorn, "--port", str(p4)],
                                               {**base_env, "DATABASE_URL": url, "CLOUDMAP_OGC_TILE_CACHE_MB": "0"},
                                               p4, "/ogc", cwd=args.baseline), ours_probes))
        results: dict[tuple[str, str, int], dict] = {}
        # Every server runs at once (idle ones cost nothing) and each probe is measured on each of
        # them in turn, so no server has the machine at a better moment than another.
        with contextlib.ExitStack() as stack:
            for label, server, probes in servers:
                stack.enter_context(server)
                for probe, path in probes.items():
                    full = f"http://127.0.0.1:{server.port}" + path.format(**fmt)
                    r = httpx.get(full, timeout=60)  # warm-up, and a sanity check
                    assert r.status_code == 200, (label, probe, r.status_code, r.text[:300])
                    if probe == "page":
                        n = len(r.json()["features"])
                        print(f"{label}: page has {n} features, {len(r.content) / 1024:.0f} KiB")
            for probe in ours_probes:
                for conns in (2, 16):
                    for label, server, probes in servers:
                        full = f"http://127.0.0.1:{server.port}" + probes[probe].format(**fmt)
                        results[(label, probe, conns)] = wrk(full, conns, args.duration)
        print()
        columns = ["ours, cache off", "ours, cache warm"] + (["baseline"] if args.baseline else [])
        heads = {"ours, cache off": "ours", "ours, cache warm": "warm", "baseline": "base"}
        print(f"{'probe':<9} {'conns':>5} | {'tipg req/s':>10} {'p50':>7} {'p99':>7} | " + " | ".join(
            f"{heads[c] + ' req/s':>10} {'p50':>7} {'p99':>7} {'×tipg':>6}" for c in columns))
        for probe in ours_probes:
            for conns in (2, 16):
                t = results[("tipg", probe, conns)]
                cells = []
                for c in columns:
                    o = results[(c, probe, conns)]
                    cells.append(f"{o['rps']:>10.0f} {o['p50']:>6.1f}m {o['p99']:>6.1f}m {o['rps'] / t['rps']:>5.1f}x")
                print(f"{probe:<9} {conns:>5} | {t['rps']:>10.0f} {t['p50']:>6.1f}m {t['p99']:>6.1f}m | "
                      + " | ".join(cells))
        bad = {k: v["errors"] for k, v in results.items() if v["errors"]}
        if bad:
            print(f"non-2xx responses: {bad}")
        print("(latencies in ms; 'ours' = cache off (CLOUDMAP_OGC_TILE_CACHE_MB=0); page and item are never cached;"
              " 'api page' is /api/parcels against tipg's page)")
        print("load average (1, 5, 15 min): before {:.2f} {:.2f} {:.2f}, after {:.2f} {:.2f} {:.2f}".format(
            *load_before, *os.getloadavg()))
    finally:
        if not args.keep_db:
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
