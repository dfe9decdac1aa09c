"""The AppError family and the one error envelope every 4xx/5xx uses.

``{"detail": "<一句中文>", "code": "<machine code>", "errors": [{"field": …, "message": …}]}``
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .messages import message

log = logging.getLogger("cloudmap")


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    feature: int | str | None = None


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidParameter(AppError):
    status_code = 400
    code = "invalid_parameter"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(message("invalid_parameter", field=field, reason=reason), [FieldError(field, reason)])


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidState(AppError):
    """The action does not fit the object's current state (e.g. approving a draft)."""

    status_code = 409
    code = "invalid_state"


class InvalidFeatures(AppError):
    """Some features of a request are wrong; ``errors`` names each one (feature number, field)."""

    status_code = 422
    code = "invalid_features"


class InvalidUpload(AppError):
    """An uploaded file that cannot be imported as sent; ``code`` names the case (e.g. ``zip_unsafe``)."""

    status_code = 400
    code = "invalid_upload"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, *, code: str | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(detail, errors)
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class PayloadTooLarge(InvalidUpload):
    status_code = 413
    code = "payload_too_large"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "database_unavailable"


def envelope(status: int, code: str, detail: str, errors: list[FieldError] | None = None) -> JSONResponse:
    body = {
        "detail": detail,
        "code": code,
        "errors": [{k: v for k, v in asdict(e).items() if v is not None} for e in errors or []],
    }
    return JSONResponse(body, status_code=status)


_LOCATION_NAMES = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头"}


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(loc[1:]) or (loc[0] if loc else None)
        where = _LOCATION_NAMES.get(loc[0], "") if loc else ""
        out.append(FieldError(field, f"{where} {field}：{_translate(err)}".strip()))
    return out


def _translate(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "缺少此项"
    if kind in {"int_parsing", "int_type"}:
        return f"应为整数，收到“{err.get('input')}”"
    if kind in {"float_parsing", "float_type"}:
        return f"应为数字，收到“{err.get('input')}”"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "enum":
        return f"“{err.get('input')}”不是有效取值，可选：{ctx.get('expected')}"
    return err.get("msg", "取值无效")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return envelope(exc.status_code, exc.code, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        summary = "；".join(e.message for e in errors)
        return envelope(422, "invalid_request", message("invalid_request", summary=summary), errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return envelope(404, "not_found", message("not_found", what="请求的地址"))
        if exc.status_code == 405:
            return envelope(405, "method_not_allowed", "该地址不支持此请求方法")
        return envelope(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or "约束"
        return envelope(409, "conflict", message("conflict", reason=constraint))

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database error: %s", exc)
        return envelope(503, "database_unavailable", message("database_unavailable"))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", request_id, exc_info=exc)
        return envelope(500, "internal_error", message("internal_error", request_id=request_id))
