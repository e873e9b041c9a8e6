"""Configuration: ``strata config get/set/list/unset``, the layers (defaults → project → local →
STRATA_* environment), and one-line refusals of unknown keys and bad values."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from factories import Cli, WorkspaceFactory, assert_one_line_error, isolate_env, snapshot, write
from strata.config import OPTIONS, Config, set_value, unset_value
from strata.errors import ConfigError


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A new git workspace; the current folder."""
    isolate_env(monkeypatch, tmp_path)
    factory = WorkspaceFactory(tmp_path, monkeypatch)
    yield factory().root
    factory.close()


@pytest.fixture
def cli() -> Cli:
    return Cli()


def _project(root: Path) -> dict[str, object]:
    return tomllib.loads((root / ".strata" / "config.toml").read_text())


def _local(root: Path) -> dict[str, object]:
    path = root / ".strata" / "config.local.toml"
    return tomllib.loads(path.read_text()) if path.exists() else {}


# -- get / set / unset / list -----------------------------------------------------------------
def test_get_a_default(root: Path, cli: Cli) -> None:
    out = cli("config", "get", "cache.type", cwd=root)
    assert out.code == 0, out.stderr
    assert out.stdout == "reflink,hardlink,copy\n"


def test_get_json(root: Path, cli: Cli) -> None:
    out = cli("config", "get", "cache.jobs", "--json", cwd=root)
    assert out.code == 0, out.stderr
    assert out.json() == {"key": "cache.jobs", "value": OPTIONS["cache.jobs"].default}


def test_set_writes_the_project_file(root: Path, cli: Cli) -> None:
    out = cli("config", "set", "cache.type", "hardlink,copy", cwd=root)
    assert out.code == 0, out.stderr
    assert _project(root) == {"core": {"git": "true"}, "cache": {"type": "hardlink,copy"}}
    assert _local(root) == {}
    assert cli("config", "get", "cache.type", cwd=root).stdout == "hardlink,copy\n"


def test_set_local_writes_the_local_file(root: Path, cli: Cli) -> None:
    out = cli("config", "set", "--local", "cache.dir", "/mnt/fast/cache", cwd=root)
    assert out.code == 0, out.stderr
    assert _local(root) == {"cache": {"dir": "/mnt/fast/cache"}}
    assert "cache" not in _project(root)
    assert cli("config", "get", "cache.dir", cwd=root).stdout == "/mnt/fast/cache\n"


def test_set_a_remote_key(root: Path, cli: Cli) -> None:
    assert cli("config", "set", "remote.origin.url", "s3://bucket/strata", cwd=root).code == 0
    out = cli("config", "get", "remote.origin.url", cwd=root)
    assert out.stdout == "s3://bucket/strata\n"


def test_unset_goes_back_to_the_default(root: Path, cli: Cli) -> None:
    cli("config", "set", "cache.jobs", "8", cwd=root)
    out = cli("config", "unset", "cache.jobs", cwd=root)
    assert out.code == 0, out.stderr
    assert "cache" not in _project(root)
    assert (
        cli("config", "get", "cache.jobs", cwd=root).stdout == OPTIONS["cache.jobs"].default + "\n"
    )


def test_list_shows_every_value_and_its_source(root: Path, cli: Cli) -> None:
    cli("config", "set", "cache.jobs", "8", cwd=root)
    out = cli("config", "list", "--json", cwd=root)
    assert out.code == 0, out.stderr
    rows = out.json()
    assert isinstance(rows, list)
    by_key = {row["key"]: row for row in rows}
    assert set(by_key) == set(OPTIONS)
    assert by_key["cache.jobs"] == {"key": "cache.jobs", "value": "8", "source": "project"}
    assert by_key["cache.type"]["source"] == "default"
    assert by_key["core.git"] == {"key": "core.git", "value": "true", "source": "project"}
    human = cli("config", "list", cwd=root)
    assert "cache.jobs = 8  (project)" in human.stdout.splitlines()


# -- layers -----------------------------------------------------------------------------------
def test_layers_later_wins(root: Path) -> None:
    set_value(root, "cache.jobs", "2")
    set_value(root, "cache.jobs", "3", scope="local")
    env = {"STRATA_CACHE_JOBS": "5"}
    config = Config.load(root, env)
    assert (config.get_int("cache.jobs"), config.sources["cache.jobs"]) == (5, "env")
    config = Config.load(root, {})
    assert (config.get_int("cache.jobs"), config.sources["cache.jobs"]) == (3, "local")
    unset_value(root, "cache.jobs", scope="local")
    config = Config.load(root, {})
    assert (config.get_int("cache.jobs"), config.sources["cache.jobs"]) == (2, "project")
    unset_value(root, "cache.jobs")
    config = Config.load(root, {})
    default = int(OPTIONS["cache.jobs"].default)
    assert (config.get_int("cache.jobs"), config.sources["cache.jobs"]) == (default, "default")


def test_layers_through_the_cli(root: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("config", "set", "cache.type", "copy", cwd=root)
    cli("config", "set", "--local", "cache.type", "hardlink", cwd=root)
    assert cli("config", "get", "cache.type", cwd=root).stdout == "hardlink\n"
    monkeypatch.setenv("STRATA_CACHE_TYPE", "reflink,copy")
    assert cli("config", "get", "cache.type", cwd=root).stdout == "reflink,copy\n"
    rows = cli("config", "list", "--json", cwd=root).json()
    assert {"key": "cache.type", "value": "reflink,copy", "source": "env"} in rows  # type: ignore[operator]


def test_env_names_follow_the_keys(root: Path) -> None:
    env = {"STRATA_METADATA_URL": "sqlite:////tmp/x.db", "STRATA_CACHE_DIR": "elsewhere"}
    config = Config.load(root, env)
    assert config.metadata_url == "sqlite:////tmp/x.db"
    assert config.cache_dir == root / "elsewhere"


def test_the_layers_reach_the_workspace(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from strata import Workspace

    monkeypatch.setenv("STRATA_CACHE_DIR", str(root.parent / "shared-cache"))
    write(root / "data.csv", "1\n")
    with Workspace(root) as ws:
        ws.files.add(["data.csv"])
    assert any((root.parent / "shared-cache").rglob("*"))
    assert not (root / ".strata" / "cache").exists()


# -- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["config", "set", "cache.typo", "copy"],
        ["config", "get", "cache.typo"],
        ["config", "unset", "cache.typo"],
        ["config", "set", "--local", "cache.typo", "copy"],
        ["config", "set", "remote.origin", "s3://x"],
    ],
)
def test_an_unknown_key_is_refused(root: Path, cli: Cli, args: list[str]) -> None:
    before = snapshot(root)
    out = cli(*args, cwd=root)
    key = args[-2] if args[1] == "set" else args[-1]
    assert_one_line_error(out, ConfigError.exit_code, f"unknown config key {key!r}", "cache.type")
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("cache.type", "floppy"),
        ("cache.type", "hardlink,floppy"),
        ("cache.type", ""),
        ("cache.jobs", "0"),
        ("cache.jobs", "-3"),
        ("cache.jobs", "many"),
        ("core.git", "maybe"),
    ],
)
def test_a_bad_value_is_refused_naming_the_key(root: Path, cli: Cli, key: str, value: str) -> None:
    before = snapshot(root)
    out = cli("config", "set", "--", key, value, cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, key, repr(value))
    assert snapshot(root) == before


def test_a_bad_value_from_the_environment_is_refused(
    root: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(root / "data.csv", "1\n")
    before = snapshot(root)
    monkeypatch.setenv("STRATA_CACHE_TYPE", "floppy")
    out = cli("add", "data.csv", cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, "cache.type", "'floppy'")
    assert snapshot(root) == before


def test_unset_of_a_key_that_is_not_set(root: Path, cli: Cli) -> None:
    before = snapshot(root)
    out = cli("config", "unset", "cache.dir", cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, "cache.dir", "not set")
    assert snapshot(root) == before


def test_get_of_a_remote_key_that_is_not_set(root: Path, cli: Cli) -> None:
    out = cli("config", "get", "remote.origin.url", cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, "remote.origin.url", "not set")


def test_a_malformed_config_file(root: Path, cli: Cli) -> None:
    (root / ".strata" / "config.toml").write_text("[cache\ntype = copy\n")
    before = snapshot(root)
    out = cli("status", cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, "config.toml", "TOML")
    out = cli("config", "set", "cache.type", "copy", cwd=root)
    assert_one_line_error(out, ConfigError.exit_code, "config.toml")
    assert snapshot(root) == before


# -- credentials ------------------------------------------------------------------------------
SECRET = "s3cr3t-Value"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://user:PW@host/store", "http://user:***@host/store"),
        ("https://:tok@host", "https://:***@host"),
        (
            "remote 'web' (http://u:PW@h/x): cannot list: GET http://u:PW@h/x failed",
            "remote 'web' (http://u:***@h/x): cannot list: GET http://u:***@h/x failed",
        ),
        ("az://c/p?sv=2024&sig=abc%2Bdef", "az://c/p?sv=2024&sig=***"),
        ("http://host:8080/store", "http://host:8080/store"),
        ("/srv/backup", "/srv/backup"),
    ],
)
def test_redact_hides_the_password_of_every_url(text: str, shown: str) -> None:
    from strata.config import redact

    assert redact(text) == shown


def test_list_and_get_show_credentials_as_stars(root: Path, cli: Cli) -> None:
    set_value(root, "registry.webhooks.secret", SECRET, scope="local")
    set_value(root, "registry.webhooks.url", "https://ci.example.com/hook", scope="local")
    set_value(root, "metadata.url", f"postgresql://strata:{SECRET}@db/strata", scope="local")
    human = cli("config", "list", cwd=root)
    machine = cli("config", "list", "--json", cwd=root)
    one = cli("config", "get", "registry.webhooks.secret", cwd=root)
    for out in (human, machine, one):
        assert out.code == 0, out.stderr
        assert SECRET not in out.stdout + out.stderr
    by_key = {row["key"]: row["value"] for row in machine.json()}  # type: ignore[union-attr]
    assert by_key["registry.webhooks.secret"] == "***"
    assert by_key["metadata.url"] == "postgresql://strata:***@db/strata"
    assert by_key["registry.webhooks.url"] == "https://ci.example.com/hook"
    assert one.stdout == "***\n"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("registry.webhooks.secret", SECRET),
        ("remote.s3.secret_access_key", SECRET),
        ("remote.web.url", f"http://user:{SECRET}@host/store"),
    ],
)
def test_a_credential_never_goes_to_the_committed_file(
    root: Path, cli: Cli, key: str, value: str
) -> None:
    out = cli("config", "set", key, value, cwd=root)
    assert out.code == 0, out.stderr
    assert SECRET not in (root / ".strata" / "config.toml").read_text()
    assert SECRET in (root / ".strata" / "config.local.toml").read_text()
    assert f"warning: {key} holds a credential" in out.stderr
    assert "config.local.toml" in out.stderr
    assert Config.load(root, {}).get(key) == value


def test_credentials_already_committed_move_to_the_local_file(root: Path, cli: Cli) -> None:
    committed = root / ".strata" / "config.toml"
    committed.write_text(
        f'[core]\ngit = "true"\n\n[registry.webhooks]\nurl = "https://h/x"\nsecret = "{SECRET}"\n'
    )
    out = cli("config", "set", "cache.jobs", "2", cwd=root)
    assert out.code == 0, out.stderr
    assert "warning: registry.webhooks.secret holds a credential" in out.stderr
    assert SECRET not in committed.read_text()
    assert _project(root)["registry"] == {"webhooks": {"url": "https://h/x"}}
    assert _local(root) == {"registry": {"webhooks": {"secret": SECRET}}}
    assert Config.load(root, {}).get("cache.jobs") == "2"


def test_a_bad_url_is_refused_without_its_password(root: Path, cli: Cli) -> None:
    out = cli("config", "set", "lineage.openlineage.url", f"ftp://u:{SECRET}@h/", cwd=root)
    line = assert_one_line_error(out, ConfigError.exit_code, "lineage.openlineage.url")
    assert SECRET not in line
