"""Metric sources, each against the real thing: a file, a loopback HTTP server, Prometheus."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import free_port
from strata.errors import MetricSourceError
from strata.guard.policy import MetricSourceSpec
from strata.guard.sources import FileSource, HttpSource, PrometheusSource, open_source

MODEL = "delivery-delay-classifier"
WINDOW = timedelta(minutes=30)


def test_file_source_reads_the_models_metrics(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(
        json.dumps({MODEL: {"error_rate": 0.08, "psi": "0.4"}, "other": {"error_rate": 1}})
    )
    source = open_source(MetricSourceSpec("file", path="metrics.json"), tmp_path)
    assert source.read(MODEL, ["error_rate", "psi", "p99_latency_ms"], WINDOW) == {
        "error_rate": 0.08,
        "psi": 0.4,
    }
    assert source.read("unknown-model", ["error_rate"], WINDOW) == {}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"not json", "did not return JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({MODEL: [1]}).encode(), "not a JSON object"),
        (json.dumps({MODEL: {"error_rate": "high"}}).encode(), "not a number"),
        (json.dumps({MODEL: {"error_rate": True}}).encode(), "not a number"),
        (json.dumps({MODEL: {"error_rate": "nan"}}).encode(), "NaN"),
    ],
)
def test_file_source_refuses_garbage(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "metrics.json"
    path.write_bytes(content)
    with pytest.raises(MetricSourceError, match=words):
        FileSource(path).read(MODEL, ["error_rate"], WINDOW)


def test_a_missing_metrics_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(MetricSourceError, match="cannot read metrics file"):
        FileSource(tmp_path / "gone.json").read(MODEL, ["error_rate"], WINDOW)


def test_http_source_reads_json(json_endpoint: Any) -> None:
    json_endpoint.set_json({MODEL: {"error_rate": 0.02}})
    assert HttpSource(json_endpoint.url, 2).read(MODEL, ["error_rate"], WINDOW) == {
        "error_rate": 0.02
    }


def test_http_source_that_times_out_is_a_clear_error(json_endpoint: Any) -> None:
    json_endpoint.delay = 1.0
    with pytest.raises(MetricSourceError, match=r"did not answer within 0\.2 s"):
        HttpSource(json_endpoint.url, 0.2).read(MODEL, ["error_rate"], WINDOW)


def test_http_source_error_status_and_garbage(json_endpoint: Any) -> None:
    json_endpoint.status = 503
    with pytest.raises(MetricSourceError, match="HTTP 503"):
        HttpSource(json_endpoint.url, 2).read(MODEL, ["error_rate"], WINDOW)
    json_endpoint.status = 200
    json_endpoint.body = b"<html>oops</html>"
    with pytest.raises(MetricSourceError, match="did not return JSON"):
        HttpSource(json_endpoint.url, 2).read(MODEL, ["error_rate"], WINDOW)


def test_unreachable_http_source() -> None:
    url = f"http://127.0.0.1:{free_port()}/metrics"
    with pytest.raises(MetricSourceError, match="cannot reach"):
        HttpSource(url, 1).read(MODEL, ["error_rate"], WINDOW)


@pytest.mark.slow
def test_prometheus_source_reads_a_scraped_gauge(prometheus: Any) -> None:
    prometheus.gauges.labels(model=MODEL).set(0.07)
    prometheus.wait_for(f'serving_error_rate{{model="{MODEL}"}}', 0.07)
    source = PrometheusSource(
        prometheus.url,
        {
            "error_rate": 'max_over_time(serving_error_rate{{model="{model}"}}[{window}])',
            "p99_latency_ms": 'serving_latency_p99{{model="{model}"}}',
        },
        timeout=5,
    )
    # the latency series does not exist: it is missing, not zero
    assert source.read(MODEL, ["error_rate", "p99_latency_ms"], WINDOW) == {"error_rate": 0.07}


@pytest.mark.slow
def test_prometheus_refuses_a_bad_query(prometheus: Any) -> None:
    source = PrometheusSource(prometheus.url, {"error_rate": "rate(((("}, timeout=5)
    with pytest.raises(MetricSourceError, match=r"prometheus at .* HTTP 400: .*parse error"):
        source.read(MODEL, ["error_rate"], WINDOW)


def test_prometheus_down_is_a_source_error() -> None:
    source = PrometheusSource(f"http://127.0.0.1:{free_port()}", {"error_rate": "up"}, 1)
    with pytest.raises(MetricSourceError, match="cannot reach"):
        source.read(MODEL, ["error_rate"], WINDOW)
