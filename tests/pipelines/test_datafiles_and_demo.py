"""Params and metrics files in JSON, YAML and TOML; stage add round trips; the demo chapter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strata.errors import PipelineFileError
from strata.pipelines import flatten, load_data, numbers, parse_pipeline
from strata.pipelines.editor import add_stage, stage_doc


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("m.json", '{"auc": 0.9, "loss": {"val": 0.25}, "ok": true, "name": "x"}'),
        ("m.yaml", "auc: 0.9\nloss:\n  val: 0.25\nok: true\nname: x\n"),
        ("m.toml", 'auc = 0.9\nok = true\nname = "x"\n[loss]\nval = 0.25\n'),
    ],
)
def test_metrics_in_every_format_give_their_numbers_dotted(name: str, text: str) -> None:
    assert numbers(load_data(name, text.encode())) == {"auc": 0.9, "loss.val": 0.25}


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("m.json", '{"auc": ', "cannot parse m.json:1"),
        ("p.yaml", "a: [1\n", "cannot parse p.yaml"),
        ("p.toml", "a = \n", "cannot parse p.toml"),
        ("p.yaml", "\xff", "cannot parse p.yaml"),
    ],
)
def test_a_file_that_cannot_be_parsed_is_named(name: str, text: str, fragment: str) -> None:
    data = text.encode("latin-1")
    with pytest.raises(PipelineFileError, match=fragment):
        load_data(name, data)


def test_flatten_keeps_lists_as_values() -> None:
    assert flatten({"a": {"b": [1, 2], "c": {}}, "d": None}) == {
        "a.b": [1, 2],
        "a.c": {},
        "d": None,
    }


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_paths = st.lists(
    st.from_regex(r"[a-z]{1,6}(/[a-z]{1,6}){0,2}\.[a-z]{1,3}", fullmatch=True),
    max_size=3,
    unique=True,
)


@settings(max_examples=40, deadline=None)
@given(
    name=_names,
    cmd=st.text(
        st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="$"),
        min_size=1,
        max_size=40,
    ).filter(str.strip),
    deps=_paths,
    params=st.lists(_names, max_size=3, unique=True),
    desc=st.none()
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=20).filter(
        str.strip
    ),
)
def test_stage_add_round_trips_through_strata_yaml(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    cmd: str,
    deps: list[str],
    params: list[str],
    desc: str | None,
) -> None:
    root = tmp_path_factory.mktemp("ws")
    doc = stage_doc(cmd=cmd, deps=deps, params=params, outs=["out/result.bin"], desc=desc)
    stage = add_stage(root, name, doc, lambda _: None, force=False)
    again = parse_pipeline((root / "strata.yaml").read_text(), lambda _: None).stages[name]
    assert again == stage
    assert (stage.cmd, stage.deps, [p.key for p in stage.params]) == (cmd, tuple(deps), params)
    assert stage.desc == desc and stage.outs == ("out/result.bin",)


def test_the_demo_chapter_tells_the_story(make_workspace) -> None:  # type: ignore[no-untyped-def]
    from strata.cli.demo_pipelines import chapter

    ws = make_workspace()
    said: list[str] = []
    chapter(ws, said.append)
    text = "\n".join(said)
    assert "strata repro: featurize ran" in text and "strata repro: train ran" in text
    assert "strata repro again: train unchanged" in text
    assert "strata repro: featurize unchanged" in text
    assert "(param train.lr changed)" in text
    assert "strata params diff: train.lr 0.5 -> 0.25" in text
    assert "strata metrics diff: score" in text
    assert Path(ws.root / "strata.lock").is_file()
