"""OGC API – Features (Core, CRS, CQL2) and vector tiles at /ogc, with API keys.

``install(app, settings)`` is the one call main.py makes: it adds the routes, the
gate (read-only, keys, rate limit, cached tiles) and the per-process runtime.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..settings import Settings
from .gate import OgcGate
from .routes import router
from .runtime import OgcRuntime


def install(app: FastAPI, settings: Settings) -> None:
    runtime = OgcRuntime(settings)
    app.state.ogc = runtime

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # The app's own lifespan has made the engine and the sessionmaker by now.
        runtime.attach(app.state.engine, app.state.sessionmaker)
        try:
            yield
        finally:
            await runtime.close()

    router.lifespan_context = lifespan
    app.include_router(router)
    app.add_middleware(OgcGate, runtime=runtime)
