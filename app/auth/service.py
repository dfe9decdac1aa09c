"""Accounts, login with lockout, and sessions. Transactions belong here, not to routes."""

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
from .errors import AccountLocked, WrongCredentials
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
            failed_logins=0,
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
        user.failed_logins = 0
        user.locked_until = None
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


def change_password(session: Session, user: User, current_password: str, new_password: str) -> None:
    """A user's own change: the current password first (the other sessions end with it)."""
    ok, _ = verify_password(current_password, user.password_hash)
    if not ok:
        raise WrongCredentials()
    set_password(session, user, new_password)


def disable_user(session: Session, user: User) -> None:
    update_user(session, user, is_active=False)


def login(session: Session, settings: Settings, username: str, password: str, client: str | None) -> NewSession:
    """Check the password, count failures, lock after ``login_max_failures``; open a session.

    A failed attempt is committed (counted and audited) before the refusal is raised.
    """
    moment = now()
    refusal: AppError | None = None
    with unit_of_work(session):
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None or not user.is_active:
            burn_time(password)
            audit.set_actor(session, None, username[:64] or "?")
            audit.record(session, "login_failed", "users", username[:128], after={"reason": "unknown_or_disabled"})
            refusal = WrongCredentials()
        else:
            audit.set_actor(session, user.id, user.username)
            if user.locked_until is not None and user.locked_until > moment:
                until = user.locked_until.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%H:%M")
                raise AccountLocked(message("login_locked_until", until=until))
            ok, new_hash = verify_password(password, user.password_hash)
            if not ok:
                with audit.audit_context(session, "login_failed"):
                    user.failed_logins += 1
                    if user.failed_logins >= settings.login_max_failures:
                        user.locked_until = moment + dt.timedelta(minutes=settings.login_lockout_minutes)
                        user.failed_logins = 0
                if user.locked_until is not None and user.locked_until > moment:
                    refusal = AccountLocked(message("login_locked_now", failures=settings.login_max_failures,
                                                    minutes=f"{settings.login_lockout_minutes:g}"))
                else:
                    refusal = WrongCredentials()
            else:
                token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
                expires = moment + dt.timedelta(hours=settings.session_hours)
                with audit.audit_context(session, "login"):
                    if new_hash:
                        user.password_hash = new_hash
                    user.failed_logins = 0
                    user.locked_until = None
                    user.last_login_at = moment
                    session.add(LoginSession(token_sha256=token_digest(token), user_id=user.id, csrf_token=csrf,
                                             expires_at=expires, client=(client or "")[:255] or None))
    if refusal is not None:
        raise refusal
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
