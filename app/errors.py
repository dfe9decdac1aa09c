"""The AppError family and the one error envelope every 4xx/5xx uses.

``{"detail": "<一句中文>", "code": "<machine code>", "errors": [{"field": …, "message": …}]}``
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
import psycopg
from python_multipart.exceptions import FormParserError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from .messages import field_label, message

log = logging.getLogger("cloudmap")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# A serialization failure or a deadlock: another transaction won; the request may be retried (409).
CONCURRENCY_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock timeout


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    feature: int | str | None = None
    choices: list[str] | None = None  # the values the user may pick from (a file's layers)


class AppError(Exception):
    """A refusal the client is told about in the envelope; ``headers`` go with it (e.g. Retry-After)."""

    status_code = 400
    code = "bad_request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        if headers:
            self.headers = headers


class InvalidParameter(AppError):
    status_code = 400
    code = "invalid_parameter"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(message("invalid_parameter", field=field_label(field), reason=reason), [FieldError(field, reason)])


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
    headers = {"Retry-After": "5"}  # a restart or a fail-over takes seconds, not minutes


class FieldErrorOut(BaseModel):
    field: str | None = Field(None, description="出错的参数或字段")
    message: str = Field(description="这一处错误（中文）")
    feature: int | str | None = Field(None, description="出错的要素（序号或编号）")
    choices: list[str] | None = Field(None, description="可选取值（如文件中的图层名），页面据此让用户选择")


class ErrorEnvelope(BaseModel):
    """Every 4xx and 5xx answer: one Chinese sentence, a stable code, and each error by field."""

    detail: str = Field(description="一句中文说明，可直接展示给用户")
    code: str = Field(description="稳定的错误代码，如 invalid_parameter、not_found、conflict")
    errors: list[FieldErrorOut] = Field(default_factory=list, description="逐项错误")


ERROR_STATUSES = {
    400: "参数或文件有误",
    401: "未登录，或 API Key 缺失、无效",
    403: "无权进行此操作",
    404: "未找到",
    405: "该地址不支持此请求方法",
    409: "与当前数据冲突（如已被他人修改、状态不允许）",
    413: "上传内容过大",
    415: "文件类型不受支持",
    422: "请求内容未通过检查",
    423: "账号已锁定",
    428: "修改需在请求头 If-Match 中带上读取时的版本号",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "数据库暂时不可用",
}
# Statuses every endpoint can answer: bad parameters, a body that fails validation, a fault, the database down.
COMMON_ERRORS = (400, 422, 500, 503)


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """``responses=`` for a route or router: the error envelope for each status."""
    return {s: {"model": ErrorEnvelope, "description": ERROR_STATUSES[s]} for s in statuses}


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document with the error envelope on every operation, for the statuses every
    endpoint can return (COMMON_ERRORS) and those it declares (``error_responses``), instead of
    FastAPI's default 422 shape, which this service never sends."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
            if "ErrorEnvelope" not in schemas:
                schemas["ErrorEnvelope"] = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schemas["ErrorEnvelope"].pop("$defs", {}))
            for item in doc.get("paths", {}).values():
                for op in item.values():
                    responses = op.setdefault("responses", {})
                    for status in COMMON_ERRORS:
                        responses.setdefault(str(status), {"description": ERROR_STATUSES[status]})
                    for status, response in responses.items():
                        if status.isdigit() and int(status) >= 400:
                            response["content"] = {"application/json": {"schema": ref}}
                            response.setdefault("description", ERROR_STATUSES.get(int(status), "错误"))
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def envelope(status: int, code: str, detail: str, errors: list[FieldError] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    body = {
        "detail": detail,
        "code": code,
        "errors": [{k: v for k, v in asdict(e).items() if v is not None} for e in errors or []],
    }
    return JSONResponse(body, status_code=status, headers=headers or None)


_LOCATION_NAMES = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头"}


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        field = ".".join(loc[1:]) or (loc[0] if loc else None)
        label = field_label(field) if loc[1:] else _LOCATION_NAMES.get(loc[0], "请求") if loc else "请求"
        out.append(FieldError(field, f"{label}：{_translate(err)}"))
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
    if kind == "literal_error":
        return f"“{err.get('input')}”不是有效取值，可选：{ctx.get('expected')}"
    if kind in {"string_too_short", "too_short"}:
        return "不能为空" if ctx.get("min_length") in (1, None) else f"至少 {ctx.get('min_length')} 项（字）"
    if kind in {"string_too_long", "too_long"}:
        return f"不能超过 {ctx.get('max_length')} 项（字）"
    if kind in {"string_type", "string_pattern_mismatch", "string_unicode"}:
        return "格式不对" if kind == "string_pattern_mismatch" else "应为文字"
    if kind in {"greater_than", "less_than"}:
        return f"应{'大于' if kind == 'greater_than' else '小于'} {ctx.get('gt', ctx.get('lt'))}"
    if kind in {"bool_parsing", "bool_type"}:
        return "应为“是”或“否”"
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type", "datetime_parsing", "datetime_type"}:
        return f"应为日期（如 2024-01-05），收到“{err.get('input')}”"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "格式不对"
    if kind in {"list_type", "tuple_type", "set_type"}:
        return "应为列表"
    if kind == "json_invalid":
        return "请求内容无法解析"
    if kind == "extra_forbidden":
        return "不认识此项"
    if kind == "value_error":
        return str(ctx.get("error", "")) or "取值无效"
    return "取值无效"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return envelope(exc.status_code, exc.code, exc.detail, exc.errors, exc.headers)

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
        detail = str(exc.detail)
        if not _HAN.search(detail):  # Starlette's own English (a malformed form, a bad header): never shown
            detail = ERROR_STATUSES.get(exc.status_code, message("internal_error", request_id="-"))
        return envelope(exc.status_code, "http_error", detail)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or "约束"
        return envelope(409, "conflict", message("conflict", reason=constraint))

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, exc: StaleDataError) -> JSONResponse:
        return envelope(409, "conflict", message("concurrent_write"))

    @app.exception_handler(FormParserError)
    @app.exception_handler(MultiPartException)
    async def _bad_multipart(_request: Request, exc: Exception) -> JSONResponse:
        text = message("multipart_invalid")
        return envelope(400, "invalid_upload", text, [FieldError("file", text)])

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.DataError)
    async def _bad_value(_request: Request, exc: Exception) -> JSONResponse:
        # SQLSTATE class 22 (division by zero, numeric out of range, invalid text representation …):
        # a value the request sent that the database cannot use. The request's fault, not the server's.
        log.info("data error: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return envelope(400, "invalid_value", message("db_bad_value"))

    @app.exception_handler(OperationalError)
    async def _db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        if getattr(exc.orig, "sqlstate", None) in CONCURRENCY_SQLSTATES:
            return envelope(409, "conflict", message("concurrent_write"))
        log.error("database error: %s", exc)
        return envelope(503, "database_unavailable", message("database_unavailable"), headers=ServiceUnavailable.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s", request_id, exc_info=exc)
        return envelope(500, "internal_error", message("internal_error", request_id=request_id))
