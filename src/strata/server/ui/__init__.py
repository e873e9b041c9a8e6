"""The web UI: server-rendered pages (Jinja2) over the same Python API as ``/api/v1``, served by
``strata server`` in the same process, with the same users and roles.

The pages' few changes (promote, set an alias, roll back) are calls to ``/api/v1`` from the
page's script, authenticated by the session cookie and guarded against cross-site requests
by a CSRF token. Cytoscape.js and its dagre layout are vendored under ``static/vendor``.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette_csrf.middleware import CSRFMiddleware

from strata import __version__
from strata.config import STRATA_DIR, find_root
from strata.server import errors
from strata.server.auth import SESSION_COOKIE
from strata.server.ui import lineage_pages, model_pages, ops_pages, session, table_pages
from strata.server.ui.render import HERE, LoginRequired, templates

PAGE_PREFIXES = ("/models", "/tables", "/lineage/", "/runs", "/guard", "/releases",
                 "/incidents", "/search", "/login", "/session", "/logout")  # fmt: skip


def install(app: FastAPI, root: Path) -> None:
    """Serve the pages, their static files and the log-in on ``app``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for pages in (session, model_pages, table_pages, lineage_pages, ops_pages):
        app.include_router(pages.router)
    app.get("/", include_in_schema=False)(home)
    app.add_exception_handler(LoginRequired, _to_login)
    for prefix in PAGE_PREFIXES:
        errors.shape_errors(app, prefix, error_page)
    app.add_middleware(
        CSRFMiddleware,
        secret=session.csrf_secret(find_root(root) / STRATA_DIR),
        sensitive_cookies={SESSION_COOKIE},  # Bearer and Basic clients send no cookie
        required_urls=[re.compile(r"^/session$")],  # nobody may log a visitor in from elsewhere
        cookie_name=session.CSRF_COOKIE,
        cookie_secure=True,
        cookie_samesite="strict",
        header_name=session.CSRF_HEADER,
    )


def home() -> RedirectResponse:
    return RedirectResponse("/models", status_code=307)


async def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)


def error_page(
    status: int, message: str, headers: dict[str, str] | None, kind: str | None
) -> HTMLResponse:
    """An error as a page: its status, its one-line message (escaped), a way back."""
    known = status in {s.value for s in HTTPStatus}
    title = f"{status} {HTTPStatus(status).phrase}" if known else str(status)
    html = templates.get_template("error.html").render(
        status=status, title=title, message=message, user=None, auth_on=False, version=__version__
    )
    return HTMLResponse(html, status_code=status, headers=headers)
