"""A served workspace for the web UI's tests: ``make_site``'s models, users and table, plus a
model whose description is HTML."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server_support import Server, Site, make_site, start_server
from ui_support import HOSTILE


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    made = make_site(tmp_path_factory.mktemp("ui") / "ws", None)
    with made.workspace() as ws:
        artifact = made.root / "hostile.bin"
        artifact.write_bytes(b"hostile")
        ws.models.register("hostile", artifact, description=HOSTILE)
    return made


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    running = start_server(site.root, site.env)
    yield running
    assert running.stop() == 0, running.log_text()
