"""Browser benchmark of the map (一图) with the 100k-parcel set, in Debian's headless Chromium.

    .venv/bin/python bench/bench_map.py [--data /tmp/parcels] [--repeat 5]

Makes a throw-away database txmap_bench_map_<hex> on the private cluster (migrated, demo
data, plus the 100k parcels of /work/shared/bench/gen_parcels.py loaded with COPY by
bench_ogc.load), serves the app on 127.0.0.1 and drives /usr/bin/chromium (never a
downloaded browser) through Playwright. It prints, best and median of --repeat:

  first render   navigation → map ready at the city view (units, blocks, per-unit aggregates)
  detail view    jump to the densest area at zoom 15 → its parcels fetched and drawn
  pan            300 px pan at zoom 15 → redrawn (refetches only when the view leaves the box)
  zoom in / out  one zoom step without animation → redrawn

and, measured in the same page and run, the reference: the same dense view's parcels
fetched from the first map's /api/parcels and drawn as Leaflet SVG paths (L.geoJSON,
the way the first map drew everything). Targets: < 1.5 s first render, < 300 ms redraw.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.dbutil import create_database, drop_database, migrate  # noqa: E402

GEN = Path("/work/shared/bench/gen_parcels.py")
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
DETAIL_ZOOM = 15


def ensure_data(folder: Path) -> Path:
    gpkg = folder / "parcels_100k.gpkg"
    if not gpkg.exists():
        subprocess.run([sys.executable, str(GEN), "100000", "--out", str(folder)], check=False)
    if not gpkg.exists():
        raise SystemExit(f"{gpkg} is missing: run python {GEN} 100000 --out {folder}")
    return gpkg


def dense_centre(url: str) -> tuple[float, float]:
    """Centre of the ~1 km cell holding the most parcels (the worst view to draw)."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT round(ST_X(ST_Centroid(geom))::numeric, 2) AS x, round(ST_Y(ST_Centroid(geom))::numeric, 2) AS y,"
            " count(*) FROM parcels GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 1"
        ).fetchone()
    return float(row[1]), float(row[0])


def serve(settings: Settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


# Runs in the page: do something to the map, then wait for the next completed redraw
# (body[data-render-seq] moves on) and two animation frames (the canvas is painted).
REDRAW_JS = """async (action) => {
  const { map } = window.cloudmapDebug;
  const seq = Number(document.body.dataset.renderSeq);
  const t0 = performance.now();
  if (action.kind === 'pan') map.panBy([action.dx, action.dy], { animate: false });
  else if (action.kind === 'zoom') map.setZoom(map.getZoom() + action.dz, { animate: false });
  else map.setView([action.lat, action.lon], action.zoom, { animate: false });
  while (Number(document.body.dataset.renderSeq) === seq) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return { ms: performance.now() - t0, drawn: Number(document.body.dataset.parcelsDrawn), zoom: map.getZoom() };
}"""

REFERENCE_JS = """async ([bbox]) => {
  const div = document.createElement('div');
  div.style.cssText = 'position:absolute;left:0;top:52px;width:1400px;height:848px;z-index:5000;background:#fff';
  document.body.append(div);
  const t0 = performance.now();
  let url = `/api/parcels?bbox=${bbox}&limit=5000`, n = 0;
  const m = L.map(div, { zoomAnimation: false }).fitBounds([[%s]]);
  while (url) {
    const page = await (await fetch(url)).json();
    L.geoJSON(page).addTo(m);
    n += page.features.length;
    const next = (page.links || []).find((l) => l.rel === 'next');
    url = next ? next.href : null;
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = performance.now() - t0;
  m.remove(); div.remove();
  return { ms, drawn: n };
}"""


def fmt(values: list[float]) -> str:
    return f"best {min(values):7.0f} ms   median {statistics.median(values):7.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/tmp/parcels"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the throw-away database")
    parser.add_argument("--database", help="reuse a database a --keep run left (skips the load)")
    args = parser.parse_args()
    gpkg = ensure_data(args.data)

    from bench_ogc import load  # the shared 100k loader (COPY, areas through spatial)
    from playwright.sync_api import sync_playwright

    url = args.database or create_database("txmap_bench_map")
    try:
        if not args.database:
            t = time.perf_counter()
            migrate(url)
            load(url, gpkg)
            print(f"loaded 100k parcels into {url} in {time.perf_counter() - t:.1f} s")
        lat, lon = dense_centre(url)
        server, thread, base = serve(Settings(database_url=url))
        results: dict[str, list[float]] = {k: [] for k in ("first", "detail", "pan", "zoom_in", "zoom_out", "reference")}
        drawn: dict[str, int] = {}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                for i in range(args.repeat + 1):  # the first round warms the server and the disk cache
                    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(base + "/?debug=1")
                    page.wait_for_selector("body[data-map-state='ready'][data-render-seq]", state="attached",
                                           timeout=60_000)
                    first = (time.perf_counter() - t0) * 1000
                    assert page.evaluate("document.body.dataset.aggregated") == "true", "100k must be aggregated"
                    detail = page.evaluate(REDRAW_JS, {"kind": "view", "lat": lat, "lon": lon, "zoom": DETAIL_ZOOM})
                    mode = "vector tiles" if page.evaluate("document.body.dataset.parcelTiles") == "true" else "GeoJSON box"
                    pan = page.evaluate(REDRAW_JS, {"kind": "pan", "dx": 300, "dy": 0})
                    pan2 = page.evaluate(REDRAW_JS, {"kind": "pan", "dx": 0, "dy": 600})
                    zin = page.evaluate(REDRAW_JS, {"kind": "zoom", "dz": 1})
                    zout = page.evaluate(REDRAW_JS, {"kind": "zoom", "dz": -1})
                    b = page.evaluate("(() => { const b = window.cloudmapDebug.map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
                    ref = page.evaluate(REFERENCE_JS % f"{b[1]},{b[0]}],[{b[3]},{b[2]}", [",".join(f"{v:.6f}" for v in b)])
                    context.close()
                    if i == 0:
                        continue
                    results["first"].append(first)
                    results["detail"].append(detail["ms"])
                    results["pan"].extend([pan["ms"], pan2["ms"]])
                    results["zoom_in"].append(zin["ms"])
                    results["zoom_out"].append(zout["ms"])
                    results["reference"].append(ref["ms"])
                    drawn = {"detail": detail["drawn"], "zoom_in": zin["drawn"], "zoom_out": zout["drawn"],
                             "reference": ref["drawn"]}
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        print(f"\nheadless Chromium {CHROMIUM}, viewport {VIEWPORT['width']}x{VIEWPORT['height']}, "
              f"100k parcels, dense view at ({lon:.2f}, {lat:.2f}) z{DETAIL_ZOOM} drawn from {mode}, "
              f"{args.repeat} rounds after a warm-up; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"  first render (city view, aggregated)   {fmt(results['first'])}   target < 1500 ms")
        print(f"  detail view z{DETAIL_ZOOM} ({drawn['detail']:5d} parcels)     {fmt(results['detail'])}")
        print(f"  redraw after 300/600 px pan            {fmt(results['pan'])}   target < 300 ms")
        print(f"  redraw after zoom in  ({drawn['zoom_in']:5d} parcels)    {fmt(results['zoom_in'])}   target < 300 ms")
        print(f"  redraw after zoom out ({drawn['zoom_out']:5d} parcels)    {fmt(results['zoom_out'])}   target < 300 ms")
        print(f"  reference: same view via /api/parcels as Leaflet SVG ({drawn['reference']} parcels)"
              f"   {fmt(results['reference'])}")
        print(json.dumps({k: round(statistics.median(v), 1) for k, v in results.items()}))
    finally:
        if not args.keep and not args.database:
            drop_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
