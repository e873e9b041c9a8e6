"""``strata demo`` tells the story end to end on the embedded defaults."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from factories import Cli, Outcome


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outcome]:
    """One run of the demo, with its throwaway workspaces under a folder of its own."""
    tmp_path = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        return tmp_path, Cli()("demo", cwd=tmp_path)


def test_the_demo_tells_every_chapter_and_cleans_up(demo: tuple[Path, Outcome]) -> None:
    tmp_path, out = demo
    assert out.code == 0, out.stderr
    assert f"a throwaway project in {tmp_path}" in out.stdout
    for fragment in (
        "is modified: 2 added, 4 modified, 1 deleted",
        "the folder holds 5 files again",
        "refuses: data/deliveries/2024-10-09.csv would be overwritten or removed",
        "0 problems",
        "remembers 2 versions",
        "strata user add bo --role viewer",
        "bo (viewer): POST /api/v1/models/delay-classifier/versions/3/stage → 403: "
        "user bo may not write model:delay-classifier",
        "ana (maintainer): the same POST → 200: model:delay-classifier@3 in production, "
        "recorded as ana",
        "GET /api/v1/refs/model:delay-classifier@production → 200: model:delay-classifier@3",
        "POST /api/v1/models/delay-classifier/rollback → 200: "
        "@production is model:delay-classifier@2 again",
        "POST /api/v1/lineage → 201: job spark/nightly_deliveries read dataset:s3://raw/orders "
        "and wrote table:deliveries@",
        "GET /api/v1/namespaces → 200: s3://raw, spark, strata",
        "created default.trips and appended 2 rows → table:trips@1, APPEND by ana",
        "The server stopped",
        "See it in a browser: run `strata demo --keep`",
    ):
        assert fragment in out.stdout, fragment
    assert "None" not in out.stdout, "a value nothing recorded is said so, not printed as None"
    assert not any(tmp_path.glob("strata-demo-*")), "the throwaway workspace is removed"
