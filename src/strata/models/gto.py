"""GTO's git tags, read as registry events (GTO keeps its registry in tags, nothing else):

- ``NAME@vX.Y.Z`` registers version X.Y.Z of artifact NAME at the tagged commit;
- ``NAME#STAGE#N`` assigns STAGE to the version registered at the same commit (the N-th
  assignment: the highest N of a stage is the current one).

Deregistrations and unassignments (``!``) and deprecations are named, not applied: the
registry's trail appends, so a migration keeps what happened and says what it left out.
GTO's stages are free names; ``prod``/``production`` and ``staging``/``stage`` become those
registry stages, any other becomes an alias of the same name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_REGISTER = re.compile(rf"(?P<name>{_NAME})@v(?P<semver>\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)")
_ASSIGN = re.compile(rf"(?P<name>{_NAME})#(?P<stage>[A-Za-z0-9_-]+)(?:#(?P<n>\d+))?")
_STAGES = {"prod": "production", "production": "production", "staging": "staging"}
_STAGES["stage"] = "staging"


@dataclass(frozen=True, slots=True)
class GtoTag:
    tag: str
    commit: str
    kind: Literal["register", "assign", "other"]
    name: str = ""
    semver: str = ""  # register
    stage: str = ""  # assign
    number: int = 0  # assign

    def to_dict(self) -> dict[str, object]:
        return {"tag": self.tag, "commit": self.commit, "kind": self.kind}


def parse_tag(tag: str, commit: str) -> GtoTag | None:
    """The GTO event a tag records; ``other`` for GTO tags not applied (``!``, deprecated),
    None for a tag that is not GTO's."""
    if _REGISTER.fullmatch(tag):
        found = _REGISTER.fullmatch(tag)
        assert found is not None
        return GtoTag(tag, commit, "register", found["name"], semver=found["semver"])
    assign = _ASSIGN.fullmatch(tag)
    if assign is not None and assign["stage"] != "deprecated":
        number = int(assign["n"] or 0)
        return GtoTag(tag, commit, "assign", assign["name"], stage=assign["stage"], number=number)
    if re.fullmatch(rf"{_NAME}(@v[^#]+!|#[A-Za-z0-9_-]+!(#\d+)?|@deprecated(#\d+)?)", tag):
        return GtoTag(tag, commit, "other", tag.split("@")[0].split("#")[0])
    return None


def registry_stage(stage: str) -> tuple[Literal["stage", "alias"], str]:
    """Where a GTO stage goes: a registry stage, or an alias of that name."""
    found = _STAGES.get(stage.lower())
    return ("stage", found) if found else ("alias", stage)


def current_assignments(tags: list[GtoTag]) -> list[GtoTag]:
    """The last assignment of each (artifact, stage), oldest stage first."""
    latest: dict[tuple[str, str], GtoTag] = {}
    for tag in sorted((t for t in tags if t.kind == "assign"), key=lambda t: t.number):
        latest[(tag.name, tag.stage)] = tag
    return sorted(latest.values(), key=lambda t: t.number)
