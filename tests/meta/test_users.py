"""Users, roles, tokens (stored as hashes) and grants, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from strata.errors import UserInputError
from strata.meta import MetadataDB, open_database
from strata.meta.users import Principal, Users


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(db_url: str) -> Iterator[MetadataDB]:
    with open_database(db_url) as database:
        yield database


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def users(db: MetadataDB, clock: Clock) -> Users:
    return Users(db, clock=clock)


def test_a_token_authenticates_its_user_until_it_expires(users: Users, clock: Clock) -> None:
    assert not users.any()
    users.add("ana", "maintainer", by="admin")
    assert users.any()
    token, secret = users.create_token("ana", expires=timedelta(days=1))
    principal = users.authenticate(secret)
    assert principal is not None and (principal.name, principal.role) == ("ana", "maintainer")
    clock.now += timedelta(days=1)
    assert users.authenticate(secret) is None
    assert token.id in secret


def test_a_revoked_or_wrong_token_authenticates_no_one(users: Users) -> None:
    users.add("ana", "editor", by="admin")
    _, first = users.create_token("ana")
    second_token, second = users.create_token("ana")
    assert users.revoke("ana", first.split("_")[1]) == 1
    assert users.authenticate(first) is None
    assert users.authenticate(second) is not None
    assert users.authenticate(second[:-1] + ("A" if second[-1] != "A" else "B")) is None
    assert users.authenticate("not-a-token") is None
    assert users.revoke("ana") == 1
    assert users.authenticate(second) is None
    assert [t.revoked_at is not None for t in users.tokens("ana")] == [True, True]
    assert second_token.id in {t.id for t in users.tokens()}


def test_secrets_are_stored_only_as_hashes(users: Users, db: MetadataDB) -> None:
    import sqlalchemy as sa

    from strata.meta.schema import user_tokens

    users.add("ana", "viewer", by="admin")
    _, secret = users.create_token("ana")
    with db.transaction("read", write=False) as c:
        stored = c.execute(sa.select(user_tokens)).one()
    assert secret not in {str(v) for v in stored}
    assert secret.split("_", 2)[2] not in stored.secret_hash


def test_a_grant_raises_the_role_on_one_thing_only(users: Users) -> None:
    users.add("bo", "viewer", by="admin")
    users.grant("bo", "model:delay-classifier", "maintainer", by="admin")
    _, secret = users.create_token("bo")
    bo = users.authenticate(secret)
    assert bo is not None
    assert bo.may("promote", "model:delay-classifier@3")
    assert not bo.may("promote", "model:other")
    assert not bo.may("write", "table:deliveries")
    assert bo.may("read", "table:deliveries")


def test_roles_are_ordered() -> None:
    editor = Principal("e", "editor")
    assert editor.may("write") and not editor.may("promote") and not editor.may("admin")
    admin = Principal("a", "admin")
    assert all(admin.may(action) for action in ("read", "write", "promote", "admin"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda u: u.add("bad name", "viewer", by="x"), "bad user name"),
        (lambda u: u.add("ana", "owner", by="x"), "bad role"),
        (lambda u: u.add("ana", "viewer", by="x"), "exists already"),
        (lambda u: u.create_token("nobody"), "there is no user nobody"),
        (lambda u: u.grant("ana", "model:x@3", "admin", by="x"), "bad grant target"),
        (lambda u: u.revoke("ana", "feedbeef"), "no live token"),
    ],
)
def test_bad_input_is_refused_by_name(users: Users, call: object, message: str) -> None:
    users.add("ana", "viewer", by="admin")
    with pytest.raises(UserInputError, match=message):
        call(users)  # type: ignore[operator]
