"""A throwaway PostgreSQL cluster on loopback, for tests that need a real server.

No pytest in here: ``conftest.py`` turns ``ClusterUnavailable`` into a skip (or a failure when
``STRATA_REQUIRE_POSTGRES=1``). The server refuses to run as root, so as root the cluster
belongs to the ``postgres`` user and every server command runs through ``runuser``.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from factories import free_port

SERVER_USER = "postgres"
START_ATTEMPTS = 3
_SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"


class ClusterUnavailable(Exception):
    """PostgreSQL cannot be run here (binaries or the postgres user are missing)."""


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then the Debian layout."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda p: _version(p.parent.name), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise ClusterUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in "
        "/usr/lib/postgresql/*/bin; install them (apt-get install postgresql)"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _traversable(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can reach ``path``: every ancestor grants it execute permission."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for directory in [path, *path.parents]:
        st = directory.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _server_user() -> pwd.struct_passwd | None:
    """The user to run the server as when we are root; None to run it as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ClusterUnavailable(
            f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL as; "
            f"create it (useradd --system {SERVER_USER})"
        ) from None


def _make_base(user: pwd.struct_passwd | None) -> Path:
    parent = Path(tempfile.gettempdir())
    if user is not None and not _traversable(parent, user):
        parent = Path("/tmp")
    base = Path(tempfile.mkdtemp(prefix="strata-pg-", dir=parent))
    if user is not None:
        if not _traversable(base.parent, user):
            shutil.rmtree(base)
            raise ClusterUnavailable(f"{base.parent} is not traversable by {user.pw_name}")
        os.chown(base, user.pw_uid, user.pw_gid)
    return base


@dataclass
class PostgresCluster:
    """One running cluster; ``create_database`` hands out a fresh database per caller."""

    bindir: Path
    base: Path
    user: pwd.struct_passwd | None
    port: int = 0
    _names: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{dbname}"

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user.pw_name, "--", *command]
        return subprocess.run(command, cwd=self.base, capture_output=True, text=True, check=False)

    def init(self) -> None:
        result = self.run(
            "initdb", "-D", str(self.datadir), "-U", SERVER_USER, "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def start(self) -> None:
        """Start on a free loopback port, retrying if another process grabs it first."""
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            result = self._start_on_port()
            if result.returncode == 0:
                return
        self._failed("pg_ctl start", result)

    def halt(self) -> None:
        """Stop the server as an administrator would (sessions ended), keeping its files."""
        result = self.run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        if result.returncode != 0:
            self._failed("pg_ctl stop", result)

    def resume(self) -> None:
        """Start a halted server again, on the port it had."""
        result = self._start_on_port()
        if result.returncode != 0:
            self._failed("pg_ctl start", result)

    def _start_on_port(self) -> subprocess.CompletedProcess[str]:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.base} {_SERVER_OPTIONS}"
        )
        log = str(self.base / "server.log")
        return self.run("pg_ctl", "-D", str(self.datadir), "-l", log, "-o", options, "-w", "start")

    def _failed(self, what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
        log = self.base / "server.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"{what} failed:\n{result.stdout}{result.stderr}\n{tail}")

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                self.run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        name = f"strata_test_{next(self._names)}"
        admin = f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def start_cluster() -> PostgresCluster:
    """Create and start a cluster in a new temp dir; raises ClusterUnavailable if impossible."""
    bindir = find_bindir()
    user = _server_user()
    cluster = PostgresCluster(bindir=bindir, base=_make_base(user), user=user)
    try:
        cluster.init()
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
