"""Who a token belongs to, remembered for a few seconds so a request need not ask the database.

Checking a token is a database transaction (the token, then the user's grants); a client that
sends the same token on every request would pay it each time. ``TokenCache`` keeps the answer
for ``ttl`` seconds per process: a token revoked or expired, or a role or grant changed, takes
effect within that time on every worker. Only successes are kept (a new token works at once,
a wrong one is asked about every time), under the secret's SHA-256, never the secret itself.

    tokens = TokenCache(ws.users.authenticate)
    tokens.cached(secret)          # the principal, or None: no I/O, fit for the event loop
    tokens.authenticate(secret)    # the cached principal, else asks the database
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from strata.meta.users import Principal

TTL_SECONDS = 5.0  # how long a revoked token can go on working, in each server process
MAX_ENTRIES = 1024  # distinct tokens kept at once; the oldest go first past it


class TokenCache:
    def __init__(
        self,
        lookup: Callable[[str], Principal | None],
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}  # key → (until, principal)
        self._lock = threading.Lock()

    def cached(self, secret: str) -> Principal | None:
        """The principal remembered for ``secret`` and still fresh; None otherwise."""
        found = self._entries.get(_key(secret))
        if found is None or found[0] <= self._clock():
            return None
        return found[1]

    def authenticate(self, secret: str) -> Principal | None:
        """The principal of ``secret``: remembered, or looked up (and then remembered)."""
        principal = self.cached(secret)
        if principal is not None:
            return principal
        principal = self._lookup(secret)
        if principal is not None:
            self._remember(_key(secret), principal)
        return principal

    def __len__(self) -> int:
        return len(self._entries)

    def _remember(self, key: str, principal: Principal) -> None:
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)  # re-inserted last: the newest
            if len(self._entries) >= self._max:
                self._drop_stale(now)
            while len(self._entries) >= self._max:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + self._ttl, principal)

    def _drop_stale(self, now: float) -> None:
        for key in [k for k, (until, _) in self._entries.items() if until <= now]:
            del self._entries[key]


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
