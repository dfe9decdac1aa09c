"""The shared limiter (app.core.ratelimit), the login back-off, secrets kept out of the audit view, the Host
check and the public URL (issue 18 part 3). Real PostGIS; Redis on 127.0.0.1:6379; two Live servers."""

from __future__ import annotations

import random

import httpx
import pytest
from fastapi.testclient import TestClient
from limits import RateLimitItemPerMinute
from sqlalchemy import create_engine, insert, select

from app.auth.models import User
from app.auth.service import create_user, set_password
from app.core.db import new_session
from app.core.models import AuditEntry
from app.core.ratelimit import Limiter, client_address
from app.main import create_app
from app.ogc.apikeys import create_key
from app.settings import Settings
from tests.app.live_server import Live
from tests.dbutil import demo_database

PASSWORD = "rl-pass-2026"
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def rl_db():
    with demo_database("txmap_test_ratelimit") as url:
        engine = create_engine(url)
        with new_session(engine) as session:
            create_user(session, username="rl_admin", role="admin", password=PASSWORD)
            create_user(session, username="rl_reviewer", role="reviewer", password=PASSWORD)
            create_user(session, username="rl_owner", role="planner", password=PASSWORD)
            create_user(session, username="rl_changer", role="planner", password=PASSWORD)
        engine.dispose()
        yield url


def _new_key(url: str, rate: int) -> tuple[int, str]:
    engine = create_engine(url)
    with new_session(engine) as session:
        new = create_key(session, "限流测试", rate)
        session.commit()
    engine.dispose()
    return new.id, new.key


@pytest.fixture(scope="module")
def pair(rl_db):
    """Two app processes' worth (two apps, two servers) on one database, counters in PostgreSQL."""
    settings = Settings(database_url=rl_db, ogc_anonymous_rate_per_minute=4, login_max_failures=2)
    with Live(settings) as a, Live(settings) as b:
        yield a, b


def _spend(servers, n: int, headers: dict) -> list[httpx.Response]:
    return [httpx.get(f"{servers[i % 2].url}/ogc/conformance", headers=headers, timeout=30) for i in range(n)]


def test_a_keys_budget_holds_across_two_servers_in_postgresql(pair, rl_db):
    _, key = _new_key(rl_db, 5)
    answers = _spend(pair, 6, {"X-API-Key": key})
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited" and "每分钟最多 5 次" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_anonymous_ogc_is_limited_per_address_across_servers(pair):
    mine, other = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8"}  # uvicorn trusts loopback
    answers = _spend(pair, 5, mine)
    assert [r.status_code for r in answers] == [200] * 4 + [429]
    assert "未使用 API Key" in answers[-1].json()["detail"] and answers[-1].headers["Retry-After"]
    assert httpx.get(f"{pair[0].url}/ows?service=WMS&request=GetCapabilities", headers=mine).status_code == 429
    assert _spend(pair, 1, other)[0].status_code == 200  # another address has its own budget


def test_a_keys_budget_holds_across_two_servers_in_redis(rl_db):
    key_id, key = _new_key(rl_db, 3)
    settings = Settings(database_url=rl_db, redis_url=REDIS)
    limiter = Limiter(settings)  # the database is fresh, its key ids are not: forget an earlier run's window
    limiter.storage.clear(RateLimitItemPerMinute(3).key_for("ogc-key", str(key_id)))
    with Live(settings) as a, Live(settings) as b:
        answers = _spend((a, b), 4, {"X-API-Key": key})
    assert [r.status_code for r in answers] == [200] * 3 + [429]
    assert limiter.storage.get(RateLimitItemPerMinute(3).key_for("ogc-key", str(key_id))) == 4


def test_anonymous_ogc_is_off_by_default_in_production():
    production = Settings(environment="production", secret_key="a-real-secret", public_url="https://yuntu.example.cn")
    assert production.ogc_allow_anonymous is False
    assert production.allowed_hosts == ["yuntu.example.cn", "127.0.0.1", "localhost"]
    assert Settings().ogc_allow_anonymous is True
    with pytest.raises(ValueError, match="ALLOWED_HOSTS"):
        Settings(environment="production", secret_key="a-real-secret")


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    scope = {"client": ("10.1.2.3", 5000), "headers": [(b"x-forwarded-for", b"203.0.113.1, 10.9.9.9")]}
    assert client_address(scope, []) == "10.1.2.3"
    assert client_address(scope, ["192.168.0.0/16"]) == "10.1.2.3"
    assert client_address(scope, ["10.0.0.0/8"]) == "203.0.113.1"  # the nearest untrusted hop
    forged = {"client": ("10.1.2.3", 5000), "headers": [(b"x-forwarded-for", b"not-an-address")]}
    assert client_address(forged, ["10.0.0.0/8"]) == "10.1.2.3"


# --- login ------------------------------------------------------------------------------


def _login(server, username: str, password: str, address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": password},
                      headers=headers, timeout=30)


def test_a_strangers_failures_back_off_the_stranger_only(pair):
    server = pair[0]
    stranger = f"203.0.113.{random.randrange(1, 250)}"
    for _ in range(2):  # login_max_failures
        assert _login(server, "rl_owner", "wrong-pass-1", stranger).status_code == 401
    backed_off = _login(server, "rl_owner", PASSWORD, stranger)  # even the right password waits, there
    assert backed_off.status_code == 429 and backed_off.json()["code"] == "login_throttled"
    assert 1 <= int(backed_off.headers["Retry-After"]) <= 60
    assert _login(server, "rl_owner", PASSWORD).status_code == 200  # the owner, elsewhere: not locked out

    for _ in range(2):  # a name that is no account: the same answers, in the same order
        assert _login(server, "rl_nobody", "wrong-pass-1", stranger).status_code == 401
    unknown = _login(server, "rl_nobody", PASSWORD, stranger)
    assert unknown.status_code == 429
    assert unknown.json() == backed_off.json()
    assert "rl_owner" not in backed_off.text and "锁定" not in backed_off.text


def test_wrong_current_passwords_count_and_set_password_lifts_the_backoff(pair, rl_db):
    server, address = pair[1], f"192.0.2.{random.randrange(1, 250)}"
    r = _login(server, "rl_changer", PASSWORD, address)
    assert r.status_code == 200
    with httpx.Client(base_url=server.url, cookies=r.cookies, timeout=30,
                      headers={"X-CSRF-Token": r.json()["csrf_token"], "X-Forwarded-For": address}) as c:
        body = {"current_password": "wrong-pass-9", "new_password": "new-pass-2026"}
        assert [c.post("/api/auth/password", json=body).status_code for _ in range(2)] == [401] * 2
        assert c.post("/api/auth/password", json=body).status_code == 429
    assert _login(server, "rl_changer", PASSWORD, address).status_code == 429  # the same back-off
    engine = create_engine(rl_db)
    with new_session(engine) as session:  # what `cloudmap users set-password` does
        set_password(session, session.scalar(select(User).where(User.username == "rl_changer")), PASSWORD)
    engine.dispose()
    assert _login(server, "rl_changer", PASSWORD, address).status_code == 200


# --- the audit view, the Host, the public URL, sortby ---------------------------------------------


@pytest.fixture(scope="module")
def app(rl_db):
    return create_app(Settings(database_url=rl_db, allowed_hosts=["yuntu.example.cn", "testserver"],
                               public_url="https://yuntu.example.cn"))


def _signed_in(app, username: str) -> TestClient:
    c = TestClient(app, base_url="http://yuntu.example.cn")
    c.__enter__()
    r = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def test_no_secret_hash_in_the_audit_view(app, rl_db):
    admin, reviewer = _signed_in(app, "rl_admin"), _signed_in(app, "rl_reviewer")
    try:
        created = admin.post("/api/apikeys", json={"name": "审计测试"})
        assert created.status_code == 201, created.text
        engine = create_engine(rl_db)
        with engine.begin() as conn:  # a row written before the masking (or by a careless writer)
            conn.execute(insert(AuditEntry).values(
                username="rl_admin", action="legacy", object_type="api_keys", object_id="0",
                after={"secret_hash": "sha256$abcd$ef01", "nested": {"salt": "00ff"}, "password_hash": "$argon2id$x"}))
        engine.dispose()
        for query in ("object_type=api_keys", "object_type=users", "user=rl_admin"):
            r = reviewer.get(f"/api/audit?{query}&limit=1000")
            assert r.status_code == 200 and r.json()["count"] > 0
            assert "sha256$" not in r.text and "$argon2" not in r.text and "00ff" not in r.text
        rows = reviewer.get("/api/audit?object_type=api_keys&limit=1000").json()["data"]
        made = next(a for a in rows if a["action"] == "create_api_key")
        assert made["after"]["secret_hash"] == "***" and made["after"]["prefix"]
    finally:
        admin.__exit__(None, None, None)
        reviewer.__exit__(None, None, None)


def test_unknown_hosts_are_refused_and_links_use_the_public_url(app):
    with TestClient(app, base_url="http://evil.example") as evil:
        r = evil.get("/ogc")
        assert r.status_code == 400 and r.json()["code"] == "host_not_allowed" and "Host" in r.json()["detail"]
    with TestClient(app, base_url="http://testserver") as local:  # an allowed name that is not the public one
        landing = local.get("/ogc")
        assert landing.status_code == 200
        hrefs = [link["href"] for link in landing.json()["links"]]
        assert hrefs and all(h.startswith("https://yuntu.example.cn/ogc") for h in hrefs)
        api = local.get("/ogc/api").json()
        assert api["servers"][0]["url"] == "https://yuntu.example.cn/ogc"
        page = local.get("/ogc/collections/parcels/items?limit=1").json()
        assert all(link["href"].startswith("https://yuntu.example.cn/") for link in page["links"])


def test_too_many_sort_keys_is_a_400(app):
    with TestClient(app, base_url="http://testserver") as c:
        r = c.get("/ogc/collections/parcels/items", params={"sortby": ",".join(["code"] * 11)})
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "sortby"
        assert "最多 10 个" in r.json()["detail"]
        assert c.get("/ogc/collections/parcels/items", params={"sortby": "-code", "limit": 1}).status_code == 200


def test_with_anonymous_off_a_signed_in_user_still_gets_the_maps_tiles(rl_db):
    closed = create_app(Settings(database_url=rl_db, ogc_allow_anonymous=False))
    with TestClient(closed) as c:
        assert c.get("/ogc/conformance").status_code == 401
        assert c.post("/api/auth/login", json={"username": "rl_reviewer", "password": PASSWORD}).status_code == 200
        assert c.get("/ogc/conformance").status_code == 200
        assert c.get("/ogc/collections/parcels/tiles/WebMercatorQuad/12/3425/1675").status_code in (200, 204)
        c.cookies.set("cloudmap_session", "forged-token")
        assert c.get("/ogc/conformance").status_code == 401
