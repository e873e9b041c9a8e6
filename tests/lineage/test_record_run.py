"""A run that ran elsewhere (a server's client) is recorded ended, in one transaction: its
params, metrics, inputs and outputs at exact versions, the user it is recorded as; bad input
writes nothing."""

from __future__ import annotations

import pytest

from lineage_support import row_counts
from strata import Workspace
from strata.errors import TableNotFoundError, UserInputError


def test_a_finished_run_is_recorded_with_its_refs_and_user(sqlite_ws: Workspace) -> None:
    lineage = sqlite_ws.lineage
    found = lineage.record_run(
        "train", user="ana", params={"lr": 0.1}, metrics={"auc": 0.9}, command=["train.py"],
        inputs=["file:raw.csv"], environment={"host": "ci-7", "user": "root"},
    )  # fmt: skip
    assert (found.status, found.params, found.metrics) == ("completed", {"lr": 0.1}, {"auc": 0.9})
    assert found.environment["user"] == "ana" and found.host == "ci-7"
    assert found.inputs[0].startswith("file:raw.csv@")
    assert lineage.runs(job="train")[0].id == found.id
    failed = lineage.record_run("train", user="ana", failed="out of memory")
    assert (failed.status, failed.error) == ("failed", "out of memory")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"metrics": {"auc": float("nan")}}, UserInputError),
        ({"params": {"": 1}}, UserInputError),
        ({"inputs": ["file:raw.csv"], "outputs": ["table:nope@latest"]}, TableNotFoundError),
    ],
)
def test_bad_input_records_nothing(
    sqlite_ws: Workspace, options: dict[str, object], error: type[Exception]
) -> None:
    before = row_counts(sqlite_ws)
    with pytest.raises(error):
        sqlite_ws.lineage.record_run("train", user="ana", **options)  # type: ignore[arg-type]
    assert row_counts(sqlite_ws) == before
