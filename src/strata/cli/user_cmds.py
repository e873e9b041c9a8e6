"""``strata user``, ``strata token`` and ``strata grant``: who may use a Strata server."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from strata.cli.output import JsonOpt, console, handle_errors, print_records, print_result
from strata.errors import UserInputError
from strata.scm import user_identity
from strata.workspace import Workspace

if TYPE_CHECKING:
    from strata.meta.users import Token

user_app = typer.Typer(
    help="Users of a Strata server and their roles (viewer, editor, maintainer, admin).\n\n"
    "Example: strata user add ana --role maintainer",
    no_args_is_help=True,
)
token_app = typer.Typer(
    help="API tokens: a user's secret for the server, shown once, stored only as a hash.\n\n"
    "Example: strata token create ana --expires 30d --json",
    no_args_is_help=True,
)
RoleOpt = Annotated[str, typer.Option("--role", help="viewer, editor, maintainer or admin.")]
_DURATION = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
    app.command("grant")(handle_errors(grant))


@user_app.command("add")
@handle_errors
def add(name: str, role: RoleOpt = "viewer", json_out: JsonOpt = False) -> None:
    """Add a user; a server asks for a token as soon as one user exists.

    Example: strata user add ana --role maintainer
    """
    with Workspace() as ws:
        user = ws.users.add(name, role, by=user_identity(ws.root))
    print_result(user, f"added user {user.name} ({user.role})", json_out=json_out)


@user_app.command("role")
@handle_errors
def role(
    name: str,
    new_role: Annotated[str, typer.Argument(help="The new role.")],
    json_out: JsonOpt = False,
) -> None:
    """Change a user's global role. Example: strata user role ana admin"""
    with Workspace() as ws:
        user = ws.users.set_role(name, new_role)
    print_result(user, f"{user.name} is now {user.role}", json_out=json_out)


@user_app.command("list")
@handle_errors
def list_(json_out: JsonOpt = False) -> None:
    """Every user and their role. Example: strata user list --json"""
    with Workspace() as ws:
        found = [(u, ws.users.grants(u.name)) for u in ws.users.all()]
    listing = [{**u.to_dict(), "grants": [g.to_dict() for g in grants]} for u, grants in found]
    lines = (
        f"{u.name}  {u.role}" + "".join(f"  {g.role} on {g.target}" for g in grants)
        for u, grants in found
    )
    print_result(listing, lines, json_out=json_out)


@token_app.command("create")
@handle_errors
def create(
    name: str,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime, e.g. 30d, 12h (default: none).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """A new token for a user, printed once. Example: strata token create ana --expires 30d"""
    lifetime = None if expires is None else _lifetime(expires)
    with Workspace() as ws:
        token, secret = ws.users.create_token(name, expires=lifetime)
    if json_out:
        print_result({**token.to_dict(), "token": secret}, "", json_out=True)
        return
    until = "" if token.expires_at is None else f", until {token.expires_at:%Y-%m-%d %H:%M} UTC"
    console.print(f"token {token.id} for {name}{until} (shown only now):", markup=False)
    console.print(secret, markup=False)


@token_app.command("list")
@handle_errors
def tokens(
    name: Annotated[str | None, typer.Argument(help="Only this user's.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Tokens by id, user, expiry and revocation (never the secrets)."""
    with Workspace() as ws:
        found = ws.users.tokens(name)
    print_records(found, _token_line, json_out=json_out)


@token_app.command("revoke")
@handle_errors
def revoke(
    name: str,
    token_id: Annotated[str | None, typer.Option("--id", help="Only this token.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Revoke all of a user's tokens, or one. Example: strata token revoke ana --id 3f2a9c01b7de"""
    with Workspace() as ws:
        count = ws.users.revoke(name, token_id)
    text = f"revoked {count} token{'s' if count != 1 else ''} of {name}"
    print_result({"user": name, "revoked": count}, text, json_out=json_out)


def grant(
    name: str,
    target: Annotated[str, typer.Argument(help="One thing: model:NAME, table:NAME, ...")],
    role: RoleOpt = "maintainer",
    json_out: JsonOpt = False,
) -> None:
    """Raise a user's role on one model or table, stages and aliases included.

    Example: strata grant ana model:delay-classifier --role maintainer
    """
    with Workspace() as ws:
        given = ws.users.grant(name, target, role, by=user_identity(ws.root))
    print_result(given, f"{given.user} is {given.role} on {given.target}", json_out=json_out)


def _token_line(t: Token) -> str:
    expiry = "" if t.expires_at is None else f"  expires {t.expires_at:%Y-%m-%d %H:%M}"
    return f"{t.id}  {t.user}  created {t.created_at:%Y-%m-%d}{expiry}" + (
        "  revoked" if t.revoked_at is not None else ""
    )


def _lifetime(text: str) -> timedelta:
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise UserInputError(f"bad --expires {text!r}", hint="write e.g. 30d, 12h or 90m")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})
