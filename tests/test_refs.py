"""Tests for strata.refs: the one parser and formatter of ``KIND:NAME@SELECTOR``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strata.errors import RefSyntaxError, UserInputError
from strata.refs import (
    KINDS,
    MAX_NUMBER,
    STAGES,
    Alias,
    Latest,
    Ref,
    Revision,
    Selector,
    SemVer,
    Stage,
    Timestamp,
    Version,
    VersionRange,
    dataset_name,
    format_ref,
    parse_ref,
    parse_selector,
    split_dataset_name,
)

# --- examples ------------------------------------------------------------------------------

CANONICAL_EXAMPLES: list[tuple[str, Ref]] = [
    (
        "file:data/raw/deliveries.parquet@HEAD~1",
        Ref("file", "data/raw/deliveries.parquet", Revision("HEAD~1")),
    ),
    ("file:data/raw/deliveries.parquet", Ref("file", "data/raw/deliveries.parquet")),
    ("file:data/raw@a1b2c3", Ref("file", "data/raw", Revision("a1b2c3"))),
    ("file:models/clf.pkl@main", Ref("file", "models/clf.pkl", Revision("main"))),
    ("file:x.csv@v1.0", Ref("file", "x.csv", Revision("v1.0"))),
    ("file:x.csv@HEAD@{1}", Ref("file", "x.csv", Revision("HEAD@{1}"))),
    ("file:my data/ünïcode file.csv", Ref("file", "my data/ünïcode file.csv")),
    ("file:.dvc/config:x", Ref("file", ".dvc/config:x")),
    ("table:deliveries", Ref("table", "deliveries")),
    ("table:deliveries@47", Ref("table", "deliveries", Version(47))),
    ("table:deliveries@0", Ref("table", "deliveries", Version(0))),
    (
        "table:deliveries@2024-09-30T23:59:59",
        Ref("table", "deliveries", Timestamp(datetime(2024, 9, 30, 23, 59, 59))),
    ),
    (
        "table:deliveries@2024-09-30T23:59:59.250000+02:00",
        Ref(
            "table",
            "deliveries",
            Timestamp(datetime(2024, 9, 30, 23, 59, 59, 250000, timezone(timedelta(hours=2)))),
        ),
    ),
    (
        "table:deliveries@40..52",
        Ref("table", "deliveries", VersionRange(Version(40), Version(52))),
    ),
    ("table:deliveries@7..7", Ref("table", "deliveries", VersionRange(Version(7), Version(7)))),
    (
        "table:deliveries@2024-09-01T00:00:00..2024-09-30T23:59:59",
        Ref(
            "table",
            "deliveries",
            VersionRange(
                Timestamp(datetime(2024, 9, 1)), Timestamp(datetime(2024, 9, 30, 23, 59, 59))
            ),
        ),
    ),
    (
        "table:deliveries@40..2024-09-30T00:00:00",
        Ref("table", "deliveries", VersionRange(Version(40), Timestamp(datetime(2024, 9, 30)))),
    ),
    ("table:deliveries@latest", Ref("table", "deliveries", Latest())),
    ("table:deliveries@q3-audit", Ref("table", "deliveries", Alias("q3-audit"))),
    ("table:raw.deliveries_v2-eu", Ref("table", "raw.deliveries_v2-eu")),
    ("model:delay-classifier", Ref("model", "delay-classifier")),
    ("model:delay-classifier@3", Ref("model", "delay-classifier", Version(3))),
    ("model:delay-classifier@v1.1.0", Ref("model", "delay-classifier", SemVer(1, 1, 0))),
    (
        "model:delay-classifier@v2.0.0-rc.1",
        Ref("model", "delay-classifier", SemVer(2, 0, 0, "rc.1")),
    ),
    ("model:delay-classifier@production", Ref("model", "delay-classifier", Stage("production"))),
    ("model:delay-classifier@staging", Ref("model", "delay-classifier", Stage("staging"))),
    ("model:delay-classifier@archived", Ref("model", "delay-classifier", Stage("archived"))),
    ("model:delay-classifier@none", Ref("model", "delay-classifier", Stage("none"))),
    ("model:delay-classifier@champion", Ref("model", "delay-classifier", Alias("champion"))),
    ("model:delay-classifier@v1", Ref("model", "delay-classifier", Alias("v1"))),
    ("model:delay-classifier@latest", Ref("model", "delay-classifier", Latest())),
    ("features:delivery", Ref("features", "delivery")),
    ("features:delivery@2", Ref("features", "delivery", Version(2))),
    ("features:delivery@latest", Ref("features", "delivery", Latest())),
    ("run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z", Ref("run", "01JD5Z3W7Q8R9S0T1V2W3X4Y5Z")),
    ("run:01jd5z3w7q8r9s0t1v2w3x4y5z", Ref("run", "01jd5z3w7q8r9s0t1v2w3x4y5z")),
    ("run:nightly_2024-10-01", Ref("run", "nightly_2024-10-01")),
    ("release:2024.10.15", Ref("release", "2024.10.15")),
    ("release:spring-launch", Ref("release", "spring-launch")),
]


@pytest.mark.parametrize(
    ("text", "ref"), CANONICAL_EXAMPLES, ids=[t for t, _ in CANONICAL_EXAMPLES]
)
def test_canonical_examples_parse_and_format_back(text: str, ref: Ref) -> None:
    assert parse_ref(text) == ref
    assert format_ref(ref) == text
    assert str(ref) == text


NORMALISED_EXAMPLES: list[tuple[str, str]] = [
    # MLflow model URIs
    ("models:/delay-classifier/Production", "model:delay-classifier@production"),
    ("models:/delay-classifier/production", "model:delay-classifier@production"),
    ("models:/delay-classifier/STAGING", "model:delay-classifier@staging"),
    ("models:/delay-classifier/Archived", "model:delay-classifier@archived"),
    ("models:/delay-classifier/None", "model:delay-classifier@none"),
    ("models:/delay-classifier/3", "model:delay-classifier@3"),
    ("models:/delay-classifier/latest", "model:delay-classifier@latest"),
    ("models:/delay-classifier/Latest", "model:delay-classifier@latest"),
    ("models:/delay-classifier@champion", "model:delay-classifier@champion"),
    # stages and latest in any case, semver without v
    ("model:delay-classifier@Production", "model:delay-classifier@production"),
    ("model:delay-classifier@STAGING", "model:delay-classifier@staging"),
    ("model:delay-classifier@1.1.0", "model:delay-classifier@v1.1.0"),
    ("model:delay-classifier@1.1.0-beta.2", "model:delay-classifier@v1.1.0-beta.2"),
    ("table:deliveries@LATEST", "table:deliveries@latest"),
    # versions with leading zeros
    ("table:deliveries@047", "table:deliveries@47"),
    # ISO timestamps in their other spellings
    ("table:deliveries@2024-09-30", "table:deliveries@2024-09-30T00:00:00"),
    ("table:deliveries@2024-09-30T23:59", "table:deliveries@2024-09-30T23:59:00"),
    ("table:deliveries@2024-09-30T23:59:59Z", "table:deliveries@2024-09-30T23:59:59+00:00"),
    ("table:deliveries@2024-09-30T23:59:59.5", "table:deliveries@2024-09-30T23:59:59.500000"),
    (
        "table:deliveries@2024-09-30T23:59:59.123456-05:30",
        "table:deliveries@2024-09-30T23:59:59.123456-05:30",
    ),
    (
        "table:deliveries@2024-09-01..2024-09-30",
        "table:deliveries@2024-09-01T00:00:00..2024-09-30T00:00:00",
    ),
]


@pytest.mark.parametrize(("text", "canonical"), NORMALISED_EXAMPLES)
def test_other_spellings_parse_to_the_canonical_ref(text: str, canonical: str) -> None:
    ref = parse_ref(text)
    assert format_ref(ref) == canonical
    assert parse_ref(canonical) == ref


def test_mlflow_uris_become_model_refs() -> None:
    assert parse_ref("models:/clf/Production") == Ref("model", "clf", Stage("production"))
    assert parse_ref("models:/clf/3") == Ref("model", "clf", Version(3))
    assert parse_ref("models:/clf/latest") == Ref("model", "clf", Latest())
    assert parse_ref("models:/clf@champion") == Ref("model", "clf", Alias("champion"))


def test_z_suffix_parses_as_utc() -> None:
    ref = parse_ref("table:deliveries@2024-09-30T23:59:59Z")
    assert ref.selector == Timestamp(datetime(2024, 9, 30, 23, 59, 59, tzinfo=UTC))
    assert isinstance(ref.selector, Timestamp)
    assert ref.selector.value.utcoffset() == timedelta(0)


def test_file_refs_split_at_the_first_at_sign() -> None:
    ref = parse_ref("file:notes.txt@HEAD@{2}")
    assert ref == Ref("file", "notes.txt", Revision("HEAD@{2}"))


def test_a_compact_date_is_a_version_number() -> None:
    # Digits are always a version number; timestamps need the dashes.
    assert parse_ref("table:deliveries@20240930").selector == Version(20240930)


def test_alias_keeps_its_case() -> None:
    assert parse_ref("model:clf@Champion").selector == Alias("Champion")


def test_stage_mlflow_name() -> None:
    assert [Stage(name).mlflow_name for name in STAGES] == [
        "None",
        "Staging",
        "Production",
        "Archived",
    ]


# --- parse_selector, with_selector, value objects ------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "selector"),
    [
        ("table", "47", Version(47)),
        ("table", "latest", Latest()),
        ("table", "1..2", VersionRange(Version(1), Version(2))),
        ("table", "2024-09-30T23:59:59", Timestamp(datetime(2024, 9, 30, 23, 59, 59))),
        ("model", "v1.2.3", SemVer(1, 2, 3)),
        ("model", "Production", Stage("production")),
        ("model", "champion", Alias("champion")),
        ("features", "2", Version(2)),
        ("file", "HEAD~1", Revision("HEAD~1")),
    ],
)
def test_parse_selector(kind: str, text: str, selector: Selector) -> None:
    assert parse_selector(kind, text) == selector  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("run", "1"),
        ("release", "latest"),
        ("table", "v1.2.3"),
        ("features", "champion"),
        ("file", ""),
    ],
)
def test_parse_selector_rejects(kind: str, text: str) -> None:
    with pytest.raises(RefSyntaxError, match=f"bad {kind} selector"):
        parse_selector(kind, text)  # type: ignore[arg-type]


def test_parse_selector_rejects_unknown_kind() -> None:
    with pytest.raises(RefSyntaxError, match="known kinds are file, table, model"):
        parse_selector("widget", "1")  # type: ignore[arg-type]


def test_with_selector() -> None:
    ref = parse_ref("table:deliveries@47")
    assert ref.with_selector(Version(48)) == Ref("table", "deliveries", Version(48))
    assert ref.with_selector(None) == Ref("table", "deliveries")
    assert ref == Ref("table", "deliveries", Version(47))
    with pytest.raises(RefSyntaxError, match="a table selector is"):
        ref.with_selector(Stage("production"))


def test_refs_are_frozen_and_hashable() -> None:
    ref = parse_ref("model:clf@v1.0.0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.name = "other"  # type: ignore[misc]
    assert {ref, parse_ref("model:clf@1.0.0")} == {ref}


def test_selector_str_is_its_canonical_text() -> None:
    assert str(Version(3)) == "3"
    assert str(SemVer(1, 2, 3, "rc.1")) == "v1.2.3-rc.1"
    assert str(Stage("staging")) == "staging"
    assert str(Alias("champion")) == "champion"
    assert str(Latest()) == "latest"
    assert str(VersionRange(Version(1), Version(5))) == "1..5"
    assert str(Revision("HEAD~1")) == "HEAD~1"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Version(-1),
        lambda: Version(MAX_NUMBER + 1),
        lambda: Version(True),
        lambda: SemVer(1, -2, 3),
        lambda: SemVer(1, 2, 3, "rc..1"),
        lambda: SemVer(1, 2, 3, "01"),
        lambda: Stage("Production"),  # type: ignore[arg-type]
        lambda: Alias("production"),
        lambda: Alias("Latest"),
        lambda: Alias("9lives"),
        lambda: Alias("a.b"),
        lambda: Timestamp(datetime(2024, 1, 1, tzinfo=timezone(timedelta(seconds=30)))),
        lambda: VersionRange(Version(5), Version(4)),
        lambda: VersionRange(Timestamp(datetime(2024, 1, 2)), Timestamp(datetime(2024, 1, 1))),
        lambda: VersionRange(Timestamp(datetime(2024, 1, 1)), Timestamp(datetime.now(UTC))),
        lambda: Revision(""),
        lambda: Revision("a b"),
        lambda: Revision("--upload-pack=x"),
        lambda: Ref("widget", "x"),  # type: ignore[arg-type]
        lambda: Ref("dataset", "no-namespace"),
        lambda: Ref("table", "bad name"),
        lambda: Ref("table", "x", Stage("production")),
        lambda: Ref("model", "x", Revision("HEAD")),
        lambda: Ref("features", "x", SemVer(1, 0, 0)),
        lambda: Ref("run", "x", Version(1)),
        lambda: Ref("release", "x", Latest()),
        lambda: Ref("file", "/etc/passwd"),
        lambda: Ref("file", "a/../b"),
        lambda: Ref("file", "a@b"),
        lambda: Ref("file", "a", Version(1)),
    ],
)
def test_value_objects_reject_bad_fields(build: object) -> None:
    assert callable(build)
    with pytest.raises(RefSyntaxError):
        build()


# --- errors --------------------------------------------------------------------------------

BAD_REFS: list[tuple[str, str]] = [
    ("", "can't be empty"),
    (" table:deliveries", "whitespace"),
    ("table:deliveries@47\n", "whitespace"),
    ("deliveries@47", "no kind"),
    ("tabel:deliveries", "unknown kind 'tabel'; known kinds are file, table, model, features"),
    ("Table:deliveries", "kinds are lowercase"),
    ("models:clf", "unknown kind 'models'"),
    (":deliveries", "unknown kind ''"),
    # names
    ("table:", "needs a name"),
    ("table:@47", "needs a name"),
    ("table:-deliveries", "a table name starts with a letter or digit"),
    ("table:.hidden", "a table name starts with a letter or digit"),
    ("table:deliv eries", "a table name"),
    ("table:deliveries/eu", "a table name"),
    ("table:" + "d" * 201, "at most 200 characters"),
    ("model:clf:v2", "a model name"),
    ("features:délivery", "a features name"),
    ("run:01JD.5Z", "a run name"),
    ("run:", "needs a name"),
    ("release:2024 10 15", "a release name"),
    ("release:_x", "a release name"),
    # file paths
    ("file:/abs/path.csv", "without a leading '/'"),
    ("file:data//raw.csv", "no empty components"),
    ("file:data/raw/", "no empty components"),
    ("file:data/../secret", "no '.' or '..' components"),
    ("file:../secret", "no '.' or '..' components"),
    ("file:./data/raw.csv", "no '.' or '..' components"),
    ("file:data/ /x", "whitespace"),
    ("file:data/ x", "whitespace"),
    ("file:data/x\tb", "control characters"),
    ("file:data/x\x00", "control characters"),
    ("file:", "needs a name"),
    # file selectors
    ("file:data/raw.csv@", "nothing after '@'"),
    ("file:data/raw.csv@HEAD ~1", "can't contain whitespace"),
    ("file:data/raw.csv@-n", "can't start with '-'"),
    # table selectors
    ("table:deliveries@", "nothing after '@'"),
    (
        "table:deliveries@a.b",
        "a table selector is a version number, an ISO timestamp, a range A..B, 'latest' "
        "or an Iceberg tag or branch name",
    ),
    ("table:deliveries@-1", "a table selector is"),
    ("table:deliveries@v1.2.3", "a table selector is"),
    ("table:deliveries@production", "a table selector is"),
    ("table:deliveries@1e3", "a table selector is"),
    ("table:deliveries@\uff14\uff17", "a table selector is"),
    ("table:deliveries@" + "9" * 20, "larger than"),
    ("table:deliveries@9223372036854775808", "larger than"),
    ("table:deliveries@2024-13-01", "not a valid timestamp"),
    ("table:deliveries@2024-02-30T00:00", "not a valid timestamp"),
    ("table:deliveries@2024-09-30T24:00:00", "not a valid timestamp"),
    ("table:deliveries@2024-09-30 23:59:59", "a table selector is"),
    ("table:deliveries@2024-09-30T23:59:59.1234567", "a table selector is"),
    ("table:deliveries@2024-09-30t23:59:59", "a table selector is"),
    ("table:deliveries@2024-09-30+02:00", "a table selector is"),
    ("table:deliveries@52..40", "runs backwards"),
    ("table:deliveries@2024-10-01..2024-09-01", "runs backwards"),
    ("table:deliveries@2024-09-01..2024-10-01T00:00Z", "UTC offset"),
    ("table:deliveries@40..", "range end ''"),
    ("table:deliveries@..52", "range end ''"),
    ("table:deliveries@40..latest", "range end 'latest'"),
    ("table:deliveries@1..2..3", "range end '2..3'"),
    ("table:deliveries@1...3", "range end '.3'"),
    # model selectors
    ("model:clf@", "nothing after '@'"),
    ("model:clf@v1.2", "a model selector is"),
    ("model:clf@V1.2.3", "a model selector is"),
    ("model:clf@v01.2.3", "leading zero"),
    ("model:clf@1.2.3-", "a model selector is"),
    ("model:clf@1.2.3-rc..1", "prerelease"),
    ("model:clf@1.2.3-01", "prerelease"),
    ("model:clf@1.2.3+build5", "a model selector is"),
    ("model:clf@1.2.99999999999999999999", "larger than"),
    ("model:clf@2024-09-30", "a model selector is"),
    ("model:clf@9lives", "a model selector is"),
    ("model:clf@champ.ion", "a model selector is"),
    ("model:clf@" + "a" * 201, "a model selector is"),
    # features selectors
    ("features:delivery@v1.0.0", "a features selector is a version number or 'latest'"),
    ("features:delivery@production", "a features selector is"),
    ("features:delivery@2024-09-30", "a features selector is"),
    ("features:delivery@1..2", "a features selector is"),
    # run and release take none
    ("run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z@1", "a run ref takes no selector"),
    ("run:01JD5Z3W7Q8R9S0T1V2W3X4Y5Z@", "a run ref takes no selector"),
    ("release:2024.10.15@latest", "a release ref takes no selector"),
    # MLflow URIs
    ("models:/", "an MLflow model URI is"),
    ("models:/clf", "an MLflow model URI is"),
    ("models:/clf/", "an MLflow model URI is"),
    ("models:/clf/champion", "'champion' is not a version, a stage or 'latest'"),
    ("models:/clf/v1.0.0", "an MLflow model URI is"),
    ("models:/clf/3/extra", "an MLflow model URI is"),
    ("models:/clf@Production", "'Production' is a stage, not an alias"),
    ("models:/clf@latest", "'latest' is a selector of its own"),
    ("models:/clf@", "an alias starts with a letter"),
    ("models:/a/b@champion", "a model name"),
    ("models:/cl f/3", "a model name"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_REFS, ids=[repr(t)[:60] for t, _ in BAD_REFS])
def test_bad_refs_raise_ref_syntax_error(text: str, reason: str) -> None:
    with pytest.raises(RefSyntaxError) as caught:
        parse_ref(text)
    error = caught.value
    assert error.message.startswith(f"bad ref {text!r}: ")
    assert reason in error.message
    assert "\n" not in error.one_line()
    assert error.hint
    assert isinstance(error, UserInputError)
    assert error.exit_code == 2


def test_error_message_matches_the_documented_example() -> None:
    with pytest.raises(RefSyntaxError) as caught:
        parse_ref("table:deliveries@a.b")
    assert caught.value.message == (
        "bad ref 'table:deliveries@a.b': a table selector is a version number, "
        "an ISO timestamp, a range A..B, 'latest' or an Iceberg tag or branch name"
    )
    assert caught.value.hint == "write table refs like table:deliveries@47"


def test_unknown_kind_lists_the_known_kinds() -> None:
    with pytest.raises(RefSyntaxError) as caught:
        parse_ref("widget:x")
    for kind in KINDS:
        assert kind in caught.value.message


def test_expect_accepts_matching_kinds() -> None:
    assert parse_ref("table:t@1", expect="table") == Ref("table", "t", Version(1))
    assert parse_ref("models:/m/1", expect="model").kind == "model"
    assert parse_ref("features:f", expect=("table", "features")).kind == "features"


@pytest.mark.parametrize(
    ("text", "expect", "message"),
    [
        ("model:clf@3", "table", "expected a table ref, not a model ref"),
        ("run:01JD", ("table", "features"), "expected a table or features ref, not a run ref"),
        ("models:/clf/3", "file", "expected a file ref, not a model ref"),
    ],
)
def test_expect_rejects_other_kinds(text: str, expect: str | tuple[str, ...], message: str) -> None:
    with pytest.raises(RefSyntaxError, match=message):
        parse_ref(text, expect=expect)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------

# Characters str.isprintable() accepts, minus the separators a file path or revision can't hold.
_PRINTABLE = st.characters(
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
    exclude_characters="/@",
)

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)
run_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}", fullmatch=True)
path_parts = st.text(st.one_of(_PRINTABLE, st.just(" ")), min_size=1, max_size=12).filter(
    lambda part: part == part.strip() and part not in (".", "..")
)
paths = st.lists(path_parts, min_size=1, max_size=4).map("/".join)

numbers = st.integers(min_value=0, max_value=MAX_NUMBER)
small_numbers = st.integers(min_value=0, max_value=10**6)
prerelease_texts = st.lists(
    st.from_regex(r"0|[1-9][0-9]{0,3}|[0-9]{0,2}[A-Za-z-][0-9A-Za-z-]{0,6}", fullmatch=True),
    min_size=1,
    max_size=3,
).map(".".join)
alias_texts = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True).filter(
    lambda name: name.lower() not in (*STAGES, "latest")
)
revision_texts = st.text(_PRINTABLE | st.just("@"), min_size=1, max_size=20).filter(
    lambda text: not text.startswith("-")
)
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
naive_datetimes = st.datetimes()
aware_datetimes = st.datetimes(timezones=offsets)


def ordered(values: st.SearchStrategy[datetime]) -> st.SearchStrategy[tuple[datetime, datetime]]:
    return st.tuples(values, values).map(lambda pair: (min(pair), max(pair)))


versions = numbers.map(Version)
timestamps = (naive_datetimes | aware_datetimes).map(Timestamp)
version_ranges = st.one_of(
    st.tuples(numbers, numbers).map(lambda p: VersionRange(Version(min(p)), Version(max(p)))),
    (ordered(naive_datetimes) | ordered(aware_datetimes)).map(
        lambda p: VersionRange(Timestamp(p[0]), Timestamp(p[1]))
    ),
    st.tuples(versions, timestamps).map(lambda p: VersionRange(*p)),
    st.tuples(timestamps, versions).map(lambda p: VersionRange(*p)),
)
semvers = st.builds(SemVer, numbers, numbers, numbers, st.none() | prerelease_texts)
stages = st.sampled_from(STAGES).map(Stage)
aliases = alias_texts.map(Alias)
latest = st.just(Latest())
revisions = revision_texts.map(Revision)


def with_optional(
    kind: str, name: st.SearchStrategy[str], sel: st.SearchStrategy[Selector]
) -> st.SearchStrategy[Ref]:
    return st.builds(Ref, st.just(kind), name, st.none() | sel)


refs = st.one_of(
    with_optional("file", paths, revisions),
    with_optional("table", names, versions | timestamps | version_ranges | latest),
    with_optional("model", names, versions | semvers | stages | aliases | latest),
    with_optional("features", names, versions | latest),
    st.builds(Ref, st.just("run"), run_names),
    st.builds(Ref, st.just("release"), names),
)


@given(refs)
def test_format_then_parse_gives_the_same_ref(ref: Ref) -> None:
    text = format_ref(ref)
    assert parse_ref(text) == ref
    assert parse_ref(text, expect=ref.kind) == ref
    assert str(ref) == text


# Canonical strings, written without the value classes.
def canonical(
    kind: str, name: st.SearchStrategy[str], sel: st.SearchStrategy[str]
) -> st.SearchStrategy[str]:
    at_selector = st.just("") | sel.map(lambda text: "@" + text)
    return st.builds(lambda n, s: f"{kind}:{n}{s}", name, at_selector)


version_texts = numbers.map(str)
timestamp_texts = (naive_datetimes | aware_datetimes).map(datetime.isoformat)
range_texts = st.one_of(
    st.tuples(small_numbers, small_numbers).map(lambda p: f"{min(p)}..{max(p)}"),
    (ordered(naive_datetimes) | ordered(aware_datetimes)).map(
        lambda p: f"{p[0].isoformat()}..{p[1].isoformat()}"
    ),
    st.tuples(version_texts, timestamp_texts).map("..".join),
)
semver_texts = st.builds(
    lambda a, b, c, pre: f"v{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    small_numbers,
    small_numbers,
    small_numbers,
    st.none() | prerelease_texts,
)
canonical_texts = st.one_of(
    canonical("file", paths, revision_texts),
    canonical("table", names, version_texts | timestamp_texts | range_texts | st.just("latest")),
    canonical(
        "model",
        names,
        version_texts | semver_texts | st.sampled_from(STAGES) | alias_texts | st.just("latest"),
    ),
    canonical("features", names, version_texts | st.just("latest")),
    run_names.map(lambda name: f"run:{name}"),
    names.map(lambda name: f"release:{name}"),
)


@given(canonical_texts)
def test_parse_then_format_gives_the_same_text(text: str) -> None:
    assert format_ref(parse_ref(text)) == text


@given(st.sampled_from(STAGES), st.sampled_from([str.upper, str.title, str.lower]), names)
def test_stages_parse_in_any_case(stage: str, spell: object, name: str) -> None:
    assert callable(spell)
    written = spell(stage)
    assert parse_ref(f"model:{name}@{written}") == Ref("model", name, Stage(stage))  # type: ignore[arg-type]
    assert parse_ref(f"models:/{name}/{written}") == Ref("model", name, Stage(stage))  # type: ignore[arg-type]


ref_like_texts = st.one_of(
    st.text(max_size=40),
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from([*(f"{kind}:" for kind in KINDS), "models:/", ""]),
            st.text(st.sampled_from("ab01._-/@:. vVTZ+~"), max_size=30),
        ),
    ),
)


@given(ref_like_texts)
def test_any_text_parses_to_a_stable_ref_or_raises_ref_syntax_error(text: str) -> None:
    try:
        ref = parse_ref(text)
    except RefSyntaxError as error:
        assert error.message.startswith(f"bad ref {text!r}: ")
        assert "\n" not in error.one_line()
        return
    assert parse_ref(format_ref(ref)) == ref
    assert format_ref(parse_ref(format_ref(ref))) == format_ref(ref)


# -- datasets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "name", "text"),
    [
        ("s3://bucket", "raw/deliveries", "dataset:s3://bucket/raw/deliveries"),
        ("file", "/data/deliveries", "dataset:file//data/deliveries"),
        ("file://", "/tmp/x", "dataset:file:////tmp/x"),
        (
            "postgres://db:5432",
            "shop.public.orders",
            "dataset:postgres://db:5432/shop.public.orders",
        ),
        ("bigquery", "proj.ds.t", "dataset:bigquery/proj.ds.t"),
        ("s3://bucket/prefix", "t", "dataset:s3://bucket%2Fprefix/t"),
        ("x:", "/y", "dataset:x%3A//y"),
        ("kafka://h:9092", "a@b c", "dataset:kafka://h:9092/a%40b%20c"),
    ],
)
def test_a_dataset_ref_keeps_namespace_and_name_apart(namespace: str, name: str, text: str) -> None:
    assert f"dataset:{dataset_name(namespace, name)}" == text
    ref = parse_ref(f"{text}@7")
    assert ref == Ref("dataset", dataset_name(namespace, name), Revision("7"))
    assert split_dataset_name(ref.name) == (namespace, name)


@pytest.mark.parametrize(
    "text", ["dataset:nonamespace", "dataset:s3://bucket", "dataset:file/", "dataset:a%2fb/c"]
)
def test_a_dataset_ref_without_a_namespace_and_a_name_is_refused(text: str) -> None:
    with pytest.raises(RefSyntaxError, match="bad ref"):
        parse_ref(text)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_any_dataset_round_trips_through_its_ref(namespace: str, name: str) -> None:
    ref = parse_ref(f"dataset:{dataset_name(namespace, name)}")
    assert split_dataset_name(ref.name) == (namespace, name)


# --- the public surface --------------------------------------------------------------------


def test_the_package_exports_exactly_its_public_surface() -> None:
    import strata.refs

    assert sorted(strata.refs.__all__) == sorted(
        [
            *("KINDS", "MAX_NAME_LENGTH", "MAX_NUMBER", "MAX_PATH_LENGTH", "STAGES"),
            *("Alias", "Kind", "Latest", "Ref", "Revision", "Selector", "SemVer", "Stage"),
            *("StageName", "Timestamp", "Version", "VersionRange"),
            *("dataset_name", "format_ref", "parse_ref", "parse_selector", "split_dataset_name"),
        ]
    )
    assert all(hasattr(strata.refs, name) for name in strata.refs.__all__)
