"""Lineage: runs, the graph of the versions they read and wrote, provenance, impact analysis,
comparison, reproduction, and OpenLineage events out and in.

Everything is recorded by ref (``table:deliveries@47``, ``run:01JD...``) in the metadata
database; other capabilities feed it through the ``Activity`` seam and the ``Resolver`` /
``Describer`` interfaces of ``strata.lineage.describe``.
"""

from strata.lineage.describe import Describer, Materializer, Resolver
from strata.lineage.records import Deployment, Edge, FeatureSet, RunRecord
from strata.lineage.runs import RUN_ID_ENV, AttachedActivity, Run
from strata.lineage.service import Lineage

__all__ = [
    "RUN_ID_ENV",
    "AttachedActivity",
    "Deployment",
    "Describer",
    "Edge",
    "FeatureSet",
    "Lineage",
    "Materializer",
    "Resolver",
    "Run",
    "RunRecord",
]
