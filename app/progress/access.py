"""Who may set targets and the scoring configuration and issue reports: administrators.

The one place this package wires authorisation; it uses the accounts module's
``require_role`` (session cookie + CSRF, app/auth/deps.py). Reads stay open like the
map's own GeoJSON layers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ..auth.deps import Principal, require_role
from ..auth.roles import Role

ProgressAdmin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
