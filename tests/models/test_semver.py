"""Semantic versions: given, bumped, or inferred from the signature and the artifact bytes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_helpers import artifact, signature
from strata import Workspace
from strata.errors import UserInputError
from strata.models.semver import order_key, parse_semver, range_filter
from strata.models.signature import breaking_changes, infer
from strata.refs import SemVer


def _register(ws: Workspace, content: str, sig: dict[str, Any] | None, **kw: Any) -> Any:
    return ws.models.register("clf", artifact(ws.root, content), signature=sig, **kw)


BASE = signature("a:float64", "b:string?")


@pytest.mark.parametrize(
    ("new", "why"),
    [
        (signature("a:float64"), "input 'b' removed"),
        (signature("a:int64", "b:string?"), "input 'a' retyped float64 → int64"),
        (signature("a:float64", "b:string"), "input 'b' became required"),
        (signature("a:float64", "b:string?", "c:int64"), "new required input 'c'"),
        (signature("a:float64", "b:string?", outputs=("y:int64",)), "output schema changed"),
    ],
)
def test_a_broken_contract_is_major(ws: Workspace, new: dict[str, Any], why: str) -> None:
    _register(ws, "1", BASE)
    version = _register(ws, "2", new)
    assert version.semver == SemVer(2, 0, 0)
    assert why in version.semver_reason
    assert "MAJOR" in ws.models.show("model:clf@2").semver_reason


def test_a_compatible_change_is_minor_and_the_same_bytes_are_patch(ws: Workspace) -> None:
    first = _register(ws, "1", BASE)
    optional_added = _register(ws, "2", signature("a:float64", "b:string?", "c:int64?"))
    same_bytes = _register(
        ws, "2", signature("a:float64", "b:string?", "c:int64?"), description="retrained"
    )
    assert [str(v.semver) for v in (first, optional_added, same_bytes)] == [
        "v1.0.0",
        "v1.1.0",
        "v1.1.1",
    ]
    assert "compatible signature" in optional_added.semver_reason
    assert "the same artifact bytes" in same_bytes.semver_reason


def test_without_signatures_a_different_artifact_is_minor(ws: Workspace) -> None:
    _register(ws, "1", None)
    assert str(_register(ws, "2", None).semver) == "v1.1.0"


def test_given_and_bumped_semvers(ws: Workspace) -> None:
    assert str(_register(ws, "1", None, semver="0.3.0").semver) == "v0.3.0"
    assert str(_register(ws, "2", None, bump="major").semver) == "v1.0.0"
    assert str(_register(ws, "3", None, bump="patch").semver) == "v1.0.1"
    assert str(_register(ws, "4", None, semver="v1.2.0-rc.1").semver) == "v1.2.0-rc.1"
    assert str(_register(ws, "5", None, bump="patch").semver) == "v1.2.0"
    assert ws.models.show("model:clf@2").semver_reason == "--bump major from v0.3.0"


@pytest.mark.parametrize("given_semver", ["1.0.0", "0.9.9", "1.0.0-rc.1"])
def test_a_semver_that_does_not_increase_is_refused_and_nothing_changes(
    ws: Workspace, given_semver: str
) -> None:
    _register(ws, "1", None, semver="1.0.0")
    with pytest.raises(UserInputError, match="does not increase"):
        _register(ws, "2", None, semver=given_semver)
    assert [v.number for v in ws.models.versions("clf")] == [1]
    assert len(ws.models.history("clf")) == 1


def test_semver_and_bump_together_are_refused(ws: Workspace) -> None:
    with pytest.raises(UserInputError, match="not both"):
        _register(ws, "1", None, semver="1.0.0", bump="minor")


def test_signatures_inferred_from_pandas_pyarrow_and_numpy() -> None:
    frame = pd.DataFrame({"distance": [1.5, 2.0], "weather": ["sun", None], "n": [1, 2]})
    assert infer(frame, pd.Series([0.1, 0.2], name="delay"))["inputs"] == [
        {"name": "distance", "type": "float64", "required": True},
        {"name": "weather", "type": "string", "required": False},
        {"name": "n", "type": "int64", "required": True},
    ]
    table = pa.table({"distance": [1.5, 2.0], "weather": ["sun", None], "n": [1, 2]})
    assert infer(table) == infer(frame), "pandas and pyarrow spell types alike"
    assert infer(np.zeros((8, 4), dtype=np.float32))["inputs"] == [
        {"name": "input", "type": "tensor(float32,[-1,4])", "required": True}
    ]


def test_a_sample_input_drives_the_semver(ws: Workspace) -> None:
    frame = pd.DataFrame({"distance": [1.5], "weather": ["sun"]})
    ws.models.register("clf", artifact(ws.root, "1"), sample_input=frame)
    retyped = frame.assign(weather=[3])
    second = ws.models.register("clf", artifact(ws.root, "2"), sample_input=retyped)
    assert second.semver == SemVer(2, 0, 0)
    assert "input 'weather' retyped string → int64" in second.semver_reason


def test_a_malformed_signature_is_refused(ws: Workspace) -> None:
    with pytest.raises(UserInputError, match="bad signature"):
        _register(ws, "1", {"inputs": [{"name": "a"}]})
    assert ws.models.list_models() == []


def test_breaking_changes_of_identical_signatures_are_none() -> None:
    assert breaking_changes(BASE, BASE) == []


def test_semver_ranges() -> None:
    in_one = range_filter(">=1.0.0,<2.0.0")
    checked = ("0.9.0", "1.0.0", "1.9.9", "2.0.0", "2.0.0-rc.1")
    # semver precedence: a prerelease of 2.0.0 comes before 2.0.0
    assert [in_one(parse_semver(v)) for v in checked] == [False, True, True, False, True]
    assert range_filter("1.2.0")(SemVer(1, 2, 0))
    with pytest.raises(UserInputError):
        range_filter(">=one")


@given(
    st.tuples(
        st.integers(0, 50),
        st.integers(0, 50),
        st.integers(0, 50),
        st.none() | st.from_regex(r"(alpha|rc)\.[1-9]", fullmatch=True),
    )
)
def test_a_prerelease_sorts_before_its_release(parts: tuple[int, int, int, str | None]) -> None:
    major, minor, patch, pre = parts
    version = SemVer(major, minor, patch, pre)
    release = SemVer(major, minor, patch)
    assert order_key(version) <= order_key(release)
    assert order_key(SemVer(major, minor, patch + 1, pre)) > order_key(release)
