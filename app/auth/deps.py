"""Who is asking: ``CurrentUser`` (401 when nobody is logged in), ``require_role(...)`` (403).

A browser authenticates with the session cookie; every state-changing request made with
that cookie must repeat the CSRF token (cookie ``cloudmap_csrf``) in the ``X-CSRF-Token``
header (double submit, checked against the session's own token).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ..core.db import SessionDep
from ..core import audit
from ..messages import message
from .errors import CsrfFailed, NotAllowed, Unauthenticated
from .models import User
from .roles import ROLE_LABELS, Role
from .service import session_for_token

SESSION_COOKIE = "cloudmap_session"
CSRF_COOKIE = "cloudmap_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user: User

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def unit_id(self) -> int | None:
        return self.user.unit_id

    def has(self, *roles: Role) -> bool:
        return self.user.role in roles


def optional_user(request: Request, session: SessionDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    row = session_for_token(session, token)
    user, csrf_token = (row.user, row.csrf_token) if row is not None else (None, None)
    if user is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (sent and hmac.compare_digest(sent, cookie) and hmac.compare_digest(sent, csrf_token)):
            raise CsrfFailed()
    audit.set_actor(session, user.id, user.username)
    principal = Principal(user)
    request.state.principal = principal  # e.g. the upload's ``uploader``
    return principal


def current_user(principal: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    if principal is None:
        raise Unauthenticated()
    return principal


OptionalUser = Annotated[Principal | None, Depends(optional_user)]
CurrentUser = Annotated[Principal, Depends(current_user)]


def require_role(*roles: Role | str):
    """A dependency allowing only the given roles: ``Depends(require_role("gis_staff", "admin"))``."""
    allowed = tuple(Role(r) for r in roles)

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            names = "、".join(ROLE_LABELS[r] for r in allowed)
            raise NotAllowed(message("role_not_allowed", role=ROLE_LABELS[principal.role], roles=names))
        return principal

    return check


def forbid(reason: str) -> NotAllowed:
    return NotAllowed(reason)
