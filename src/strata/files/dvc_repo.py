"""Reading a DVC repository's own files, never importing ``dvc``: these are documented
formats, read with the bounded YAML loader and configparser.

- ``PATH.dvc``: ``outs: [{path, md5, size, nfiles, hash, cache}]``, paths relative to the file.
- ``dvc.lock``: ``stages: {NAME: {outs: [{path, md5, ...}]}}``, paths relative to dvc.lock's
  folder; ``dvc.yaml`` says which outputs are not cached (``cache: false``).
- ``.dvc/cache``: ``files/md5/ab/cdef…`` (DVC 3) or ``ab/cdef…`` (DVC 2); a directory is a
  ``….dir`` object, a JSON list of ``{"md5", "relpath"}``.
- ``.dvc/config`` and ``.dvc/config.local``: INI with ``['remote "NAME"']`` sections.
"""

from __future__ import annotations

import configparser
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from strata.errors import UserInputError
from strata.paths import unsafe_reason

DVC_DIR = ".dvc"
DVC_SUFFIX = ".dvc"
_MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?")
_SKIP_DIRS = frozenset({".git", ".dvc", ".strata", ".venv", "venv", "node_modules"})
_REMOTE_SECTION = re.compile(r"""remote\s+"([^"]+)"$""")
_TEMPLATE = re.compile(r"\$\{[^}]*\}")

Reader = Callable[[str], bytes | None]
"""Reads a repository-relative file (now, or at a git revision); None when it is absent."""


class DvcFormatError(UserInputError):
    """A DVC file Strata cannot read; the message names the file."""


@dataclass(frozen=True, slots=True)
class DvcOut:
    """One cached output DVC tracks: its repository-relative path, its md5 (``….dir`` for a
    directory), and the file that names it (``data/raw.dvc`` or ``dvc.lock``)."""

    path: str
    md5: str
    size: int | None
    source: str

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "md5": self.md5, "size": self.size, "source": self.source}


def require_repo(root: Path) -> None:
    if not (root / DVC_DIR).is_dir():
        raise UserInputError(
            f"{root} is not a DVC repository (no {DVC_DIR}/ folder)",
            hint="run `strata migrate dvc` in the repository's root, or pass its path",
        )


def load_yaml(name: str, data: bytes) -> Any:
    """A DVC YAML file as data, bounded; DvcFormatError naming the file."""
    import yaml

    from strata.core import safe_yaml

    try:
        return safe_yaml.load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, safe_yaml.YamlTooLarge) as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DvcFormatError(f"cannot read {name}: {problem}") from None


def dvc_files_in_tree(root: Path) -> list[str]:
    """Every ``.dvc`` file of the working tree (repository-relative), sorted."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        rel = os.path.relpath(folder, root)
        for name in files:
            if name.endswith(DVC_SUFFIX) and name != DVC_SUFFIX:
                found.append(name if rel == "." else Path(rel, name).as_posix())
    return sorted(found)


def outs_of_dvc_file(relpath: str, data: bytes) -> list[DvcOut]:
    """The cached outputs a ``.dvc`` file names."""
    doc = load_yaml(relpath, data)
    entries = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise DvcFormatError(f"{relpath} has no `outs` list")
    folder = posixpath.dirname(relpath)
    return [o for o in (_out(e, folder, relpath) for e in entries) if o is not None]


def outs_of_lock(read: Reader, folder: str = "") -> list[DvcOut]:
    """The cached outputs of ``dvc.lock`` (in ``folder``); those ``dvc.yaml`` marks
    ``cache: false`` are left to git, as DVC leaves them."""
    lock_name = posixpath.join(folder, "dvc.lock")
    data = read(lock_name)
    if data is None:
        return []
    doc = load_yaml(lock_name, data)
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        raise DvcFormatError(f"{lock_name} has no `stages` mapping")
    uncached = _uncached_patterns(read, folder)
    found: list[DvcOut] = []
    for name, stage in stages.items():
        entries = stage.get("outs", []) if isinstance(stage, dict) else None
        if not isinstance(entries, list):
            raise DvcFormatError(f"{lock_name}: stage {name} has a malformed `outs`")
        for entry in entries:
            out = _out(entry, folder, f"{lock_name} (stage {name})")
            if out is not None and not any(p.fullmatch(out.path) for p in uncached):
                found.append(out)
    return found


def _out(entry: object, folder: str, source: str) -> DvcOut | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise DvcFormatError(f"{source} has an output without a path")
    path = posixpath.normpath(posixpath.join(folder, entry["path"]))
    reason = unsafe_reason(path)
    if reason is not None:
        raise DvcFormatError(f"{source} names an unsafe path {entry['path']!r}: {reason}")
    if entry.get("cache") is False:
        return None
    md5 = entry.get("md5")
    if not isinstance(md5, str) or not _MD5.fullmatch(md5):
        raise DvcFormatError(
            f"{source}: output {path} has no md5 hash",
            hint="only outputs DVC cached by md5 can be migrated",
        )
    size = entry.get("size")
    return DvcOut(path, md5, size if isinstance(size, int) else None, source)


def _uncached_patterns(read: Reader, folder: str) -> list[re.Pattern[str]]:
    """Paths ``dvc.yaml`` marks ``cache: false``; a ``${…}`` in one matches any text."""
    name = posixpath.join(folder, "dvc.yaml")
    data = read(name)
    doc = load_yaml(name, data) if data is not None else None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    found: list[re.Pattern[str]] = []
    for stage in (stages or {}).values():
        body = stage.get("do", stage) if isinstance(stage, dict) else {}
        wdir = str(body.get("wdir", ".")) if isinstance(body, dict) else "."
        for key in ("outs", "metrics", "plots"):
            entries = body.get(key) if isinstance(body, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    for path, options in entry.items():
                        if isinstance(options, dict) and options.get("cache") is False:
                            joined = posixpath.normpath(posixpath.join(folder, wdir, str(path)))
                            parts = _TEMPLATE.split(joined)
                            found.append(re.compile(".*".join(re.escape(p) for p in parts)))
    return found


def cache_candidates(base: Path, md5: str) -> Iterator[str]:
    """Where a DVC cache or folder remote at ``base`` may hold object ``md5`` (DVC 3's
    layout, then DVC 2's)."""
    yield f"{base}/files/md5/{md5[:2]}/{md5[2:]}"
    yield f"{base}/{md5[:2]}/{md5[2:]}"


def parse_dir_manifest(data: bytes, md5: str) -> list[tuple[str, str]]:
    """A ``.dir`` object's (relpath, md5) rows; DvcFormatError when it is malformed."""
    try:
        rows = json.loads(data)
        entries = [(str(r["relpath"]), str(r["md5"])) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise DvcFormatError(f"directory listing {md5} is malformed") from exc
    for relpath, file_md5 in entries:
        if unsafe_reason(relpath, any_name=True) or not _MD5.fullmatch(file_md5):
            raise DvcFormatError(f"directory listing {md5} names a bad entry {relpath!r}")
    return entries


def _config(root: Path) -> configparser.ConfigParser:
    """``.dvc/config`` with ``.dvc/config.local`` over it."""
    parser = configparser.ConfigParser(interpolation=None)
    files = [root / DVC_DIR / "config", root / DVC_DIR / "config.local"]
    try:
        parser.read([f for f in files if f.is_file()], encoding="utf-8")
    except configparser.Error as exc:
        raise DvcFormatError(f"cannot read {DVC_DIR}/config: {exc.message}") from None
    return parser


def cache_dir(root: Path) -> Path:
    """DVC's cache: ``.dvc/cache``, or ``[cache] dir`` (relative to ``.dvc/``)."""
    configured = _config(root).get("cache", "dir", fallback=None)
    return (
        (root / DVC_DIR / Path(configured).expanduser()) if configured else root / DVC_DIR / "cache"
    )


@dataclass(frozen=True, slots=True)
class DvcRemote:
    name: str
    url: str
    options: dict[str, str]


def read_config(root: Path) -> tuple[list[DvcRemote], str | None]:
    """The remotes of ``.dvc/config`` and ``.dvc/config.local`` (local settings win) and the
    default remote's name."""
    parser = _config(root)
    remotes: list[DvcRemote] = []
    for section in parser.sections():
        match = _REMOTE_SECTION.fullmatch(section.strip("' "))
        if match is None:
            continue
        settings = dict(parser.items(section))
        url = settings.pop("url", "")
        if not url:
            raise DvcFormatError(f"{DVC_DIR}/config: remote {match.group(1)!r} has no url")
        remotes.append(DvcRemote(match.group(1), url, settings))
    default = parser.get("core", "remote", fallback=None)
    return remotes, default
