"""PSI per column: numbers binned on the reference's quantiles, strings by category."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest

from strata.errors import GuardError, UserInputError
from strata.guard.drift import FLOOR, Profile, drift, profile


def _normal(seed: int, n: int, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, 1.0, n)


def test_the_same_distribution_does_not_drift() -> None:
    reference = pa.table({"x": _normal(1, 50_000)})
    current = pa.table({"x": _normal(2, 50_000)})
    [result] = drift(profile(reference), current)
    assert result.kind == "numeric"
    assert result.psi < 0.01


def test_a_shifted_distribution_drifts_significantly() -> None:
    reference = pa.table({"x": _normal(1, 50_000)})
    current = pa.table({"x": _normal(2, 50_000, loc=1.0)})
    [result] = drift(profile(reference), current)
    assert result.psi > 0.25


@pytest.mark.parametrize(
    "type_", [pa.date32(), pa.date64(), pa.timestamp("us"), pa.time32("s"), pa.time64("us")]
)
def test_dates_and_times_drift_as_their_ticks(type_: pa.DataType) -> None:
    width = pa.int32() if type_.bit_width == 32 else pa.int64()
    values = np.arange(1, 1001) % 800
    reference = pa.table({"at": pa.array(values, width).cast(type_)})
    shifted = pa.table({"at": pa.array(values + 500, width).cast(type_)})
    [same] = drift(profile(reference), reference)
    [moved] = drift(profile(reference), shifted)
    assert (same.kind, same.psi) == ("numeric", 0.0)
    assert moved.psi > 0.25


def test_categorical_psi_matches_the_formula() -> None:
    reference = pa.table({"weather": ["sun"] * 50 + ["rain"] * 50})
    current = pa.table({"weather": ["sun"] * 90 + ["rain"] * 10})
    [result] = drift(profile(reference), current)
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    assert result.kind == "categorical"
    assert result.psi == pytest.approx(expected)


def test_a_new_category_is_floored_not_infinite() -> None:
    reference = pa.table({"weather": ["sun"] * 100})
    current = pa.table({"weather": ["sun"] * 50 + ["snow"] * 50})
    [result] = drift(profile(reference), current)
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - FLOOR) * math.log(0.5 / FLOOR)
    assert math.isfinite(result.psi)
    assert result.psi == pytest.approx(expected)


def test_null_rate_changes_are_reported() -> None:
    reference = pa.table({"x": pa.array([1.0, 2.0, 3.0, 4.0])})
    current = pa.table({"x": pa.array([1.0, None, None, 4.0])})
    [result] = drift(profile(reference), current)
    assert result.reference_null_rate == 0.0
    assert result.current_null_rate == 0.5
    assert result.null_rate_change == 0.5


def test_a_stored_profile_gives_the_same_answer() -> None:
    reference = pa.table({"x": _normal(1, 10_000), "w": ["a", "b"] * 5_000})
    current = pa.table({"x": _normal(3, 10_000, loc=0.5), "w": ["a"] * 10_000})
    direct = drift(profile(reference), current)
    stored = Profile.from_json(json.loads(json.dumps(profile(reference).to_json())))
    assert drift(stored, current) == direct


def test_only_the_named_columns() -> None:
    reference = pa.table({"x": [1, 2, 3], "y": [1, 2, 3]})
    results = drift(profile(reference, ["y"]), reference)
    assert [r.column for r in results] == ["y"]


def test_unknown_columns_are_clear_errors() -> None:
    reference = pa.table({"x": [1, 2, 3]})
    with pytest.raises(UserInputError, match="the reference has no column z"):
        profile(reference, ["z"])
    with pytest.raises(UserInputError, match="column z is not in the reference"):
        drift(profile(reference), reference, ["z"])
    with pytest.raises(UserInputError, match="the current data has no column x"):
        drift(profile(reference), pa.table({"y": [1]}))


def test_a_type_change_is_a_clear_error() -> None:
    reference = pa.table({"x": [1.0, 2.0]})
    with pytest.raises(UserInputError, match="numeric in the reference"):
        drift(profile(reference), pa.table({"x": ["a", "b"]}))


def test_an_unknown_profile_format_is_refused() -> None:
    with pytest.raises(GuardError, match="unknown format"):
        Profile.from_json({"format": 99, "columns": {}})


def test_drift_command_compares_a_table_version_with_a_file(make_workspace, cli) -> None:
    import pyarrow.parquet as pq

    ws = make_workspace()
    rng = np.random.default_rng(7)
    reference = pa.table({"distance": rng.normal(10, 2, 5000), "weather": ["sun", "rain"] * 2500})
    ws.tables.create("deliveries", reference)
    shifted = pa.table({"distance": rng.normal(14, 2, 5000), "weather": ["sun", "rain"] * 2500})
    pq.write_table(shifted, ws.root / "today.parquet")

    done = cli(
        "drift",
        "--reference",
        "table:deliveries@0",
        "--current",
        "today.parquet",
        "--json",
        cwd=ws.root,
    )
    assert done.code == 0, done.stderr
    by_column = {r["column"]: r for r in json.loads(done.stdout)}
    assert by_column["distance"]["psi"] > 0.25
    assert by_column["weather"]["psi"] < 0.01

    text = cli(
        "drift",
        "--reference",
        "table:deliveries@0",
        "--current",
        "today.parquet",
        "--columns",
        "distance",
        cwd=ws.root,
    )
    assert text.code == 0 and "significant" in text.stdout and "weather" not in text.stdout


def test_drift_command_bad_input(make_workspace, cli) -> None:
    from factories import assert_one_line_error

    ws = make_workspace()
    missing = cli("drift", "--reference", "nope.parquet", "--current", "x.parquet", cwd=ws.root)
    assert missing.code != 0 and "nope.parquet" in missing.stderr
    assert_one_line_error(missing, missing.code, "nope.parquet")
    unknown = cli("drift", "--reference", "table:ghost@1", "--current", "x.parquet", cwd=ws.root)
    assert_one_line_error(unknown, 20, "ghost")


def test_a_profile_kept_with_the_model_serves_drift_without_the_table(make_workspace, cli) -> None:
    import pyarrow.parquet as pq

    from factories import assert_one_line_error, write

    ws = make_workspace()
    rng = np.random.default_rng(11)
    ws.tables.create("deliveries", pa.table({"distance": rng.normal(10, 2, 4000)}))
    write(ws.root / "model.json", "{}")
    registered = cli(
        "model", "register", "clf", "model.json", "--reference-data", "table:deliveries@0",
        "--json", cwd=ws.root,
    )  # fmt: skip
    assert registered.code == 0, registered.stderr
    digest = json.loads(registered.stdout)["tags"]["strata.reference_profile"]
    assert ws.store.exists(digest)

    pq.write_table(pa.table({"distance": rng.normal(15, 2, 4000)}), ws.root / "today.parquet")
    ws.tables.drop("deliveries", force=True)  # the serving side has no training table
    done = cli(
        "drift", "--reference", "model:clf@1", "--current", "today.parquet", "--json",
        cwd=ws.root,
    )  # fmt: skip
    assert done.code == 0, done.stderr
    [column] = json.loads(done.stdout)
    assert column["column"] == "distance" and column["psi"] > 0.25

    gc = ws.files.gc()
    assert digest not in gc.removed and ws.store.exists(digest)

    write(ws.root / "other.json", '{"x": 1}')
    ws.models.register("plain", ws.root / "other.json")
    missing = cli(
        "drift", "--reference", "model:plain@1", "--current", "today.parquet", cwd=ws.root
    )
    assert_one_line_error(missing, 50, "has no reference profile")


def test_a_bad_reference_registers_nothing(make_workspace, cli) -> None:
    from factories import assert_one_line_error, write

    ws = make_workspace()
    write(ws.root / "model.json", "{}")
    done = cli(
        "model", "register", "clf", "model.json", "--reference-data", "nope.parquet", cwd=ws.root
    )
    assert_one_line_error(done, done.code, "nope.parquet")
    assert ws.models.list_models() == []


def test_a_kept_profile_travels_with_push_and_fetch(make_workspace, tmp_path, monkeypatch) -> None:
    """Two checkouts sharing one metadata database (as a team shares PostgreSQL): the second
    fetches the profile as it fetches the model's artifact."""
    from factories import commit_all, git, write

    monkeypatch.setenv("STRATA_METADATA_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    ws = make_workspace()
    ws.tables.create("deliveries", pa.table({"distance": [1.0, 2.0, 3.0, 4.0]}))
    ws.models.register("clf", write(ws.root / "model.json", "{}"))
    digest = ws.references.attach("model:clf@1", "table:deliveries@0")
    ws.remotes.add("shared", str(tmp_path / "remote"), default=True)
    commit_all(ws.root, "remote")
    assert ws.remotes.push().failed == ()

    git(ws.root.parent, "clone", "-q", str(ws.root), str(tmp_path / "clone"))
    clone = make_workspace.open(tmp_path / "clone")
    assert not clone.store.exists(digest)
    assert clone.remotes.fetch().failed == ()
    assert clone.store.exists(digest)
