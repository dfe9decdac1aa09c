"""The workflow web pages (plain JS in frontend/src/workflow/), served by the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from ...errors import NotFound
from ...messages import message
from ...settings import Settings, get_settings

router = APIRouter(include_in_schema=False)
PAGES = {"login": "login.html", "workflow/officer": "officer.html", "workflow/review": "review.html",
         "workflow/planner": "planner.html"}


def _page(name: str):
    def serve(settings: Annotated[Settings, Depends(get_settings)]) -> FileResponse:
        path = settings.frontend_dir / "src" / "workflow" / PAGES[name]
        if not path.is_file():
            raise NotFound(message("page_not_found", name=name))
        return FileResponse(path, media_type="text/html; charset=utf-8")

    return serve


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"])
