"""Accounts, login with back-off, and sessions. Transactions belong here, not to routes.

No account is ever locked by others' failures: failures are counted per name typed *and* client
address in the shared limiter (app.core.ratelimit), and only that address waits (1, 2, 4 … minutes
after ``login_max_failures``); each address also has ``login_rate_per_minute`` attempts a minute over
all names. An unknown name, a wrong password and a disabled account all get the same 401; a backed-off
attempt gets the same 429 whether the name exists or not. Wrong current passwords on the user's own
password change count the same way. ``cloudmap users set-password`` (a new ``password_changed_at``)
starts every address afresh on that account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..core import audit
from ..core.uow import unit_of_work
from ..errors import AppError, Conflict, FieldError, InvalidParameter, NotFound
from ..messages import message
from ..models import Unit
from ..settings import Settings
from ..core.ratelimit import Limiter
from .errors import LoginThrottled, WrongCredentials
from .models import LoginSession, User
from .passwords import burn_time, hash_password, password_problem, verify_password
from .roles import Role


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: dt.datetime
    user: User


def _unit_for(session: Session, role: Role, unit_code: str | None) -> Unit | None:
    if role == Role.UNIT_OFFICER:
        if not unit_code:
            raise InvalidParameter("unit", message("user_officer_needs_unit"))
        unit = session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise InvalidParameter("unit", message("unknown_unit", code=unit_code))
        return unit
    if unit_code:
        raise InvalidParameter("unit", message("user_unit_only_for_officers"))
    return None


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidParameter("password", problem)


def create_user(session: Session, *, username: str, role: Role | str, password: str,
                display_name: str | None = None, unit_code: str | None = None) -> User:
    role = Role(role)
    username = username.strip()
    if not username or len(username) > 64:
        raise InvalidParameter("username", message("user_name_invalid"))
    _check_password(password)
    with unit_of_work(session), audit.audit_context(session, "user_create"):
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(message("user_exists", username=username), [FieldError("username", message("exists"))])
        unit = _unit_for(session, role, unit_code)
        user = User(
            username=username,
            display_name=display_name or username,
            role=role,
            unit_id=unit.id if unit else None,
            password_hash=hash_password(password),
            is_active=True,
        )
        session.add(user)
    return user


def display_names(session: Session, usernames: set[str | None]) -> dict[str, str]:
    """username → the name people see (姓名, or the username when none is set)."""
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(usernames)))
    return {r.username: r.display_name or r.username for r in rows}


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(message("user_not_found", username=username))
    return user


def set_password(session: Session, user: User, password: str) -> None:
    _check_password(password)
    with unit_of_work(session), audit.audit_context(session, "password_set"):
        user.password_hash = hash_password(password)
        user.password_changed_at = now()
        session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def update_user(session: Session, user: User, *, role: Role | None = None, unit_code: str | None = None,
                display_name: str | None = None, is_active: bool | None = None) -> User:
    with unit_of_work(session), audit.audit_context(session, "user_update"):
        if role is not None or unit_code is not None:
            new_role = Role(role) if role is not None else user.role
            code = unit_code or None
            if code is None and new_role == Role.UNIT_OFFICER and user.unit is not None:
                code = user.unit.code
            unit = _unit_for(session, new_role, code)
            user.role = new_role
            user.unit_id = unit.id if unit else None
        if display_name is not None:
            user.display_name = display_name
        if is_active is not None:
            user.is_active = is_active
            if not is_active:
                session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    return user


def change_password(session: Session, user: User, current_password: str, new_password: str, *,
                    limiter: Limiter | None = None, address: str = "") -> None:
    """A user's own change: the current password first (the other sessions end with it).

    A wrong current password counts towards the login back-off of this account from this address.
    """
    name = _backoff_name(user.username, user)
    if limiter is not None and (wait := limiter.backoff(name, address)) > 0:
        raise LoginThrottled(wait)
    ok, _ = verify_password(current_password, user.password_hash)
    if not ok:
        if limiter is not None:
            limiter.failed(name, address)
        with unit_of_work(session):
            audit.record(session, "password_change_failed", "users", str(user.id))
        raise WrongCredentials()
    set_password(session, user, new_password)
    if limiter is not None:
        limiter.succeeded(name, address)


def disable_user(session: Session, user: User) -> None:
    update_user(session, user, is_active=False)


def _backoff_name(username: str, user: User | None) -> str:
    """The back-off's name for an attempt: the name typed, and the account's password generation when
    it exists (a password set by the admin starts every address afresh)."""
    if user is None:
        return username
    return f"{username}@{user.password_changed_at.timestamp():.6f}" if user.password_changed_at else username


def login(session: Session, settings: Settings, username: str, password: str, client: str | None, *,
          limiter: Limiter | None = None, address: str = "") -> NewSession:
    """Check the password; refuse a backed-off address (429) and count failures; open a session.

    A failed attempt is committed (audited) before the refusal is raised.
    """
    per_address = settings.login_rate_per_minute
    if limiter is not None and (wait := limiter.exhausted("login-address", address, per_address)) > 0:
        raise LoginThrottled(wait)
    moment = now()
    refusal: AppError | None = None
    with unit_of_work(session):
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        name = _backoff_name(username, user)
        if limiter is not None and (wait := limiter.backoff(name, address)) > 0:
            raise LoginThrottled(wait)
        if user is None or not user.is_active:
            burn_time(password)
            audit.set_actor(session, None, username[:64] or "?")
            audit.record(session, "login_failed", "users", username[:128], after={"reason": "unknown_or_disabled"})
            refusal = WrongCredentials()
        else:
            audit.set_actor(session, user.id, user.username)
            ok, new_hash = verify_password(password, user.password_hash)
            if not ok:
                audit.record(session, "login_failed", "users", str(user.id), after={"reason": "wrong_password"})
                refusal = WrongCredentials()
            else:
                token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
                expires = moment + dt.timedelta(hours=settings.session_hours)
                with audit.audit_context(session, "login"):
                    if new_hash:
                        user.password_hash = new_hash
                    user.last_login_at = moment
                    session.add(LoginSession(token_sha256=token_digest(token), user_id=user.id, csrf_token=csrf,
                                             expires_at=expires, client=(client or "")[:255] or None))
    if refusal is not None:
        if limiter is not None:
            limiter.spend("login-address", address, per_address)
            limiter.failed(name, address)
        raise refusal
    if limiter is not None:
        limiter.succeeded(name, address)
    return NewSession(token, csrf, expires, user)


def session_for_token(session: Session, token: str) -> LoginSession | None:
    row = session.get(LoginSession, token_digest(token))
    if row is None or row.expires_at <= now() or not row.user.is_active:
        return None
    return row


def logout(session: Session, token: str) -> None:
    with unit_of_work(session):
        row = session.get(LoginSession, token_digest(token))
        if row is not None:
            audit.record(session, "logout", "users", str(row.user_id))
            session.delete(row)
