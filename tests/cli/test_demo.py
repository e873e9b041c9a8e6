"""``strata demo`` tells the story end to end on the embedded defaults."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from factories import Cli


def test_the_demo_tells_every_chapter_and_cleans_up(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = cli("demo", cwd=tmp_path)
    assert out.code == 0, out.stderr
    assert f"a throwaway project in {tmp_path}" in out.stdout
    for fragment in (
        "is modified: 2 added, 4 modified, 1 deleted",
        "the folder holds 5 files again",
        "refuses: data/deliveries/2024-10-09.csv would be overwritten or removed",
        "0 problems",
        "remembers 2 versions",
    ):
        assert fragment in out.stdout, fragment
    assert "None" not in out.stdout, "a value nothing recorded is said so, not printed as None"
    assert not any(tmp_path.glob("strata-demo-*")), "the throwaway workspace is removed"
