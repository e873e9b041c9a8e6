"""Metric sources: a JSON file, an HTTP endpoint returning JSON, or Prometheus' query API.

Each returns the latest value of each metric a model's conditions name. A source that cannot
be read, times out or returns something that is not the expected JSON raises
MetricSourceError; a metric the source simply lacks is left out of the result, and the policy
decides what that means (``on_missing``).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from strata.errors import MetricSourceError
from strata.guard.policy import MetricSourceSpec


class MetricSource(Protocol):
    def read(self, model: str, metrics: Iterable[str], window: timedelta) -> dict[str, float]:
        """The current value of each of ``metrics`` for ``model`` that the source has."""
        ...


def open_source(spec: MetricSourceSpec, base: Path) -> MetricSource:
    """The source a policy names; a relative file path is taken from ``base``."""
    if spec.kind == "file":
        assert spec.path is not None
        return FileSource(base / spec.path)
    assert spec.url is not None
    if spec.kind == "http":
        return HttpSource(spec.url, spec.timeout)
    return PrometheusSource(spec.url, spec.queries, spec.timeout)


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MetricSourceError(f"{where} is {value!r}, not a number")
    try:
        number = float(value)
    except ValueError:
        raise MetricSourceError(f"{where} is {value!r}, not a number") from None
    if math.isnan(number):
        raise MetricSourceError(f"{where} is NaN")
    return number


def _pick(document: object, origin: str, model: str, metrics: Iterable[str]) -> dict[str, float]:
    """From ``{"model": {"metric": value}}``, the model's metrics that are present."""
    if not isinstance(document, dict):
        raise MetricSourceError(f"{origin} holds {type(document).__name__}, not a JSON object")
    values = document.get(model)
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise MetricSourceError(f"{origin}: the entry for {model} is not a JSON object")
    return {
        name: _number(values[name], f"{origin}: {model}.{name}")
        for name in metrics
        if name in values
    }


def _load_json(raw: bytes, origin: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MetricSourceError(f"{origin} did not return JSON") from None


def _get(url: str, timeout: float, origin: str) -> bytes:
    """GET ``url``; every failure is a MetricSourceError naming ``origin``."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        with exc:
            detail = _error_detail(exc)
        raise MetricSourceError(f"{origin} answered HTTP {exc.code}{detail}") from None
    except TimeoutError:
        raise MetricSourceError(f"{origin} did not answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise MetricSourceError(f"{origin} did not answer within {timeout:g} s") from None
        raise MetricSourceError(f"cannot reach {origin}: {reason}") from None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The ``error`` field of a JSON error body (Prometheus sends one), if any."""
    try:
        document = json.loads(exc.read(64 * 1024))
    except (ValueError, OSError):
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return f": {error}" if isinstance(error, str) else ""


class FileSource:
    """A JSON file: ``{"model-name": {"error_rate": 0.08, ...}}``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, model: str, metrics: Iterable[str], window: timedelta) -> dict[str, float]:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise MetricSourceError(
                f"cannot read metrics file {self.path}: {exc.strerror}"
            ) from None
        return _pick(_load_json(raw, str(self.path)), str(self.path), model, metrics)


class HttpSource:
    """An HTTP endpoint answering GET with the same JSON as the file source."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout

    def read(self, model: str, metrics: Iterable[str], window: timedelta) -> dict[str, float]:
        raw = _get(self.url, self.timeout, self.url)
        return _pick(_load_json(raw, self.url), self.url, model, metrics)


def prometheus_duration(window: timedelta) -> str:
    return f"{int(window.total_seconds())}s"


class PrometheusSource:
    """Prometheus' instant query API: one PromQL query per metric.

    Queries may use ``{model}`` and ``{window}``; ``{window}`` becomes the policy's window as a
    Prometheus duration, e.g. ``rate(errors_total{{model="{model}"}}[{window}])``. Braces that
    belong to PromQL are doubled, as in Python's ``str.format``.
    """

    def __init__(self, url: str, queries: dict[str, str], timeout: float) -> None:
        self.url = url.rstrip("/")
        self.queries = queries
        self.timeout = timeout

    def read(self, model: str, metrics: Iterable[str], window: timedelta) -> dict[str, float]:
        values: dict[str, float] = {}
        for metric in metrics:
            template = self.queries.get(metric)
            if template is None:
                continue
            try:
                query = template.format(model=model, window=prometheus_duration(window))
            except (KeyError, IndexError, ValueError) as exc:
                raise MetricSourceError(
                    f"the prometheus query for {metric} is not a valid template: {exc}"
                ) from None
            value = self._query(query, metric)
            if value is not None:
                values[metric] = value
        return values

    def _query(self, query: str, metric: str) -> float | None:
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
        origin = f"prometheus at {self.url} (query for {metric})"
        document = _load_json(_get(url, self.timeout, origin), origin)
        if not isinstance(document, dict) or document.get("status") != "success":
            error = document.get("error") if isinstance(document, dict) else None
            raise MetricSourceError(f"prometheus refused the query for {metric}: {error}")
        data = document.get("data")
        if not isinstance(data, dict):
            raise MetricSourceError(f"prometheus answered {metric} without data")
        result = data.get("result")
        if data.get("resultType") == "scalar" and isinstance(result, list) and len(result) == 2:
            return _number(result[1], f"prometheus {metric}")
        if data.get("resultType") != "vector" or not isinstance(result, list):
            raise MetricSourceError(f"prometheus answered {metric} with {data.get('resultType')}")
        if not result:
            return None
        sample = result[0]
        if not isinstance(sample, dict) or not isinstance(sample.get("value"), list):
            raise MetricSourceError(f"prometheus answered {metric} with a malformed sample")
        return _number(sample["value"][1], f"prometheus {metric}")
