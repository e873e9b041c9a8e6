"""Bringing a DVC repository's data into Strata: objects from ``.dvc/cache`` (or a folder
remote) into the cache under BLAKE3, each checked against its md5 on the way; ``.dir``
manifests become trees; a ``.strata`` pointer (and ``.gitignore`` line) for every output.

Objects go in before pointers, pointers before a ``.dvc`` file is removed, so an interrupted
migration leaves nothing half-written and a rerun finishes it. A missing or corrupt object
fails its own output only, reported by path and md5. The md5 → BLAKE3 map
(``strata.files.dvc_map``) makes a rerun import nothing twice.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import blake3

from strata.core.progress import Progress, advance, expect
from strata.files.context import FilesContext
from strata.files.dvc_map import Mapped, Md5Map
from strata.files.dvc_repo import (
    DvcFormatError,
    DvcOut,
    cache_candidates,
    dvc_files_in_tree,
    outs_of_dvc_file,
    outs_of_lock,
    parse_dir_manifest,
)
from strata.files.ignore import ignore_in_git
from strata.files.pointer import POINTER_SUFFIX, Pointer, pointer_path_for, write_pointer
from strata.objects.state import FileStat
from strata.objects.store import Incoming
from strata.objects.tree import Tree, TreeEntry
from strata.parallel import check_cancelled, parallel_map

_READ = 1024 * 1024
# A row's (BLAKE3, size, what goes into the cache: None when it is there already)
_Row = tuple[str, int, Incoming | None]


@dataclass(frozen=True, slots=True)
class _Source:
    """A row's object found in the DVC cache or a remote, not read yet."""

    path: Path
    md5: str
    stat: FileStat
    shown: str


@dataclass(frozen=True, slots=True)
class OutProblem:
    """An output that could not be migrated: the object at fault (its path inside a folder
    output, and md5) and why."""

    path: str
    md5: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "md5": self.md5, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class MigratedOut:
    path: str
    md5: str
    hash: str
    kind: str
    size: int
    files: int
    source: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "md5": self.md5,
            "hash": self.hash,
            "kind": self.kind,
            "size": self.size,
            "files": self.files,
            "source": self.source,
        }


@dataclass
class DvcImportResult:
    dry_run: bool = False
    outs: list[MigratedOut] = field(default_factory=list)
    problems: list[OutProblem] = field(default_factory=list)
    objects: int = 0  # objects new to Strata's cache (would be, in a dry run)
    bytes: int = 0
    pointers_written: list[str] = field(default_factory=list)
    dvc_files_removed: list[str] = field(default_factory=list)
    history: list[MigratedOut] = field(default_factory=list)  # older commits' outputs

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "outs": [o.to_dict() for o in self.outs],
            "problems": [p.to_dict() for p in self.problems],
            "objects": self.objects,
            "bytes": self.bytes,
            "pointers_written": self.pointers_written,
            "dvc_files_removed": self.dvc_files_removed,
            "history": [o.to_dict() for o in self.history],
        }


class _Failed(Exception):
    def __init__(self, problems: list[OutProblem]) -> None:
        super().__init__(problems[0].reason)
        self.problems = problems


def discover_outs(root: Path) -> tuple[dict[str, list[DvcOut]], list[DvcOut]]:
    """The cached outputs of the working tree: by ``.dvc`` file, and dvc.lock's."""

    def read(relpath: str) -> bytes | None:
        path = root / relpath
        return path.read_bytes() if path.is_file() else None

    by_file = {f: outs_of_dvc_file(f, (root / f).read_bytes()) for f in dvc_files_in_tree(root)}
    return by_file, outs_of_lock(read)


class DvcImporter:
    """Objects from a DVC cache (then folder remotes, in order) into Strata's cache."""

    def __init__(self, ctx: FilesContext, dvc_cache: Path, remotes: Sequence[Path] = ()) -> None:
        self.ctx = ctx
        self.bases = [dvc_cache, *remotes]
        self.map = Md5Map(ctx.root)
        self._counted: set[str] = set()  # objects a dry run has counted already

    def find(self, md5: str) -> Path | None:
        for base in self.bases:
            for candidate in cache_candidates(base, md5):
                if os.path.isfile(candidate):
                    return Path(candidate)
        return None

    # -- one output -------------------------------------------------------------------------
    def migrate_out(self, out: DvcOut, result: DvcImportResult, progress: Progress) -> Mapped:
        """The output's objects into the cache (or, in a dry run, counted); _Failed with every
        missing or corrupt object."""
        known = self.map.get(out.md5)
        if known is not None and self.ctx.store.exists(known.hash):
            return known
        if out.is_dir:
            return self._directory(out, result, progress)
        digest, size = self._files(out.path, [("", out.md5)], result, progress)[0]
        mapped = Mapped(out.md5, digest, "file", size, 1)
        if not result.dry_run:
            self.map.add([mapped])
        return mapped

    def _directory(self, out: DvcOut, result: DvcImportResult, progress: Progress) -> Mapped:
        source = self.find(out.md5)
        if source is None:
            raise _Failed([OutProblem(out.path, out.md5, "missing from the DVC cache and remotes")])
        data = source.read_bytes()
        if hashlib.md5(data).hexdigest() != out.md5.removesuffix(".dir"):
            raise _Failed([OutProblem(out.path, out.md5, "corrupt (md5 mismatch)")])
        try:
            rows = parse_dir_manifest(data, out.md5)
        except DvcFormatError as exc:
            raise _Failed([OutProblem(out.path, out.md5, exc.message)]) from None
        hashed = self._files(out.path, rows, result, progress)
        tree = Tree.build(TreeEntry(r, h, s) for (r, _), (h, s) in zip(rows, hashed, strict=True))
        if result.dry_run:  # the files were not hashed: no listing hash yet
            return Mapped(out.md5, "", "directory", tree.size, len(tree.entries))
        mapped = Mapped(out.md5, tree.hash, "directory", tree.size, len(tree.entries))
        self.ctx.store.add_bytes(tree.to_bytes(), what=f"the listing of {out.path}")
        file_rows = [
            Mapped(m, h, "file", s, 1) for (_, m), (h, s) in zip(rows, hashed, strict=True)
        ]
        self.map.add([*file_rows, mapped])
        return mapped

    def _files(
        self,
        where: str,
        rows: Sequence[tuple[str, str]],
        result: DvcImportResult,
        progress: Progress,
    ) -> list[tuple[str, int]]:
        """(BLAKE3, size) of each (relpath, md5) row's object, stored unless a dry run. Every
        source is found (and its size read) first, so ``progress`` expects the rows and the
        bytes to read before any is read."""
        store = self.ctx.store

        def locate(row: tuple[str, str]) -> _Row | _Source | OutProblem:
            relpath, md5 = row
            shown_path = posixpath.join(where, relpath) if relpath else where
            known = self.map.get(md5)
            if known is not None and store.exists(known.hash):
                return known.hash, known.size, None
            source = self.find(md5)
            if source is None:
                return OutProblem(shown_path, md5, "missing from the DVC cache and remotes")
            return _Source(source, md5, FileStat.of(source.stat()), shown_path)

        def read(found: _Source) -> _Row | OutProblem:
            size = found.stat.size
            if result.dry_run:
                advance(progress, 1)
                first = found.md5 not in self._counted
                self._counted.add(found.md5)
                return (
                    "",
                    size,
                    Incoming(found.path, found.md5, found.stat, found.shown) if first else None,
                )
            digest = _checked_blake3(found.path, found.md5)
            advance(progress, 1, size)
            if digest is None:
                return OutProblem(found.shown, found.md5, "corrupt (md5 mismatch)")
            return digest, size, Incoming(found.path, digest, found.stat, found.shown)

        located = parallel_map(locate, list(rows), self.ctx.jobs)
        sources = [f for f in located if isinstance(f, _Source)]
        missing = sum(isinstance(f, OutProblem) for f in located)
        to_read = 0 if result.dry_run else sum(f.stat.size for f in sources)
        expect(progress, len(located) - missing, to_read)
        advance(progress, len(located) - missing - len(sources))  # in Strata's cache already
        read_back = iter(parallel_map(read, sources, self.ctx.jobs))
        found = [next(read_back) if isinstance(f, _Source) else f for f in located]
        problems = [f for f in found if isinstance(f, OutProblem)]
        if problems:
            raise _Failed(problems)
        rows_ok = [f for f in found if not isinstance(f, OutProblem)]
        incoming = list({i.name: i for _, _, i in rows_ok if i is not None}.values())
        if result.dry_run:
            result.objects += sum(1 for _, _, i in rows_ok if i is not None)
        else:
            placed = store.add_files(incoming, self.ctx.jobs)
            result.objects += sum(1 for p in placed if p is not None)
        result.bytes += sum(i.hashed.size for i in incoming if i.hashed is not None)
        return [(h, s) for h, s, _ in rows_ok]

    # -- the working tree -------------------------------------------------------------------
    def write_pointer(self, out: DvcOut, mapped: Mapped) -> bool:
        """The output's ``.strata`` pointer and ``.gitignore`` line; False when the pointer
        already said this."""
        self.ctx.check_inside(out.path, "migrate")
        data_path = self.ctx.abspath(out.path)
        pointer = Pointer(
            path=data_path.name,
            kind=mapped.kind,  # type: ignore[arg-type]
            hash=mapped.hash,
            size=mapped.size,
            files=mapped.files,
        )
        pointer_file = pointer_path_for(data_path)
        if pointer_file.is_file() and pointer_file.read_text(encoding="utf-8") == pointer.to_text():
            return False
        data_path.parent.mkdir(parents=True, exist_ok=True)
        write_pointer(pointer_file, pointer)
        if self.ctx.git is not None:
            ignore_in_git(data_path)
        return True


def _checked_blake3(path: Path, md5: str) -> str | None:
    """The BLAKE3 of a file, read once; None when its md5 is not ``md5``. DVC 2 hashed text
    files with CRLF line ends turned into LF, so that md5 is accepted too."""
    check, digest = hashlib.md5(), blake3.blake3()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            check.update(chunk)
            digest.update(chunk)
    if check.hexdigest() != md5 and _dos2unix_md5(path) != md5:
        return None
    return str(digest.hexdigest())


def _dos2unix_md5(path: Path) -> str | None:
    """The md5 DVC 2 gave a text file (CRLF as LF); None for a binary one."""
    data = path.read_bytes()
    if b"\0" in data[:8192] or b"\r\n" not in data:
        return None
    return hashlib.md5(data.replace(b"\r\n", b"\n")).hexdigest()


def import_outs(
    importer: DvcImporter,
    by_file: dict[str, list[DvcOut]],
    lock_outs: Sequence[DvcOut],
    *,
    dry_run: bool,
    keep_dvc: bool,
    record: Callable[[str], None],
    progress: Progress,
    history: Sequence[DvcOut] = (),
) -> DvcImportResult:
    """Migrate every output: ``.dvc`` files' first, each removed once all its outputs are in
    (unless ``keep_dvc``), then dvc.lock's, then ``history`` (older commits' outputs: their
    objects only, for ``strata checkout --rev``)."""
    result = DvcImportResult(dry_run=dry_run)
    groups: list[tuple[str | None, list[DvcOut]]] = [*by_file.items(), (None, list(lock_outs))]
    for dvc_file, outs in groups:
        failed = False
        for out in outs:
            check_cancelled()
            try:
                mapped = importer.migrate_out(out, result, progress)
            except _Failed as exc:
                result.problems += exc.problems
                failed = True
                continue
            result.outs.append(MigratedOut(out.path, out.md5, *_fields(mapped), out.source))
            if not dry_run and importer.write_pointer(out, mapped):
                result.pointers_written.append(out.path + POINTER_SUFFIX)
                record(out.path)
        if dvc_file is not None and not keep_dvc and not failed:
            if not dry_run:
                importer.ctx.abspath(dvc_file).unlink(missing_ok=True)
            result.dvc_files_removed.append(dvc_file)
    current = {(o.path, o.md5) for o in result.outs}
    for out in history:
        if (out.path, out.md5) in current:
            continue
        check_cancelled()
        try:
            mapped = importer.migrate_out(out, result, progress)
        except _Failed as exc:
            result.problems += exc.problems
            continue
        result.history.append(MigratedOut(out.path, out.md5, *_fields(mapped), out.source))
    if not dry_run:
        importer.map.compact()
    return result


def _fields(mapped: Mapped) -> tuple[str, str, int, int]:
    return mapped.hash, mapped.kind, mapped.size, mapped.files
