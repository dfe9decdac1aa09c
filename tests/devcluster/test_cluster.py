"""devdb.cluster: discovery messages, and a real throw-away cluster in a temporary
checkout on a free port (concurrent start, quick restart, sharing the port with
another checkout, refusing a port held by something else, stop).

Self-contained: uses nothing but devdb.cluster, never touches the
checkout's own cluster, and removes what it creates (including the
/var/lib/cloudmap-pg/<hash> directory used when running as root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devdb import cluster

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- #
# Pure helpers


def test_configured_port(monkeypatch):
    monkeypatch.delenv("CLOUDMAP_PG_PORT", raising=False)
    assert cluster.configured_port() == cluster.DEFAULT_PORT == 54329
    monkeypatch.setenv("CLOUDMAP_PG_PORT", "54401")
    assert cluster.configured_port() == 54401
    assert cluster.server_url() == "postgresql+psycopg://cloudmap@127.0.0.1:54401/postgres"
    for bad in ("abc", "80", "70000"):
        monkeypatch.setenv("CLOUDMAP_PG_PORT", bad)
        with pytest.raises(cluster.ClusterError, match="CLOUDMAP_PG_PORT"):
            cluster.configured_port()


def test_urls_and_paths(tmp_path):
    assert cluster.server_url(5555, "txmap_test_ab12") == (
        "postgresql+psycopg://cloudmap@127.0.0.1:5555/txmap_test_ab12")
    assert cluster.data_dir(tmp_path) == tmp_path.resolve() / "var" / "pg"


def _fake_pg(lib: Path, share: Path, versions: dict[str, bool]) -> None:
    for ver, postgis in versions.items():
        bindir = lib / ver / "bin"
        bindir.mkdir(parents=True)
        for name in ("initdb", "pg_ctl", "postgres"):
            (bindir / name).write_text("#!/bin/sh\n")
            (bindir / name).chmod(0o755)
        ext = share / ver / "extension"
        ext.mkdir(parents=True)
        if postgis:
            (ext / "postgis.control").write_text("")


def test_find_pg_bindir_prefers_newest_with_postgis(tmp_path, monkeypatch):
    lib, share = tmp_path / "lib", tmp_path / "share"
    _fake_pg(lib, share, {"9.6": True, "13": True, "16": False})
    monkeypatch.setattr(cluster, "PG_LIB_ROOT", lib)
    monkeypatch.setattr(cluster, "PG_SHARE_ROOT", share)
    assert cluster.find_pg_bindir() == lib / "13" / "bin"
    assert cluster.find_pg_bindir("9.6") == lib / "9.6" / "bin"
    with pytest.raises(cluster.ClusterError, match="postgresql-16-postgis-3"):
        cluster.find_pg_bindir("16")


def test_missing_postgis_messages(tmp_path, monkeypatch):
    lib, share = tmp_path / "lib", tmp_path / "share"
    _fake_pg(lib, share, {"15": False})
    monkeypatch.setattr(cluster, "PG_LIB_ROOT", lib)
    monkeypatch.setattr(cluster, "PG_SHARE_ROOT", share)
    with pytest.raises(cluster.ClusterError, match="sudo apt-get install -y postgresql-15-postgis-3"):
        cluster.ensure_installed(auto_install=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(cluster.ClusterError,
                       match="sudo apt-get install -y postgresql postgresql-15-postgis-3"):
        cluster.ensure_installed()
    # No server at all: the distribution's default version is suggested.
    monkeypatch.setattr(cluster, "PG_LIB_ROOT", tmp_path / "nothing")
    monkeypatch.setattr(cluster, "_distro_default_version", lambda: "17")
    with pytest.raises(cluster.ClusterError, match="postgresql postgresql-17-postgis-3"):
        cluster.find_pg_bindir()


# --------------------------------------------------------------------------- #
# A real cluster


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cleanup(root: Path) -> None:
    real = Path(os.path.realpath(cluster.data_dir(root)))
    try:
        cluster.stop(root)
    finally:
        if real.parent.parent == cluster.RELOCATED_BASE:
            shutil.rmtree(real.parent, ignore_errors=True)


@pytest.fixture
def checkout(tmp_path):
    """A temporary 'checkout' (only var/ matters); its cluster is removed afterwards."""
    roots: list[Path] = []

    def make(name: str) -> Path:
        root = tmp_path / name
        root.mkdir()
        roots.append(root)
        return root

    yield make
    for root in roots:
        _cleanup(root)


def _start_in_subprocess(root: Path, port: int) -> subprocess.Popen:
    code = ("import sys; from pathlib import Path; from devdb import cluster; "
            "print(cluster.start(Path(sys.argv[1]), int(sys.argv[2])))")
    return subprocess.Popen([sys.executable, "-c", code, str(root), str(port)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cluster_lifecycle(checkout, capsys):
    cluster.find_pg_bindir()  # fails with the install command when PostGIS is missing
    import psycopg

    root, other = checkout("one"), checkout("two")
    port = _free_port()
    url = f"postgresql+psycopg://cloudmap@127.0.0.1:{port}/cloudmap"
    assert cluster.status(root, port)["initialised"] is False

    # Two processes start the same fresh checkout at once: one initdb, same URL.
    procs = [_start_in_subprocess(root, port) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert out.strip() == url
    assert sum(err.count("initialising a PostgreSQL") for _, err in outs) == 1

    if os.geteuid() == 0:  # server binaries run as an unprivileged user
        real = Path(os.path.realpath(cluster.data_dir(root)))
        assert real.stat().st_uid != 0
        if cluster.data_dir(root).is_symlink():  # tmp dir not traversable by cloudmap-pg
            assert real.parent.parent == cluster.RELOCATED_BASE

    info = cluster.status(root, port)
    assert info["initialised"] and info["running"] and info["shared_with"] is None
    assert info["url"] == url and info["port"] == port
    assert info["postgres_version"] and info["postgis_version"]

    # Already running: idempotent and quick.
    t0 = time.perf_counter()
    assert cluster.start(root, port) == url
    assert time.perf_counter() - t0 < 0.5

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        assert conn.execute("SELECT PostGIS_Lib_Version()").fetchone()[0]
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'cloudmap'").fetchone()[0]
        conn.execute('CREATE DATABASE "txmap_test_pgcluster"')
        conn.execute('DROP DATABASE "txmap_test_pgcluster"')

    # Asked for another port while running: refused, naming both ports.
    with pytest.raises(cluster.ClusterError, match=str(port)):
        cluster.start(root, _free_port())

    # A second checkout on the same port shares the running cluster.
    capsys.readouterr()
    assert cluster.start(other, port) == url
    assert "shares it" in capsys.readouterr().err
    shared = cluster.status(other, port)
    assert shared["running"] is False and shared["initialised"] is False
    assert shared["shared_with"] and shared["url"] == url
    assert cluster.stop(other) is False  # never stops someone else's cluster

    assert cluster.stop(root) is True
    assert cluster.stop(root) is False
    info = cluster.status(root, port)
    assert info["initialised"] and not info["running"] and info["url"] is None


def test_port_taken_by_something_else(checkout):
    root = checkout("busy")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]

    def refuse() -> None:  # accept and hang up at once, like a non-PostgreSQL service
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=refuse, daemon=True).start()
    try:
        with pytest.raises(cluster.ClusterError, match=f"Port {port}.*CLOUDMAP_PG_PORT"):
            cluster.start(root, port)
        info = cluster.status(root, port)
        assert not info["running"] and info["shared_with"] is None
    finally:
        server.close()
