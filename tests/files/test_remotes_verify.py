"""``verify --remote`` and transfer failures say what went wrong with each object: missing,
corrupt, or unreadable (the read itself failed), never one label for all."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from factories import Cli, WorkspaceFactory, b3, commit_all, git, write
from pack_support import drop_entry, packs, tamper, where
from strata import Workspace


def _digest(ws: Workspace, path: str) -> str:
    return str(tomllib.loads((ws.root / f"{path}.strata").read_text())["hash"])


def _pushed(make_workspace: WorkspaceFactory, remote: Path) -> tuple[Workspace, bytes]:
    """Three files pushed one at a time, so each lies in a pack of its own; the big one in
    chunks."""
    ws = make_workspace()
    ws.remotes.add("shared", str(remote), default=True)
    ws.remotes.modify("shared", "chunk_threshold", str(1024 * 1024))
    big = os.urandom(2 * 1024 * 1024)
    write(ws.root / "big.bin", big)
    write(ws.root / "model.bin", "weights")
    write(ws.root / "notes.txt", "notes")
    for path in ("big.bin", "model.bin", "notes.txt"):
        ws.files.add([path])
        commit_all(ws.root, path)
        ws.remotes.push()
    assert len(packs(ws.remotes.open())) == 3
    return ws, big


def test_verify_remote_tells_missing_corrupt_and_unreadable_apart(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    ws, big = _pushed(make_workspace, remote)
    assert ws.remotes.verify().ok
    big_digest, model, notes = (_digest(ws, p) for p in ("big.bin", "model.bin", "notes.txt"))
    shared = ws.remotes.open()
    drop_entry(shared, shared.manifest(big_digest).chunks[0].hash)
    tamper(shared, model)
    pack, _ = where(shared, notes)
    target = remote / "packs" / f"{pack}.pack"
    target.unlink()
    target.symlink_to(tmp_path)  # listed as a pack, but reading it fails
    problems = {p.hash: p.problem for p in ws.remotes.verify().problems}
    assert problems == {big_digest: "missing", model: "corrupt", notes: "unreadable"}
    out = cli("verify", "--remote", "--json", cwd=ws.root)
    assert out.code == 9
    listed = {p["hash"]: p["problem"] for p in out.json()["problems"]}  # type: ignore[index]
    assert listed == problems
    assert b3(big) == big_digest


def test_fetch_failures_carry_their_kind(
    make_workspace: WorkspaceFactory, tmp_path: Path, cli: Cli
) -> None:
    remote = tmp_path / "remote"
    ws, _ = _pushed(make_workspace, remote)
    big_digest, model = _digest(ws, "big.bin"), _digest(ws, "model.bin")
    shared = ws.remotes.open()
    drop_entry(shared, shared.manifest(big_digest).chunks[0].hash)
    tamper(shared, model)
    clone = ws.root.parent / "clone"
    git(ws.root.parent, "clone", "-q", str(ws.root), str(clone))
    out = cli("fetch", "--json", cwd=clone)
    assert out.code == 13
    kinds = {f["hash"]: f["kind"] for f in out.json()["failed"]}  # type: ignore[index]
    assert kinds == {big_digest: "missing", model: "corrupt"}
