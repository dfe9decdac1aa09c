"""Users, roles, login sessions and the dependencies every protected endpoint uses.

``from app.auth import CurrentUser, require_role, Role`` — e.g. uploads are
``Depends(require_role(Role.GIS_STAFF, Role.ADMIN))``.
"""

from .deps import CurrentUser, OptionalUser, Principal, current_user, require_role
from .roles import Role

__all__ = ["CurrentUser", "OptionalUser", "Principal", "Role", "current_user", "require_role"]
