"""Schemathesis against both OpenAPI documents of a live server: zero 5xx.

The ``schemathesis run`` CLI (pinned in pyproject.toml) is run in subprocesses — its pytest plugin is not
used — against /openapi.json (the whole service, /ogc included) and /ogc/api (the OGC API's own
document), anonymously and as an admin (session cookie + CSRF header; writes land in this module's
private demo database). A fixed seed and a few examples per operation keep it deterministic and bounded;
the pass condition is the ``not_a_server_error`` check: no answer of 500 or above. Figures: docs/architecture.md
("Bad input").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine

from app.auth.service import create_user
from app.core.db import new_session
from app.settings import Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

PASSWORD = "schemathesis-pass-2022"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Operations that would end the run's own session (the admin run keeps its cookie throughout).
SESSION_ENDERS = ("--exclude-path", "/api/auth/logout", "--exclude-path-regex", "password")


@pytest.fixture(scope="module")
def live():
    with demo_database("txmap_test_schemathesis") as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            create_user(session, username="st_admin", role="admin", password=PASSWORD)
        engine.dispose()
        # Generous database timeouts: on a loaded machine a slow statement would be a 503, which is not
        # what this test looks for (tests/app/test_faults.py covers the database going away).
        with Live(Settings(database_url=url, db_statement_timeout_ms=60_000, db_pool_timeout_s=30)) as server:
            yield server


@pytest.fixture(scope="module")
def admin_headers(live) -> list[str]:
    r = httpx.post(f"{live.url}/api/auth/login", json={"username": "st_admin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = "; ".join(f"{k}={v}" for k, v in r.cookies.items())
    return ["-H", f"Cookie: {cookie}", "-H", f"X-CSRF-Token: {r.json()['csrf_token']}", *SESSION_ENDERS]


@pytest.fixture(scope="module")
def documents(live, tmp_path_factory) -> dict[str, Path]:
    """Both documents, fetched once into files: four runs loading them at once from a busy server could
    pass schemathesis's fixed 10 s schema-loading timeout."""
    folder = tmp_path_factory.mktemp("schemathesis")
    out = {}
    for document, name in (("/openapi.json", "service.json"), ("/ogc/api", "ogc.json")):
        r = httpx.get(f"{live.url}{document}", timeout=120)
        assert r.status_code == 200
        out[document] = folder / name
        out[document].write_bytes(r.content)
    return out


def _command(live, documents, document: str, extra: list[str], examples: int) -> list[str]:
    base = f"{live.url}/ogc" if document == "/ogc/api" else live.url
    return [str(SCHEMATHESIS), "run", str(documents[document]), "--url", base,
            "--checks", "not_a_server_error", "--max-examples", str(examples), "--seed", "18",
            "--phases", "examples,fuzzing", "--workers", "2", "--generation-database", "none",
            "--request-timeout", "30", "--no-color", "--warnings", "off", *extra]


def test_no_operation_answers_a_server_error(live, documents, admin_headers, tmp_path):
    runs = {
        "openapi anonymous": _command(live, documents, "/openapi.json", ["--include-method", "GET"], 1),
        "openapi admin": _command(live, documents, "/openapi.json", admin_headers, 2),
        "ogc anonymous": _command(live, documents, "/ogc/api", [], 3),
        "ogc admin": _command(live, documents, "/ogc/api", admin_headers, 3),
    }
    # All at once: the server waits on the database more than on the CPU, and the /ogc/api runs are short.
    procs = {n: subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for n, cmd in runs.items()}
    results: dict[str, subprocess.CompletedProcess] = {}
    for n, p in procs.items():
        out, _ = p.communicate(timeout=300)
        results[n] = subprocess.CompletedProcess(p.args, p.returncode, out)
    failed = {n: r.stdout[-6000:] for n, r in results.items() if r.returncode != 0}
    assert not failed, "\n\n".join(f"== {n} ==\n{out}" for n, out in failed.items())
    for n, r in results.items():
        assert "generated" in r.stdout and " passed" in r.stdout
        print(n, [line.strip() for line in r.stdout.splitlines() if "generated" in line or " in " in line][-2:])
