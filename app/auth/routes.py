"""Login, logout, the current user and their notifications, and account administration (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from ..core.db import SessionDep
from ..settings import Settings, get_settings
from ..core import notifications, ratelimit
from ..core.concurrency import check_if_match, set_etag
from ..core.uow import unit_of_work
from ..errors import envelope, error_responses
from . import service
from .errors import LoginThrottled
from .deps import CSRF_COOKIE, SESSION_COOKIE, CurrentUser, OptionalUser, require_role
from .models import User
from .roles import ROLE_LABELS, Role
from .schemas import LoginOut, MeOut, NotificationList, SessionOut, UserList, UserOut

router = APIRouter(prefix="/api", tags=["登录与用户 auth"])
AdminOnly = Depends(require_role(Role.ADMIN))
# A login (CurrentUser: 401; a write without the CSRF token: 403) or a role (require_role: 403).
SIGNED_IN = error_responses(401, 403)


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    display_name: str | None = Field(None, max_length=64)
    role: Role
    unit: str | None = Field(None, description="镇街经办人所属单位代码，如 chongfu")
    password: str = Field(min_length=1, max_length=256)


class UserUpdate(BaseModel):
    display_name: str | None = Field(None, max_length=64)
    role: Role | None = None
    unit: str | None = None
    is_active: bool | None = None


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordReset(BaseModel):
    password: str = Field(min_length=1, max_length=256)


def user_out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        unit=user.unit.code if user.unit else None,
        unit_name=user.unit.name if user.unit else None,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
        version=user.row_version,
    )


def _address(request: Request, settings: Settings) -> str:
    return ratelimit.client_address(request.scope, settings.trusted_proxies)


def _throttled(exc: LoginThrottled) -> JSONResponse:
    """Answered, not raised: the failure just counted stays counted (the session commits)."""
    return envelope(exc.status_code, exc.code, exc.detail, headers=exc.headers)


@router.post("/auth/login", summary="登录：设置会话 Cookie（HttpOnly）与 CSRF Cookie；同一地址多次失败后须等待（429）",
             response_model=LoginOut, responses=error_responses(401, 429))
def login(body: LoginRequest, request: Request, response: Response, session: SessionDep,
          settings: Annotated[Settings, Depends(get_settings)]) -> dict | JSONResponse:
    address = _address(request, settings)
    client = f"{address} {request.headers.get('user-agent', '')}".strip()
    try:
        new = service.login(session, settings, body.username, body.password, client,
                            limiter=ratelimit.limiter_of(request.app), address=address)
    except LoginThrottled as exc:
        return _throttled(exc)
    max_age = int(settings.session_hours * 3600)
    common = {"max_age": max_age, "secure": settings.cookie_secure, "samesite": "lax", "path": "/"}
    response.set_cookie(SESSION_COOKIE, new.token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, new.csrf_token, httponly=False, **common)
    return {"user": user_out(new.user).model_dump(mode="json"), "csrf_token": new.csrf_token,
            "expires_at": new.expires_at.isoformat()}


@router.post("/auth/logout", status_code=204, summary="退出登录", responses=SIGNED_IN)
def logout(request: Request, response: Response, session: SessionDep, _user: CurrentUser) -> Response:
    service.logout(session, request.cookies.get(SESSION_COOKIE, ""))
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/auth/session", summary="当前会话：登录用户，未登录时为 null（页面顶栏用，不返回 401）",
            response_model=SessionOut)
def current_session(user: OptionalUser) -> dict:
    return {"user": user_out(user.user).model_dump(mode="json") if user else None}


@router.get("/auth/me", summary="当前登录用户", response_model=MeOut, responses=SIGNED_IN)
def me(user: CurrentUser, request: Request) -> dict:
    return {"user": user_out(user.user).model_dump(mode="json"), "csrf_token": request.cookies.get(CSRF_COOKIE)}


@router.post("/auth/password", status_code=204, summary="修改自己的密码（其他会话随之失效；原密码错误计入登录失败次数）",
             responses=error_responses(401, 403, 429))
def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep, request: Request,
                    settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    try:
        service.change_password(session, user.user, body.current_password, body.new_password,
                                limiter=ratelimit.limiter_of(request.app), address=_address(request, settings))
    except LoginThrottled as exc:
        return _throttled(exc)
    return Response(status_code=204)


@router.get("/users", summary="用户列表（管理员）", dependencies=[AdminOnly], response_model=UserList,
            responses=SIGNED_IN)
def list_users(session: SessionDep) -> dict:
    users = session.scalars(select(User).order_by(User.username)).all()
    return {"data": [user_out(u).model_dump(mode="json") for u in users], "count": len(users)}


@router.post("/users", status_code=201, summary="新建用户（管理员）", dependencies=[AdminOnly],
             responses=error_responses(401, 403, 409))
def create_user(body: UserCreate, session: SessionDep, response: Response) -> UserOut:
    user = service.create_user(session, username=body.username, role=body.role, password=body.password,
                               display_name=body.display_name, unit_code=body.unit)
    set_etag(response, user.row_version)
    return user_out(user)


@router.patch("/users/{username}", summary="修改用户角色、单位、启用状态（管理员，需 If-Match）",
              dependencies=[AdminOnly], responses=error_responses(401, 403, 404, 409, 428))
def update_user(username: str, body: UserUpdate, request: Request, response: Response,
                session: SessionDep) -> UserOut:
    user = service.get_user(session, username)
    check_if_match(session, request, user, "用户")
    service.update_user(session, user, role=body.role, unit_code=body.unit, display_name=body.display_name,
                        is_active=body.is_active)
    set_etag(response, user.row_version)
    return user_out(user)


@router.post("/users/{username}/password", status_code=204, summary="重置用户密码（管理员）",
             dependencies=[AdminOnly], responses=error_responses(401, 403, 404))
def reset_password(username: str, body: PasswordReset, session: SessionDep) -> Response:
    service.set_password(session, service.get_user(session, username), body.password)
    return Response(status_code=204)


@router.get("/notifications", summary="我的通知（评审结果等）", response_model=NotificationList, responses=SIGNED_IN)
def my_notifications(user: CurrentUser, session: SessionDep,
                     unread: Annotated[bool, Query(description="只看未读")] = False) -> dict:
    rows = notifications.inbox(session, user.id, unread=unread)
    return {"data": [{"id": n.id, "kind": n.kind, "message": n.message,
                      "subject": {"type": n.subject_type, "code": n.subject_code} if n.subject_type else None,
                      "plan": n.subject_code if n.subject_type == "block_plan" else None,
                      "created_at": n.created_at.isoformat(), "read": n.read_at is not None} for n in rows],
            "count": len(rows)}


@router.post("/notifications/{notification_id}/read", status_code=204, summary="标记通知为已读",
             responses=error_responses(401, 403, 404))
def mark_read(notification_id: int, user: CurrentUser, session: SessionDep) -> Response:
    with unit_of_work(session):
        notifications.mark_read(session, user.id, notification_id)
    return Response(status_code=204)
