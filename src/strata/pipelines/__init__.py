"""Pipelines: ``strata.yaml`` stages, their graph, ``strata.lock``, the run cache, and the
metrics, params and plots that stages write.

Running stages needs files, tables, models and lineage together, so it lives a layer up, in
``strata.pipelines.repro``; this package holds what can be decided from the files alone.
"""

from strata.pipelines.changes import reasons as change_reasons
from strata.pipelines.datafiles import flatten, load_data, lookup, numbers
from strata.pipelines.graph import StageGraph
from strata.pipelines.lock import Lockfile, OutState, StageState
from strata.pipelines.parse import Reader, parse_pipeline
from strata.pipelines.runcache import RunCache, run_key
from strata.pipelines.spec import (
    LOCK_FILE,
    PARAMS_FILE,
    PIPELINE_FILE,
    ParamKey,
    Pipeline,
    PlotSpec,
    Stage,
    is_ref,
)

__all__ = [
    "LOCK_FILE",
    "PARAMS_FILE",
    "PIPELINE_FILE",
    "Lockfile",
    "OutState",
    "ParamKey",
    "Pipeline",
    "PlotSpec",
    "Reader",
    "RunCache",
    "Stage",
    "StageGraph",
    "StageState",
    "change_reasons",
    "flatten",
    "is_ref",
    "load_data",
    "lookup",
    "numbers",
    "parse_pipeline",
    "run_key",
]
