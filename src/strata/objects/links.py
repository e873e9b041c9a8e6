"""Placing a file at a new path by reflink, hardlink or copy, whichever works first."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from strata.config import LinkType

StrPath = str | os.PathLike[str]

_FICLONE = 0x40049409  # ioctl number of Linux's FICLONE (reflink a whole file)
# Errors that mean "this link type does not work here": try the next one.
_UNSUPPORTED = {
    errno.EXDEV,
    errno.EOPNOTSUPP,
    errno.ENOTTY,
    errno.EINVAL,
    errno.EPERM,
    errno.EMLINK,
    errno.ENOSYS,
}


def reflink(src: StrPath, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        try:
            fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
        except OSError:
            fout.close()
            dst.unlink(missing_ok=True)
            raise


def hardlink(src: StrPath, dst: Path) -> None:
    os.link(src, dst)


def copy(src: StrPath, dst: Path, *, durable: bool = True) -> None:
    """Copy in the kernel where it can (copy_file_range), else through a buffer."""
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        try:
            remaining = os.fstat(fin.fileno()).st_size
            while remaining > 0:
                done = os.copy_file_range(fin.fileno(), fout.fileno(), min(remaining, 1 << 30))
                if done == 0:
                    break
                remaining -= done
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED:
                raise
            fin.seek(0)
            fout.seek(0)
            fout.truncate()
            shutil.copyfileobj(fin, fout, 1024 * 1024)
        if durable:
            fout.flush()
            os.fsync(fout.fileno())


_LINKERS = {"reflink": reflink, "hardlink": hardlink}


class Linker:
    """Tries link types in order and remembers the first one that works here."""

    def __init__(self, order: Sequence[LinkType]) -> None:
        self._order: list[LinkType] = list(order) or ["copy"]

    @property
    def preferred(self) -> LinkType:
        return self._order[0]

    def _forget(self, link_type: LinkType) -> None:
        # Threads may race to drop the same type; losing the race is harmless.
        self._order = [t for t in self._order if t != link_type] or ["copy"]

    def place(self, src: StrPath, dst: Path, *, durable: bool = True) -> LinkType:
        """Create ``dst`` (which must not exist) with the contents of ``src``."""
        for link_type in list(self._order):
            if link_type == "copy":
                copy(src, dst, durable=durable)
                return "copy"
            try:
                _LINKERS[link_type](src, dst)
                return link_type
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or link_type == self._order[-1]:
                    raise
                self._forget(link_type)
        raise OSError(errno.EOPNOTSUPP, "no configured link type works here")
