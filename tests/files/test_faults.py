"""Faults during real runs of the ``strata`` command: a full disk, Ctrl-C and ``kill -9``.

After any of them the next command works, ``strata verify`` finds nothing corrupt, and running
the interrupted command again leaves the workspace matching its pointers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from factories import (
    STRATA,
    Outcome,
    WorkspaceFactory,
    assert_one_line_error,
    cache_objects,
    commit_all,
    file_hashes,
    make_folder,
    run_strata,
    snapshot,
    write,
)
from interrupt_support import interrupt_when

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Dataset:
    """Big enough that the command is still busy when it is interrupted."""

    files: int
    size: int

    def write(self, folder: Path, seed: bytes = b"") -> dict[str, str]:
        """Files of exactly ``size`` bytes, each different."""
        block = os.urandom(self.size)
        for i in range(self.files):
            head = seed + i.to_bytes(4, "big")
            write(folder / f"part-{i:05d}.bin", head + block[len(head) :])
        return file_hashes(folder)


# Adding syncs every object to disk, so a few files take a while; checkouts need many more
# files, so that half of them cannot be written in one of the slices the command runs in.
ADD = Dataset(1000, 32 * 1024)
CHECKOUT = {"copy": Dataset(400, 32 * 1024), "hardlink": Dataset(3000, 512)}
SIGNALS = {"ctrl-c": signal.SIGINT, "kill-9": signal.SIGKILL}


def _assert_interrupted(outcome: Outcome, sig: signal.Signals) -> None:
    if sig == signal.SIGKILL:
        assert outcome.code == -signal.SIGKILL, outcome
    else:
        assert_one_line_error(outcome, 130, "interrupted", "run the command again")


def _count_files(folder: Path) -> int:
    """Files in ``folder`` under their own names (not temp files)."""
    try:
        return sum(1 for name in os.listdir(folder) if not name.startswith("."))
    except FileNotFoundError:
        return 0


def _count_temps(folder: Path) -> int:
    """Temp files in ``folder`` (a checkout's staged files)."""
    try:
        return sum(1 for name in os.listdir(folder) if name.endswith(".strata-tmp"))
    except FileNotFoundError:
        return 0


def _midway(done: int, total: int) -> bool:
    """Some of the work is done, and at most half of it."""
    return max(2, total // 10) <= done <= total // 2


def _assert_recovers(root: Path, rerun: list[str]) -> None:
    status = run_strata("status", "--json", cwd=root)
    assert status.code == 0, status.stderr
    verify = run_strata("verify", "--json", cwd=root)
    assert verify.code == 0, verify.stdout + verify.stderr
    assert verify.json()["ok"] is True  # type: ignore[index]
    again = run_strata(*rerun, cwd=root)
    assert again.code == 0, again.stderr
    status = run_strata("status", "--json", cwd=root)
    assert status.code == 0, status.stderr
    assert {row["state"] for row in status.json()} == {"unchanged"}  # type: ignore[union-attr,index]


# -- a full disk ------------------------------------------------------------------------------
def test_disk_full_during_add(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    """A 1 MiB tmpfs as the cache, mounted in a private mount namespace, and a 4 MiB file."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    cache = tmp_path / "small-cache"
    cache.mkdir()
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs '{cache}'"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        reason = f"cannot mount a small tmpfs with unshare -rm: {probe.stderr.strip()}"
        print(reason)
        pytest.skip(reason)

    ws = make_workspace()
    write(ws.root / "big", os.urandom(4 * 1024 * 1024))
    before = snapshot(ws.root)
    done = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=1m tmpfs '{cache}' && exec '{STRATA}' add big",
        ],
        cwd=ws.root,
        env={**os.environ, "STRATA_CACHE_DIR": str(cache), "STRATA_CACHE_TYPE": "copy"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    assert_one_line_error(
        outcome, 10, "disk full while storing big in the cache", "free some space"
    )
    assert not (ws.root / "big.strata").exists()
    assert snapshot(ws.root) == before
    assert list(cache.iterdir()) == []


# -- interrupted add --------------------------------------------------------------------------
@pytest.mark.parametrize("sig", SIGNALS.values(), ids=SIGNALS.keys())
def test_interrupted_add(make_workspace: WorkspaceFactory, sig: signal.Signals) -> None:
    ws = make_workspace(cache_type="copy")
    data = ADD
    expected = data.write(ws.root / "raw")
    cache = ws.config.cache_dir

    def underway() -> bool:
        # Files are copied into cache/tmp first, then renamed to their hashes in one go.
        temps = list((cache / "tmp").glob("*.tmp")) if (cache / "tmp").is_dir() else []
        return _midway(len(temps) + len(cache_objects(cache)), data.files)

    outcome = interrupt_when(["add", "raw"], ws.root, underway, sig)

    _assert_interrupted(outcome, sig)
    assert len(cache_objects(cache)) < data.files, "add finished before the signal"
    assert not (ws.root / "raw.strata").exists()
    _assert_recovers(ws.root, ["add", "raw"])
    assert file_hashes(ws.root / "raw") == expected
    assert len(cache_objects(cache)) == data.files + 1


# -- interrupted checkout ---------------------------------------------------------------------
@pytest.mark.parametrize("sig", SIGNALS.values(), ids=SIGNALS.keys())
@pytest.mark.parametrize("cache_type", ["hardlink", "copy"])
def test_interrupted_checkout(
    make_workspace: WorkspaceFactory, cache_type: str, sig: signal.Signals
) -> None:
    ws = make_workspace(cache_type=cache_type)
    data = CHECKOUT[cache_type]
    expected = data.write(ws.root / "raw")
    ws.files.add(["raw"])
    commit_all(ws.root, "raw")
    shutil.rmtree(ws.root / "raw")
    folder = ws.root / "raw"

    def underway() -> bool:
        # The folder is not there: its files are staged, verified, in a temp folder beside
        # it, which is then renamed into place whole.
        staged = sum(_count_files(temp) for temp in ws.root.glob(".raw.*.strata-tmp"))
        return _midway(staged + _count_files(folder) + _count_temps(folder), data.files)

    outcome = interrupt_when(["checkout"], ws.root, underway, sig)

    _assert_interrupted(outcome, sig)
    assert not folder.exists(), "the folder appears whole or not at all"
    _assert_recovers(ws.root, ["checkout"])
    assert file_hashes(folder) == expected
    assert not list(ws.root.glob(".raw.*.strata-tmp"))


@pytest.mark.parametrize("sig", SIGNALS.values(), ids=SIGNALS.keys())
def test_interrupted_checkout_of_another_revision(
    make_workspace: WorkspaceFactory, sig: signal.Signals
) -> None:
    """Every file is replaced (same names, new contents); a plain checkout finishes the job."""
    ws = make_workspace(cache_type="copy")
    data = CHECKOUT["copy"]
    folder = ws.root / "raw"
    old = data.write(folder, b"old")
    ws.files.add(["raw"])
    commit_all(ws.root, "old")
    data.write(folder, b"new")
    ws.files.add(["raw"])
    commit_all(ws.root, "new")
    inodes = {p.name: p.stat().st_ino for p in folder.iterdir()}

    def underway() -> bool:  # some files replaced by new ones
        replaced = 0
        for entry in os.scandir(folder):
            try:
                replaced += entry.inode() != inodes.get(entry.name, entry.inode())
            except FileNotFoundError:
                pass
        return _midway(replaced, data.files)

    outcome = interrupt_when(["checkout", "--rev", "HEAD~1"], ws.root, underway, sig)

    _assert_interrupted(outcome, sig)
    _assert_recovers(ws.root, ["checkout", "--rev", "HEAD~1"])
    assert file_hashes(folder) == old
    assert not [p for p in folder.iterdir() if p.name.endswith(".strata-tmp")]


# -- killed push and pull -----------------------------------------------------------------------
TRANSFER = Dataset(600, 16 * 1024)
PACK_SIZE = 256 * 1024  # small packs: the push writes dozens, one after another
PACKS = TRANSFER.files * TRANSFER.size // PACK_SIZE


def _pushed_workspace(make_workspace: WorkspaceFactory, remote: Path) -> tuple[Path, dict]:
    ws = make_workspace(cache_type="copy")
    expected = TRANSFER.write(ws.root / "raw")
    ws.files.add(["raw"])
    ws.remotes.add("shared", str(remote), default=True)
    ws.remotes.modify("shared", "pack_size", str(PACK_SIZE))
    commit_all(ws.root, "raw")
    return ws.root, expected


def _published(remote: Path) -> int:
    return len(list((remote / "packs").glob("*.idx")))


def _pack_half_written(remote: Path) -> bool:
    return any(p.stat().st_size > 0 for p in (remote / "tmp").glob("*.pack.tmp"))


def test_killed_push_resumes_and_everything_arrives(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    """Killed while a pack is half written: the remote still verifies (the packs it has are
    whole, the half-written one is named by no index), and the rerun completes it."""
    remote = tmp_path / "remote"
    root, expected = _pushed_workspace(make_workspace, remote)

    def underway() -> bool:
        return _midway(_published(remote), PACKS) and _pack_half_written(remote)

    outcome = interrupt_when(["push", "--jobs", "2"], root, underway, signal.SIGKILL)
    _assert_interrupted(outcome, signal.SIGKILL)
    assert _published(remote) < PACKS, "push finished before the kill"
    assert _pack_half_written(remote), "the kill came while a pack was being written"
    assert run_strata("verify", "--remote", cwd=root).code == 0

    again = run_strata("push", "--json", cwd=root)
    assert again.code == 0, again.stderr
    assert run_strata("verify", "--remote", cwd=root).code == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    pulled = run_strata("pull", cwd=clone)
    assert pulled.code == 0, pulled.stderr
    assert file_hashes(clone / "raw") == expected
    assert run_strata("push", "--json", cwd=root).json()["transferred"] == 0  # type: ignore[index]


def test_killed_pull_resumes_and_everything_arrives(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    root, expected = _pushed_workspace(make_workspace, remote)
    assert run_strata("push", cwd=root).code == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    cache = clone / ".strata" / "cache"

    def underway() -> bool:
        """Objects are arriving: written and waiting for their batch's sync, or some of
        them renamed into place already."""
        arriving = _count_files(cache / "tmp") >= TRANSFER.files // 10
        return arriving or _midway(len(cache_objects(cache)), TRANSFER.files)

    outcome = interrupt_when(["pull", "--jobs", "2"], clone, underway, signal.SIGKILL)
    _assert_interrupted(outcome, signal.SIGKILL)
    assert not (clone / "raw").exists(), "nothing is checked out before everything arrived"
    verify = run_strata("verify", "--json", cwd=clone)
    problems = {p["problem"] for p in verify.json()["problems"]}  # type: ignore[index]
    assert problems == {"missing"}, "what arrived is intact; the rest is simply not there yet"
    again = run_strata("pull", cwd=clone)
    assert again.code == 0, again.stderr
    _assert_recovers(clone, ["pull"])
    assert file_hashes(clone / "raw") == expected


@pytest.mark.parametrize("shape", ["one chunked file", "many packed files"])
def test_disk_full_during_pull(
    make_workspace: WorkspaceFactory, tmp_path: Path, shape: str
) -> None:
    """The clone's cache is a 1 MiB tmpfs; the pull brings 4 MiB: one file that arrives in
    chunks, or 512 small files that arrive in ranges of one pack."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    ws = make_workspace(cache_type="copy")
    if shape == "one chunked file":
        write(ws.root / "big", os.urandom(4 * 1024 * 1024))
    else:
        make_folder(ws.root / "big", {f"{n}.bin": os.urandom(4096).hex() for n in range(512)})
    ws.files.add(["big"])
    ws.remotes.add("shared", str(tmp_path / "remote"), default=True)
    commit_all(ws.root, "big")
    assert run_strata("push", cwd=ws.root).code == 0
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ws.root), str(clone)], check=True)
    cache = tmp_path / "small-cache"
    cache.mkdir()
    before = snapshot(clone)
    done = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            "-c",
            f"mount -t tmpfs -o size=1m tmpfs '{cache}' && exec '{STRATA}' pull",
        ],
        cwd=clone,
        env={**os.environ, "STRATA_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "mount" in done.stderr and done.returncode != 10:
        pytest.skip(f"cannot mount a small tmpfs with unshare -rm: {done.stderr.strip()}")
    assert_one_line_error(Outcome(done.returncode, done.stdout, done.stderr), 10, "disk full")
    assert not (clone / "big").exists()
    assert snapshot(clone) == before
    assert list(cache.iterdir()) == []
