"""Mixed read load on `cloudmap serve` with 1 and 2 workers (docs/deployment.md, "Figures").

    python bench/bench_load.py [--duration 10] [--workers 1 2] [--connections 2 16]

Makes a throw-away demo database (tests.dbutil.demo_database), starts ``cloudmap serve --workers N``
on a free loopback port for each N, and drives it with ``wrk`` (Debian package) and a Lua script that
cycles through the requests a county's users and systems make: the map page, an /api/parcels bbox
page, an /ogc items page, an /ogc tile (cache on, as deployed), a search and the monthly table. Each
(workers, connections) pair runs for --duration seconds after an untimed warm-up pass. Prints
req/s, p50, p99, non-2xx/3xx and socket errors, and the load average before and after (the figures
mean little when it was well above 1.5 on a 2-core machine: re-run when the machine is idle).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dbutil import demo_database  # noqa: E402

LUA = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%f\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), summary.duration))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def probes(url: str) -> list[str]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        lon, lat, code = conn.execute(
            "SELECT ST_X(c), ST_Y(c), code FROM (SELECT ST_Centroid(geom) c, code FROM parcels "
            "ORDER BY code LIMIT 1 OFFSET 10) s").fetchone()
    bbox = f"{lon - 0.01:.5f},{lat - 0.01:.5f},{lon + 0.01:.5f},{lat + 0.01:.5f}"
    z, x, y = tile_of(lon, lat, 14)
    return ["/", f"/api/parcels?bbox={bbox}", f"/ogc/collections/parcels/items?bbox={bbox}&limit=100",
            f"/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}", f"/api/search?q={code[:4]}",
            "/api/progress/monthly?year=2022&month=6"]


def wrk(base: str, script: Path, connections: int, duration: int) -> dict:
    out = subprocess.run(["wrk", "-t2" if connections > 2 else "-t1", f"-c{connections}", f"-d{duration}s",
                          "-s", str(script), base], capture_output=True, text=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            n, status, sock, p50, p99, micros = line.split()[1:]
            seconds = float(micros) / 1e6
            return {"rps": int(n) / seconds, "p50": int(p50) / 1000, "p99": int(p99) / 1000,
                    "non2xx": int(status), "socket": int(sock)}
    raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")


def serve(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "CLOUDMAP_OGC_ALLOW_ANONYMOUS": "true",
           "CLOUDMAP_OGC_ANONYMOUS_RATE_PER_MINUTE": "100000000"}
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "cloudmap"), "serve", "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("cloudmap serve did not start")
        time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, nargs="+", default=[2, 16])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_load: install wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    rows = []
    with demo_database("txmap_bench_load") as url, tempfile.TemporaryDirectory() as tmp:
        paths = probes(url)
        script = Path(tmp) / "mixed.lua"
        script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
        for workers in args.workers:
            port = free_port()
            proc = serve(url, port, workers)
            base = f"http://127.0.0.1:{port}"
            try:
                for p in paths:  # every worker warm: several passes, the kernel spreads them
                    for _ in range(2 * workers):
                        assert httpx.get(base + p, timeout=60).status_code < 400, p
                for conns in args.connections:
                    rows.append((workers, conns, wrk(base, script, conns, args.duration)))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"mixed read load: {', '.join(paths)}")
    print("workers conns |  req/s   p50 ms   p99 ms | non-2xx socket-errors")
    for workers, conns, r in rows:
        print(f"{workers:7d} {conns:5d} | {r['rps']:6.0f} {r['p50']:8.1f} {r['p99']:8.1f} | "
              f"{r['non2xx']:7d} {r['socket']:13d}")
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
