"""Guard policies: the documented shape loads; every mistake names its line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from strata.errors import GuardError
from strata.guard import load_policy, parse_policy
from strata.guard.policy import parse_condition, parse_duration

ISSUE_EXAMPLE = """\
metrics:
  source: file            # file | http | prometheus
  path: metrics.json      # for file: {"delivery-delay-classifier": {"error_rate": 0.08, ...}}
models:
  delivery-delay-classifier:
    window: 30m
    when: any             # any | all
    conditions:
      - error_rate > 0.05
      - p99_latency_ms > 200
      - psi > 0.30
      - prediction_null_rate > 0.01
      - business_metric_decline > 0.15
    action: rollback      # rollback | alert
    cooldown: 1h
    alert:
      webhook: http://127.0.0.1:9000/hook
"""


def test_the_documented_policy_loads_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "guard.yaml"
    path.write_text(ISSUE_EXAMPLE)
    policy = load_policy(path)
    assert policy.source.kind == "file" and policy.source.path == "metrics.json"
    model = policy.models["delivery-delay-classifier"]
    assert model.window == timedelta(minutes=30)
    assert model.when == "any" and model.action == "rollback"
    assert model.cooldown == timedelta(hours=1)
    assert [str(c) for c in model.conditions] == [
        "error_rate > 0.05",
        "p99_latency_ms > 200",
        "psi > 0.3",
        "prediction_null_rate > 0.01",
        "business_metric_decline > 0.15",
    ]
    assert [c.line for c in model.conditions] == [9, 10, 11, 12, 13]
    assert model.alert.webhook == "http://127.0.0.1:9000/hook"
    assert model.on_missing == "skip"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("1h30m", timedelta(minutes=90)), ("2d", timedelta(days=2))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "5 minutes", "1w", "m5"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_conditions_compare_as_written() -> None:
    assert parse_condition("psi >= 0.3").holds(0.3)
    assert not parse_condition("psi > 0.3").holds(0.3)
    assert parse_condition("accuracy < 0.9").holds(0.8)


@pytest.mark.parametrize(
    ("replace", "by", "line", "words"),
    [
        ("      - psi > 0.30", "      - psi >> 0.30", 11, "not a condition"),
        ("      - psi > 0.30", "      - psi > high", 11, "not a number"),
        ("    window: 30m", "    window: thirty", 6, "not a duration"),
        ("    action: rollback", "    action: reboot", 14, "use one of rollback, alert"),
        ("    when: any", "    when: most", 7, "use one of any, all"),
        ("  source: file", "  source: kafka", 2, "use one of file, http, prometheus"),
        ("    cooldown: 1h", "    cooldwn: 1h", 15, "unknown key 'cooldwn'"),
        ("      webhook: http://127.0.0.1:9000/hook", "      webhook: ftp://x", 17, "http(s)"),
        ("  path: metrics.json", "  url: metrics.json", 2, "needs `path`"),
    ],
)
def test_mistakes_name_the_line(replace: str, by: str, line: int, words: str) -> None:
    assert replace in ISSUE_EXAMPLE
    with pytest.raises(GuardError) as caught:
        parse_policy(ISSUE_EXAMPLE.replace(replace, by), "guard.yaml")
    assert f"guard.yaml:{line}:" in caught.value.message
    assert words in caught.value.message


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(GuardError, match=r"guard.yaml:2: not valid YAML"):
        parse_policy("metrics:\n  source: file: x\n", "guard.yaml")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "the policy is empty"),
        ("metrics: {source: file, path: m.json}\n", "no `models` section"),
        ("metrics: {source: file, path: m.json}\nmodels: {}\n", "names no model"),
        (
            "metrics: {source: file, path: m.json}\nmodels:\n  m: {action: alert}\n",
            "no `conditions`",
        ),
        ("metrics: {source: file, path: m.json}\nmodels:\n  m: {conditions: []}\n", "non-empty"),
        (
            "metrics: {source: prometheus, url: 'http://p'}\nmodels:\n  m: {conditions: [a > 1]}\n",
            "needs `queries`",
        ),
    ],
)
def test_incomplete_policies_are_refused(text: str, words: str) -> None:
    with pytest.raises(GuardError, match=words):
        parse_policy(text)


def test_yaml_tags_are_refused_not_executed() -> None:
    text = ISSUE_EXAMPLE.replace("source: file ", "source: !!python/name:os.system ")
    with pytest.raises(GuardError, match=r"guard\.yaml:2: YAML tags are not allowed"):
        parse_policy(text, "guard.yaml")


def test_a_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GuardError, match="not found"):
        load_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("bomb", "fragment"),
    [
        ("models:\n  m:\n    conditions: " + "[" * 100_000 + "]" * 100_000, "nested more than"),
        ("x: &a [1, *a]\nmodels: {}\n", "contains itself"),
    ],
)
def test_a_yaml_bomb_in_a_policy_is_refused_naming_the_file(
    tmp_path: Path, bomb: str, fragment: str
) -> None:
    path = tmp_path / "guard.yaml"
    path.write_text(bomb)
    with pytest.raises(GuardError) as caught:
        load_policy(path)
    message = caught.value.message
    assert message.startswith(f"{path}: refused:") and fragment in message, message
    assert "\n" not in message
