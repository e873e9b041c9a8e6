"""Run ids: 128 bits, the first 48 the time in milliseconds, so ids sort by start time.

Written in Crockford base32 (26 characters, like a ULID) in refs, ``run:01JD5Z3W7Q...``, and as
a UUID in OpenLineage events; the two forms convert both ways.
"""

from __future__ import annotations

import os
import time
import uuid

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LENGTH = 26


def new_run_id(now_ms: int | None = None) -> str:
    """A new sortable id: milliseconds since the epoch, then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return _encode(value)


def _encode(value: int) -> str:
    chars = []
    for _ in range(_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _decode(text: str) -> int | None:
    value = 0
    for char in text.upper():
        digit = _ALPHABET.find(char)
        if digit < 0:
            return None
        value = value * 32 + digit
    return value


def run_id_to_uuid(run_id: str) -> str:
    """The UUID form of a run id (OpenLineage wants UUIDs). Ids that are not in the base32
    form (ingested from elsewhere) map to a stable name-based UUID."""
    value = _decode(run_id) if len(run_id) == _LENGTH else None
    if value is None or value >= 1 << 128:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"strata:run:{run_id}"))
    return str(uuid.UUID(int=value))


def uuid_to_run_id(text: str) -> str:
    """The run id for an OpenLineage run UUID; ValueError when ``text`` is not a UUID."""
    return _encode(uuid.UUID(text).int)
