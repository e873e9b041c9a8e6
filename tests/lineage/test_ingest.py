"""OpenLineage events from other tools, ingested: the shapes files come in, dataset refs, and
how they join Strata's own tables."""

from __future__ import annotations

import pytest

from factories import Cli, assert_one_line_error, write
from strata import Workspace


@pytest.mark.parametrize(
    "shape", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000]
)
def test_a_file_nested_too_deep_is_refused_in_one_line(
    sqlite_ws: Workspace, cli: Cli, shape: str
) -> None:
    write(sqlite_ws.root / "deep.json", shape)
    out = cli("openlineage", "ingest", "deep.json", cwd=sqlite_ws.root)
    assert_one_line_error(out, 2, "deep.json", "nested 100000 levels deep")
    assert sqlite_ws.lineage.runs() == []
