"""The cache of token → principal: hits ask nothing, entries end after the TTL, failures are
never kept, and the number of entries stays bounded."""

from __future__ import annotations

from pathlib import Path

from strata.meta import open_database
from strata.meta.users import Principal, Users
from strata.server.token_cache import TokenCache

ANA = Principal("ana", "maintainer")


class Lookups:
    """A stand-in for ``Users.authenticate`` that counts its calls: these tests are about the
    cache (the database lookup has its own tests in tests/meta/test_users.py)."""

    def __init__(self, known: dict[str, Principal]) -> None:
        self.known = known
        self.asked: list[str] = []

    def __call__(self, secret: str) -> Principal | None:
        self.asked.append(secret)
        return self.known.get(secret)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_known_token_is_asked_about_once_within_the_ttl() -> None:
    lookups, clock = Lookups({"s1": ANA}), Clock()
    tokens = TokenCache(lookups, ttl=5, clock=clock)
    assert tokens.cached("s1") is None
    assert tokens.authenticate("s1") == ANA
    clock.now += 4.9
    assert tokens.cached("s1") == ANA
    assert tokens.authenticate("s1") == ANA
    assert lookups.asked == ["s1"]


def test_after_the_ttl_the_database_decides_again() -> None:
    """A token revoked meanwhile (the lookup now says None) stops working once the TTL ends."""
    lookups, clock = Lookups({"s1": ANA}), Clock()
    tokens = TokenCache(lookups, ttl=5, clock=clock)
    tokens.authenticate("s1")
    del lookups.known["s1"]  # revoked
    clock.now += 5
    assert tokens.cached("s1") is None
    assert tokens.authenticate("s1") is None
    assert lookups.asked == ["s1", "s1"]


def test_a_refused_token_is_not_kept() -> None:
    lookups, clock = Lookups({}), Clock()
    tokens = TokenCache(lookups, ttl=5, clock=clock)
    assert tokens.authenticate("wrong") is None
    lookups.known["wrong"] = ANA  # e.g. created a moment later: works at once
    assert tokens.authenticate("wrong") == ANA
    assert lookups.asked == ["wrong", "wrong"]


def test_the_cache_is_bounded_stale_entries_first_then_the_oldest() -> None:
    known = {f"s{n}": Principal(f"u{n}", "viewer") for n in range(5)}
    lookups, clock = Lookups(known), Clock()
    tokens = TokenCache(lookups, ttl=5, max_entries=3, clock=clock)
    tokens.authenticate("s0")
    clock.now += 3
    tokens.authenticate("s1")
    tokens.authenticate("s2")
    clock.now += 2.5  # s0 is stale now, s1 and s2 are not
    tokens.authenticate("s3")
    assert len(tokens) == 3 and tokens.cached("s1") is not None
    tokens.authenticate("s4")  # none stale: the oldest (s1) goes
    assert len(tokens) == 3
    assert tokens.cached("s1") is None
    assert [tokens.cached(s) for s in ("s2", "s3", "s4")] == [known["s2"], known["s3"], known["s4"]]


def test_secrets_are_kept_only_as_hashes() -> None:
    tokens = TokenCache(Lookups({"strata_x_secret": ANA}))
    tokens.authenticate("strata_x_secret")
    assert "strata_x_secret" not in repr(vars(tokens))


def test_a_token_revoked_in_the_database_is_refused_once_the_ttl_ends(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'strata.db'}") as db:
        users, clock = Users(db), Clock()
        users.add("ana", "maintainer", by="tests")
        token, secret = users.create_token("ana")
        tokens = TokenCache(users.authenticate, ttl=5, clock=clock)
        assert tokens.authenticate(secret) == Principal("ana", "maintainer")
        users.revoke("ana", token.id)
        clock.now += 4  # still remembered: the documented delay
        assert tokens.authenticate(secret) == Principal("ana", "maintainer")
        clock.now += 1
        assert tokens.authenticate(secret) is None
