"""Authentication and authorisation errors (the one AppError envelope)."""

from __future__ import annotations

from ..errors import AppError, Forbidden
from ..messages import message


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or message("login_required"))


class WrongCredentials(Unauthenticated):
    code = "wrong_credentials"

    def __init__(self) -> None:
        super().__init__(message("login_wrong"))


class AccountLocked(AppError):
    status_code = 423
    code = "account_locked"


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(message("csrf_failed"))


class NotAllowed(Forbidden):
    code = "forbidden"
