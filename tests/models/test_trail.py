"""The audit trail: history, where a ref pointed at an instant, rollback, promotion gates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from factories import WorkspaceFactory
from registry_helpers import artifact
from strata import Workspace
from strata.config import set_value
from strata.errors import ConfigError, PromotionRefusedError, RegistryError, UserInputError
from strata.models import Registry

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock that moves one hour per reading, so each change has its own instant."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


@pytest.fixture
def reg(db_ws: Workspace) -> Iterator[Registry]:
    registry = Registry(db_ws.db, db_ws.store, db_ws.config, git=db_ws.git, clock=Clock())
    for content in ("1", "2", "3", "4"):
        registry.register("clf", artifact(db_ws.root, content), metrics={"auc": 0.8})
    yield registry


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_history_holds_every_change_in_order_with_who_and_why(reg: Registry) -> None:
    reg.promote("model:clf@1", "production", reason="first")
    reg.set_alias("model:clf@1", "champion")
    reg.promote("model:clf@2", "production", reason="better")
    trail = [(e.action, e.version, e.from_value, e.to_value, e.reason) for e in reg.history("clf")]
    assert trail == [
        ("registered", 1, None, "v1.0.0", None),
        ("registered", 2, None, "v1.1.0", None),
        ("registered", 3, None, "v1.2.0", None),
        ("registered", 4, None, "v1.3.0", None),
        ("stage", 1, "none", "production", "first"),
        ("alias", 1, None, "1", None),
        ("stage", 2, "none", "production", "better"),
        ("stage", 1, "production", "archived", "replaced by version 2"),
    ]
    assert {e.actor for e in reg.history("clf")} == {"Strata Tests <tests@strata.invalid>"}
    assert [e.id for e in reg.history("clf")] == sorted(e.id for e in reg.history("clf"))


def test_a_new_or_removed_tag_or_description_reads_none_or_removed(reg: Registry) -> None:
    reg.tag("model:clf@1", {"reviewed": "yes"})
    reg.tag("model:clf@1", remove=["reviewed"])
    reg.describe("model:clf", "Minutes of delay")
    lines = [e.describe() for e in reg.history("clf")][-3:]
    assert lines == [
        "v1 tag reviewed: none → yes",
        "v1 tag reviewed: yes → removed",
        "model description: none → 'Minutes of delay'",
    ]


def test_resolve_at_an_instant_answers_from_the_trail(reg: Registry) -> None:
    # registrations took hours 1-4; these changes happen at hours 5, 6, 7 and 8
    reg.promote("model:clf@1", "production")
    reg.promote("model:clf@3", "production")
    reg.set_alias("model:clf@2", "champion")
    reg.remove_alias("clf", "champion")
    production, champion = "model:clf@production", "model:clf@champion"
    assert reg.resolve(production, at=at(5.5)).number == 1
    assert reg.resolve(production, at=at(6.5)).number == 3
    assert reg.resolve(champion, at=at(7.5)).number == 2
    assert reg.resolve("model:clf@latest", at=at(2.5)).number == 2
    assert reg.resolve("model:clf@v1.2.0", at=at(3.5)).number == 3
    for ref, instant in ((production, at(4.5)), (champion, at(8.5)), ("model:clf@4", at(3.5))):
        with pytest.raises(RegistryError, match="names no version at"):
            reg.resolve(ref, at=instant)


def test_rollback_puts_back_the_previous_holder_from_the_trail(reg: Registry) -> None:
    reg.promote("model:clf@1", "production")
    reg.promote("model:clf@3", "production")
    reg.promote("model:clf@2", "staging")
    result = reg.rollback("clf", reason="latency regression")
    assert reg.resolve("model:clf@production").number == 1, "not version minus one"
    assert {v.number: v.stage for v in reg.versions("clf")} == {
        1: "production",
        2: "staging",
        3: "archived",
        4: "none",
    }
    assert [(e.version, e.from_value, e.to_value, e.reason) for e in result.events] == [
        (1, "archived", "production", "latency regression"),
        (3, "production", "archived", "latency regression"),
    ]


def test_a_second_rollback_goes_further_back_only_by_the_trail(reg: Registry) -> None:
    for number in (1, 2, 3):
        reg.promote(f"model:clf@{number}", "production")
    reg.rollback("clf")  # 3 → 2
    assert reg.resolve("model:clf@production").number == 2
    reg.rollback("clf")  # 3 held production just before 2 came back
    assert reg.resolve("model:clf@production").number == 3


def test_rollback_to_a_named_version(reg: Registry) -> None:
    reg.promote("model:clf@1", "production")
    reg.promote("model:clf@2", "production")
    reg.rollback("clf", to=4)
    assert reg.resolve("model:clf@production").number == 4
    assert reg.show("model:clf@2").stage == "archived"


@pytest.mark.parametrize(
    ("setup", "to", "message"),
    [
        ((), None, "no version in production"),
        ((1,), None, "no version of 'clf' held production before"),
        ((1,), "1", "in production already"),
        ((1,), "9", "names no version"),
    ],
)
def test_a_rollback_that_cannot_be_done_changes_nothing(
    reg: Registry, setup: tuple[int, ...], to: str | None, message: str
) -> None:
    for number in setup:
        reg.promote(f"model:clf@{number}", "production")
    before = reg.history("clf")
    with pytest.raises(RegistryError, match=message):
        reg.rollback("clf", to=to)
    assert reg.history("clf") == before


def _gates(make_workspace: WorkspaceFactory, ws: Workspace, **values: str) -> Registry:
    """The registry of ``ws`` reopened with these production gates configured."""
    for key, value in values.items():
        set_value(ws.root, f"registry.gates.production.{key}", value)
    return make_workspace.open(ws.root).models


def test_promotion_gates_refuse_with_every_failure_listed(
    make_workspace: WorkspaceFactory, ws: Workspace
) -> None:
    import pyarrow as pa

    ws.tables.create("d", pa.table({"x": [1]}))
    ws.models.register("clf", artifact(ws.root, "1"), metrics={"auc": 0.95}, data=["table:d@0"])
    ws.models.register("clf", artifact(ws.root, "2"), metrics={"auc": 0.85})
    reg = _gates(
        make_workspace,
        ws,
        require_stage="staging",
        require_data="true",
        **{"min_metric.auc": "production"},
    )
    reg.promote("model:clf@1", "staging")
    reg.promote("model:clf@1", "production")
    with pytest.raises(PromotionRefusedError) as refused:
        reg.promote("model:clf@2", "production")
    assert refused.value.message == (
        "promoting model:clf@2 to production failed 3 gate(s): never was in staging; "
        "names no training data (--data); auc 0.85 is below production version 1's 0.95"
    )
    assert reg.resolve("model:clf@production").number == 1
    assert len(reg.history("clf")) == 4


def test_a_metric_threshold_gate(make_workspace: WorkspaceFactory, ws: Workspace) -> None:
    ws.models.register("clf", artifact(ws.root, "1"), metrics={"auc": 0.85})
    ws.models.register("clf", artifact(ws.root, "2"))
    reg = _gates(make_workspace, ws, **{"min_metric.auc": "0.9"})
    with pytest.raises(PromotionRefusedError, match=r"auc 0\.85 is below 0\.9"):
        reg.promote("model:clf@1", "production")
    with pytest.raises(PromotionRefusedError, match="has no metric 'auc'"):
        reg.promote("model:clf@2", "production")
    reg.promote("model:clf@1", "staging")  # no gates configured for staging
    assert reg.show("model:clf@1").stage == "staging"


def test_force_with_a_reason_overrides_gates_and_is_recorded(
    make_workspace: WorkspaceFactory, ws: Workspace
) -> None:
    ws.models.register("clf", artifact(ws.root, "1"))
    reg = _gates(make_workspace, ws, require_stage="staging")
    with pytest.raises(UserInputError, match="needs --reason"):
        reg.promote("model:clf@1", "production", force=True)
    result = reg.promote("model:clf@1", "production", force=True, reason="hotfix, CAB-7")
    [event] = result.events
    assert (event.forced, event.reason) == (True, "hotfix, CAB-7")
    assert event.detail == {"overridden_gates": ["never was in staging"]}


def test_a_bad_gate_setting_is_a_config_error(
    make_workspace: WorkspaceFactory, ws: Workspace
) -> None:
    ws.models.register("clf", artifact(ws.root, "1"))
    reg = _gates(make_workspace, ws, require_stage="qa")
    with pytest.raises(ConfigError, match="unknown stage 'qa'"):
        reg.promote("model:clf@1", "production")


def test_the_rollback_ready_gate_holds_beside_other_gates(
    make_workspace: WorkspaceFactory, ws: Workspace
) -> None:
    for n in ("1", "2", "3"):
        ws.models.register("clf", artifact(ws.root, n))
    for n in (1, 2):
        ws.models.promote(f"model:clf@{n}", "staging")
        ws.models.promote(f"model:clf@{n}", "production")
    ws.models.promote("model:clf@3", "staging")
    ws.store.remove(ws.models.show("model:clf@2").artifact_hash)
    reg = _gates(make_workspace, ws, require_stage="staging", require_rollback_ready="true")
    with pytest.raises(PromotionRefusedError, match="a rollback from it would not work"):
        reg.promote("model:clf@3", "production")
    assert reg.resolve("model:clf@production").number == 2
