#!/usr/bin/env bash
# Idempotent bootstrap of a Debian 12 / Ubuntu machine for this project; `make run`
# and `make test` call it. It is quick (well under 2 s) when everything is ready.
#
#   (a) system packages: PostgreSQL + PostGIS 3, chromium (skip: SKIP_BROWSER=1),
#       nodejs + npm, gdal-bin (ogr2ogr, the import benchmark's reference),
#       cgi-mapserver (WMS/WFS at /ows) and fonts-wqy-microhei (its Chinese labels),
#       python3-venv (only needed while .venv does not exist).
#       As root they are installed with apt-get; otherwise the exact sudo command
#       is printed and the script exits 1.
#   (b) .venv (Python >= 3.11) and `pip install -e '.[test]'`, redone only when
#       pyproject.toml changes (stamp .venv/.installed-<sha256>).
#   (c) `npm ci` in frontend/ (or `npm install` without a lock file), redone only
#       when package.json / package-lock.json change (stamp node_modules/.stamp-<hash>).
#
# Never downloads Playwright browsers: tests use the system chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/apt_hint.sh
. scripts/apt_hint.sh

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

changed=0
is_root=0
[ "$(id -u)" -eq 0 ] && is_root=1
os_id=""
os_version=""
if [ -r /etc/os-release ]; then
    os_id=$(. /etc/os-release && echo "${ID:-}")
    os_version=$(. /etc/os-release && echo "${VERSION_ID:-}")
fi

# --------------------------------------------------------------------------- #
# (a) system packages

# A PostgreSQL server major version whose PostGIS extension is installed.
postgis_ready() {
    local control ver
    for control in /usr/share/postgresql/*/extension/postgis.control; do
        [ -e "$control" ] || continue
        ver=${control#/usr/share/postgresql/}
        ver=${ver%%/*}
        [ -x "/usr/lib/postgresql/$ver/bin/postgres" ] && return 0
    done
    return 1
}

# Major version to pair PostGIS with: the newest installed server, else the
# distribution's default (from apt-cache, else a table of known releases).
postgres_major() {
    local newest=""
    newest=$(ls -1 /usr/lib/postgresql 2>/dev/null | sort -V | while read -r v; do
        [ -x "/usr/lib/postgresql/$v/bin/postgres" ] && echo "$v"; done | tail -n 1 || true)
    if [ -z "$newest" ] && command -v apt-cache >/dev/null 2>&1; then
        newest=$(apt-cache show --no-all-versions postgresql 2>/dev/null |
            sed -n 's/^Depends:.*postgresql-\([0-9][0-9.]*\).*/\1/p' | head -n 1 || true)
    fi
    if [ -z "$newest" ]; then
        case "$os_id:$os_version" in
            debian:11) newest=13 ;; debian:12) newest=15 ;; debian:13) newest=17 ;;
            ubuntu:22.04) newest=14 ;; ubuntu:24.04) newest=16 ;;
            *) newest="<version>" ;;
        esac
    fi
    echo "$newest"
}

# Debian calls the package chromium; Ubuntu has chromium-browser.
chromium_package() {
    if command -v apt-cache >/dev/null 2>&1 &&
        apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        echo chromium
    elif [ "$os_id" = ubuntu ]; then
        echo chromium-browser
    else
        echo chromium
    fi
}

# The Python that creates .venv: python3, or a newer python3.x, at least 3.11.
pick_python() {
    local py
    for py in python3 python3.13 python3.12 python3.11; do
        command -v "$py" >/dev/null 2>&1 || continue
        if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

venv_ok() {
    [ -x .venv/bin/python ] &&
        .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

need_pg=0 need_browser=0 need_fonts=0 need_node=0 need_npm=0 need_venv=0
postgis_ready || need_pg=1
if [ "${SKIP_BROWSER:-0}" != 1 ] && [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/chromium-browser ]; then
    need_browser=1
fi
# Chinese glyphs for the browser tests' screenshots (otherwise every label is a box).
if [ "${SKIP_BROWSER:-0}" != 1 ] && ! { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; }; then
    need_fonts=1
fi
command -v node >/dev/null 2>&1 || need_node=1
command -v npm >/dev/null 2>&1 || need_npm=1
# ogr2ogr is the reference in bench/bench_import.py (the tests never use it).
need_gdal=0
command -v ogr2ogr >/dev/null 2>&1 || need_gdal=1
# MapServer answers WMS and WFS at /ows (app/ows), as a CGI program; it labels with WenQuanYi Micro Hei.
need_mapserver=0
[ -x /usr/lib/cgi-bin/mapserv ] || command -v mapserv >/dev/null 2>&1 || need_mapserver=1
if ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then
    need_fonts=1
fi
python=""
if ! venv_ok; then
    python=$(pick_python) || die "Python >= 3.11 is required and neither python3 nor python3.11..3.13 is. \
Install it (Debian 12: sudo apt-get install -y python3 python3-venv), then rerun."
    "$python" -c 'import ensurepip, venv' 2>/dev/null || need_venv=1
fi

missing_packages() {
    local pkgs=() ver
    if [ "$need_pg" = 1 ]; then
        ver=$(postgres_major)
        pkgs+=(postgresql "postgresql-$ver-postgis-3")
    fi
    [ "$need_browser" = 1 ] && pkgs+=("$(chromium_package)")
    [ "$need_fonts" = 1 ] && pkgs+=(fonts-wqy-microhei)
    [ "$need_node" = 1 ] && pkgs+=(nodejs)
    [ "$need_npm" = 1 ] && pkgs+=(npm)
    [ "$need_gdal" = 1 ] && pkgs+=(gdal-bin)
    [ "$need_mapserver" = 1 ] && pkgs+=(cgi-mapserver)
    if [ "$need_venv" = 1 ]; then
        if [ "$python" = python3 ]; then pkgs+=(python3-venv); else pkgs+=("$python-venv"); fi
    fi
    echo "${pkgs[*]}"
}

if [ $((need_pg + need_browser + need_fonts + need_node + need_npm + need_gdal + need_mapserver + need_venv)) -gt 0 ]; then
    if [ "$is_root" = 1 ] && command -v apt-get >/dev/null 2>&1; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        pkgs=$(missing_packages)
        say "installing system packages: $pkgs"
        # shellcheck disable=SC2086  # word splitting intended
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
        changed=1
        postgis_ready || die "PostGIS is still missing after installing $pkgs."
        command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
            die "node/npm still missing after installing $pkgs."
        if [ "${SKIP_BROWSER:-0}" != 1 ] && [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/chromium-browser ]; then
            die "chromium is still missing after installing $pkgs (set SKIP_BROWSER=1 to skip browser tests)."
        fi
        [ -x /usr/lib/cgi-bin/mapserv ] || command -v mapserv >/dev/null 2>&1 ||
            die "MapServer (mapserv) is still missing after installing $pkgs."
    else
        pkgs=$(missing_packages)
        missing_packages_exit setup "$pkgs" "(SKIP_BROWSER=1 skips chromium), "
    fi
else
    say "system packages ok (PostgreSQL + PostGIS, MapServer, node, npm$([ "${SKIP_BROWSER:-0}" = 1 ] && echo ', browser skipped' || echo ', chromium'))"
fi

# --------------------------------------------------------------------------- #
# (b) Python virtualenv

if ! venv_ok; then
    if [ -e .venv ]; then
        say "recreating .venv with $python (the existing one is broken or older than Python 3.11)"
        "$python" -m venv --clear .venv
    else
        say "creating .venv with $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"
        "$python" -m venv .venv
    fi
    changed=1
fi
py_hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
py_stamp=".venv/.installed-$py_hash"
if [ ! -e "$py_stamp" ]; then
    say "installing Python dependencies: pip install -e '.[test]'"
    .venv/bin/python -m pip install -q -e '.[test]'
    rm -f .venv/.installed-*
    touch "$py_stamp"
    changed=1
fi

# --------------------------------------------------------------------------- #
# (c) frontend packages

npm_hash() {
    cat frontend/package.json frontend/package-lock.json 2>/dev/null | sha256sum | cut -c1-16
}

if [ -f frontend/package.json ]; then
    npm_stamp="frontend/node_modules/.stamp-$(npm_hash)"
    if [ ! -e "$npm_stamp" ]; then
        if [ -f frontend/package-lock.json ]; then
            say "installing frontend packages: npm ci"
            (cd frontend && npm ci --no-audit --no-fund)
        else
            say "installing frontend packages: npm install (no package-lock.json yet)"
            (cd frontend && npm install --no-audit --no-fund)
        fi
        mkdir -p frontend/node_modules
        rm -f frontend/node_modules/.stamp-*
        touch "frontend/node_modules/.stamp-$(npm_hash)"  # npm install may have written the lock
        changed=1
    fi
else
    say "no frontend/package.json yet; skipping npm"
fi

if [ "$changed" = 0 ]; then
    say "everything is up to date"
else
    say "done"
fi
