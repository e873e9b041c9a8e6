"""Guard policies: which serving metrics, over which window, roll which model back.

A policy is YAML, loaded safely and checked completely on load; every error names the file
and line. The shape (``metrics`` then ``models``)::

    metrics:
      source: file            # file | http | prometheus
      path: metrics.json
    models:
      delivery-delay-classifier:
        window: 30m
        when: any             # any | all
        conditions:
          - error_rate > 0.05
          - p99_latency_ms > 200
        action: rollback      # rollback | alert
        cooldown: 1h
        on_missing: skip      # skip | breach: what a metric the source lacks counts as
        alert:
          webhook: http://127.0.0.1:9000/hook
          command: notify-oncall --severity high
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from strata.core import safe_yaml
from strata.errors import GuardError

if TYPE_CHECKING:
    from yaml import Node

SourceKind = Literal["file", "http", "prometheus"]
Action = Literal["rollback", "alert"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_CONDITION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*")
_DURATION = re.compile(r"(\d+)(s|m|h|d)")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_PLAIN_TAGS = {"map", "seq", "str", "int", "float", "bool", "null"}
_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Condition:
    """``metric OP threshold``, e.g. ``error_rate > 0.05``."""

    metric: str
    op: str
    threshold: float
    line: int = 0

    def holds(self, value: float) -> bool:
        return _OPERATORS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class AlertTargets:
    webhook: str | None = None
    command: str | None = None


@dataclass(frozen=True)
class MetricSourceSpec:
    """Where serving metrics come from; the fields a kind does not use stay None."""

    kind: SourceKind
    path: str | None = None
    url: str | None = None
    timeout: float = 5.0
    queries: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelPolicy:
    model: str
    window: timedelta
    when: Literal["any", "all"]
    conditions: tuple[Condition, ...]
    action: Action
    cooldown: timedelta
    on_missing: Literal["skip", "breach"]
    alert: AlertTargets
    line: int = 0


@dataclass(frozen=True)
class Policy:
    path: str
    source: MetricSourceSpec
    models: dict[str, ModelPolicy]


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``1h``, ``2d`` or a combination such as ``1h30m``."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise ValueError(f"{text!r} is not a duration; write e.g. 30s, 5m, 1h or 2d")
    total = timedelta()
    for amount, unit in _DURATION.findall(text):
        total += timedelta(**{_DURATION_UNITS[unit]: int(amount)})
    return total


def parse_condition(text: str, line: int = 0) -> Condition:
    match = _CONDITION.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a condition; write METRIC OP NUMBER, e.g. psi > 0.3")
    metric, op, number = match.groups()
    try:
        threshold = float(number)
    except ValueError:
        raise ValueError(f"{number!r} in {text!r} is not a number") from None
    return Condition(metric, op, threshold, line)


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy file; raises GuardError naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuardError(
            f"policy file {path} not found", hint="pass the path of a guard policy YAML file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuardError(f"cannot read policy file {path}: {exc}") from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, source_name: str = "<policy>") -> Policy:
    import yaml

    try:
        root = safe_yaml.compose(text)
    except safe_yaml.YamlTooLarge as exc:
        raise GuardError(f"{source_name}: refused: {exc}", hint="fix the guard policy") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source_name}:{mark.line + 1}" if mark else source_name
        problem = getattr(exc, "problem", None) or str(exc)
        raise GuardError(
            f"{where}: not valid YAML: {problem}", hint="fix the policy file's syntax"
        ) from None
    return _Reader(source_name).policy(root)


class _Reader:
    """Walks the YAML node tree, so that every problem can name its line."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def fail(self, node: Node | None, problem: str) -> GuardError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return GuardError(f"{self.source_name}{line}: {problem}", hint="fix the guard policy")

    def check_tag(self, node: Node) -> None:
        """Only YAML's plain types: a ``!!python/...`` or custom tag is refused, not resolved."""
        if not node.tag.startswith("tag:yaml.org,2002:") or "python" in node.tag:
            raise self.fail(node, f"YAML tags are not allowed here ({node.tag})")
        if node.tag.rsplit(":", 1)[-1] not in _PLAIN_TAGS:
            raise self.fail(node, f"YAML tags are not allowed here ({node.tag})")

    def mapping(self, node: Node | None, what: str) -> dict[str, Node]:
        import yaml

        if node is not None:
            self.check_tag(node)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        result: dict[str, Node] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"keys in {what} must be plain names")
            if key.value in result:
                raise self.fail(key, f"{key.value!r} appears twice in {what}")
            result[key.value] = value
        return result

    def scalar(self, node: Node, what: str) -> str:
        import yaml

        self.check_tag(node)
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, f"{what} must be a single value")
        return str(node.value)

    def only(self, fields: dict[str, Node], allowed: set[str], what: str) -> None:
        for name, value in fields.items():
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(value, f"unknown key {name!r} in {what} (known: {known})")

    def choice(self, node: Node, what: str, options: tuple[str, ...]) -> str:
        value = self.scalar(node, what)
        if value not in options:
            raise self.fail(node, f"{what} is {value!r}; use one of {', '.join(options)}")
        return value

    def duration(self, node: Node, what: str) -> timedelta:
        try:
            return parse_duration(self.scalar(node, what))
        except ValueError as exc:
            raise self.fail(node, f"{what}: {exc}") from None

    def policy(self, root: Node | None) -> Policy:
        if root is None:
            raise self.fail(None, "the policy is empty; it needs `metrics` and `models`")
        top = self.mapping(root, "the policy")
        self.only(top, {"metrics", "models"}, "the policy")
        for required in ("metrics", "models"):
            if required not in top:
                raise self.fail(root, f"the policy has no `{required}` section")
        source = self.source(top["metrics"])
        models_node = self.mapping(top["models"], "`models`")
        if not models_node:
            raise self.fail(top["models"], "`models` names no model")
        models = {name: self.model(name, node) for name, node in models_node.items()}
        return Policy(self.source_name, source, models)

    def source(self, node: Node) -> MetricSourceSpec:
        fields = self.mapping(node, "`metrics`")
        self.only(fields, {"source", "path", "url", "timeout", "queries"}, "`metrics`")
        if "source" not in fields:
            raise self.fail(node, "`metrics` needs `source: file`, `http` or `prometheus`")
        kind = self.choice(fields["source"], "metrics source", ("file", "http", "prometheus"))
        timeout = 5.0
        if "timeout" in fields:
            try:
                timeout = parse_duration(self.scalar(fields["timeout"], "timeout")).total_seconds()
            except ValueError as exc:
                raise self.fail(fields["timeout"], f"timeout: {exc}") from None
        needed = "path" if kind == "file" else "url"
        if needed not in fields:
            raise self.fail(node, f"a {kind} metrics source needs `{needed}`")
        queries: dict[str, str] = {}
        if "queries" in fields:
            if kind != "prometheus":
                raise self.fail(fields["queries"], "`queries` applies to a prometheus source")
            for metric, query in self.mapping(fields["queries"], "`queries`").items():
                if not _METRIC_NAME.fullmatch(metric):
                    raise self.fail(query, f"{metric!r} is not a metric name")
                queries[metric] = self.scalar(query, f"the query for {metric}")
        if kind == "prometheus" and not queries:
            raise self.fail(node, "a prometheus source needs `queries`: metric name → PromQL")
        value = self.scalar(fields[needed], needed)
        if kind != "file" and not value.startswith(("http://", "https://")):
            raise self.fail(fields[needed], f"url {value!r} must start with http:// or https://")
        return MetricSourceSpec(
            kind=kind,  # type: ignore[arg-type]
            path=value if kind == "file" else None,
            url=value if kind != "file" else None,
            timeout=timeout,
            queries=queries,
        )

    def model(self, name: str, node: Node) -> ModelPolicy:
        what = f"model {name!r}"
        fields = self.mapping(node, what)
        allowed = {"window", "when", "conditions", "action", "cooldown", "on_missing", "alert"}
        self.only(fields, allowed, what)
        if "conditions" not in fields:
            raise self.fail(node, f"{what} has no `conditions`")
        conditions = self.conditions(fields["conditions"], what)
        alert = self.alert(fields["alert"]) if "alert" in fields else AlertTargets()
        return ModelPolicy(
            model=name,
            window=self.duration(fields["window"], "window") if "window" in fields else _30_MIN,
            when=self.choice(fields["when"], "when", ("any", "all"))  # type: ignore[arg-type]
            if "when" in fields
            else "any",
            conditions=conditions,
            action=self.choice(fields["action"], "action", ("rollback", "alert"))  # type: ignore[arg-type]
            if "action" in fields
            else "alert",
            cooldown=self.duration(fields["cooldown"], "cooldown")
            if "cooldown" in fields
            else _1_HOUR,
            on_missing=self.choice(fields["on_missing"], "on_missing", ("skip", "breach"))  # type: ignore[arg-type]
            if "on_missing" in fields
            else "skip",
            alert=alert,
            line=node.start_mark.line + 1,
        )

    def conditions(self, node: Node, what: str) -> tuple[Condition, ...]:
        import yaml

        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"`conditions` of {what} must be a non-empty list")
        result = []
        for item in node.value:
            text = self.scalar(item, "a condition")
            try:
                result.append(parse_condition(text, item.start_mark.line + 1))
            except ValueError as exc:
                raise self.fail(item, str(exc)) from None
        return tuple(result)

    def alert(self, node: Node) -> AlertTargets:
        fields = self.mapping(node, "`alert`")
        self.only(fields, {"webhook", "command"}, "`alert`")
        webhook = self.scalar(fields["webhook"], "webhook") if "webhook" in fields else None
        if webhook is not None and not webhook.startswith(("http://", "https://")):
            raise self.fail(fields["webhook"], f"webhook {webhook!r} must be an http(s) URL")
        command = self.scalar(fields["command"], "command") if "command" in fields else None
        return AlertTargets(webhook, command)


_30_MIN = timedelta(minutes=30)
_1_HOUR = timedelta(hours=1)
