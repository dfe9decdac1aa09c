"""Every workflow endpoint (login, plans, review, enterprises, tenants, credit, audit) and the
workflow web pages, as one router for ``create_app``."""

from fastapi import APIRouter, Depends

from ...auth.routes import router as auth_router
from .governance import router as governance_router
from .pages import router as pages_router
from .plans import router as plans_router

from ..concurrency import rollback_on_error

router = APIRouter(dependencies=[Depends(rollback_on_error)])
router.include_router(auth_router)
router.include_router(plans_router)
router.include_router(governance_router)
router.include_router(pages_router)
