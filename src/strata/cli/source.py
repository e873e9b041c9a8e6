"""Where a command's answers come from: the workspace here, or a Strata server.

With ``STRATA_SERVER=http://host:port`` (or ``strata --server URL``) and ``STRATA_TOKEN`` (or
``--token``), the commands marked ``@through_server`` ask the server over HTTP; every other
command refuses with one line rather than act on a workspace here, except those marked
``@local_only`` (``init``, ``demo``, ``server``), which never touch a shared database.

    @through_server
    def show(ref: str, json_out: JsonOpt = False) -> None:
        with registry() as models:        # ws.models, or the same calls over HTTP
            version = models.show(ref)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from strata.cli.remote_api import RemoteApi
    from strata.lineage.analysis import Impact
    from strata.lineage.graph import Graph
    from strata.models.records import Event, ModelSummary, ModelVersion, Resolved, Transition

F = TypeVar("F", bound=Callable[..., Any])
SERVER_VARIABLE = "STRATA_SERVER"
TOKEN_VARIABLE = "STRATA_TOKEN"
_MODE = "__strata_source__"
_target: dict[str, str | None] = {"url": None, "token": None}


class RegistryLike(Protocol):
    """What the model commands ask of ``ws.models``; a server answers the same."""

    def show(self, ref: str) -> ModelVersion: ...
    def resolve(self, ref: str, *, at: datetime | None = None) -> Resolved: ...
    def list_models(self) -> list[ModelSummary]: ...
    def versions(
        self,
        name: str,
        *,
        stage: str | None = None,
        tags: Mapping[str, str] | None = None,
        semver_range: str | None = None,
        sort: str = "number",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ModelVersion]: ...
    def history(self, name: str) -> list[Event]: ...
    def audit(
        self, *, model: str | None = None, since: datetime | None = None, limit: int | None = None
    ) -> list[Event]: ...
    def promote(
        self,
        ref: str,
        stage: str,
        *,
        reason: str | None = None,
        keep_existing: bool = False,
        force: bool = False,
    ) -> Transition: ...
    def set_alias(
        self,
        ref: str,
        alias: str,
        *,
        protected: bool = False,
        force: bool = False,
        reason: str | None = None,
    ) -> Transition: ...
    def remove_alias(
        self, name: str, alias: str, *, force: bool = False, reason: str | None = None
    ) -> Transition: ...
    def rollback(
        self, name: str, *, to: str | None = None, reason: str | None = None
    ) -> Transition: ...


class LineageLike(Protocol):
    """What the lineage commands ask of ``ws.lineage``; a server answers the same."""

    def graph(
        self,
        ref: str,
        *,
        direction: Literal["upstream", "downstream", "both"] = "both",
        depth: int = 1000,
    ) -> Graph: ...
    def provenance(self, ref: str) -> dict[str, Any]: ...
    def impact(
        self, ref: str, *, suggest: bool = False, archive_reason: str | None = None
    ) -> Impact: ...
    def compare(self, a: str, b: str) -> dict[str, Any]: ...


def configure(url: str | None, token: str | None) -> None:
    """The server this invocation talks to (None or empty: the workspace here)."""
    _target["url"] = url or None
    _target["token"] = token or None


def server() -> RemoteApi | None:
    """The configured server's API, or None for the workspace here."""
    if _target["url"] is None:
        return None
    from strata.cli.remote_api import RemoteApi

    return RemoteApi(_target["url"], _target["token"])


def through_server(func: F) -> F:
    """Mark a command that works through a server when one is configured."""
    setattr(func, _MODE, "server")
    return func


def local_only(func: F) -> F:
    """Mark a command that always acts here and never on a shared database."""
    setattr(func, _MODE, "local")
    return func


def check_command(func: Callable[..., Any], command: str) -> None:
    """Refuse, with one line, a command a server does not offer when one is configured."""
    if getattr(func, _MODE, None) is None:
        require_local(f"`{command}`")


def require_local(what: str) -> None:
    """Refuse ``what`` (a command, or a form of one) when a server is configured."""
    url = _target["url"]
    if url is not None:
        from strata.cli.remote_api import not_offered

        raise not_offered(what, url)


@contextmanager
def registry() -> Iterator[RegistryLike]:
    """The model registry: the workspace's, or the configured server's."""
    api = server()
    if api is not None:
        from strata.cli.remote_registry import RemoteRegistry

        yield RemoteRegistry(api)
        return
    from strata.workspace import Workspace

    with Workspace() as ws:
        yield ws.models


@contextmanager
def lineage() -> Iterator[LineageLike]:
    """Lineage queries: the workspace's, or the configured server's."""
    api = server()
    if api is not None:
        from strata.cli.remote_registry import RemoteLineage

        yield RemoteLineage(api)
        return
    from strata.workspace import Workspace

    with Workspace() as ws:
        yield ws.lineage
