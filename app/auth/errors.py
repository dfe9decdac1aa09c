"""Authentication and authorisation errors (the one AppError envelope)."""

from __future__ import annotations

from ..errors import AppError, Forbidden


class Unauthenticated(AppError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, detail: str = "请先登录") -> None:
        super().__init__(detail)


class WrongCredentials(Unauthenticated):
    code = "wrong_credentials"

    def __init__(self) -> None:
        super().__init__("用户名或密码错误")


class AccountLocked(AppError):
    status_code = 423
    code = "account_locked"


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("页面已过期或请求来源不明（缺少有效的 X-CSRF-Token），请刷新页面后重试")


class NotAllowed(Forbidden):
    code = "forbidden"
