"""Rendering the web UI's pages: one Jinja2 environment (autoescaped), the filters pages share,
and the log-in a page needs.

    @router.get("/models", response_class=HTMLResponse)
    def models(request: Request, caller: PageCallerDep) -> HTMLResponse:
        return page(request, caller, "models.html", models=...)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from strata import __version__
from strata.server.auth import Caller, authenticate

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STAGE_CLASSES = {"production": "production", "staging": "staging", "archived": "archived"}


class LoginRequired(Exception):
    """A page was asked for without a log-in while auth is on: the visitor goes to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def page_caller(request: Request) -> Caller:
    """The caller of a page; with auth on and no valid session, a trip to the log-in page."""
    try:
        return await authenticate(request, None, None)
    except HTTPException as exc:
        if exc.status_code == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target) from exc
        raise


PageCallerDep = Annotated[Caller, Depends(page_caller)]


def page(request: Request, caller: Caller | None, template: str, **context: Any) -> HTMLResponse:
    """A page, with what every page shows: who is logged in and whether auth is on."""
    state = request.app.state.strata
    context.update(
        request=request,
        user=None if caller is None else caller.principal,
        auth_on=state.auth_on(),
        version=__version__,
    )
    return templates.TemplateResponse(request, template, context)


def when(value: object) -> str:
    """A timestamp as people read it: ``2026-12-06 03:52 UTC``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC" if value.tzinfo else "%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def size(value: object) -> str:
    if not isinstance(value, int):
        return "" if value is None else str(value)
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(value)


def ref_link(ref: str) -> str:
    """The page that shows a ref: a model version, a table, a run, else its lineage."""
    kind, _, rest = ref.partition(":")
    name, _, selector = rest.partition("@")
    if kind == "model" and name:
        return f"/models/{quote(name)}" + (f"/{quote(selector)}" if selector else "")
    if kind == "table" and name:
        return f"/tables/{quote(name)}" + (f"?version={quote(selector)}" if selector else "")
    if kind == "run" and name:
        return f"/runs/{quote(name)}"
    return f"/lineage/{quote(ref, safe=':@/')}"


def stage_class(stage: object) -> str:
    return STAGE_CLASSES.get(str(stage), "none")


templates.env.filters.update(when=when, size=size, ref_link=ref_link, stage_class=stage_class)
templates.env.globals["url_quote"] = quote
