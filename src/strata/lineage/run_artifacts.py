"""``RunArtifacts``: files a tracking client logs (``EXPERIMENT/RUN/artifacts/...``), kept as
objects of the workspace's content-addressed store, so they are deduplicated, pushed and kept
by gc like any data; the metadata database maps each path to its object.

    artifacts = ws.run_artifacts
    with artifacts.receiving() as tmp:            # a temp file in the store's tmp area
        tmp.write_bytes(b"...")
        artifacts.put("1/01JD.../artifacts/model.pkl", tmp)
    artifacts.listing("1/01JD.../artifacts")      # [Entry("model.pkl", False, 3)]

A path's row is written only once its object is stored, in one transaction: an upload cut
off half-way leaves nothing behind but a temp file, removed when the block ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from strata.errors import NotTrackedError, ObjectCorruptError, UserInputError
from strata.meta.schema import tracking_artifacts
from strata.objects.hashing import hash_file
from strata.objects.state import FileStat
from strata.paths import unsafe_reason

if TYPE_CHECKING:
    from strata.meta import MetadataDB
    from strata.objects import ObjectStore


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Entry:
    """One child of a listed folder: its name, whether it is a folder, its size in bytes."""

    name: str
    is_dir: bool
    size: int | None


def check_path(path: str) -> str:
    """``path`` without surrounding slashes, once it is a safe relative POSIX path."""
    cleaned = path.strip("/")
    reason = unsafe_reason(cleaned)
    if reason is not None:
        raise UserInputError(f"bad artifact path {path!r}: {reason}")
    return cleaned


class RunArtifacts:
    def __init__(
        self, db: MetadataDB, objects: ObjectStore, *, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._db = db
        self._objects = objects
        self._clock = clock

    @contextmanager
    def receiving(self) -> Iterator[Path]:
        """A temp file to receive an upload into, removed when the block ends."""
        self._objects.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._objects.tmp_dir / f"upload-{uuid.uuid4().hex}.tmp"
        try:
            yield tmp
        finally:
            tmp.unlink(missing_ok=True)

    def put(self, path: str, src: Path) -> str:
        """Store ``src`` as the artifact at ``path`` (replacing what was there); its hash."""
        path = check_path(path)
        stat = FileStat.of(os.stat(src))
        name, _ = self._objects.add_file_hashing(src, stat, what=f"artifact {path}")
        c = tracking_artifacts.c
        with self._db.transaction(f"cannot store artifact {path}", write=True) as connection:
            if connection.execute(
                sa.select(c.path).where(c.path.startswith(f"{path}/", autoescape=True))
            ).first():
                raise UserInputError(f"artifact path {path!r} is a folder", hint="name a file")
            connection.execute(sa.delete(tracking_artifacts).where(c.path == path))
            connection.execute(
                sa.insert(tracking_artifacts).values(
                    path=path, hash=name, size=stat.size, stored_at=self._clock()
                )
            )
        return name

    def file(self, path: str, *, verify: bool = False) -> Path:
        """The stored object of the file at ``path`` (read-only), its hash checked first with
        ``verify``: a corrupt object is an ObjectCorruptError, never served."""
        path = check_path(path)
        with self._db.transaction("cannot read artifact", write=False) as connection:
            query = sa.select(tracking_artifacts.c.hash).where(tracking_artifacts.c.path == path)
            name = connection.execute(query).scalar()
        if name is None:
            raise NotTrackedError(f"artifact {path} does not exist")
        found = self._objects.require(name, f"artifact {path}")
        if verify and hash_file(found) != name:
            raise ObjectCorruptError(f"object {name[:12]} of artifact {path} is corrupt")
        return found

    def files(self, folder: str) -> dict[str, tuple[str, int]]:
        """Every file below ``folder``: its path relative to ``folder`` → (hash, size)."""
        folder = check_path(folder)
        c = tracking_artifacts.c
        query = sa.select(c.path, c.hash, c.size).where(
            c.path.startswith(f"{folder}/", autoescape=True)
        )
        with self._db.transaction("cannot list artifacts", write=False) as connection:
            rows = list(connection.execute(query.order_by(c.path)))
        return {row.path[len(folder) + 1 :]: (row.hash, row.size) for row in rows}

    def listing(self, folder: str) -> list[Entry]:
        """The children of ``folder``: files with their sizes, and sub-folders."""
        children: dict[str, Entry] = {}
        for rel, (_, size) in self.files(folder).items():
            head, _, rest = rel.partition("/")
            children[head] = Entry(head, True, None) if rest else Entry(head, False, size)
        return [children[name] for name in sorted(children)]

    def delete(self, path: str) -> int:
        """Forget the file at ``path`` or every file below it; how many (objects stay for gc)."""
        path = check_path(path)
        c = tracking_artifacts.c
        where = sa.or_(c.path == path, c.path.startswith(f"{path}/", autoescape=True))
        with self._db.transaction(f"cannot delete artifact {path}", write=True) as connection:
            return int(connection.execute(sa.delete(tracking_artifacts).where(where)).rowcount)

    def objects(self) -> list[str]:
        """Every object a stored artifact needs (what gc keeps)."""
        query = sa.select(tracking_artifacts.c.hash).distinct()
        with self._db.transaction("cannot list artifacts", write=False) as connection:
            return list(connection.execute(query).scalars())
