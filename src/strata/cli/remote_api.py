"""The REST API of a Strata server, as the command line calls it: one method per call.

    api = RemoteApi("http://strata.internal:8765", token)
    api.stage("clf", "3", {"stage": "production", "reason": "AUC +0.02"})

Answers are the server's JSON, the shapes ``--json`` prints. An error answer
``{"error": {"code", "message", "type"}}`` is raised as the Strata error it names, else by
HTTP status (401 → AuthenticationError, 403 → PermissionDeniedError, 404 → not found, 409 →
conflict), so the exit codes are those of the same command run on a workspace. A server that
cannot be reached, or fails, is a ServerUnavailableError naming its URL. Standard library only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from strata import __version__, errors
from strata.errors import (
    AuthenticationError,
    ConfigError,
    ModelNotFoundError,
    PermissionDeniedError,
    RegistryError,
    ServerUnavailableError,
    StrataError,
    UserInputError,
)

PREFIX = "/api/v1"
TIMEOUT = 60.0  # seconds for one request
BY_STATUS: dict[int, type[StrataError]] = {
    400: UserInputError,
    404: ModelNotFoundError,
    409: RegistryError,
    413: UserInputError,
}
Query = Mapping[str, str | int | bool | None]


def not_offered(what: str, url: str) -> ConfigError:
    """The one-line refusal of something a Strata server does not offer (yet)."""
    return ConfigError(
        f"{what} does not work through a Strata server yet (STRATA_SERVER={url})",
        hint="unset STRATA_SERVER (and drop --server) to run it on a workspace here",
    )


def check_url(url: str) -> str:
    """The server's base URL, without a trailing slash; only http and https."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UserInputError(
            f"bad server URL {url!r}",
            hint="write it as http://HOST:PORT, e.g. http://127.0.0.1:8765",
        )
    return url.strip().rstrip("/")


def _segment(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _ref(text: str) -> str:
    return urllib.parse.quote(text, safe=":@/")


class RemoteApi:
    """Calls to one server, as the holder of ``token`` (None: no Authorization header)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = TIMEOUT) -> None:
        self.url = check_url(url)
        self.token = token or None
        self.timeout = timeout

    # -- models ------------------------------------------------------------------------------
    def models(self) -> Any:
        return self.call("GET", "/models")

    def versions(self, name: str, query: Query) -> Any:
        return self.call("GET", f"/models/{_segment(name)}/versions", query)

    def version(self, name: str, selector: str) -> Any:
        return self.call("GET", f"/models/{_segment(name)}/versions/{_segment(selector)}")

    def history(self, name: str) -> Any:
        return self.call("GET", f"/models/{_segment(name)}/history")

    def stage(self, name: str, selector: str, body: dict[str, Any]) -> Any:
        path = f"/models/{_segment(name)}/versions/{_segment(selector)}/stage"
        return self.call("POST", path, body=body)

    def set_alias(self, name: str, alias: str, body: dict[str, Any]) -> Any:
        return self.call("PUT", f"/models/{_segment(name)}/aliases/{_segment(alias)}", body=body)

    def remove_alias(self, name: str, alias: str, query: Query) -> Any:
        path = f"/models/{_segment(name)}/aliases/{_segment(alias)}"
        return self.call("DELETE", path, query)

    def rollback(self, name: str, body: dict[str, Any]) -> Any:
        return self.call("POST", f"/models/{_segment(name)}/rollback", body=body)

    def audit(self, query: Query) -> Any:
        return self.call("GET", "/audit", query)

    # -- refs and lineage --------------------------------------------------------------------
    def resolve(self, ref: str) -> Any:
        return self.call("GET", f"/refs/{_ref(ref)}")

    def lineage(self, ref: str, query: Query) -> Any:
        return self.call("GET", f"/lineage/{_ref(ref)}", query)

    def provenance(self, ref: str) -> Any:
        return self.call("GET", f"/provenance/{_ref(ref)}")

    def impact(self, ref: str, query: Query) -> Any:
        return self.call("GET", f"/impact/{_ref(ref)}", query)

    def compare(self, a: str, b: str) -> Any:
        return self.call("GET", "/compare", {"a": a, "b": b})

    # -- guard, rollback, releases, incidents ------------------------------------------------
    def guard_events(self, query: Query) -> Any:
        return self.call("GET", "/guard/events", query)

    def guard_check(self, body: dict[str, Any]) -> Any:
        return self.call("POST", "/guard/check", body=body)

    def readiness(self, ref: str, query: Query) -> Any:
        return self.call("GET", f"/rollback/{_ref(ref)}/readiness", query)

    def roll_back(self, ref: str, body: dict[str, Any]) -> Any:
        return self.call("POST", f"/rollback/{_ref(ref)}", body=body)

    def releases(self) -> Any:
        return self.call("GET", "/releases")

    def release(self, name: str) -> Any:
        return self.call("GET", f"/releases/{_segment(name)}")

    def release_diff(self, a: str, b: str) -> Any:
        return self.call("GET", f"/releases/{_segment(a)}/diff/{_segment(b)}")

    def release_rollback(self, name: str, body: dict[str, Any]) -> Any:
        return self.call("POST", f"/releases/{_segment(name)}/rollback", body=body)

    def incidents(self, query: Query) -> Any:
        return self.call("GET", "/incidents", query)

    # -- the transport -----------------------------------------------------------------------
    def call(self, method: str, path: str, query: Query | None = None, body: object = None) -> Any:
        """One request; the decoded JSON answer, or the Strata error an error answer names."""
        url = self.url + PREFIX + path
        wanted = {k: _text(v) for k, v in (query or {}).items() if v is not None}
        if wanted:
            url += "?" + urllib.parse.urlencode(wanted)
        headers = {"Accept": "application/json", "User-Agent": f"strata/{__version__}"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                raise self._error(exc.code, exc.read(), method, path) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnavailableError(
                f"cannot reach the Strata server at {self.url}: {reason}"
            ) from None
        except ValueError:
            raise ServerUnavailableError(
                f"the Strata server at {self.url} answered {method} {path} with no JSON"
            ) from None

    def _error(self, status: int, raw: bytes, method: str, path: str) -> StrataError:
        try:
            error = json.loads(raw)["error"]
            message, kind = str(error["message"]), error.get("type")
        except (ValueError, KeyError, TypeError):
            return ServerUnavailableError(
                f"the Strata server at {self.url} answered {method} {path} with "
                f"HTTP {status} and no Strata error",
                hint="check that STRATA_SERVER names a Strata server",
            )
        found = getattr(errors, kind, None) if isinstance(kind, str) else None
        if isinstance(found, type) and issubclass(found, StrataError):
            return found(message, hint="")  # the server's message carries the hint already
        if status >= 500:
            return ServerUnavailableError(f"the Strata server at {self.url} failed: {message}")
        if status == 401:
            return AuthenticationError(f"{message} (server {self.url})")
        if status == 403:
            return PermissionDeniedError(message)
        return BY_STATUS.get(status, StrataError)(message, hint="")


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
