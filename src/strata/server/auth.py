"""Who calls, and what they may do.

As soon as one user exists every request needs ``Authorization: Bearer TOKEN``, or HTTP Basic
with the user's name and a token as the password (what MLflow clients send), or the web UI's
session cookie (which holds a token; a change sent with it also needs the CSRF header). With
no user at all the server lets every request in as its own identity (and binds loopback only).

    @router.post("/models/{name}/rollback")
    def rollback(name: str, caller: CallerDep) -> dict[str, object]:
        caller.require("promote", f"model:{name}")
        return caller.registry().rollback(name).to_dict()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from strata.guard.check import Guard
from strata.meta.users import NEEDS, Action, Principal
from strata.models import Registry
from strata.recovery import Recovery
from strata.refs import parse_ref
from strata.tables import TableCatalog
from strata.workspace import Workspace

_bearer = HTTPBearer(auto_error=False, description="A token from `strata token create`.")
_basic = HTTPBasic(auto_error=False, description="User name, and a token as the password.")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="strata"'}
SESSION_COOKIE = "strata_session"  # the web UI's log-in: a token, HTTP-only, secure, strict


class ServerState:
    """What every request shares: the process's one Workspace and the server's identity."""

    def __init__(self, ws: Workspace, identity: str) -> None:
        self.ws = ws
        self.identity = identity
        self._auth_on = False  # once a user exists it stays on: users are never deleted

    def auth_on(self) -> bool:
        if not self._auth_on:
            self._auth_on = self.ws.users.any()
        return self._auth_on


def thing_of(ref: str) -> str:
    """``KIND:NAME`` of a ref (its selector dropped): what a permission is about."""
    parsed = parse_ref(ref)
    return f"{parsed.kind}:{parsed.name}"


def require(principal: Principal, action: Action, target: str) -> None:
    """Refuse (403) unless ``principal`` may do ``action`` on ``target`` (``KIND:NAME``)."""
    if not principal.may(action, target):
        role = principal.role_on(target)
        raise HTTPException(
            403,
            f"user {principal.name} may not {action} {target}: "
            f"{action} needs {NEEDS[action]}, and {principal.name} is {role} there",
        )


@dataclass(frozen=True, slots=True)
class Caller:
    """One request's caller: who, from where, and the workspace to act on for them."""

    principal: Principal
    client: str | None
    ws: Workspace

    def require(self, action: Action, target: str) -> None:
        require(self.principal, action, target)

    def registry(self) -> Registry:
        """The registry, its changes recorded as this caller, from this caller's address."""
        return self.ws.models.acting_as(self.principal.name, client=self.client)

    def tables(self) -> TableCatalog:
        """The table catalog, its commits naming this caller."""
        return self.ws.tables.acting_as(self.principal.name)

    def recovery(self) -> Recovery:
        """Rollbacks and releases, their changes recorded as this caller."""
        return self.ws.recovery.acting_with(self.registry(), self.tables())

    def guard(self) -> Guard:
        """The guard, its rollbacks recorded as this caller."""
        return self.ws.guard.acting_with(self.recovery().rollbacks)


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.strata
    return state


def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Caller:
    """The caller of this request; 401 when a user must be named and is not."""
    state = server_state(request)
    client = request.client.host if request.client is not None else None
    if not state.auth_on():
        _refuse_other_sites(request)
        principal = Principal(state.identity, "admin")
    else:
        principal = _principal(state, bearer, basic, request.cookies.get(SESSION_COOKIE))
    request.state.user = principal.name  # for the request log
    return Caller(principal, client, state.ws)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _refuse_other_sites(request: Request) -> None:
    """Without users nothing authenticates a change, so a page of another site must not be
    able to make a visitor's browser send one (a form's POST needs no CORS preflight): a
    browser names the page's origin, and it must be this server. Clients that are not
    browsers send no Origin."""
    origin = request.headers.get("origin")
    if request.method in SAFE_METHODS or origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, f"a change from another site ({origin}) is refused")


def _principal(
    state: ServerState,
    bearer: HTTPAuthorizationCredentials | None,
    basic: HTTPBasicCredentials | None,
    session: str | None = None,
) -> Principal:
    if bearer is not None:
        found = state.ws.users.authenticate(bearer.credentials)
    elif basic is not None:
        found = state.ws.users.authenticate(basic.password)
        if found is not None and found.name != basic.username:
            found = None  # a token names its user; another name with it is no login
    elif session:
        found = state.ws.users.authenticate(session)
    else:
        raise HTTPException(
            401,
            "no token: send `Authorization: Bearer TOKEN` "
            "(a token comes from `strata token create NAME`)",
            headers=_CHALLENGE,
        )
    if found is None:
        raise HTTPException(401, "the token is unknown, expired or revoked", headers=_CHALLENGE)
    return found


CallerDep = Annotated[Caller, Depends(authenticate)]
