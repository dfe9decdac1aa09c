# Sourced by scripts/setup.sh and scripts/bench_setup.sh: what to tell a user who is not
# root when system packages are missing, then stop.
#
#   missing_packages_exit PREFIX "PKG ..." [EXTRA_HINT]
missing_packages_exit() {
    local prefix=$1 pkgs=$2 extra=${3:-}
    printf '%s: missing system packages: %s\n' "$prefix" "$pkgs" >&2
    if command -v apt-get >/dev/null 2>&1; then
        printf '%s: install them with:\n  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y %s\n' \
            "$prefix" "$pkgs" >&2
        printf '%s: %sthen run this again.\n' "$prefix" "$extra" >&2
    else
        printf '%s: no apt-get here: install the equivalents with your package manager.\n' "$prefix" >&2
    fi
    exit 1
}
