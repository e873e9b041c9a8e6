"""Fixtures for the guard tests: a JSON endpoint and a real Prometheus server on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from factories import cli, free_port, make_workspace

__all__ = ["cli", "json_endpoint", "make_workspace", "prometheus"]

REQUIRE_PROMETHEUS = os.environ.get("STRATA_REQUIRE_PROMETHEUS") == "1"


@dataclass
class JsonEndpoint:
    """A loopback HTTP server: GET answers ``body`` (after ``delay`` seconds); POSTs are kept."""

    url: str = ""
    body: bytes = b"{}"
    status: int = 200
    delay: float = 0.0
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def set_json(self, document: Any) -> None:
        self.body = json.dumps(document).encode()


@pytest.fixture
def json_endpoint() -> Iterator[JsonEndpoint]:
    endpoint = JsonEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(endpoint.delay)
            self.send_response(endpoint.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(endpoint.body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            endpoint.received.append((dict(self.headers), self.rfile.read(length)))
            self.send_response(endpoint.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_port}/metrics"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    server.shutdown()
    server.server_close()


@dataclass
class Prometheus:
    url: str
    gauges: Any  # prometheus_client.Gauge labelled by model

    def wait_for(self, query: str, expected: float) -> None:
        """Until Prometheus has scraped the exporter's current value (it scrapes every second)."""
        deadline = time.monotonic() + 20
        address = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": query})
        while time.monotonic() < deadline:
            with urllib.request.urlopen(address, timeout=2) as response:
                result = json.load(response)["data"]["result"]
            if result and float(result[0]["value"][1]) == expected:
                return
            time.sleep(0.25)
        pytest.fail(f"prometheus never reported {query} = {expected}", pytrace=False)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Debian's prometheus server scraping a prometheus_client exporter every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        reason = "the prometheus server is not installed (apt-get install prometheus)"
        if REQUIRE_PROMETHEUS:
            pytest.fail(f"STRATA_REQUIRE_PROMETHEUS=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    registry = CollectorRegistry()
    gauge = Gauge("serving_error_rate", "errors per request", ["model"], registry=registry)
    exporter_port = free_port()
    exporter, exporter_thread = start_http_server(exporter_port, "127.0.0.1", registry=registry)
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: serving\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
    )
    port = free_port()
    log = (folder / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, folder / "prometheus.log")
        yield Prometheus(url, gauge)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        exporter.shutdown()
        exporter.server_close()
        exporter_thread.join(timeout=5)


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited: {log.read_text()[-2000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("prometheus did not become ready in 30 s", pytrace=False)
