"""More than one process (docs/deployment.md): a throwaway primary cluster and a streaming replica made
with pg_basebackup -R, on free loopback ports (never the shared cluster), and two ``cloudmap serve``
processes reading on the replica. With the replica's replay paused: an anonymous read sees the
replica's old state, the clerk who wrote on process A reads the write on process B (read-your-writes),
and B's tile cache, filled before, shows the new parcel (invalidated from the primary, rendered from it);
the replica going away sends reads to the primary."""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

import spatial

from app.core.db import new_session
from app.core.read.pool import Sql
from app.core.read.replica import ReadYourWrites, RoutedReads, parse_lsn, required_lsn, sign, unsign
from app.errors import ServiceUnavailable
from app.settings import PROJECT_ROOT
from tests.app import upload_corpus as corpus
from tests.conftest import TEST_PASSWORD
from tests.asyncrun import run as run_async

devdb_cluster = pytest.importorskip("devdb.cluster")

PREFIX = "SCL"
NO_OWNERS = {"unknown_owners": "none"}
KEY_RATE = 4  # requests a minute of the test's API key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user():
    return devdb_cluster._ensure_server_user() if os.geteuid() == 0 else None


def _run(argv: list[str], user, timeout: float = 120) -> None:
    proc = devdb_cluster._run_server_binary(argv, user, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _pg_ctl(bindir: Path, user, data: Path, port: int, action: str) -> None:
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data.parent / f"{data.name}.log"), "-w",
          "-t", "60", "-m", "fast", "-o", f"-p {port}", action], user)


def _dsn(port: int, dbname: str = "cloudmap") -> str:
    return f"host=127.0.0.1 port={port} user=cloudmap dbname={dbname}"


@pytest.fixture(scope="module")
def cluster(database_url):
    bindir = devdb_cluster.find_pg_bindir()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="cloudmap-scaleout-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    primary, replica = root / "primary", root / "replica"
    pport, rport = _free_port(), _free_port()
    started: list[tuple[Path, int]] = []
    procs: list[subprocess.Popen] = []
    try:
        _run([str(bindir / "initdb"), "-D", str(primary), "-U", "cloudmap", "--auth=trust", "-E", "UTF8",
              "--locale=C.UTF-8"], user, timeout=300)
        (primary / "pg_hba.conf").write_text(devdb_cluster._PG_HBA)
        with (primary / "postgresql.conf").open("a") as fh:
            fh.write("\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 60\n"
                     "shared_buffers = 32MB\nfsync = off\nfull_page_writes = off\nwal_level = replica\n"
                     "max_wal_senders = 4\nhot_standby = on\njit = off\n")
        _pg_ctl(bindir, user, primary, pport, "start")
        started.append((primary, pport))
        with psycopg.connect(_dsn(pport, "postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE cloudmap")
        url = f"postgresql+psycopg://cloudmap@127.0.0.1:{pport}/cloudmap"
        # the session's demo database (migrated and seeded once for the whole run), copied over
        source = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run([str(bindir / "pg_dump"), "-Fc", "--no-owner", "-d", source],
                              capture_output=True, timeout=120)
        assert dump.returncode == 0, dump.stderr
        restore = subprocess.run([str(bindir / "pg_restore"), "--no-owner", "-d", _dsn(pport)],
                                 input=dump.stdout, capture_output=True, timeout=120)
        assert restore.returncode == 0, restore.stderr
        from app.auth.service import create_user
        from app.ogc.apikeys import create_key

        engine = create_engine(url)
        with new_session(engine) as session:
            create_user(session, username="clerk", role="gis_staff", password=TEST_PASSWORD)
            key = create_key(session, "scaleout", KEY_RATE).key
            session.commit()
        engine.dispose()
        # the app processes import and start while the replica is made (they reach it on first read)
        replica_url = f"postgresql+psycopg://cloudmap@127.0.0.1:{rport}/cloudmap"
        ports = [_free_port(), _free_port()]
        procs.extend(_serve(url, replica_url, p, root) for p in ports)
        _run([str(bindir / "pg_basebackup"), "-D", str(replica), "-h", "127.0.0.1", "-p", str(pport),
              "-U", "cloudmap", "-R", "-X", "stream", "-c", "fast"], user, timeout=300)
        _pg_ctl(bindir, user, replica, rport, "start")
        started.append((replica, rport))
        yield {"primary": url, "replica": replica_url, "key": key, "pport": pport, "rport": rport,
               "bindir": bindir, "user": user, "replica_dir": replica, "procs": procs,
               "urls": [f"http://127.0.0.1:{p}" for p in ports]}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for data, port in reversed(started):
            if (data / "postmaster.pid").exists():
                devdb_cluster._run_server_binary(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-m", "immediate", "stop"], user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def _serve(url: str, replica_url: str, port: int, root: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DATABASE_REPLICA_URL": replica_url,
           "CLOUDMAP_SECRET_KEY": "scaleout-test-secret", "CLOUDMAP_UPLOAD_TMP_DIR": str(root),
           "CLOUDMAP_OGC_ALLOW_ANONYMOUS": "true", "CLOUDMAP_OGC_ANONYMOUS_RATE_PER_MINUTE": "100000"}
    with (root / f"serve-{port}.log").open("wb") as log:
        return subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "cloudmap"), "serve", "--port", str(port)],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def apps(cluster):
    deadline = time.monotonic() + 120
    for proc, url in zip(cluster["procs"], cluster["urls"]):
        while True:
            assert proc.poll() is None, f"cloudmap serve exited with {proc.returncode}"
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "cloudmap serve did not start within 120 s"
            time.sleep(0.2)
    return cluster["urls"]


def _replica_sql(cluster, sql: str):
    with psycopg.connect(_dsn(cluster["rport"]), autocommit=True) as conn:
        return conn.execute(sql).fetchone()


PARCEL_SCANS = ("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables "
                "WHERE relname = 'parcels'")


def _tile_of_new_parcel() -> str:
    point = spatial.reproject(corpus.rectangles(1, row=5)[0].centroid, 4549, 4490)
    z = 15
    x = int((point.x + 180) / 360 * 2**z)
    lat = math.radians(point.y)
    y = int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * 2**z)
    return f"/ogc/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"


def test_replica_reads_read_your_writes_and_tile_invalidation_across_processes(cluster, apps, tmp_path):
    a, b = apps
    tile = _tile_of_new_parcel()
    item = f"/ogc/collections/parcels/items/{PREFIX}0001"
    with httpx.Client(base_url=b, timeout=30) as anon, httpx.Client(timeout=60) as clerk:
        scans_before = _replica_sql(cluster, PARCEL_SCANS)[0]
        before = anon.get(tile)
        assert before.status_code in (200, 204), before.text
        assert anon.get(item).status_code == 404
        # reads on B ran on the replica: the replica's own statistics count their scans of parcels (a pooled
        # backend reports them within PostgreSQL's idle flush interval, 10 s)
        deadline = time.monotonic() + 30
        while _replica_sql(cluster, PARCEL_SCANS)[0] == scans_before:
            assert time.monotonic() < deadline, "the replica ran no scan of parcels for B's reads"
            time.sleep(0.5)

        _replica_sql(cluster, "SELECT pg_wal_replay_pause()")
        r = clerk.post(a + "/api/auth/login", json={"username": "clerk", "password": TEST_PASSWORD})
        assert r.status_code == 200, r.text
        clerk.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        data = corpus.shapefile_zip(corpus.parcels(1, prefix=PREFIX, row=5), tmp_path)
        staged = clerk.post(a + "/api/uploads", files={"file": ("scaleout.zip", data)})
        assert staged.status_code == 201, staged.text
        done = clerk.post(a + f"/api/uploads/{staged.json()['id']}/commit", json=NO_OWNERS)
        assert done.status_code == 200, done.text
        assert "cloudmap_lsn" in clerk.cookies

        # the clerk, whose cookie names the commit's WAL position, reads the write on B …
        own = clerk.get(b + item)
        assert own.status_code == 200, own.text
        assert own.json()["properties"]["code"] == f"{PREFIX}0001"
        # … B's tile cache, invalidated from the primary (LISTEN), shows the new parcel …
        deadline = time.monotonic() + 30
        while (after := anon.get(tile)).content == before.content and time.monotonic() < deadline:
            time.sleep(0.2)
        assert after.status_code == 200 and after.content != before.content
        assert anon.get(item).status_code == 200  # (reads after a map change wait for the replica)
        # … although the replica still lacks it
        assert _replica_sql(cluster, f"SELECT count(*) FROM parcels WHERE code = '{PREFIX}0001'")[0] == 0

        _replica_sql(cluster, "SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 30
        while not _replica_sql(cluster, f"SELECT count(*) FROM parcels WHERE code = '{PREFIX}0001'")[0]:
            assert time.monotonic() < deadline, "the replica did not catch up within 30 s"
            time.sleep(0.2)
        assert anon.get(item).status_code == 200


def test_ows_reads_on_the_replica(cluster, apps):
    """/ows (MapServer) reads where the read path would: here on the replica, whose own statistics count
    the scans of the layer's table (a standby keeps them for the queries it runs)."""
    _, b = apps
    scans = PARCEL_SCANS.replace("'parcels'", "'units'")
    before = _replica_sql(cluster, scans)[0]
    r = httpx.get(b + "/ows", params={"service": "WFS", "version": "2.0.0", "request": "GetFeature",
                                      "typeNames": "units", "count": "1", "outputFormat": "geojson"}, timeout=60)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10
    while _replica_sql(cluster, scans)[0] == before:
        assert time.monotonic() < deadline, "the replica ran no scan of units for the WFS request"
        time.sleep(0.2)


def test_a_keys_limit_holds_across_both_processes(cluster, apps):
    a, b = apps
    headers = {"X-API-Key": cluster["key"]}
    codes = [httpx.get((a, b)[n % 2] + "/ogc/collections", headers=headers, timeout=30).status_code
             for n in range(KEY_RATE + 2)]
    assert codes == [200] * KEY_RATE + [429, 429]


def test_reads_fall_back_to_the_primary_when_the_replica_is_gone(cluster, apps):
    _, b = apps
    _pg_ctl(cluster["bindir"], cluster["user"], cluster["replica_dir"], cluster["rport"], "stop")
    with httpx.Client(base_url=b, timeout=60) as anon:
        r = anon.get(f"/ogc/collections/parcels/items/{PREFIX}0001")
        assert r.status_code == 200, r.text
        assert anon.get("/ogc/collections/parcels/items?limit=1").status_code == 200


class _FakePool:
    """A ReadPool stand-in: answers the replay/current position queries and counts the others."""

    def __init__(self, position: str = "0/10", fail: bool = False) -> None:
        self.position, self.fail, self.reads = position, fail, 0
        self.connects = 0

    async def one(self, sql, values=None):
        if self.fail:
            raise ServiceUnavailable("down")
        if "wal" in sql.text:
            return (self.position,)
        self.reads += 1
        return ("row",)

    async def close(self) -> None:
        pass


def test_routing_by_wal_position_floor_and_fallback():
    primary, replica = _FakePool("0/100"), _FakePool("0/80")
    generation = [0]
    reads = RoutedReads(primary, replica, lambda: generation[0])
    stmt = Sql("SELECT 1 FROM parcels", {}, {}, True)

    async def read(need: int = 0):
        token = required_lsn.set(need)
        try:
            return await reads.one(stmt)
        finally:
            required_lsn.reset(token)

    async def run():
        await read()  # nobody's write pending: the replica
        assert (replica.reads, primary.reads) == (1, 0)
        await read(parse_lsn("0/90"))  # a writer whose commit the replica has not replayed: the primary
        assert (replica.reads, primary.reads) == (1, 1)
        replica.position = "0/90"
        await read(parse_lsn("0/90"))  # replayed now
        assert (replica.reads, primary.reads) == (2, 1)
        generation[0] += 1  # a tile invalidation: every read waits for the primary's position (0/100)
        await read()
        assert (replica.reads, primary.reads) == (2, 2)
        replica.position = "0/100"
        await read()
        assert (replica.reads, primary.reads) == (3, 2)
        replica.fail = True  # the replica goes away: the primary, without trying it again at once
        await read()
        replica.fail = False
        await read()
        assert (replica.reads, primary.reads) == (3, 4)

    run_async(run())


def test_the_cookie_is_signed():
    value = sign(parse_lsn("16/B374D848"), "k")
    assert unsign(value, "k") == (0x16 << 32) + 0xB374D848
    assert unsign(value, "other") == 0
    assert unsign("99999999999." + value.split(".")[1], "k") == 0
    assert unsign("garbage", "k") == 0


def test_the_middleware_sets_and_reads_the_position_outside_the_ogc_gate():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from app.main import create_app
    from app.ogc.gate import OgcGate
    from app.settings import Settings

    names = [m.cls for m in create_app(Settings(database_replica_url="postgresql://x@127.0.0.1/x")).user_middleware]
    assert names.index(ReadYourWrites) < names.index(OgcGate)  # outermost first

    async def show(request):
        return PlainTextResponse(str(required_lsn.get()))

    inner = Starlette(routes=[Route("/", show, methods=["GET", "POST"])])
    inner.state.reads = RoutedReads(_FakePool("1/A0"), _FakePool())
    app = ReadYourWrites(inner, secret="s", max_age_s=60, secure=False)
    with TestClient(app) as c:
        assert c.get("/").text == "0" and "cloudmap_lsn" not in c.cookies
        assert c.post("/").status_code == 200
        assert c.get("/").text == str(parse_lsn("1/A0"))
        c.cookies.set("cloudmap_lsn", "123.forged")
        assert c.get("/").text == "0"


def test_serve_workers_hands_uvicorn_the_factory_and_the_url(monkeypatch):
    import uvicorn

    from app import cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    # set, then removed: monkeypatch restores the variable as it was (cmd_serve writes os.environ itself, and a
    # DATABASE_URL left behind would send every later test of this process to port 5999)
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.delenv("DATABASE_URL")
    url = "postgresql+psycopg://cloudmap@127.0.0.1:5999/county"
    settings = cli.Settings(database_url=url)
    args = cli.build_parser().parse_args(["serve", "--port", "8123", "--workers", "3"])
    assert cli.cmd_serve(args, settings) == 0
    (app, kw), = calls
    assert app == "app.main:create_app" and kw["factory"] is True and kw["workers"] == 3 and kw["port"] == 8123
    assert os.environ["DATABASE_URL"] == url  # each worker reads its settings from the environment
