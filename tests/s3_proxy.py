"""A proxy in front of the loopback S3 server that, from a chosen request on, refuses every
write with 403 AccessDenied, as a bucket policy denying ``s3:PutObject`` applied mid-push
would. Reads and deletes (an aborted upload among them) still pass through to the server."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>strata-test</RequestId></Error>"
)


@dataclass(frozen=True)
class Request:
    """One request as the proxy saw it: method, key path and query parameters."""

    method: str
    path: str
    query: dict[str, str]

    @property
    def is_write(self) -> bool:
        return self.method in ("PUT", "POST")

    @property
    def part(self) -> int | None:
        """The part number of an UploadPart request."""
        number = self.query.get("partNumber")
        return int(number) if self.method == "PUT" and number is not None else None

    @property
    def starts_upload(self) -> bool:
        return self.method == "POST" and "uploads" in self.query

    @property
    def completes_upload(self) -> bool:
        return self.method == "POST" and "uploadId" in self.query


@dataclass
class Traffic:
    """What went through the proxy: every request, and the writes it refused."""

    seen: list[Request] = field(default_factory=list)
    refused: list[Request] = field(default_factory=list)

    @property
    def uploads_started(self) -> int:
        return sum(r.starts_upload for r in self.seen)

    @property
    def parts_accepted(self) -> int:
        return sum(r.part is not None for r in self.seen if r not in self.refused)


Rule = Callable[[Request, Traffic], bool]  # whether writes are refused from this request on


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" before a large body
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        """The request body as sent (a chunked one still chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            raw = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0], 16)
                raw += line + self.rfile.read(size + 2)
                if size == 0:
                    while (trailer := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                        raw += trailer
                    return raw + b"\r\n"
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _relay(self) -> None:
        body = self._body()
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = Request(self.command, url.path, query)
        if self.server.decide(request):
            self._reply(403, [("Content-Type", "application/xml")], _DENIED)
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
            response = upstream.getresponse()
            data = response.read()
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            length = response.getheader("Content-Length") if self.command == "HEAD" else None
            self._reply(response.status, headers, data, length)
        finally:
            upstream.close()

    def _reply(
        self, status: int, headers: list[tuple[str, str]], data: bytes, length: str | None = None
    ) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, rule: Rule, refuse_read: Callable[[Request], bool]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.rule = rule
        self.refuse_read = refuse_read
        self.traffic = Traffic()
        self.refusing = False
        self._lock = threading.Lock()

    def decide(self, request: Request) -> bool:
        """Note ``request``; whether to refuse it."""
        with self._lock:
            if request.is_write and not self.refusing:
                self.refusing = self.rule(request, self.traffic)
            self.traffic.seen.append(request)
            refused = (request.is_write and self.refusing) or (
                not request.is_write and self.refuse_read(request)
            )
            if refused:
                self.traffic.refused.append(request)
            return refused


@dataclass
class Proxy:
    endpoint: str
    server: _ProxyServer

    @property
    def traffic(self) -> Traffic:
        return self.server.traffic

    def allow(self) -> None:
        """Lift the refusal: writes pass again."""
        with self.server._lock:
            self.server.rule = lambda request, traffic: False
            self.server.refusing = False


@contextmanager
def refusing_proxy(
    upstream_endpoint: str,
    rule: Rule,
    refuse_read: Callable[[Request], bool] = lambda request: False,
) -> Iterator[Proxy]:
    """A proxy on loopback to ``upstream_endpoint`` that refuses every write from the first
    one ``rule`` picks on, and the reads ``refuse_read`` picks; yields it (its ``endpoint`` is
    where clients connect)."""
    server = _ProxyServer(urlsplit(upstream_endpoint).netloc, rule, refuse_read)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield Proxy(f"http://{host!s}:{port}", server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
