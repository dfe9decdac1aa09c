"""The application factory."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from .admission.routes import router as admission_router
from .actionplans.routes import router as action_plans_router
from .analysis.routes import router as analysis_router
from .auth.routes import router as auth_router
from .progress.plan_period import router as plan_progress_router
from .progress.reporting_routes import router as reporting_router
from .appraisal.routes import router as appraisal_router
from .progress.routes import pages as progress_pages, router as progress_router
from .core.bodylimit import BodyLimit
from .core.guard import Guard
from .core.db import conninfo, make_engine, make_sessionmaker
from .core.hosts import HostCheck
from .core.read.pool import ReadPool
from .core.read.replica import ReadYourWrites, RoutedReads
from .enterprises.routes import router as enterprises_router
from .enterprises.directory_routes import router as enterprise_directory_router
from .market.routes import router as market_router
from .errors import install_error_handlers, install_openapi
from .ingest.reaper import reap_with
from .ingest.routes import boundaries as boundaries_router, router as uploads_router
from .mapapi.routes import router as map_router
from .ogc import install as install_ogc
from .ows.routes import router as ows_router
from .parks.routes import router as parks_router
from .serve.routes import health_router, router
from .settings import Settings, get_settings
from .workflow.routes import router as workflow_router
from .subsidies.routes import router as subsidies_router
from .cases.routes import router as cases_router

TITLE = "桐乡工业全域治理云图"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine = make_engine(settings)
        app.state.engine = engine
        # Every session runs the measure and audit hooks (app.core.db.install_session_hooks) …
        app.state.sessionmaker = make_sessionmaker(engine)
        # … and, after each commit, the OGC tile cache's invalidation.
        ogc.attach(engine, app.state.sessionmaker)
        # The read path's pool (app.core.read): GeoJSON pages, features and tiles, no ORM; on the
        # replica when there is one (app.core.read.replica), the primary for what it has not replayed.
        timeouts = dict(timeout=settings.db_pool_timeout_s, connect_timeout_s=settings.db_connect_timeout_s,
                        statement_timeout_ms=settings.db_statement_timeout_ms,
                        lock_timeout_ms=settings.db_lock_timeout_ms)
        app.state.reads = ReadPool(conninfo(engine), **timeouts)
        if settings.database_replica_url:
            replica = ReadPool(make_url(settings.database_replica_url).set(drivername="postgresql")
                               .render_as_string(hide_password=False), **timeouts)
            app.state.reads = RoutedReads(app.state.reads, replica, lambda: ogc.cache.generation)
        reaper = asyncio.create_task(_reap_periodically(app.state.sessionmaker, settings))
        try:
            yield
        finally:
            reaper.cancel()
            await ogc.close()
            await app.state.reads.close()
            engine.dispose()

    app = FastAPI(
        title=TITLE,
        description="工业园区有机更新“一图一表一库一平台”：镇街、连片改造区块与宗地的 GeoJSON 接口（EPSG:4490，经度在前）。",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    install_openapi(app)
    # The routers the other systems call by the thousand come first: a request is matched
    # against the routes in order, and matching costs about a third of a one-feature read.
    ogc = install_ogc(app, settings)
    app.include_router(ows_router)
    app.include_router(router)
    app.include_router(analysis_router)
    app.include_router(reporting_router)
    app.include_router(progress_router)
    app.include_router(action_plans_router)
    app.include_router(plan_progress_router)
    app.include_router(progress_pages)
    app.include_router(map_router)
    app.include_router(uploads_router)
    app.include_router(boundaries_router)
    app.include_router(health_router)
    app.include_router(auth_router)
    app.include_router(enterprises_router)
    app.include_router(enterprise_directory_router)
    app.include_router(appraisal_router)
    app.include_router(market_router)
    app.include_router(workflow_router)
    app.include_router(admission_router)
    app.include_router(subsidies_router)  # 扶持资金, /api/boundary-membership (issue 19 part 4)
    app.include_router(cases_router)  # 典型案例 (issue 19 part 5)
    app.include_router(parks_router)
    _mount_frontend(app, settings.frontend_dir)
    if settings.database_replica_url:  # outside the OGC gate, which serves tiles and items itself
        app.add_middleware(ReadYourWrites, secret=settings.secret_key, max_age_s=settings.read_your_writes_s,
                           secure=settings.cookie_secure)
    app.add_middleware(BodyLimit, default=settings.max_json_body_bytes,  # app.core.bodylimit: 413 while streaming
                       larger={"/api/analysis": settings.analysis_max_body_bytes})
    app.add_middleware(HostCheck, allowed_hosts=settings.allowed_hosts, public_url=settings.public_url)  # Host, public URL
    app.add_middleware(Guard)  # outermost of ours: request ids, target checks, the 500 that keeps the connection
    return app


async def _reap_periodically(maker, settings: Settings) -> None:
    """The upload reaper (app.ingest.reaper) at start-up and every ``upload_reap_interval_minutes``."""
    while True:
        await anyio.to_thread.run_sync(reap_with, maker, settings.upload_stale_staging_minutes,
                                       settings.upload_abandoned_staged_hours)
        if not settings.upload_reap_interval_minutes:
            return
        await asyncio.sleep(settings.upload_reap_interval_minutes * 60)


# What /vendor/npm/ may serve: the run-time files the pages import (the "dependencies" of frontend/package.json
# plus @mapbox/point-geometry, which @mapbox/vector-tile imports), never the rest of node_modules (lock files,
# package.json, READMEs, sources, type declarations, dev tools). Package -> path prefixes inside it.
_VENDOR_ALLOWED = {
    "@geoman-io/leaflet-geoman-free": ("dist/",),
    "@mapbox/vector-tile": ("index.js",),
    "@mapbox/point-geometry": ("index.js",),
    "chart.js": ("dist/chart.umd.min.js", "dist/chart.umd.js"),
    "pbf": ("index.js",),
    "point-in-polygon-hao": ("dist/esm/index.js",),
    "robust-predicates": ("index.js", "esm/"),
}
_VENDOR_SUFFIXES = (".js", ".mjs", ".css", ".map", ".png", ".svg", ".woff", ".woff2")


def _vendor_allowed(path: str) -> bool:
    path = path.replace("\\", "/").lstrip("/")
    if ".." in path.split("/") or not path.endswith(_VENDOR_SUFFIXES) or path.endswith(".d.ts"):
        return False
    for package, prefixes in _VENDOR_ALLOWED.items():
        if path.startswith(package + "/"):
            rest = path[len(package) + 1:]
            return any(rest == p or (p.endswith("/") and rest.startswith(p)) for p in prefixes)
    return False


class _VendorFiles(StaticFiles):
    """StaticFiles over node_modules that answers 404 for anything outside the allow-list."""

    async def get_response(self, path: str, scope):
        if not _vendor_allowed(path):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def _mount_frontend(app: FastAPI, frontend_dir: Path) -> None:
    """The map and its npm libraries, served by the app itself (no CDN)."""
    leaflet = frontend_dir / "node_modules" / "leaflet" / "dist"
    if not leaflet.is_dir():
        logging.getLogger("cloudmap").warning("Leaflet not installed under %s; run `make setup`", leaflet)
    else:
        app.mount("/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")
        # The other npm libraries the pages import, and only their run-time files (_VENDOR_ALLOWED).
        app.mount("/vendor/npm", _VendorFiles(directory=frontend_dir / "node_modules"), name="npm")
    app.mount("/static", StaticFiles(directory=frontend_dir / "src"), name="static")
    index = frontend_dir / "index.html"

    @app.get("/", include_in_schema=False)
    def index_page() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8")
