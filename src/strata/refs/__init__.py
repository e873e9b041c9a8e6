"""Refs: the one way Strata names a versioned thing, ``KIND:NAME@SELECTOR``.

One parser (``parse_ref``), one formatter (``format_ref``); every other module uses these.

    ref       = KIND ":" NAME [ "@" SELECTOR ]

    kind      name                         selector
    file      relative POSIX path          git revision or content-hash prefix (split at first @)
    table     [A-Za-z0-9][A-Za-z0-9._-]*   N | ISO-TIMESTAMP | A..B | latest
    model     [A-Za-z0-9][A-Za-z0-9._-]*   N | vX.Y.Z[-PRE] | STAGE | ALIAS | latest
    features  [A-Za-z0-9][A-Za-z0-9._-]*   N | latest
    run       [A-Za-z0-9][A-Za-z0-9_-]*    (none)
    release   [A-Za-z0-9][A-Za-z0-9._-]*   (none)
    dataset   NAMESPACE/NAME               its OpenLineage version (datasetVersion)

A dataset is one OpenLineage names (ingested from Spark, Airflow, dbt...): how its namespace
and name make one ref name, and are read back apart, is in ``strata.refs.names``.

    STAGE = none | staging | production | archived        (any case on input)
    ALIAS = [A-Za-z][A-Za-z0-9_-]*, not a stage and not "latest"
    A, B  = N | ISO-TIMESTAMP

MLflow model URIs are accepted as input and parse to model refs:
``models:/NAME/3``, ``models:/NAME/Production``, ``models:/NAME/latest``, ``models:/NAME@ALIAS``.

The package's modules: ``selectors`` (the value objects after ``@``), ``ref`` (``Ref``, the kinds,
the names each allows, ``format_ref``), ``selector_parsing`` and ``mlflow`` (reading selectors
and MLflow URIs), ``parsing`` (``parse_ref``, ``parse_selector``) and ``names`` (paths and
datasets). Import from ``strata.refs``: its ``__all__`` is the public surface.

Formatting gives the canonical form: lowercase stages and ``latest``, semvers with a leading
``v``, timestamps as ``datetime.isoformat()`` (so a ``Z`` suffix comes back as ``+00:00``).
"""

from __future__ import annotations

from strata.refs.names import MAX_PATH_LENGTH, dataset_name, split_dataset_name
from strata.refs.parsing import parse_ref, parse_selector
from strata.refs.ref import KINDS, Kind, Ref, format_ref
from strata.refs.selectors import (
    MAX_NAME_LENGTH,
    MAX_NUMBER,
    STAGES,
    Alias,
    Latest,
    Revision,
    Selector,
    SemVer,
    Stage,
    StageName,
    Timestamp,
    Version,
    VersionRange,
)

__all__ = [
    "KINDS",
    "MAX_NAME_LENGTH",
    "MAX_NUMBER",
    "MAX_PATH_LENGTH",
    "STAGES",
    "Alias",
    "Kind",
    "Latest",
    "Ref",
    "Revision",
    "Selector",
    "SemVer",
    "Stage",
    "StageName",
    "Timestamp",
    "Version",
    "VersionRange",
    "dataset_name",
    "format_ref",
    "parse_ref",
    "parse_selector",
    "split_dataset_name",
]
