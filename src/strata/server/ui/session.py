"""Logging in to the web UI: a token from `strata token create` becomes a session cookie.

The cookie holds the token itself, HTTP-only (no script reads it), ``Secure`` and
``SameSite=Strict``; it is checked like a Bearer token on every request. Changes sent with it
need the CSRF header too (double-submit cookie, ``starlette-csrf``), which the pages' script
adds; the log-in itself is CSRF-checked as well, so no other site can log a visitor in.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strata.config import keep_out_of_git
from strata.server.auth import SESSION_COOKIE, server_state
from strata.server.ui.render import page

router = APIRouter(include_in_schema=False)
CSRF_COOKIE = "strata_csrf"
CSRF_HEADER = "x-csrf-token"
SECRET_FILE = "ui-secret"  # under .strata/: signs CSRF tokens, shared by a server's workers
SESSION_SECONDS = 12 * 3600


def csrf_secret(strata_dir: Path) -> str:
    """The key CSRF tokens are signed with: made once per workspace, readable by its owner only
    and never committed, so that every worker of a server accepts the tokens the others gave
    out."""
    keep_out_of_git(strata_dir, f"/{SECRET_FILE}")
    path = strata_dir / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(32)
    temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secret)
    try:
        os.link(temporary, path)  # the first worker's key wins; the others read it
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text(encoding="ascii").strip()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server only, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/models"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, failed: bool = False) -> HTMLResponse:
    return page(request, None, "login.html", next=safe_next(next), failed=failed)


@router.post("/session")
def login(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    """Check the token; on success the session cookie is set and the visitor goes on."""
    found = server_state(request).ws.users.authenticate(token.strip())
    if found is None:
        again = f"/login?failed=true&next={quote(safe_next(next))}"
        return RedirectResponse(again, status_code=303)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token.strip(), max_age=SESSION_SECONDS, httponly=True, secure=True,
        samesite="strict", path="/",
    )  # fmt: skip
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=True, samesite="strict")
    return response
