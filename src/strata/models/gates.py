"""Promotion gates, from the config section ``[registry.gates.<stage>]``::

    [registry.gates.production]
    require_stage = "staging"          # must have been in Staging before
    require_data = true                # must name the data it was trained on (--data)
    min_metric.accuracy = 0.9          # a metric at least this value …
    min_metric.auc = "production"      # … or at least the current Production version's
    require_rollback_ready = true      # the version it replaces could be put back (artifact
                                       # intact, training data readable); else a warning

A promotion that fails gates is refused with the list of failures; ``--force`` with a reason
overrides, and the trail records which gates were overridden.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strata.errors import ConfigError
from strata.models.records import ModelVersion
from strata.refs import STAGES


def _true(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class Gates:
    require_stage: str | None = None
    require_data: bool = False
    min_metric: tuple[tuple[str, str], ...] = ()
    require_rollback_ready: bool = False

    @classmethod
    def from_config(cls, values: Mapping[str, str], stage: str) -> Gates:
        prefix = f"registry.gates.{stage}."
        mine = {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}
        required = mine.pop("require_stage", None)
        if required is not None and required.lower() not in STAGES:
            raise ConfigError(
                f"{prefix}require_stage: unknown stage {required!r}",
                hint=f"use one of {', '.join(STAGES)}",
            )
        data = _true(mine.pop("require_data", "false"))
        rollback_ready = _true(mine.pop("require_rollback_ready", "false"))
        metrics = tuple(
            (k.removeprefix("min_metric."), v)
            for k, v in sorted(mine.items())
            if k.startswith("min_metric.")
        )
        unknown = sorted(k for k in mine if not k.startswith("min_metric."))
        if unknown:
            raise ConfigError(
                f"unknown promotion gate {prefix}{unknown[0]}",
                hint="gates are require_stage, require_data, require_rollback_ready and "
                "min_metric.NAME",
            )
        for name, bound in metrics:
            if bound != "production":
                try:
                    float(bound)
                except ValueError:
                    raise ConfigError(
                        f"{prefix}min_metric.{name}: {bound!r} is not a number",
                        hint='give a number, or "production" for the current value',
                    ) from None
        return cls(required.lower() if required else None, data, metrics, rollback_ready)

    @property
    def configured(self) -> bool:
        return bool(self.require_stage or self.require_data or self.min_metric)

    def failures(
        self, version: ModelVersion, visited: set[str], production: ModelVersion | None
    ) -> list[str]:
        """Each gate ``version`` fails, as a phrase for the error message."""
        failed: list[str] = []
        if self.require_stage and self.require_stage not in visited:
            failed.append(f"never was in {self.require_stage}")
        if self.require_data and not version.data:
            failed.append("names no training data (--data)")
        for name, bound in self.min_metric:
            failed.extend(_metric_failure(version, name, bound, production))
        return failed


def _metric_failure(
    version: ModelVersion, name: str, bound: str, production: ModelVersion | None
) -> list[str]:
    value = version.metrics.get(name)
    if bound == "production":
        if production is None or production.number == version.number:
            return []
        floor = production.metrics.get(name)
        if floor is None:
            return []
        where = f"production version {production.number}'s {floor:g}"
    else:
        floor, where = float(bound), f"{float(bound):g}"
    if value is None:
        return [f"has no metric {name!r} (needs at least {where})"]
    if value < floor:
        return [f"{name} {value:g} is below {where}"]
    return []
