"""The model registry: versions, semantic versions, stages, aliases, gates and an audit trail.

Artifacts are content-addressed objects in the workspace's object store; everything else is
in the metadata database. ``ws.models`` is the entry point.
"""

from strata.models.records import Event, ModelSummary, ModelVersion, Resolved, Transition
from strata.models.registry import Registry
from strata.models.signature import infer as infer_signature

__all__ = [
    "Event",
    "ModelSummary",
    "ModelVersion",
    "Registry",
    "Resolved",
    "Transition",
    "infer_signature",
]
