#!/usr/bin/env bash
# Idempotent set-up of what only the benchmarks need; `make bench` runs it after
# scripts/setup.sh (which already installs gdal-bin for ogr2ogr and chromium).
# Quick, and does nothing, when everything is in place.
#
#   (a) system packages: wrk (bench_ogc.py's load generator); chromium too if
#       scripts/setup.sh skipped it (SKIP_BROWSER=1) — bench_map.py drives it;
#       python3-venv if the tipg venv has to be made and venv/ensurepip are missing.
#       As root they are installed with apt-get; otherwise the exact sudo command
#       is printed and the script exits 1.
#   (b) var/bench/tipg-venv: a separate venv with tipg 1.6.1, the reference server
#       of bench_ogc.py — never in the project's .venv (its pins differ). Redone only
#       when the pinned list below changes (stamp var/bench/tipg-venv/.installed-<sha256>).
#   (c) var/bench/parcels: the 100k-parcel set of ../shared/bench/gen_parcels.py
#       (.gpkg, .shp.zip, .meta.json), generated with the project's .venv python
#       (morecantile, for the meta.json probes, is in the .[test] extras) only when
#       a file is missing. Generating takes both cores for a while, so it waits for
#       /tmp/bench.lock like any benchmark does.
#
# var/ is git-ignored.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/apt_hint.sh
. scripts/apt_hint.sh

export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'bench-setup: %s\n' "$*"; }
die() { printf 'bench-setup: error: %s\n' "$*" >&2; exit 1; }

TIPG_VENV=var/bench/tipg-venv
TIPG_PACKAGES=(tipg==1.6.1 uvicorn==0.54.0 httptools==0.9.0 uvloop==0.23.0)
DATA=var/bench/parcels
GEN=../shared/bench/gen_parcels.py
LOCK=/tmp/bench.lock

changed=0
is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1

[ -x .venv/bin/python ] || die ".venv is missing: run bash scripts/setup.sh (or make setup) first."

# --------------------------------------------------------------------------- #
# (a) system packages

tipg_hash=$(printf '%s\n' "${TIPG_PACKAGES[@]}" | sha256sum | cut -d' ' -f1)
tipg_stamp="$TIPG_VENV/.installed-$tipg_hash"
tipg_ok() { [ -e "$tipg_stamp" ] && [ -x "$TIPG_VENV/bin/uvicorn" ] && [ -x "$TIPG_VENV/bin/python" ]; }

need_wrk=0 need_browser=0 need_venv=0
command -v wrk >/dev/null 2>&1 || need_wrk=1
[ -x /usr/bin/chromium ] || need_browser=1
if ! tipg_ok; then
    command -v python3 >/dev/null 2>&1 || die "python3 is required for $TIPG_VENV."
    python3 -c 'import ensurepip, venv' 2>/dev/null || need_venv=1
fi

missing_packages() {
    local pkgs=()
    [ "$need_wrk" = 1 ] && pkgs+=(wrk)
    [ "$need_browser" = 1 ] && pkgs+=(chromium)
    [ "$need_venv" = 1 ] && pkgs+=(python3-venv)
    echo "${pkgs[*]}"
}

if [ $((need_wrk + need_browser + need_venv)) -gt 0 ]; then
    pkgs=$(missing_packages)
    if [ "$is_root" = 1 ] && command -v apt-get >/dev/null 2>&1; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        say "installing system packages: $pkgs"
        # shellcheck disable=SC2086  # word splitting intended
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
        changed=1
        command -v wrk >/dev/null 2>&1 || die "wrk is still missing after installing $pkgs."
        [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is still missing after installing $pkgs."
    else
        missing_packages_exit bench-setup "$pkgs"
    fi
fi

# --------------------------------------------------------------------------- #
# (b) tipg, the OGC reference, in its own venv

if ! tipg_ok; then
    if [ ! -x "$TIPG_VENV/bin/python" ]; then
        say "creating $TIPG_VENV with python3 ($(python3 -c 'import sys; print(sys.version.split()[0])'))"
        mkdir -p "$(dirname "$TIPG_VENV")"
        python3 -m venv --clear "$TIPG_VENV"
    fi
    say "installing into $TIPG_VENV: ${TIPG_PACKAGES[*]}"
    "$TIPG_VENV/bin/python" -m pip install -q "${TIPG_PACKAGES[@]}"
    "$TIPG_VENV/bin/python" -c 'import tipg.main' || die "tipg does not import in $TIPG_VENV."
    rm -f "$TIPG_VENV"/.installed-*
    touch "$tipg_stamp"
    changed=1
fi

# --------------------------------------------------------------------------- #
# (c) the 100k-parcel data set

data_ok() {
    [ -s "$DATA/parcels_100k.gpkg" ] && [ -s "$DATA/parcels_100k.shp.zip" ] && [ -s "$DATA/parcels_100k.meta.json" ]
}

if ! data_ok; then
    [ -f "$GEN" ] || die "$GEN not found (the shared/ folder beside this checkout)."
    .venv/bin/python -c 'import morecantile, geopandas, pyogrio' 2>/dev/null ||
        die "morecantile/geopandas/pyogrio missing from .venv: run bash scripts/setup.sh (pip install -e '.[test]')."
    mkdir -p "$DATA"
    exec 9>>"$LOCK"
    if ! flock -n 9; then
        say "waiting for $LOCK (someone is benchmarking) before generating the data set"
        flock 9
    fi
    if ! data_ok; then  # another run may have made it while we waited
        say "generating the 100k-parcel set into $DATA (about a minute)"
        rm -f "$DATA"/parcels_100k.gpkg "$DATA"/parcels_100k.shp.zip "$DATA"/parcels_100k.meta.json \
            "$DATA"/parcels_100k_gbk_4549.shp.zip
        .venv/bin/python "$GEN" 100000 --out "$DATA" >/dev/null
        data_ok || die "$GEN did not write all of $DATA/parcels_100k.{gpkg,shp.zip,meta.json}."
        changed=1
    fi
    flock -u 9
    exec 9>&-
fi

if [ "$changed" = 0 ]; then
    say "everything is up to date (wrk, $TIPG_VENV, $DATA)"
else
    say "done"
fi
