"""/api/apikeys: the administrator's screen for the keys other departments' systems use: read-only keys
for /ogc and figures keys with which a department's system sends its yearly figures.

List (never a secret), create (the full key is answered once and never again) and revoke; an
admin's login and, for a write, the CSRF token (``require_role``). The work is in
:mod:`.apikeys`, which commits and audits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from ..auth.deps import Principal, require_role
from ..auth.roles import Role
from ..core.db import SessionDep
from ..errors import error_responses
from ..settings import Settings, get_settings
from . import apikeys
from .schemas import ApiKeyCreated, ApiKeyList, ApiKeyOut

router = APIRouter(prefix="/api/apikeys", tags=["接口密钥 API keys"], responses=error_responses(401, 403))
KeysAdmin = Annotated[Principal, Depends(require_role(Role.ADMIN))]


class KeyIn(BaseModel):
    # Checked by the service, which names each field in Chinese.
    name: str | None = Field(None, description="使用单位（系统名称），如 市场监管局 企业画像系统")
    rate_limit_per_minute: int | str | None = Field(None, description="每分钟请求上限；不填为服务器默认值")
    scope: str | None = Field(None, description="用途：ogc_read 只读（OGC 接口，默认）/ figures_write 报送部门数据")
    department: str | None = Field(None, description="报送部门（figures_write 必填），如 税务局")
    figure_fields: list[str] | None = Field(
        None, description="figures_write 可报送的数据项（如 tax_10k、employees）；不填为全部")


@router.get("", summary="接口密钥列表（不含密钥本身）（管理员）", response_model=ApiKeyList)
def list_keys(session: SessionDep, _admin: KeysAdmin) -> dict:
    return {"keys": [apikeys.describe(k) for k in apikeys.list_keys(session)]}


@router.post("", status_code=201, summary="新建接口密钥：完整密钥只在此应答中出现一次（管理员）",
             response_model=ApiKeyCreated, responses=error_responses(422))
def create_key(session: SessionDep, _admin: KeysAdmin, body: KeyIn,
               settings: Annotated[Settings, Depends(get_settings)]) -> dict:
    new, row = apikeys.create(session, body.name, body.rate_limit_per_minute,
                              settings.ogc_default_rate_limit_per_minute, scope=body.scope,
                              department=body.department, figure_fields=body.figure_fields)
    return {**apikeys.describe(row), "key": new.key}


@router.post("/{key_id}/revoke", summary="停用接口密钥（管理员）", response_model=ApiKeyOut,
             responses=error_responses(404, 409))
def revoke_key(request: Request, session: SessionDep, _admin: KeysAdmin,
               key_id: Annotated[int, Path(ge=1, le=2_147_483_647, description="密钥编号")]) -> dict:
    row = apikeys.revoke(session, key_id)
    # This server forgets the key now; the others when the table's trigger notifies them.
    request.app.state.ogc.keys.clear()
    return apikeys.describe(row)
