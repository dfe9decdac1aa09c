"""Response models of the accounts endpoints (/api/auth, /api/users, /api/notifications)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from .roles import Role


class Out(BaseModel):
    """A response model: a key the code returns but the model lacks fails loudly (FastAPI validates responses)."""

    model_config = ConfigDict(extra="forbid")


class UserOut(Out):
    username: str
    display_name: str
    role: Role = Field(description="planner 规划查看 / gis_staff GIS 数据员 / unit_officer 镇街经办人 / "
                                   "reviewer 评审（领导小组） / admin 管理员")
    role_label: str = Field(description="角色（中文）")
    unit: str | None = Field(description="所属单位代码（镇街经办人），如 chongfu")
    unit_name: str | None = Field(description="所属单位名称")
    is_active: bool = Field(description="是否启用")
    last_login_at: dt.datetime | None = Field(description="最近登录时间")
    version: int = Field(description="版本号（即 ETag），修改时放在 If-Match 中")


class LoginOut(Out):
    user: UserOut
    csrf_token: str = Field(description="CSRF 令牌：之后每个修改请求须在 X-CSRF-Token 请求头中带上（也在 Cookie cloudmap_csrf 中）")
    expires_at: str = Field(description="会话到期时间（ISO 8601）")


class MeOut(Out):
    user: UserOut
    csrf_token: str | None = Field(description="当前会话的 CSRF 令牌（取自 Cookie cloudmap_csrf）")


class SessionOut(Out):
    user: UserOut | None = Field(description="登录用户；未登录为 null")


class UserList(Out):
    data: list[UserOut]
    count: int


class NotificationSubject(Out):
    type: str = Field(description="对象类型，如 block_plan")
    code: str | None = Field(description="对象编号，如区块方案编号")


class NotificationOut(Out):
    id: int
    kind: str = Field(description="通知类别，如 approve、return")
    message: str = Field(description="通知内容（中文）")
    subject: NotificationSubject | None = Field(description="通知所涉对象")
    plan: str | None = Field(description="所涉区块方案编号（对象为区块方案时）")
    created_at: str = Field(description="通知时间（ISO 8601）")
    read: bool = Field(description="是否已读")


class NotificationList(Out):
    data: list[NotificationOut]
    count: int
