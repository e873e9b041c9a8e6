"""Project configuration, loaded in layers at the edge and passed in.

Layers, later wins: built-in defaults → ``.strata/config.toml`` (committed) →
``.strata/config.local.toml`` (git-ignored, for secrets and machine paths) → environment
variables ``STRATA_<SECTION>_<KEY>`` (e.g. ``STRATA_METADATA_URL``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from strata.errors import ConfigError, GitError, NotAWorkspaceError, WorkspaceError
from strata.paths import atomic_write

STRATA_DIR = ".strata"
CONFIG_FILE = "config.toml"
LOCAL_CONFIG_FILE = "config.local.toml"

_STRATA_GITIGNORE = (
    "/cache\n/tmp\n/strata.db*\n/state.db*\n/config.local.toml\n/openlineage*.jsonl\n/ui-secret\n"
)


def keep_out_of_git(strata_dir: Path, entry: str) -> None:
    """List ``entry`` (``/name``) in ``.strata/.gitignore`` if it is not there yet: for files
    newer than the workspace, which must never be committed."""
    ignore = strata_dir / ".gitignore"
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.exists() else []
    if entry not in lines:
        atomic_write(ignore, ("\n".join([*lines, entry]) + "\n").encode())


LinkType = Literal["reflink", "hardlink", "copy"]
LINK_TYPES: tuple[LinkType, ...] = ("reflink", "hardlink", "copy")
Scope = Literal["project", "local"]

# Credentials: the keys that hold one (by their last part), and the password part of a URL.
# They live in the git-ignored local file only, and are shown as ``***``.
REDACTED = "***"
SECRET_KEYS = frozenset(
    {
        "secret",
        "password",
        "token",
        "session_token",
        "access_key_id",
        "secret_access_key",
        "account_key",
        "sas_token",
        "connection_string",
        "client_secret",
        "credentials",
    }
)
_SECRET_SUFFIXES = ("_secret", "_password", "_token", "_key")
# The userinfo part exactly as SQLAlchemy's URL parser reads it: password up to the first '@'.
_USERINFO_PASSWORD = re.compile(r"^(?P<head>[\w+]+://[^:/]*:)[^@]*@")
# The same in a URL inside a longer text (an error message): up to the first '@' or space.
_INNER_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^:/@\s]*:)[^@\s]*@")
_QUERY_PASSWORD = re.compile(
    r"(?i)(?P<key>[?&](?:password|secret|token|access_token|sig|x-amz-signature"
    r"|x-amz-security-token)=)[^&#\s]*"
)


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***`` (works on URLs that
    do not parse, and on messages that quote a URL, too)."""
    text = _USERINFO_PASSWORD.sub(rf"\g<head>{REDACTED}@", text, count=1)
    text = _INNER_PASSWORD.sub(rf"\g<head>{REDACTED}@", text)
    return _QUERY_PASSWORD.sub(rf"\g<key>{REDACTED}", text)


def is_secret_key(key: str) -> bool:
    """Whether config key ``key`` (e.g. ``remote.s3.secret_access_key``) names a credential."""
    leaf = key.rsplit(".", 1)[-1].lower()
    return leaf in SECRET_KEYS or leaf.endswith(_SECRET_SUFFIXES)


def holds_secret(key: str, value: str) -> bool:
    """Whether this setting holds a credential: a secret key, or a URL with a password."""
    return is_secret_key(key) or redact(value) != value


def shown(key: str, value: str) -> str:
    """``value`` of ``key`` as it may be printed, logged or put in an error."""
    if is_secret_key(key):
        return REDACTED if value else value
    return redact(value)


def _link_types(value: str) -> str:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    bad = [p for p in parts if p not in LINK_TYPES]
    if not parts or bad:
        raise ConfigError(
            f"bad cache.type {value!r}",
            hint="use a comma-separated list of reflink, hardlink, copy",
        )
    return ",".join(parts)


def _int_text(value: str) -> str:
    try:
        if int(value) < 1:
            raise ValueError(value)
    except ValueError:
        raise ConfigError(f"bad number {value!r}", hint="use a positive whole number") from None
    return value


def _any(value: str) -> str:
    return value


OPENLINEAGE_TRANSPORTS = ("none", "console", "file", "http")


def _openlineage_transport(value: str) -> str:
    kind = value.strip().lower()
    if kind not in OPENLINEAGE_TRANSPORTS:
        raise ConfigError(
            f"bad transport {value!r}", hint=f"use one of {', '.join(OPENLINEAGE_TRANSPORTS)}"
        )
    return kind


def _http_url(value: str) -> str:
    if value and not value.strip().startswith(("http://", "https://")):
        raise ConfigError(f"bad URL {value!r}", hint="set an http:// or https:// URL")
    return value.strip()


def _seconds(value: str) -> str:
    try:
        if not float(value) > 0:
            raise ValueError(value)
    except ValueError:
        raise ConfigError(f"bad number of seconds {value!r}", hint="use e.g. 5 or 0.5") from None
    return value.strip()


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool_text(value: str) -> str:
    if value.strip().lower() not in _TRUE + _FALSE:
        raise ConfigError(f"bad value {value!r}", hint="use true or false")
    return "true" if value.strip().lower() in _TRUE else "false"


@dataclass(frozen=True, slots=True)
class Option:
    """A known configuration key: its default and how a new value is checked."""

    key: str
    default: str
    check: Callable[[str], str] = _any
    description: str = ""


OPTIONS: dict[str, Option] = {
    o.key: o
    for o in (
        Option("core.git", "true", _bool_text, "whether the workspace is a git repository"),
        Option("cache.dir", "", description="cache location; empty means .strata/cache"),
        Option("core.remote", "", description="the remote push, pull and fetch use by default"),
        Option(
            "cache.type",
            "reflink,hardlink,copy",
            _link_types,
            "checkout link types, tried in order",
        ),
        Option(
            "cache.jobs",
            "1",
            _int_text,
            "threads that hash and place small files; on one disk, creating files is the "
            "bottleneck and more threads only contend (large files are hashed on all cores)",
        ),
        Option(
            "tables.root",
            "tables",
            description="where new tables go: a folder relative to the workspace, or a URI",
        ),
        Option(
            "metadata.url",
            "",
            description="SQLAlchemy URL of the metadata database; empty means .strata/strata.db",
        ),
        Option(
            "server.max_upload",
            str(2**30),
            _int_text,
            "bytes a model upload or a table write to `strata server` may carry (other "
            "requests: 16 MiB)",
        ),
        Option("lineage.namespace", "strata", description="OpenLineage namespace of jobs"),
        Option(
            "lineage.openlineage.transport",
            "none",
            _openlineage_transport,
            "where runs send OpenLineage events: none, console, file or http",
        ),
        Option(
            "lineage.openlineage.url",
            "",
            _http_url,
            "http transport: the OpenLineage endpoint's base URL (e.g. Marquez's)",
        ),
        Option(
            "lineage.openlineage.endpoint",
            "api/v1/lineage",
            description="http transport: the path under the URL that takes events",
        ),
        Option("lineage.openlineage.timeout", "5", _seconds, "http transport: seconds to wait"),
        Option(
            "lineage.openlineage.path",
            ".strata/openlineage.jsonl",
            description="file transport: the JSON Lines file events are appended to",
        ),
    )
}


def _env_name(key: str) -> str:
    return "STRATA_" + key.replace(".", "_").replace("-", "_").upper()


def _flatten(data: Mapping[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key + "."))
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = str(value)
    return flat


def _nest(flat: Mapping[str, str]) -> dict[str, object]:
    tree: dict[str, object] = {}
    for key, value in sorted(flat.items()):
        *sections, leaf = key.split(".")
        node = tree
        for section in sections:
            child = node.setdefault(section, {})
            assert isinstance(child, dict)
            node = child
        node[leaf] = value
    return tree


def read_toml(path: Path) -> dict[str, str]:
    """Read a config file into flat ``section.key`` strings; a missing file is empty."""
    try:
        with open(path, "rb") as fh:
            return _flatten(tomllib.load(fh))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"cannot parse {path}: {exc}", hint="fix the TOML syntax or restore it from git"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def write_toml(path: Path, flat: Mapping[str, str]) -> None:
    """Write flat keys as TOML, atomically (temp file + rename)."""
    import tomli_w

    atomic_write(path, tomli_w.dumps(_nest(flat)).encode())


def check_key(key: str) -> Option | None:
    """The known option for ``key``; None for free-form ``remote.*``, ``registry.*`` keys."""
    if key in OPTIONS:
        return OPTIONS[key]
    if key.startswith(("remote.", "registry.")) and key.count(".") >= 2:
        return None
    known = ", ".join(sorted(OPTIONS))
    raise ConfigError(f"unknown config key {key!r}", hint=f"known keys: {known}")


@dataclass(frozen=True)
class Config:
    """The merged configuration of one workspace (read-only; set() writes a file)."""

    root: Path
    values: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        values: dict[str, str] = {k: o.default for k, o in OPTIONS.items()}
        sources = dict.fromkeys(values, "default")
        layers = (
            ("project", read_toml(root / STRATA_DIR / CONFIG_FILE)),
            ("local", read_toml(root / STRATA_DIR / LOCAL_CONFIG_FILE)),
        )
        for source, layer in layers:
            values.update(layer)
            sources.update(dict.fromkeys(layer, source))
        for key in list(values):
            if _env_name(key) in env:
                values[key] = env[_env_name(key)]
                sources[key] = "env"
        return cls(root=root, values=values, sources=sources)

    def get(self, key: str) -> str:
        check_key(key)
        if key not in self.values:
            raise ConfigError(f"config key {key!r} is not set", hint="set it with `config set`")
        return self.values[key]

    def get_bool(self, key: str) -> bool:
        return self.get(key).strip().lower() in _TRUE

    def get_int(self, key: str) -> int:
        return int(_int_text(self.get(key)))

    @property
    def link_types(self) -> tuple[LinkType, ...]:
        text = _link_types(self.get("cache.type"))
        return tuple(t for t in LINK_TYPES for p in text.split(",") if p == t)

    @property
    def cache_dir(self) -> Path:
        configured = self.get("cache.dir")
        if not configured:
            return self.root / STRATA_DIR / "cache"
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def metadata_url(self) -> str:
        url = self.get("metadata.url")
        return url or f"sqlite:///{self.root / STRATA_DIR / 'strata.db'}"


def _path(root: Path, scope: Scope) -> Path:
    return root / STRATA_DIR / (CONFIG_FILE if scope == "project" else LOCAL_CONFIG_FILE)


def set_value(root: Path, key: str, value: str, *, scope: Scope = "project") -> list[str]:
    """Validate and write one key into the project or local config file.

    A credential never goes into the committed project file: written there, it goes to the
    local file instead, and so does any credential the project file already holds. Returns
    the keys moved to the local file that way, for the caller to warn about.
    """
    option = check_key(key)
    try:
        checked = option.check(value) if option else value
    except ConfigError as exc:
        raise ConfigError(f"{key}: {redact(exc.message)}", hint=exc.hint) from None
    if scope == "local":
        flat = read_toml(_path(root, "local"))
        flat[key] = checked
        write_toml(_path(root, "local"), flat)
        return []
    project = read_toml(_path(root, "project"))
    project[key] = checked
    moved = {k: v for k, v in project.items() if holds_secret(k, v)}
    if moved:
        local = read_toml(_path(root, "local"))
        write_toml(_path(root, "local"), {**local, **moved})  # first: a crash loses nothing
    write_toml(_path(root, "project"), {k: v for k, v in project.items() if k not in moved})
    return sorted(moved)


def unset_value(root: Path, key: str, *, scope: Scope = "project") -> None:
    check_key(key)
    path = _path(root, scope)
    flat = read_toml(path)
    if key not in flat:
        raise ConfigError(f"config key {key!r} is not set in the {scope} file")
    del flat[key]
    write_toml(path, flat)


def remove_section(root: Path, prefix: str, *, scope: Scope = "project") -> bool:
    """Remove every key under ``prefix.`` from one config file; False when there was none."""
    path = _path(root, scope)
    flat = read_toml(path)
    kept = {k: v for k, v in flat.items() if not k.startswith(prefix + ".")}
    if len(kept) == len(flat):
        return False
    write_toml(path, kept)
    return True


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``.strata/``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / STRATA_DIR).is_dir():
            return folder
    raise NotAWorkspaceError(f"{start} is not inside a Strata workspace")


def init_project(root: Path, *, git: bool, force: bool = False) -> None:
    """Create ``.strata/`` with its ignore list and ``core.git``; refused where it exists
    unless ``force``."""
    from strata.scm import Git

    strata_dir = root / STRATA_DIR
    if strata_dir.exists() and not force:
        raise WorkspaceError(
            f"{root} is already a Strata workspace", hint="pass --force to initialise again"
        )
    if git and not Git(root).is_repo():
        raise GitError(
            f"{root} is not in a git repository",
            hint="run `git init` first, or pass --no-git for a plain folder",
        )
    strata_dir.mkdir(parents=True, exist_ok=True)
    (strata_dir / ".gitignore").write_text(_STRATA_GITIGNORE, encoding="utf-8")
    set_value(root, "core.git", "true" if git else "false")
