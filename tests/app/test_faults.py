"""A database that stops or hangs: 503 database_unavailable within the configured timeouts, never a
hang, and the same app answers 200 again once the database is back (docs/architecture.md,
"Limits and timeouts"). Also the body limits (413 while streaming).

The faults are made on a throwaway cluster of this module's own (initdb in a temporary folder,
a free port), never on the shared one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine

from app.auth.service import create_user
from app.core.db import new_session
from app.settings import Settings
from tests.app.live_server import Live
from tests.conftest import TEST_PASSWORD
from tests.dbutil import migrate

devdb_cluster = pytest.importorskip("devdb.cluster")

CONNECT_S, STATEMENT_MS, POOL_S = 2, 2000, 2.0
# The slowest 503: a check-out ping cut off (connect timeout), then a connection attempt that
# times out, or a read cut off (statement timeout + 1 s); a second more for a loaded machine.
BOUND_S = CONNECT_S + STATEMENT_MS / 1000 + 1 + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(argv: list[str], user, timeout: float = 120) -> None:
    proc = devdb_cluster._run_server_binary(argv, user, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class Cluster:
    def __init__(self) -> None:
        self.bindir = devdb_cluster.find_pg_bindir()
        self.user = devdb_cluster._ensure_server_user() if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="cloudmap-faults-"))
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self.data = self.root / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://cloudmap@127.0.0.1:{self.port}/cloudmap"

    def pg_ctl(self, action: str) -> None:
        _run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "pg.log"), "-w",
              "-t", "60", "-m", "fast", "-o", f"-p {self.port}", action], self.user)

    def create(self) -> None:
        _run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "cloudmap", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8"], self.user, timeout=300)
        (self.data / "pg_hba.conf").write_text(devdb_cluster._PG_HBA)
        with (self.data / "postgresql.conf").open("a") as fh:
            fh.write("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 40\n"
                     "shared_buffers = 32MB\nfsync = off\nfull_page_writes = off\njit = off\n")
        self.pg_ctl("start")
        dsn = f"host=127.0.0.1 port={self.port} user=cloudmap"
        with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE cloudmap")
        with psycopg.connect(dsn + " dbname=cloudmap", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        migrate(self.url)
        engine = create_engine(self.url)
        with new_session(engine) as session:
            create_user(session, username="clerk", role="gis_staff", password=TEST_PASSWORD)
            session.commit()
        engine.dispose()

    def pids(self) -> list[int]:
        """The postmaster and every process it started (backends, background workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = [int(p) for p in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()]
        return [postmaster, *children]

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            devdb_cluster._run_server_binary(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "-m", "immediate", "stop"],
                self.user, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.create()
        yield c
    finally:
        c.remove()


@pytest.fixture(scope="module")
def live(cluster):
    # The rate limiter's counters in the same (stopped, paused) database: its own pool is under a
    # deadline too, and a limiter that cannot count lets the request through to the 503 below.
    settings = Settings(database_url=cluster.url, db_connect_timeout_s=CONNECT_S,
                        db_statement_timeout_ms=STATEMENT_MS, db_pool_timeout_s=POOL_S, ogc_tile_cache_mb=0)
    with Live(settings) as server:
        yield server


def _requests(client: httpx.Client) -> dict[str, httpx.Response]:
    """The read pool (a GeoJSON page, the OGC gate's items) and the ORM (a login), each timed."""
    out = {}
    for name, call in (
        ("units", lambda: client.get("/api/units")),
        ("ogc", lambda: client.get("/ogc/collections/parcels/items", params={"limit": 1})),
        ("login", lambda: client.post("/api/auth/login", json={"username": "clerk", "password": TEST_PASSWORD})),
    ):
        started = time.monotonic()
        response = call()
        response.elapsed_s = time.monotonic() - started
        out[name] = response
    return out


def _assert_all(responses: dict[str, httpx.Response], status: int) -> None:
    for name, r in responses.items():
        assert r.status_code == status, (name, r.status_code, r.text[:300])
        if status == 503:
            assert r.json()["code"] == "database_unavailable", name
            assert r.headers.get("retry-after") == "5", name  # when to try again
            assert r.elapsed_s < BOUND_S, (name, r.elapsed_s)


def _recovered(live) -> dict[str, httpx.Response]:
    """Each request again until it answers 200 (the pools reconnect on their own), bounded."""
    deadline = time.monotonic() + 30
    while True:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            responses = _requests(client)
        if all(r.status_code == 200 for r in responses.values()) or time.monotonic() > deadline:
            return responses
        time.sleep(0.5)


def test_a_stopped_database_is_a_503_at_once_and_the_app_recovers_when_it_is_back(cluster, live):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        _assert_all(_requests(client), 200)
        cluster.pg_ctl("stop")
        try:
            _assert_all(_requests(client), 503)
        finally:
            cluster.pg_ctl("start")
    _assert_all(_recovered(live), 200)


def test_a_paused_database_is_a_503_within_the_timeout_and_the_app_recovers_when_it_resumes(cluster, live):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        _assert_all(_requests(client), 200)
        pids = cluster.pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            _assert_all(_requests(client), 503)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
    _assert_all(_recovered(live), 200)


def test_bodies_over_the_cap_are_refused_while_they_stream_in(live):
    def chunks(n_mb: int):
        for _ in range(n_mb):
            yield b" " * (1024 * 1024)

    with httpx.Client(base_url=live.url, timeout=30) as client:
        declared = client.post("/api/analysis", content=b" " * (21 * 1024 * 1024),
                               headers={"content-type": "application/json"})
        streamed = client.post("/api/analysis", content=chunks(25), headers={"content-type": "application/json"})
        small_cap = client.post("/api/auth/login", content=chunks(3), headers={"content-type": "application/json"})
        points = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [120.5, 30.6]}}] * 5001}
        features = client.post("/api/analysis", json=points)
    for r, mb in ((declared, "20"), (streamed, "20"), (small_cap, "2")):
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large", r.text[:200]
        assert f"{mb} MB" in r.json()["detail"]
    assert features.status_code == 413 and features.json()["code"] == "too_many_features"
