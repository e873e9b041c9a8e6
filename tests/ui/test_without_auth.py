"""The web UI of a server with no users (loopback only): no log-in, every action offered, and
no change accepted from a page of another site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server_support import Server, make_site, served


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    site = make_site(tmp_path_factory.mktemp("open") / "ws", None, users=False)
    yield from served(site)


def test_pages_need_no_log_in_and_offer_every_action(open_server: Server) -> None:
    with open_server.client(follow_redirects=False) as client:
        page = client.get("/models/clf/1")
        assert page.status_code == 200
        assert 'id="promote"' in page.text and 'id="rollback"' in page.text
        assert "log out" not in page.text


def test_a_change_from_another_sites_page_is_refused(open_server: Server) -> None:
    rollback = "/api/v1/models/clf/rollback"
    with open_server.client() as client:
        forged = client.post(rollback, headers={"origin": "http://evil.example"})
        assert forged.status_code == 403 and "another site" in forged.json()["error"]["message"]
        assert client.get("/api/v1/models/clf/history").json()[-1]["action"] == "registered"
        same_site = {"origin": open_server.url}
        path = "/api/v1/models/clf/aliases/from-page"
        assert client.put(path, json={"version": 1}, headers=same_site).status_code == 200
        assert client.delete(path).status_code == 200  # no Origin: not a browser


def test_the_csrf_key_is_kept_out_of_git(tmp_path: Path) -> None:
    """A workspace made before the web UI existed gets the key listed in .strata/.gitignore."""
    from strata.config import STRATA_DIR
    from strata.server.ui.session import SECRET_FILE, csrf_secret

    strata_dir = tmp_path / STRATA_DIR
    strata_dir.mkdir()
    (strata_dir / ".gitignore").write_text("/cache\n/tmp\n")
    secret = csrf_secret(strata_dir)
    assert csrf_secret(strata_dir) == secret  # made once, then read
    assert (strata_dir / ".gitignore").read_text().splitlines() == ["/cache", "/tmp", "/ui-secret"]
    assert oct((strata_dir / SECRET_FILE).stat().st_mode & 0o777) == "0o600"
    csrf_secret(strata_dir)
    assert (strata_dir / ".gitignore").read_text().count("/ui-secret") == 1
