"""A workspace records its file versions in whichever metadata database it is given."""

from __future__ import annotations

import pytest

from factories import WorkspaceFactory, commit_all, make_folder, write
from strata import Workspace
from strata.meta import open_database


def test_versions_land_in_the_configured_database(
    make_workspace: WorkspaceFactory, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_METADATA_URL", db_url)
    ws = make_workspace()
    write(ws.root / "data.csv", "1\n")
    make_folder(ws.root / "raw", {"a.csv": "a\n", "b.csv": "b\n"})
    ws.files.add(["data.csv", "raw"])
    commit_all(ws.root, "v1")
    write(ws.root / "data.csv", "2\n")
    ws.files.add(["data.csv"])

    with open_database(db_url) as db:
        recorded = {(v.path, v.kind, v.files) for v in db.file_versions()}
        assert [v.size for v in db.file_versions("data.csv")] == [2, 2]
    assert recorded == {("data.csv", "file", 1), ("raw", "directory", 2)}
    if db_url.startswith("postgresql"):
        assert not (ws.root / ".strata" / "strata.db").exists(), "nothing written locally"


def test_the_embedded_default_is_sqlite_in_the_workspace(make_workspace: WorkspaceFactory) -> None:
    ws: Workspace = make_workspace()
    assert ws.config.metadata_url == f"sqlite:///{ws.root / '.strata' / 'strata.db'}"
    assert (ws.root / ".strata" / "strata.db").is_file()
