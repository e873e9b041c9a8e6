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
from collections.abc import Callable
from typing import TYPE_CHECKING

from strata.errors import GuardError

if TYPE_CHECKING:
    import pyarrow as pa

    from strata.guard.drift import Profile
    from strata.models import Registry
    from strata.models.records import Artifact
    from strata.objects import ObjectStore

PROFILE_TAG = "strata.reference_profile"


class ReferenceProfiles:
    """Profiles kept with model versions: in the object store, named by a version tag."""

    def __init__(
        self, registry: Registry, store: ObjectStore, read_data: Callable[[str], pa.Table]
    ) -> None:
        self._registry = registry
        self._store = store
        self._read_data = read_data  # a table ref or a data file, as Arrow

    def document(self, data: str, columns: list[str] | None = None) -> bytes:
        """The profile of ``data`` (a table version or a data file) as the JSON that is kept; it
        reads and checks everything before anything is written."""
        from strata.guard.drift import profile

        summary = profile(self._read_data(data), columns)
        return json.dumps({"data": data, **summary.to_json()}, sort_keys=True).encode()

    def keep(self, model: str, document: bytes) -> str:
        """Store a profile and tag model version ``model`` with it; returns the object hash."""
        version = self._registry.show(model)
        digest = self._store.add_bytes(document, what=f"reference profile of {version.ref}")
        source = json.loads(document).get("data", "?")
        self._registry.tag(
            version.ref, {PROFILE_TAG: digest}, reason=f"reference profile of {source}"
        )
        return digest

    def attach(self, model: str, data: str, *, columns: list[str] | None = None) -> str:
        """Profile ``data`` and keep it with model version ``model``; the object hash."""
        return self.keep(model, self.document(data, columns))

    def profile(self, model: str) -> Profile:
        """The profile kept with model version ``model``."""
        from strata.guard.drift import Profile

        version = self._registry.show(model)
        digest = version.tags.get(PROFILE_TAG)
        if digest is None:
            raise GuardError(
                f"{version.ref} has no reference profile",
                hint="attach one: strata model register … --reference-data REF, or "
                "strata drift --reference table:NAME@V",
            )
        raw = self._store.read_bytes(digest, what=f"reference profile of {version.ref}")
        return Profile.from_json(json.loads(raw))

    def objects(self) -> list[str]:
        """Every stored reference profile (gc keeps them; push sends them)."""
        return self._registry.tag_values(PROFILE_TAG)

    def as_artifacts(self) -> list[Artifact]:
        """The profiles as artifacts travel: fetch brings them as it brings models' (push
        sends what is cached)."""
        from strata.models.records import Artifact

        return [
            Artifact(digest, "file", f"reference-profile-{digest[:12]}", 0, 1)
            for digest in self.objects()
        ]
