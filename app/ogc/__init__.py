"""OGC API – Features (Core, CRS, CQL2) and vector tiles at /ogc, with API keys (and the admin's
/api/apikeys to manage them).

``install(app, settings)`` adds the routes, the gate (read-only, keys, rate limit, cached
tiles) and the per-process runtime, and returns the runtime; ``create_app``'s lifespan
attaches it to the application's sessions (the tile cache's invalidation after commits)
and closes it.
"""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings
from .gate import OgcGate
from .keys_routes import router as keys_router
from .routes import router
from .runtime import OgcRuntime


def install(app: FastAPI, settings: Settings) -> OgcRuntime:
    runtime = OgcRuntime(settings)
    app.state.ogc = runtime
    app.include_router(router)
    app.include_router(keys_router)
    app.add_middleware(OgcGate, runtime=runtime)
    return runtime
