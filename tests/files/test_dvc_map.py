"""The md5 → BLAKE3 map a DVC migration keeps: appends survive a crash, compaction sorts."""

from __future__ import annotations

from pathlib import Path

from strata.files.dvc_map import MAP_FILE, Mapped, Md5Map

A = Mapped("a" * 32, "1" * 64, "file", 3, 1)
B = Mapped("b" * 32 + ".dir", "2" * 64, "directory", 9, 2)


def test_a_torn_last_line_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    (tmp_path / ".strata").mkdir()
    Md5Map(tmp_path).add([B, A])
    path = tmp_path / ".strata" / MAP_FILE
    path.write_text(path.read_text() + '{"md5":"cccc","hash":"33')  # a crash mid-line
    reread = Md5Map(tmp_path)
    assert (reread.get(A.md5), reread.get(B.md5), len(reread)) == (A, B, 2)
    reread.add([Mapped("d" * 32, "4" * 64, "file", 1, 1)])
    assert len(Md5Map(tmp_path)) == 3  # the append after the torn line is read


def test_compaction_sorts_and_drops_repeats(tmp_path: Path) -> None:
    (tmp_path / ".strata").mkdir()
    first = Md5Map(tmp_path)
    first.add([B])
    Md5Map(tmp_path).add([A, B])  # another process appending what it saw
    Md5Map(tmp_path).compact()
    lines = (tmp_path / ".strata" / MAP_FILE).read_text().splitlines()
    assert lines == [A.to_line().strip(), B.to_line().strip()]
