"""Who may use a Strata server: users with a role, their tokens, and grants on single things.

Roles are ordered: a viewer reads; an editor also registers models, writes tables and records
runs and lineage; a maintainer also promotes to protected stages and aliases, rolls back and
runs guard actions; an admin also manages users. A grant raises a user's role on one thing
(``model:delay-classifier``, ``table:deliveries``) above the global one, never lowers it.

A token is ``strata_<id>_<secret>``: the id names it (``strata token revoke --id``), the secret
is random (``secrets``) and stored only as its SHA-256 hash, compared in constant time.

    users = Users(db)
    users.add("ana", "maintainer", by="admin")
    token, secret = users.create_token("ana", expires=timedelta(days=30))
    principal = users.authenticate(secret)   # None when unknown, expired or revoked
    principal.may("promote", "model:delay-classifier")
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from strata.errors import UserInputError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from strata.meta.database import MetadataDB

Role = Literal["viewer", "editor", "maintainer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "maintainer", "admin")
Action = Literal["read", "write", "promote", "admin"]
# The least role each kind of action needs.
NEEDS: dict[Action, Role] = {
    "read": "viewer",
    "write": "editor",
    "promote": "maintainer",
    "admin": "admin",
}
TOKEN_PREFIX = "strata"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
_TARGET = re.compile(r"(model|table|features|release|dataset|experiment):[^@\s]+")


def _now() -> datetime:
    return datetime.now(UTC)


def check_role(text: str) -> Role:
    for role in ROLES:
        if text == role:
            return role
    raise UserInputError(f"bad role {text!r}", hint=f"use one of {', '.join(ROLES)}")


def _rank(role: Role) -> int:
    return ROLES.index(role)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    user: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "created_at": self.created_at.isoformat(),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Grant:
    user: str
    target: str  # KIND:NAME
    role: Role

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "target": self.target, "role": self.role}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user: a global role, raised on the things it holds grants on."""

    name: str
    role: Role
    grants: tuple[Grant, ...] = ()

    def role_on(self, target: str | None) -> Role:
        """The role that counts for ``target`` (``KIND:NAME``, a selector ignored)."""
        best = self.role
        if target is not None:
            thing = target.split("@", 1)[0]
            for grant in self.grants:
                if grant.target == thing and _rank(grant.role) > _rank(best):
                    best = grant.role
        return best

    def may(self, action: Action, target: str | None = None) -> bool:
        return _rank(self.role_on(target)) >= _rank(NEEDS[action])

    def may_anywhere(self, action: Action) -> bool:
        """Whether ``action`` is allowed on anything at all: by the role, or by some grant."""
        return self.may(action) or any(
            _rank(grant.role) >= _rank(NEEDS[action]) for grant in self.grants
        )


class Users:
    def __init__(self, db: MetadataDB, *, clock: Callable[[], datetime] = _now) -> None:
        self._db = db
        self._clock = clock

    # -- users ------------------------------------------------------------------------------
    def any(self) -> bool:
        """Whether any user exists (a server then asks every request who it is)."""
        import sqlalchemy as sa

        from strata.meta.schema import users

        with self._db.transaction("cannot read users", write=False) as c:
            return c.execute(sa.select(users.c.id).limit(1)).first() is not None

    def add(self, name: str, role: str, *, by: str) -> User:
        from strata.meta.schema import users

        if not _NAME.fullmatch(name):
            raise UserInputError(
                f"bad user name {name!r}", hint="use letters, digits, '.', '_', '@' and '-'"
            )
        user = User(name, check_role(role), self._clock(), by)
        with self._db.transaction(f"cannot add user {name}", write=True) as c:
            if self._user_id(c, name) is not None:
                raise UserInputError(
                    f"user {name} exists already", hint="change a role with `strata user role`"
                )
            c.execute(users.insert(), {**user.to_dict(), "created_at": user.created_at})
        return user

    def set_role(self, name: str, role: str) -> User:
        from strata.meta.schema import users

        checked = check_role(role)
        with self._db.transaction(f"cannot change the role of {name}", write=True) as c:
            uid = self._require(c, name)
            c.execute(users.update().where(users.c.id == uid).values(role=checked))
        return self.get(name)

    def get(self, name: str) -> User:
        import sqlalchemy as sa

        from strata.meta.schema import users

        with self._db.transaction("cannot read users", write=False) as c:
            row = c.execute(sa.select(users).where(users.c.name == name)).first()
        if row is None:
            raise UserInputError(f"there is no user {name}", hint="see `strata user list`")
        return User(row.name, check_role(row.role), row.created_at, row.created_by)

    def all(self) -> list[User]:
        import sqlalchemy as sa

        from strata.meta.schema import users

        with self._db.transaction("cannot read users", write=False) as c:
            rows = c.execute(sa.select(users).order_by(users.c.name)).all()
        return [User(r.name, check_role(r.role), r.created_at, r.created_by) for r in rows]

    # -- tokens -----------------------------------------------------------------------------
    def create_token(self, name: str, *, expires: timedelta | None = None) -> tuple[Token, str]:
        """A new token for ``name``: its record, and the secret, which is shown only now."""
        from strata.meta.schema import user_tokens

        token_id = secrets.token_hex(6)
        secret = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
        now = self._clock()
        token = Token(token_id, name, now, None if expires is None else now + expires, None)
        with self._db.transaction(f"cannot create a token for {name}", write=True) as c:
            uid = self._require(c, name)
            c.execute(
                user_tokens.insert(),
                {
                    "id": token_id,
                    "user_id": uid,
                    "secret_hash": _hash(secret),
                    "created_at": now,
                    "expires_at": token.expires_at,
                },
            )
        return token, secret

    def revoke(self, name: str, token_id: str | None = None) -> int:
        """Revoke every live token of ``name`` (or the one with ``token_id``); how many."""
        from strata.meta.schema import user_tokens

        with self._db.transaction(f"cannot revoke tokens of {name}", write=True) as c:
            uid = self._require(c, name)
            query = user_tokens.update().where(
                user_tokens.c.user_id == uid, user_tokens.c.revoked_at.is_(None)
            )
            if token_id is not None:
                query = query.where(user_tokens.c.id == token_id)
            done = c.execute(query.values(revoked_at=self._clock())).rowcount
        if token_id is not None and not done:
            raise UserInputError(
                f"user {name} has no live token {token_id}", hint="see `strata token list`"
            )
        return int(done)

    def tokens(self, name: str | None = None) -> list[Token]:
        import sqlalchemy as sa

        from strata.meta.schema import user_tokens, users

        query = (
            sa.select(user_tokens, users.c.name)
            .join(users, users.c.id == user_tokens.c.user_id)
            .order_by(user_tokens.c.created_at)
        )
        if name is not None:
            query = query.where(users.c.name == name)
        with self._db.transaction("cannot read tokens", write=False) as c:
            rows = c.execute(query).all()
        return [Token(r.id, r.name, r.created_at, r.expires_at, r.revoked_at) for r in rows]

    def authenticate(self, secret: str) -> Principal | None:
        """The user a token secret belongs to; None when unknown, wrong, expired or revoked."""
        import sqlalchemy as sa

        from strata.meta.schema import user_tokens, users

        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        query = (
            sa.select(user_tokens, users.c.name, users.c.role)
            .join(users, users.c.id == user_tokens.c.user_id)
            .where(user_tokens.c.id == parts[1])
        )
        with self._db.transaction("cannot check a token", write=False) as c:
            row = c.execute(query).first()
            if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            if row.revoked_at is not None:
                return None
            if row.expires_at is not None and row.expires_at <= self._clock():
                return None
            grants = self._grants(c, row.user_id, row.name)
        return Principal(row.name, check_role(row.role), grants)

    # -- grants -----------------------------------------------------------------------------
    def grant(self, name: str, target: str, role: str, *, by: str) -> Grant:
        """Raise ``name``'s role on one thing (``model:NAME``, ``table:NAME``)."""
        from strata.meta.schema import user_grants

        if not _TARGET.fullmatch(target):
            raise UserInputError(
                f"bad grant target {target!r}",
                hint="name one thing without a version, e.g. model:delay-classifier",
            )
        grant = Grant(name, target, check_role(role))
        with self._db.transaction(f"cannot grant {target} to {name}", write=True) as c:
            uid = self._require(c, name)
            c.execute(
                user_grants.delete().where(
                    user_grants.c.user_id == uid, user_grants.c.target == target
                )
            )
            c.execute(
                user_grants.insert(),
                {
                    "user_id": uid,
                    "target": target,
                    "role": grant.role,
                    "granted_at": self._clock(),
                    "granted_by": by,
                },
            )
        return grant

    def grants(self, name: str) -> list[Grant]:
        with self._db.transaction("cannot read grants", write=False) as c:
            return list(self._grants(c, self._require(c, name), name))

    def _grants(self, c: sa.Connection, uid: int, name: str) -> tuple[Grant, ...]:
        import sqlalchemy as sa

        from strata.meta.schema import user_grants

        query = sa.select(user_grants).where(user_grants.c.user_id == uid)
        rows = c.execute(query.order_by(user_grants.c.target)).all()
        return tuple(Grant(name, r.target, check_role(r.role)) for r in rows)

    # -- lookups ----------------------------------------------------------------------------
    @staticmethod
    def _user_id(c: sa.Connection, name: str) -> int | None:
        import sqlalchemy as sa

        from strata.meta.schema import users

        found = c.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
        return None if found is None else int(found)

    def _require(self, c: sa.Connection, name: str) -> int:
        uid = self._user_id(c, name)
        if uid is None:
            raise UserInputError(f"there is no user {name}", hint="see `strata user list`")
        return uid
