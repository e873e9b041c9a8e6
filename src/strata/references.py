"""Reference distributions kept with a model version, so that a serving-side drift check
needs no access to the training table.

The profile (quantile edges and shares per column, see ``strata.guard.drift``) is stored as a
small JSON object in the cache, and the model version is tagged with its hash
(``strata.reference_profile``), so the trail records when it was attached and by whom; gc
keeps it, and it travels with ``strata push`` like the artifact.

    strata model register delay-classifier model.json --reference-data table:deliveries@47
    strata drift --reference model:delay-classifier@production --current today.parquet
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from strata.errors import GuardError

if TYPE_CHECKING:
    from strata.guard.drift import Profile
    from strata.workspace import Workspace

PROFILE_TAG = "strata.reference_profile"


def reference_document(ws: Workspace, data: str, columns: list[str] | None = None) -> bytes:
    """The profile of ``data`` (a table version or a data file) as the JSON that is kept; it
    reads and checks everything before anything is written."""
    from strata.guard.drift import profile

    summary = profile(ws.read_data(data), columns)
    return json.dumps({"data": data, **summary.to_json()}, sort_keys=True).encode()


def keep_reference(ws: Workspace, model: str, document: bytes) -> str:
    """Store a profile and tag model version ``model`` with it; returns the object hash."""
    version = ws.models.show(model)
    digest = ws.store.add_bytes(document, what=f"reference profile of {version.ref}")
    source = json.loads(document).get("data", "?")
    ws.models.tag(version.ref, {PROFILE_TAG: digest}, reason=f"reference profile of {source}")
    return digest


def attach_reference(
    ws: Workspace, model: str, data: str, *, columns: list[str] | None = None
) -> str:
    """Profile ``data`` and keep it with model version ``model``; the object hash."""
    return keep_reference(ws, model, reference_document(ws, data, columns))


def reference_profile(ws: Workspace, model: str) -> Profile:
    """The profile kept with model version ``model``."""
    from strata.guard.drift import Profile

    version = ws.models.show(model)
    digest = version.tags.get(PROFILE_TAG)
    if digest is None:
        raise GuardError(
            f"{version.ref} has no reference profile",
            hint="attach one: strata model register … --reference-data REF, or "
            "strata drift --reference table:NAME@V",
        )
    raw = ws.store.read_bytes(digest, what=f"reference profile of {version.ref}")
    return Profile.from_json(json.loads(raw))


def profile_objects(ws: Workspace) -> list[str]:
    """Every stored reference profile (gc keeps them; push sends them)."""
    return ws.models.tag_values(PROFILE_TAG)
