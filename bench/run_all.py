"""Run the benchmarks one after another, each under an exclusive lock on /tmp/bench.lock.

    .venv/bin/python bench/run_all.py [--only spatial,import,ogc,map,progress,evaluation] [--quick]
                                      [--data var/bench/parcels] [--tipg var/bench/tipg-venv]

`make bench` runs scripts/bench_setup.sh first (wrk, the tipg venv, the 100k-parcel set
in var/bench/parcels) and then this. Each benchmark runs as a child process with
--data (and --tipg for bench_ogc); its output is streamed as it comes. Before each one
the lock is taken — the same lock as `flock /tmp/bench.lock …`, which other people use on
this 2-core machine, so no two benchmarks measure each other — and `uptime` is printed:
figures taken at a load average well above 1 mean little. --quick passes smaller
repeats (shorter wrk runs for bench_ogc) for a smoke run; its figures are not for docs.
Exits non-zero if any benchmark failed (the others still run). See bench/README.md.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path("/tmp/bench.lock")

# name -> (script, arguments for --quick); order is the order they run in
BENCHES: dict[str, tuple[str, list[str]]] = {
    "spatial": ("bench_spatial.py", ["--repeat", "1", "--block-repeat", "5"]),
    "import": ("bench_import.py", ["--repeat", "1"]),
    "ogc": ("bench_ogc.py", ["--duration", "2"]),
    "map": ("bench_map.py", ["--repeat", "2"]),
    "progress": ("bench_progress.py", ["--repeat", "1"]),
    "evaluation": ("bench_evaluation.py", ["--repeat", "1"]),
}
NEEDS_NO_DATA = {"evaluation"}  # generates its own enterprises


def say(msg: str) -> None:
    print(f"run_all: {msg}", flush=True)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def parse_only(value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown benchmark {', '.join(unknown) or value!r}; "
                                         f"choose from {', '.join(BENCHES)}")
    return names


def command(name: str, args: argparse.Namespace) -> list[str]:
    script, quick = BENCHES[name]
    cmd = [sys.executable, "-u", str(ROOT / "bench" / script), "--data", str(args.data)]
    if name == "ogc":
        cmd += ["--tipg", str(args.tipg)]
    if args.quick:
        cmd += quick
    return cmd


def missing_inputs(names: list[str], args: argparse.Namespace) -> list[str]:
    if set(names) <= NEEDS_NO_DATA:
        return []
    missing = [str(p) for p in (args.data / "parcels_100k.gpkg", args.data / "parcels_100k.shp.zip",
                                args.data / "parcels_100k.meta.json") if not p.exists()]
    if "ogc" in names and not (args.tipg / "bin" / "uvicorn").exists():
        missing.append(str(args.tipg / "bin" / "uvicorn"))
    return missing


def run_locked(name: str, cmd: list[str]) -> int:
    with open(LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for {LOCK} (someone else is benchmarking) …")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            shown = [os.path.relpath(c, ROOT) if c.startswith(f"{ROOT}/") else c for c in cmd[2:]]
            say(f"=== {name}: {' '.join(shown)}")
            say(f"load before {name}: {uptime()}")
            return subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}).returncode
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", type=parse_only, default=list(BENCHES),
                    help=f"comma-separated subset of {','.join(BENCHES)} (default: all, in that order)")
    ap.add_argument("--quick", action="store_true", help="smaller repeats / shorter runs: a smoke run")
    ap.add_argument("--data", type=Path, default=ROOT / "var" / "bench" / "parcels",
                    help="the 100k-parcel set (default var/bench/parcels)")
    ap.add_argument("--tipg", type=Path, default=ROOT / "var" / "bench" / "tipg-venv",
                    help="the venv with tipg 1.6.1 (default var/bench/tipg-venv)")
    args = ap.parse_args()
    args.data, args.tipg = args.data.resolve(), args.tipg.resolve()
    names = [n for n in BENCHES if n in args.only]

    missing = missing_inputs(names, args)
    if missing:
        say("missing: " + ", ".join(missing))
        say("run `bash scripts/bench_setup.sh` (or `make bench`) first")
        return 2

    results: list[tuple[str, int, float]] = []
    for name in names:
        t0 = time.monotonic()
        try:
            rc = run_locked(name, command(name, args))
        except KeyboardInterrupt:
            say(f"interrupted during {name}")
            return 130
        results.append((name, rc, time.monotonic() - t0))
        if rc != 0:
            say(f"{name} FAILED (exit {rc})")

    print(flush=True)
    for name, rc, seconds in results:
        say(f"{name:<8} {'ok' if rc == 0 else f'FAILED (exit {rc})':<16} {seconds:7.1f} s")
    failed = [name for name, rc, _ in results if rc != 0]
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
