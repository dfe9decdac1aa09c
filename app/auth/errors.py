"""Authentication and authorisation errors (the one AppError envelope)."""

from __future__ import annotations

import math

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


class LoginThrottled(AppError):
    """Too many attempts from this address (on this name, or on any): wait ``retry_after`` seconds.

    The same answer whether the name is an account or not, so it tells a stranger nothing.
    """

    status_code = 429
    code = "login_throttled"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message("login_throttled", minutes=max(1, math.ceil(self.retry_after / 60))),
                         headers={"Retry-After": str(self.retry_after)})


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(message("csrf_failed"))


class NotAllowed(Forbidden):
    code = "forbidden"
