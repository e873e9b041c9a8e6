"""GTO's tag names read as registry events."""

from __future__ import annotations

from strata.models.gto import current_assignments, parse_tag, registry_stage


def test_registrations_assignments_and_the_rest() -> None:
    reg = parse_tag("clf@v1.2.0", "c1")
    assert reg is not None and (reg.kind, reg.name, reg.semver) == ("register", "clf", "1.2.0")
    assign = parse_tag("clf#prod#3", "c1")
    assert assign is not None and (assign.kind, assign.stage, assign.number) == (
        "assign",
        "prod",
        3,
    )
    for not_applied in ("clf@v1.2.0!", "clf#prod!#4", "clf@deprecated#5"):
        found = parse_tag(not_applied, "c1")
        assert found is not None and found.kind == "other", not_applied
    assert parse_tag("v1.0", "c1") is None and parse_tag("release-2024", "c1") is None


def test_the_latest_assignment_of_each_stage_wins_and_stages_map() -> None:
    tags = [parse_tag(t, c) for t, c in (("m#prod#1", "a"), ("m#prod#3", "b"), ("m#dev#2", "a"))]
    latest = current_assignments([t for t in tags if t is not None])
    assert [(t.stage, t.commit) for t in latest] == [("dev", "a"), ("prod", "b")]
    assert registry_stage("prod") == ("stage", "production")
    assert registry_stage("Staging") == ("stage", "staging")
    assert registry_stage("shadow") == ("alias", "shadow")
