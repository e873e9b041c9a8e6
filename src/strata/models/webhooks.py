"""Webhooks: every registry event POSTed as JSON to the URLs in ``[registry.webhooks]``::

    [registry.webhooks]                  # one receiver …
    url = "https://ci.example.com/hooks/strata"
    secret = "…"                         # better in .strata/config.local.toml

    [registry.webhooks.slack]            # … or several, by name
    url = "https://hooks.example.com/…"

Each body is signed: ``X-Strata-Signature-256: sha256=<HMAC-SHA256 of the body with the
secret>``. Deliveries happen after the transaction committed, on one background thread, with
retries; they never block or fail a registry change. At exit, pending deliveries get a bounded
wait (``DRAIN_SECONDS``), then are dropped.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from strata.errors import ConfigError
from strata.models.records import Event

DRAIN_SECONDS = 10.0
SIGNATURE_HEADER = "X-Strata-Signature-256"
_PREFIX = "registry.webhooks."
_KEYS = ("url", "secret", "retries", "timeout")


@dataclass(frozen=True, slots=True)
class Hook:
    name: str
    url: str
    secret: str | None
    retries: int = 3
    timeout: float = 5.0


def hooks_from_config(values: Mapping[str, str]) -> tuple[Hook, ...]:
    settings: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        if not key.startswith(_PREFIX):
            continue
        name, _, option = key.removeprefix(_PREFIX).rpartition(".")
        if option not in _KEYS:
            raise ConfigError(f"unknown webhook setting {key}", hint=f"use {', '.join(_KEYS)}")
        settings.setdefault(name or "default", {})[option] = value
    hooks = []
    for name, options in sorted(settings.items()):
        if not options.get("url", "").startswith(("http://", "https://")):
            raise ConfigError(
                f"webhook {name!r} needs an http:// or https:// url",
                hint="set registry.webhooks.url (or registry.webhooks.NAME.url)",
            )
        try:
            retries = int(options.get("retries", "3"))
            timeout = float(options.get("timeout", "5"))
        except ValueError:
            raise ConfigError(f"webhook {name!r}: retries and timeout are numbers") from None
        hooks.append(Hook(name, options["url"], options.get("secret"), retries, timeout))
    return tuple(hooks)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _deliver(hook: Hook, body: bytes, action: str) -> bool:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "strata-webhooks",
        "X-Strata-Event": action,
        "X-Strata-Delivery": uuid.uuid4().hex,
    }
    if hook.secret:
        headers[SIGNATURE_HEADER] = sign(hook.secret, body)
    for attempt in range(hook.retries + 1):
        if attempt:
            time.sleep(min(0.2 * 2 ** (attempt - 1), 5.0))
        request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout) as response:
                if 200 <= response.status < 300:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                return False  # the receiver refused it; sending it again will not help
        except OSError:  # URLError and timeouts are OSErrors
            pass
    return False


class _Sender:
    """One daemon thread per process, draining a queue of deliveries."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Hook, bytes, str]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, hook: Hook, body: bytes, action: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="strata-webhooks", daemon=True
                )
                self._thread.start()
                atexit.register(self.drain, DRAIN_SECONDS)
        self._queue.put((hook, body, action))

    def _run(self) -> None:
        while True:
            hook, body, action = self._queue.get()
            try:
                _deliver(hook, body, action)
            except Exception:  # a delivery never takes the sender down with it
                pass
            finally:
                self._queue.task_done()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for pending deliveries; True when none is left."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True


SENDER = _Sender()


def notify(hooks: Sequence[Hook], events: Sequence[Event]) -> None:
    """Queue one POST per event and hook; returns at once."""
    for event in events:
        body = json.dumps({"event": event.to_dict()}, sort_keys=True).encode()
        for hook in hooks:
            SENDER.put(hook, body, event.action)
