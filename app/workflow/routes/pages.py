"""The web pages of the workflow and administration (plain JS in frontend/src/), served by the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from ...errors import NotFound
from ...messages import message
from ...settings import Settings, get_settings

router = APIRouter(include_in_schema=False)
# route → page under frontend/src; each builds the shared top bar (common/shell.js) itself.
PAGES = {"login": "workflow/login.html", "workflow/officer": "workflow/officer.html",
         "workflow/review": "workflow/review.html", "workflow/planner": "workflow/planner.html",
         "admin": "admin/index.html", "reporting": "reporting/index.html",
         "enterprises": "enterprises/index.html",
         "evaluation": "evaluation/index.html", "regulation": "regulation/index.html"}


def _page(name: str):
    def serve(settings: Annotated[Settings, Depends(get_settings)]) -> FileResponse:
        path = settings.frontend_dir / "src" / PAGES[name]
        if not path.is_file():
            raise NotFound(message("page_not_found", name=name))
        return FileResponse(path, media_type="text/html; charset=utf-8")

    return serve


for _name in PAGES:
    router.add_api_route(f"/{_name}", _page(_name), methods=["GET"])
