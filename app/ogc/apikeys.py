"""API keys for other systems: creation, hashed storage, lookup (the per-key rate limit: app.core.ratelimit).

A key looks like ``cmk_<prefix>_<secret>``: ``prefix`` (8 random characters) finds the
row through a unique index; ``secret`` (32 random bytes, base64url) is checked against
``sha256(salt || secret)`` with a per-key 16-byte salt, in constant time.

Why SHA-256 and not argon2: argon2/bcrypt are slow on purpose to protect *low-entropy*
passwords from offline guessing. A key is 256 random bits — no dictionary, no guessing —
so a fast hash is just as unrecoverable, while argon2 on every request (tens of ms of
CPU and tens of MB of memory) would cap this 2-core server at a few dozen requests a
second and hand an attacker a cheap way to exhaust it. (GitHub and Stripe tokens are
stored the same way.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..core.clock import TIMEZONE
from ..core.audit import audit_context
from ..core.uow import unit_of_work
from ..errors import AppError, FieldError, InvalidState, NotFound
from ..messages import message
from .models import ApiKey

KEY_PREFIX = "cmk_"
HEADER = "x-api-key"
MAX_NAME_LENGTH = 128
MAX_RATE_PER_MINUTE = 100_000
MAX_DEPARTMENT_LENGTH = 64
SCOPES = ("ogc_read", "figures_write")  # reads /ogc only | sends a department's figures only
# The figures a figures_write key may be limited to: app.enterprises.models.FIGURE_FIELDS (written again here
# because the keys come before the register; tests/app/test_apikeys.py checks both lists are the same).
FIGURE_FIELDS = ("tax_10k", "revenue_10k", "value_added_10k", "energy_tce", "emission_t", "electricity_10k_kwh",
                 "employees", "rd_10k", "safety_points", "environment_points", "innovation_points")


@dataclass(frozen=True)
class NewKey:
    id: int
    name: str
    key: str  # shown once
    rate_limit_per_minute: int


@dataclass(frozen=True)
class KeyRecord:
    id: int
    name: str
    secret_hash: str
    rate_limit_per_minute: int
    revoked: bool
    scope: str = "ogc_read"


def _hash(secret: str, salt: bytes) -> str:
    return f"sha256${salt.hex()}${hashlib.sha256(salt + secret.encode()).hexdigest()}"


def _verify(secret: str, stored: str) -> bool:
    try:
        algo, salt_hex, _ = stored.split("$")
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return algo == "sha256" and hmac.compare_digest(_hash(secret, salt), stored)


def split_key(key: str) -> tuple[str, str] | None:
    """``cmk_<prefix>_<secret>`` → (prefix, secret), or None when it is not that shape."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    rest = key[len(KEY_PREFIX):]
    prefix, sep, secret = rest.partition("_")
    if not sep or len(prefix) != 8 or len(secret) < 20:
        return None
    return prefix, secret


def create_key(session: Session, name: str, rate_limit_per_minute: int, *, scope: str = "ogc_read",
               department: str | None = None, figure_fields: list[str] | None = None) -> NewKey:
    """Create a key; the caller commits. The full key is returned once and never stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret, secrets.token_bytes(16)),
        rate_limit_per_minute=rate_limit_per_minute,
        scope=scope,
        department=department,
        figure_fields=figure_fields,
    )
    session.add(row)
    session.flush()
    return NewKey(row.id, name, f"{KEY_PREFIX}{prefix}_{secret}", rate_limit_per_minute)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, ident: str) -> int:
    """Revoke by id, by prefix or by the full key; returns the number of keys revoked."""
    parts = split_key(ident)
    if parts is not None:
        cond = ApiKey.prefix == parts[0]
    elif ident.isdigit():
        cond = ApiKey.id == int(ident)
    else:
        cond = ApiKey.prefix == ident
    result = session.execute(update(ApiKey).where(cond, ApiKey.revoked_at.is_(None)).values(revoked_at=func.now()))
    return result.rowcount or 0


# --- the admin's screen (REST): list, create, revoke; each write audited ---------------------


class InvalidKeyRequest(AppError):
    status_code = 422
    code = "invalid_api_key_request"


def describe(row: ApiKey) -> dict:
    """A key as the admin sees it: never its secret or its hash."""
    return {
        "id": row.id, "name": row.name, "prefix": row.prefix, "hint": f"{KEY_PREFIX}{row.prefix}_…",
        "rate_limit_per_minute": row.rate_limit_per_minute, "created_at": row.created_at.isoformat(),
        "revoked": row.revoked_at is not None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "scope": row.scope or "ogc_read", "department": row.department, "figure_fields": row.figure_fields,
    }


def check_scope(scope: object, department: object, figure_fields: object) -> tuple[str, str | None, list | None]:
    """The key's use: ``ogc_read`` (no department, no figures) or ``figures_write`` with its department and,
    optionally, the figures it may send (None = all)."""
    errors = []
    value = scope if scope not in (None, "") else "ogc_read"
    if value not in SCOPES:
        errors.append(FieldError("scope", message("apikey_scope_unknown")))
    dept = " ".join(department.split()) if isinstance(department, str) else ""
    fields = None
    if value == "figures_write":
        if not dept:
            errors.append(FieldError("department", message("apikey_department_required")))
        elif len(dept) > MAX_DEPARTMENT_LENGTH:
            errors.append(FieldError("department", message("figures_department_long", max=MAX_DEPARTMENT_LENGTH)))
        if figure_fields not in (None, []):
            if not isinstance(figure_fields, list):
                figure_fields = [figure_fields]
            fields = []
            for f in figure_fields:
                if f not in FIGURE_FIELDS:
                    errors.append(FieldError("figure_fields", message("apikey_figure_fields_unknown", field=str(f)[:40])))
                elif f not in fields:
                    fields.append(f)
            fields = [f for f in FIGURE_FIELDS if f in fields]
    elif value == "ogc_read" and figure_fields not in (None, []):
        errors.append(FieldError("figure_fields", message("apikey_figure_fields_read")))
    if errors:
        raise InvalidKeyRequest(message("apikey_invalid", reason="；".join(e.message for e in errors)), errors)
    return value, (dept if value == "figures_write" else None), fields


def check_new_key(name: object, rate: object, default_rate: int) -> tuple[str, int]:
    """The name (who holds the key) and the rate limit as sent, every problem named by its Chinese field."""
    errors = []
    text = " ".join(name.split()) if isinstance(name, str) else ""
    if not text:
        errors.append(FieldError("name", message("apikey_name_required")))
    elif len(text) > MAX_NAME_LENGTH:
        errors.append(FieldError("name", message("apikey_name_too_long", max=MAX_NAME_LENGTH)))
    if rate is None or rate == "":
        value = default_rate
    elif isinstance(rate, int) and not isinstance(rate, bool):
        value = rate
    elif isinstance(rate, str) and rate.strip().isdigit():
        value = int(rate.strip())
    else:
        value = None
        errors.append(FieldError("rate_limit_per_minute", message("apikey_rate_not_int", value=rate)))
    if value is not None and not 1 <= value <= MAX_RATE_PER_MINUTE:
        errors.append(FieldError("rate_limit_per_minute", message("apikey_rate_range", max=MAX_RATE_PER_MINUTE)))
    if errors:
        raise InvalidKeyRequest(message("apikey_invalid", reason="；".join(e.message for e in errors)), errors)
    return text, value


def create(session: Session, name: object, rate: object, default_rate: int, *, scope: object = None,
           department: object = None, figure_fields: object = None) -> tuple[NewKey, ApiKey]:
    """A new key, committed and audited; the full key is in the returned ``NewKey`` and nowhere else."""
    try:
        text, value = check_new_key(name, rate, default_rate)
        first: list[FieldError] = []
    except InvalidKeyRequest as exc:
        first = exc.errors
    try:
        use, dept, fields = check_scope(scope, department, figure_fields)
    except InvalidKeyRequest as exc:
        first = first + exc.errors
    if first:
        raise InvalidKeyRequest(message("apikey_invalid", reason="；".join(e.message for e in first)), first)
    with unit_of_work(session), audit_context(session, "create_api_key"):
        new = create_key(session, text, value, scope=use, department=dept, figure_fields=fields)
    return new, session.get(ApiKey, new.id)


def revoke(session: Session, key_id: int) -> ApiKey:
    """Revoke one key (audited); the gate refuses it from the next request on, on every server."""
    with unit_of_work(session), audit_context(session, "revoke_api_key"):
        row = session.get(ApiKey, key_id, with_for_update=True)
        if row is None:
            raise NotFound(message("apikey_not_found", id=key_id))
        if row.revoked_at is not None:
            raise InvalidState(message("apikey_already_revoked", name=row.name,
                                       when=row.revoked_at.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")))
        row.revoked_at = dt.datetime.now(dt.UTC)  # a value, not now(): the audit trail records it
    return row


class KeyStore:
    """Looks keys up in the database and remembers the answer.

    The memory is dropped whenever ``api_keys`` changes (its trigger NOTIFYs every
    server) and is used at all only while that notification channel is connected;
    otherwise every request looks its key up.
    """

    def __init__(self, lookup) -> None:
        self._lookup = lookup  # prefix -> KeyRecord | None (runs SQL)
        self._cache: dict[str, tuple[KeyRecord | None, float]] = {}
        self._lock = threading.Lock()
        self.caching = False
        self.ttl_s = 300.0

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def set_caching(self, on: bool) -> None:
        with self._lock:
            self.caching = on
            self._cache.clear()

    def cached(self, prefix: str) -> tuple[bool, KeyRecord | None]:
        if not self.caching:
            return False, None
        with self._lock:
            hit = self._cache.get(prefix)
        if hit is None or hit[1] < time.monotonic():
            return False, None
        return True, hit[0]

    def load(self, prefix: str) -> KeyRecord | None:
        record = self._lookup(prefix)
        if self.caching:
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()  # wrong prefixes must not grow memory without bound
                self._cache[prefix] = (record, time.monotonic() + self.ttl_s)
        return record

    @staticmethod
    def check(record: KeyRecord | None, secret: str) -> KeyRecord | None:
        if record is None or record.revoked or not _verify(secret, record.secret_hash):
            return None
        return record


def lookup_in(session: Session, prefix: str) -> KeyRecord | None:
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if row is None:
        return None
    return KeyRecord(row.id, row.name, row.secret_hash, row.rate_limit_per_minute, row.revoked_at is not None,
                     row.scope or "ogc_read")
