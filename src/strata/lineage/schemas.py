"""The OpenLineage schemas shipped in this package, for validating events offline: the 2-0-2
spec (``OpenLineage.json``) and the facet schemas under ``facets/`` (Apache License 2.0, from
the OpenLineage project). The facet schemas ``$ref`` the spec by its URL; a ``referencing``
registry holding all of them resolves those references without a network.

A facet is validated against the schema shipped for its name where it appears (``run.facets``,
``job.facets``, a dataset's ``facets``, ``inputFacets``, ``outputFacets``); a facet with no
schema shipped (a custom one, such as Airflow's ``airflow`` facet) is taken as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

EVENT_KINDS = ("RunEvent", "DatasetEvent", "JobEvent")
# Where a facet schema applies, from the name of its class: the longest suffix first.
_PLACES = (
    ("InputDatasetFacet", "input"),
    ("OutputDatasetFacet", "output"),
    ("DatasetFacet", "dataset"),
    ("RunFacet", "run"),
    ("JobFacet", "job"),
)


def _spec() -> dict[str, Any]:
    text = resources.files("strata.lineage").joinpath("OpenLineage.json").read_text("utf-8")
    spec: dict[str, Any] = json.loads(text)
    return spec


def _facet_schemas() -> list[tuple[str, dict[str, Any]]]:
    """(file stem, schema) of every facet schema shipped."""
    folder = resources.files("strata.lineage").joinpath("facets")
    return [
        (entry.name.removesuffix(".json"), json.loads(entry.read_text("utf-8")))
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    ]


@cache
def _registry() -> Any:
    from referencing import Registry, Resource

    schemas = [_spec(), *(schema for _, schema in _facet_schemas())]
    return Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas
    )


@cache
def event_validator(kind: str) -> Any:
    """A jsonschema validator of one kind of event (RunEvent, DatasetEvent, JobEvent)."""
    import jsonschema  # type: ignore[import-untyped]

    schema = {"$ref": f"{_spec()['$id']}#/$defs/{kind}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry())


@cache
def _facet_validators() -> dict[tuple[str, str], Any]:
    """(place, facet name) → a validator of that facet."""
    import jsonschema

    found: dict[tuple[str, str], Any] = {}
    for stem, schema in _facet_schemas():
        place = next((p for suffix, p in _PLACES if stem.endswith(suffix)), None)
        if place is None:
            continue
        for name in schema.get("properties") or {}:
            ref = {"$ref": f"{schema['$id']}#/properties/{name}"}
            found[place, name] = jsonschema.Draft202012Validator(ref, registry=_registry())
    return found


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(place, name, where in the event, value) of every facet of a valid event."""

    def each(place: str, where: str, facets: Any) -> Iterator[tuple[str, str, str, Any]]:
        for name, value in (facets or {}).items():
            yield place, name, f"{where}.{name}", value

    yield from each("run", "run.facets", (event.get("run") or {}).get("facets"))
    yield from each("job", "job.facets", (event.get("job") or {}).get("facets"))
    if isinstance(event.get("dataset"), dict):
        yield from each("dataset", "dataset.facets", event["dataset"].get("facets"))
    sides = (("inputs", "inputFacets", "input"), ("outputs", "outputFacets", "output"))
    for side, extra, place in sides:
        for index, item in enumerate(event.get(side) or []):
            yield from each("dataset", f"{side}[{index}].facets", item.get("facets"))
            yield from each(place, f"{side}[{index}].{extra}", item.get(extra))


def facet_problem(event: dict[str, Any]) -> str | None:
    """Why the first invalid facet of ``event`` (valid against the spec) is invalid, or None."""
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    validators = _facet_validators()
    for place, name, where, value in _facets(event):
        validator = validators.get((place, name))
        if validator is None or (isinstance(value, dict) and value.get("_deleted") is True):
            continue
        error = best_match(validator.iter_errors(value))
        if error is not None:
            inside = "/".join(str(p) for p in error.absolute_path)
            at = f" at {inside}" if inside else ""
            return f"invalid facet {where}{at}: {error.message[:200]}"
    return None
