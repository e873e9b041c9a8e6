"""GTO's registry (git tags, and dvc.yaml's ``artifacts:``) → model versions and stages.

Each ``NAME@vX.Y.Z`` tag becomes a version of model NAME with that semver, holding what the
artifact's path held at the tagged commit (read through the md5 map, like any old revision),
tagged ``gto.tag`` so a rerun registers nothing twice; then each stage's latest assignment is
applied (``strata.models.gto``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from strata.errors import RegistryError, StrataError
from strata.files.discover import load_tree
from strata.models.gto import GtoTag, current_assignments, parse_tag, registry_stage

if TYPE_CHECKING:
    from strata.files.service import Files
    from strata.models import Registry
    from strata.scm import Git


@dataclass
class GtoImport:
    registered: list[str] = field(default_factory=list)  # model:NAME@N refs
    assigned: list[str] = field(default_factory=list)  # "model:NAME@N → STAGE"
    skipped: list[str] = field(default_factory=list)  # tags not applied, with why

    def to_dict(self) -> dict[str, object]:
        return {"registered": self.registered, "assigned": self.assigned, "skipped": self.skipped}


def gto_tags(git: Git) -> list[GtoTag]:
    """The repository's GTO tags, each with the commit it points at."""
    out = git.try_output(
        "for-each-ref", "refs/tags", "--format=%(refname:strip=2)%00%(*objectname)%00%(objectname)"
    )
    found: list[GtoTag] = []
    for line in (out or b"").decode().splitlines():
        name, peeled, target = line.split("\0")
        tag = parse_tag(name, peeled or target)
        if tag is not None:
            found.append(tag)
    return found


def import_gto(files: Files, registry: Registry, tags: list[GtoTag]) -> GtoImport:
    result = GtoImport()
    result.skipped += [
        f"{t.tag}: not applied (Strata's trail only appends)" for t in tags if t.kind == "other"
    ]
    at_commit: dict[tuple[str, str], str] = {}  # (name, commit) → model ref
    registrations = sorted(
        (t for t in tags if t.kind == "register"), key=lambda t: _order(t.semver)
    )
    for tag in registrations:
        try:
            at_commit[(tag.name, tag.commit)] = _register(files, registry, tag, result)
        except StrataError as exc:
            result.skipped.append(f"{tag.tag}: {exc.message}")
    for tag in current_assignments(tags):
        found = at_commit.get((tag.name, tag.commit))
        if found is None:
            result.skipped.append(f"{tag.tag}: no version of {tag.name} registered at its commit")
            continue
        ref, (kind, target) = found, registry_stage(tag.stage)
        version = registry.show(ref)
        try:
            if kind == "stage" and version.stage != target:
                registry.promote(ref, target, reason=f"GTO tag {tag.tag}")
            elif kind == "alias" and target not in version.aliases:
                registry.set_alias(ref, target)
        except StrataError as exc:
            result.skipped.append(f"{tag.tag}: {exc.message}")
            continue
        result.assigned.append(f"{ref} → {target}")
    return result


def _order(semver: str) -> tuple[int, ...]:
    return tuple(int(p) for p in semver.split("-")[0].split("+")[0].split("."))


def _register(files: Files, registry: Registry, tag: GtoTag, result: GtoImport) -> str:
    try:
        existing = registry.versions(tag.name, tags={"gto.tag": tag.tag})
    except RegistryError:
        existing = []  # no such model yet
    if existing:
        return existing[0].ref
    path, desc = _artifact(files, tag)
    tracked = files.tracked([path], rev=tag.commit)[0]
    with tempfile.TemporaryDirectory(dir=files.context.store.tmp_dir.parent) as tmp:
        target = Path(tmp) / Path(path).name
        _materialize(files, tracked.pointer.hash, tracked.pointer.kind, target, path)
        version = registry.register(
            tag.name,
            target,
            semver=tag.semver,
            description=desc,
            tags={"gto.tag": tag.tag, "gto.commit": tag.commit},
        )
    result.registered.append(version.ref)
    return version.ref


def _artifact(files: Files, tag: GtoTag) -> tuple[str, str | None]:
    """The path (and description) dvc.yaml's ``artifacts:`` gives NAME at the tag's commit."""
    from strata.files.dvc_repo import load_yaml

    git = files.context.git
    assert git is not None
    data = git.read_at(tag.commit, ["dvc.yaml"]).get("dvc.yaml")
    doc: Any = load_yaml("dvc.yaml", data) if data is not None else None
    entry = ((doc or {}).get("artifacts") or {}).get(tag.name) if isinstance(doc, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise RegistryError(f"dvc.yaml at {tag.commit[:10]} has no artifacts entry {tag.name!r}")
    desc = entry.get("desc")
    return entry["path"], desc if isinstance(desc, str) else None


def _materialize(files: Files, digest: str, kind: str, target: Path, what: str) -> None:
    store = files.context.store
    if kind == "file":
        store.checkout(digest, target, what=what)
        return
    target.mkdir()
    for entry in load_tree(files.context, digest, what).entries:
        dst = target / entry.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        store.checkout(entry.hash, dst, what=f"{what}/{entry.path}")
