"""``ws.remotes``: naming and configuring remotes, moving objects to and from them (push,
fetch, pull, status, verify, ``gc --cloud``), and data imported from other repositories.

    ws.remotes.add("storage", "s3://bucket/strata", default=True)
    ws.remotes.push()
    ws.remotes.pull(["data/raw"])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from strata.config import Config, remove_section, set_value, unset_value
from strata.errors import UserInputError
from strata.files.discover import Tracked
from strata.files.pointer import POINTER_SUFFIX, Kind, Pointer
from strata.files.service import Progress, StrPath, no_progress
from strata.files.verify import VerifyResult

if TYPE_CHECKING:
    from strata.files.checkout import CheckoutResult
    from strata.files.gc_cloud import CloudGcResult
    from strata.files.imports import ImportResult
    from strata.files.service import Files
    from strata.files.transfer import RemoteState
    from strata.objects.remote import Remote
    from strata.objects.remote_listing import TransferResult

_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class Registered(Protocol):
    """An object set outside any pointer that travels with push and fetch (a registered
    model's artifact, a reference profile)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Kind: ...
    @property
    def hash(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def files(self) -> int: ...


class Remotes:
    def __init__(
        self,
        files: Files,
        config: Callable[[], Config],
        reload_config: Callable[[], None],
        *,
        registered: Callable[[], Sequence[Registered]],
        also_keep: Callable[[], list[str]],
    ) -> None:
        self._files = files
        self._root = files.root
        self._config = config  # the workspace's config as it is now
        self._reload = reload_config  # after a change to the config files
        self._registered = registered  # model artifacts and profiles, as pointers
        self._also_keep = also_keep  # objects gc keeps besides what pointers need

    # -- configuring ------------------------------------------------------------------------
    def add(self, name: str, url: str, *, default: bool = False) -> list[str]:
        """Record a remote; a URL with a password goes to the local config file (the keys
        moved there are returned)."""
        if not _REMOTE_NAME.fullmatch(name):
            raise UserInputError(
                f"bad remote name {name!r}", hint="use letters, digits, '-' and '_'"
            )
        if name in self.configured():
            raise UserInputError(
                f"remote {name!r} exists already", hint="use `strata remote modify` to change it"
            )
        moved = set_value(self._root, f"remote.{name}.url", url)
        if default:
            moved += set_value(self._root, "core.remote", name)
        self._reload()
        return sorted(set(moved))

    def configured(self) -> dict[str, dict[str, str]]:
        """Every remote: name → its settings (url, endpoint_url, …)."""
        found: dict[str, dict[str, str]] = {}
        for key, value in self._config().values.items():
            if key.startswith("remote.") and key.count(".") >= 2:
                _, name, option = key.split(".", 2)
                found.setdefault(name, {})[option] = value
        return dict(sorted(found.items()))

    def remove(self, name: str) -> None:
        self._settings(name)
        for scope in ("project", "local"):
            remove_section(self._root, f"remote.{name}", scope=scope)
        if self._config().get("core.remote") == name:
            unset_value(self._root, "core.remote")
        self._reload()

    def modify(self, name: str, key: str, value: str, *, local: bool = False) -> list[str]:
        """Change one setting; credentials go to the local config file whatever ``local``
        says (the keys moved there are returned)."""
        self._settings(name)
        moved = set_value(
            self._root, f"remote.{name}.{key}", value, scope="local" if local else "project"
        )
        self._reload()
        return moved

    def _settings(self, name: str) -> dict[str, str]:
        found = self.configured()
        if name not in found:
            known = ", ".join(found) or "none yet"
            raise UserInputError(
                f"no remote named {name!r} (known: {known})",
                hint="add one with `strata remote add NAME URL`",
            )
        return found[name]

    def open(self, name: str | None = None) -> Remote:
        """The named remote, or the default one (``core.remote``, or the only one)."""
        from strata.objects.remote import Remote

        chosen = name or self._config().get("core.remote")
        if not chosen:
            names = list(self.configured())
            if len(names) != 1:
                raise UserInputError(
                    "no default remote",
                    hint="name one with -r, or `strata remote add NAME URL --default`",
                )
            chosen = names[0]
        settings = self._settings(chosen)
        if "url" not in settings:
            raise UserInputError(f"remote {chosen!r} has no url", hint="set remote.NAME.url")
        options = {k: v for k, v in settings.items() if k != "url"}
        url = settings["url"]
        if "://" not in url and not Path(url).is_absolute():
            url = str(self._root / url)  # a relative folder is relative to the workspace
        indexes = self._files.context.store.root / "pack-indexes"
        return Remote(chosen, url, options, index_cache=indexes)

    def default(self) -> Remote | None:
        """The default remote, or None when ``core.remote`` names none."""
        return self.open() if self._config().get("core.remote") else None

    # -- moving objects ---------------------------------------------------------------------
    def _tracked(self, paths: Sequence[StrPath], rev: str | None) -> list[Tracked]:
        """The pointers to move; registered models and profiles travel with a whole-workspace
        push, fetch or pull (no paths named)."""
        if paths:
            return self._files.tracked(paths, rev)
        registered = [
            Tracked(f"{a.name}{POINTER_SUFFIX}", Pointer(a.name, a.kind, a.hash, a.size, a.files))
            for a in self._registered()
        ]
        return self._files.tracked(paths, rev) + registered

    def push(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        rev: str | None = None,
        jobs: int = 4,
        progress: Progress = no_progress,
    ) -> TransferResult:
        """Upload the objects the pointers need that the remote lacks."""
        from strata.files.transfer import push

        tracked = self._tracked(paths, rev)
        target = self.open(remote)
        return push(self._files.context, target, tracked, jobs=jobs, progress=progress)

    def fetch(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        rev: str | None = None,
        jobs: int = 4,
        progress: Progress = no_progress,
    ) -> TransferResult:
        """Download into the cache the objects the pointers need, verified as they arrive."""
        from strata.files.transfer import fetch

        tracked = self._tracked(paths, rev)
        source = self.open(remote)
        return fetch(self._files.context, source, tracked, jobs=jobs, progress=progress)

    def pull(
        self,
        paths: Sequence[StrPath] = (),
        *,
        remote: str | None = None,
        jobs: int = 4,
        force: bool = False,
        progress: Progress = no_progress,
    ) -> tuple[TransferResult, list[CheckoutResult]]:
        """Fetch, then check out; nothing is checked out when an object could not be
        fetched."""
        result = self.fetch(paths, remote=remote, jobs=jobs, progress=progress)
        if result.failed:
            return result, []
        return result, self._files.checkout(paths, force=force, progress=progress)

    def status(
        self, paths: Sequence[StrPath] = (), *, remote: str | None = None
    ) -> list[RemoteState]:
        """Per tracked path: objects not yet pushed, and objects a pull would bring."""
        from strata.files.transfer import remote_status

        tracked = self._tracked(paths, None)
        return remote_status(self._files.context, self.open(remote), tracked)

    def verify(
        self, *, remote: str | None = None, jobs: int = 4, progress: Progress = no_progress
    ) -> VerifyResult:
        """Re-hash every object on the remote; each bad one is named by the path using it."""
        from strata.files.transfer import verify_remote
        from strata.files.verify import NOT_NEEDED, Problem, owners

        source = self.open(remote)
        checked, failed = verify_remote(source, jobs=jobs, progress=progress)
        needed = owners(self._files.context)
        problems = (Problem(f.name, needed.get(f.name, NOT_NEEDED), f.kind) for f in failed)
        return VerifyResult(checked, tuple(problems))

    def gc(
        self,
        *,
        remote: str | None = None,
        dry_run: bool = False,
        force: bool = False,
        jobs: int = 4,
        progress: Progress = no_progress,
    ) -> CloudGcResult:
        """Remove remote objects that no pointer on any branch or tag needs (nor what ``gc``
        keeps besides); refuses a remote other repositories push to unless forced."""
        from strata.files.gc_cloud import collect_remote

        return collect_remote(
            self._files.context,
            self.open(remote),
            dry_run=dry_run,
            force=force,
            also_keep=self._also_keep(),
            jobs=jobs,
            progress=progress,
        )

    # -- other repositories -----------------------------------------------------------------
    def import_path(
        self,
        url: str,
        path: str,
        *,
        out: StrPath | None = None,
        rev: str | None = None,
        progress: Progress = no_progress,
    ) -> ImportResult:
        """Bring a tracked path from another Strata repository, recording where it came
        from."""
        from strata.files.imports import check_path, import_path

        relout = self._files.relpath(out if out is not None else Path(check_path(path)).name)
        result = import_path(self._files.context, url, path, relout, rev=rev, progress=progress)
        self._files.record(relout)
        return result

    def update(
        self,
        paths: Sequence[StrPath] = (),
        *,
        rev: str | None = None,
        force: bool = False,
        progress: Progress = no_progress,
    ) -> list[ImportResult]:
        """Bring newer versions of imported paths (all, or the ones named)."""
        from strata.files.imports import update

        relpaths = self._files.relpaths(paths)
        results = update(self._files.context, relpaths, rev=rev, force=force, progress=progress)
        for r in results:
            if r.changed:
                self._files.record(r.path)
        return results
