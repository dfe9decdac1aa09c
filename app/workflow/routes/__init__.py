"""Every workflow endpoint (plans, review, enterprises, tenants, credit, audit) and the workflow
web pages, as one router for ``create_app``."""

from fastapi import APIRouter

from .governance import router as governance_router
from .pages import router as pages_router
from .plans import router as plans_router

router = APIRouter()
router.include_router(plans_router)
router.include_router(governance_router)
router.include_router(pages_router)
