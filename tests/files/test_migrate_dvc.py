"""``strata migrate dvc`` on repositories the real ``dvc`` made: data, pointers, remotes,
pipeline, faults. One repository is built per module; each test works on a copy."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import blake3
import pytest

from dvc_support import PIPELINE, dvc, make_dvc_repo
from factories import Cli, ProgressRecorder, assert_one_line_error, isolate_env
from strata import Workspace
from strata.files.dvc_map import MAP_FILE, parse_map

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    base = tmp_path_factory.mktemp("dvc-template")
    commits = make_dvc_repo(base / "repo", base / "remote")
    return base / "repo", base / "remote", commits


@pytest.fixture
def repo(
    template: tuple[Path, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A copy of the template repository with a copy of its remote."""
    isolate_env(monkeypatch, tmp_path)
    source, remote, _ = template
    shutil.copytree(source, tmp_path / "repo", symlinks=True)
    shutil.copytree(remote, tmp_path / "remote", symlinks=True)
    config = tmp_path / "repo" / ".dvc" / "config"
    config.write_text(config.read_text().replace(str(remote), str(tmp_path / "remote")))
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


def migrate(cli: Cli, root: Path, *args: str) -> dict[str, object]:
    outcome = cli("migrate", "dvc", str(root), "--json", *args, cwd=root)
    assert outcome.code == 0, outcome.stderr
    found = outcome.json()
    assert isinstance(found, dict)
    return found


def cache_object(root: Path, md5: str) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_data_becomes_objects_and_pointers_replace_dvc_files(repo: Path, cli: Cli) -> None:
    result = migrate(cli, repo)
    assert {o["path"] for o in result["outs"]} == {"data/raw.csv", "data/images", "model.bin"}
    assert result["problems"] == []
    assert sorted(result["dvc_files_removed"]) == ["data/images.dvc", "data/raw.csv.dvc"]
    for path in ("data/raw.csv", "data/images", "model.bin"):
        assert (repo / f"{path}.strata").is_file()
    assert not (repo / "data" / "raw.csv.dvc").exists()
    assert "/raw.csv" in (repo / "data" / ".gitignore").read_text().splitlines()
    with Workspace(repo) as ws:
        raw = (repo / "data" / "raw.csv").read_bytes()
        assert ws.files.tracked(["data/raw.csv"])[0].pointer.hash == blake3.blake3(raw).hexdigest()
        assert ws.store.exists(blake3.blake3(raw).hexdigest())
        assert [s.state for s in ws.files.status()] == ["unchanged"] * 3
    shutil.rmtree(repo / "data" / "images")
    assert cli("checkout", "data/images", cwd=repo).code == 0
    assert (repo / "data" / "images" / "img3.txt").read_text() == "image 3\n"


def test_keep_dvc_and_a_rerun_imports_nothing_twice(repo: Path, cli: Cli) -> None:
    first = migrate(cli, repo, "--keep-dvc")
    assert first["objects"] == 6  # raw.csv, four images, model.bin
    assert (repo / "data" / "raw.csv.dvc").is_file() and (
        repo / "data" / "raw.csv.strata"
    ).is_file()
    again = migrate(cli, repo, "--keep-dvc")
    assert (again["objects"], again["bytes"], again["pointers_written"]) == (0, 0, [])
    assert again["remotes_added"] == [] and again["remotes_kept"] == ["storage"]
    lines = (repo / ".strata" / MAP_FILE).read_text().splitlines()
    assert len(lines) == len(set(lines)) == len(parse_map("\n".join(lines)))


def test_dry_run_counts_objects_and_bytes_and_writes_nothing(repo: Path, cli: Cli) -> None:
    before = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    plan = migrate(cli, repo, "--dry-run")
    after = sorted(p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts)
    assert after == before
    done = migrate(cli, repo)
    assert (plan["objects"], plan["bytes"]) == (done["objects"], done["bytes"])
    assert plan["objects"] == 6  # raw.csv, four images, model.bin (the listing is made)
    assert len(plan["outs"]) == len(done["outs"]) == 3


def test_progress_expects_every_object_and_the_bytes_read_before_reading(repo: Path) -> None:
    with Workspace.init(repo) as ws:
        first = ProgressRecorder()
        result = ws.files.import_dvc(keep_dvc=True, progress=first)
        assert first.expected == first.done == [6, result.bytes]  # raw.csv, 4 images, model
        assert first.overruns == []
        again = ProgressRecorder()  # every object is in the cache: expected and done at once
        ws.files.import_dvc(keep_dvc=True, progress=again)
        assert again.expected == again.done
        assert again.overruns == []


def test_a_folder_that_is_not_a_dvc_repository_is_refused(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "plain").mkdir()
    outcome = cli("migrate", "dvc", str(tmp_path / "plain"), cwd=tmp_path)
    assert_one_line_error(outcome, 2, "is not a DVC repository")
    assert not (tmp_path / "plain" / ".strata").exists()


def test_missing_and_corrupt_objects_are_named_and_stop_nothing_else(
    repo: Path, cli: Cli, tmp_path: Path
) -> None:
    raw_md5 = md5_of((repo / "data" / "raw.csv").read_bytes())
    img_md5 = md5_of((repo / "data" / "images" / "img1.txt").read_bytes())
    for base in (repo / ".dvc" / "cache", tmp_path / "remote"):
        (base / "files" / "md5" / raw_md5[:2] / raw_md5[2:]).unlink()
    corrupt = cache_object(repo, img_md5)
    corrupt.chmod(0o644)
    corrupt.write_bytes(b"bit rot\n")
    outcome = cli("migrate", "dvc", str(repo), "--json", cwd=repo)
    assert outcome.code == 1
    result = outcome.json()
    assert isinstance(result, dict)
    problems = {(p["path"], p["md5"]): p["reason"] for p in result["problems"]}
    assert problems == {
        ("data/raw.csv", raw_md5): "missing from the DVC cache and remotes",
        ("data/images/img1.txt", img_md5): "corrupt (md5 mismatch)",
    }
    assert [o["path"] for o in result["outs"]] == ["model.bin"]
    assert (repo / "model.bin.strata").is_file()
    assert not (repo / "data" / "raw.csv.strata").exists()
    assert (repo / "data" / "raw.csv.dvc").is_file()  # kept: its data is not in Strata


def test_objects_the_cache_lacks_come_from_the_remote(repo: Path, cli: Cli) -> None:
    shutil.rmtree(repo / ".dvc" / "cache")
    refused = cli("migrate", "dvc", str(repo), "--from-remote", "nowhere", cwd=repo)
    assert_one_line_error(refused, 2, "no DVC remote named 'nowhere'")
    assert not (repo / ".strata").exists()
    result = migrate(cli, repo, "--from-remote", "storage")
    assert result["fetched_from"] == "storage"
    assert result["problems"] == []
    assert {o["path"] for o in result["outs"]} == {"data/raw.csv", "data/images", "model.bin"}


def test_remotes_carry_over_with_credentials_kept_local_and_unprinted(repo: Path, cli: Cli) -> None:
    dvc(repo, "remote", "add", "cloud", "s3://bucket/data")
    dvc(repo, "remote", "modify", "cloud", "endpointurl", "http://127.0.0.1:9")
    dvc(repo, "remote", "modify", "--local", "cloud", "secret_access_key", "S3CR3T-VALUE")
    outcome = cli("migrate", "dvc", str(repo), cwd=repo)
    assert outcome.code == 0, outcome.stderr
    assert "S3CR3T" not in outcome.stdout + outcome.stderr
    project = (repo / ".strata" / "config.toml").read_text()
    local = (repo / ".strata" / "config.local.toml").read_text()
    assert 'endpoint_url = "http://127.0.0.1:9"' in project and "S3CR3T" not in project
    assert 'secret_access_key = "S3CR3T-VALUE"' in local
    assert 'remote = "storage"' in project


def test_pipeline_repro_runs_only_what_dvc_repro_would(repo: Path, cli: Cli) -> None:
    migrate(cli, repo)
    assert (repo / "strata.yaml").is_file() and (repo / "strata.lock").is_file()
    unchanged = cli("repro", "--dry-run", "--json", cwd=repo)
    assert unchanged.code == 0, unchanged.stderr
    assert [s["action"] for s in json.loads(unchanged.stdout)["stages"]] == ["unchanged"]
    assert "changed" not in dvc(repo, "status")
    (repo / "params.yaml").write_text("train:\n  lr: 0.2\n")
    assert "train" in dvc(repo, "status")
    changed = cli("repro", "--dry-run", "--json", cwd=repo)
    stages = json.loads(changed.stdout)["stages"]
    assert [(s["stage"], s["action"]) for s in stages] == [("train", "would run")]
    assert stages[0]["reasons"] == ["param train.lr changed"]


def test_a_pipeline_strata_cannot_express_is_named_and_nothing_is_written(
    repo: Path, cli: Cli
) -> None:
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python3 train.py\n    always_changed: true\n"
        "    outs:\n      - model.bin:\n          persist: true\n"
        "    metrics:\n      - metrics.json:\n          cache: false\n"
    )
    outcome = cli("migrate", "dvc", str(repo), cwd=repo)
    line = assert_one_line_error(outcome, 61, "stage train: always_changed")
    assert "stage train: outs model.bin: persist: true" in line
    assert not (repo / ".strata").exists() and not (repo / "strata.yaml").exists()
    assert (repo / "data" / "raw.csv.dvc").is_file()
    data_only = migrate(cli, repo, "--skip-pipeline")
    assert data_only["pipeline"] is None and len(data_only["outs"]) == 3


def test_an_interrupted_migration_completes_on_rerun(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strata.objects.store import ObjectStore

    real = ObjectStore.add_files
    calls = {"n": 0}

    def interrupted(self: ObjectStore, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ObjectStore, "add_files", interrupted)
    assert cli("migrate", "dvc", str(repo), cwd=repo).code != 0
    monkeypatch.setattr(ObjectStore, "add_files", real)
    # the folder went in whole; raw.csv, interrupted, keeps its .dvc file and has no pointer
    assert (repo / "data" / "images.strata").is_file()
    assert not (repo / "data" / "images.dvc").exists()
    assert (repo / "data" / "raw.csv.dvc").is_file()
    assert not (repo / "data" / "raw.csv.strata").exists()
    result = migrate(cli, repo)
    assert result["problems"] == []
    with Workspace(repo) as ws:
        assert [s.state for s in ws.files.status()] == ["unchanged"] * 3
        assert ws.files.verify().ok


def test_old_revisions_check_out_through_the_md5_map(
    repo: Path, cli: Cli, template: tuple[Path, Path, list[str]]
) -> None:
    first, second, _ = template[2]
    result = migrate(cli, repo, "--all-commits")
    assert {(o["path"], o["source"]) for o in result["history"]} == {
        ("data/raw.csv", "data/raw.csv.dvc"),  # its first version
        ("data/images", "data/images.dvc"),  # three images, before the fourth
    }
    from factories import commit_all

    commit_all(repo, "Move to Strata")
    assert cli("checkout", "--rev", first, cwd=repo).code == 0
    assert (repo / "data" / "raw.csv").read_text() == "a,b\n1,2\n"
    assert sorted(p.name for p in (repo / "data" / "images").iterdir()) == [
        "img0.txt",
        "img1.txt",
        "img2.txt",
    ]
    (repo / "model.bin").unlink()
    assert cli("checkout", "--rev", second, "model.bin", cwd=repo).code == 0
    assert (repo / "model.bin").read_text() == "model lr=0.1 rows=3\n"  # from dvc.lock
    assert cli("checkout", "--rev", "HEAD", cwd=repo).code == 0
    assert (repo / "data" / "raw.csv").read_text() == "a,b\n1,2\n3,4\n"
    assert len(list((repo / "data" / "images").iterdir())) == 4


def test_templated_stages_convert_and_stay_up_to_date(repo: Path, cli: Cli) -> None:
    (repo / "dvc.yaml").write_text(
        "vars:\n  - shards: [north, south]\n"
        + PIPELINE
        + "  split:\n    foreach: ${shards}\n    do:\n"
        "      cmd: mkdir -p out && cp data/raw.csv out/${item}.csv\n"
        '      deps: [data/raw.csv]\n      outs: ["out/${item}.csv"]\n'
    )
    dvc(repo, "repro", "-q")
    result = migrate(cli, repo)
    assert result["pipeline"]["stages"] == ["split@north", "split@south", "train"]
    assert "foreach: ${shards}" in (repo / "strata.yaml").read_text()
    assert (repo / "out" / "north.csv.strata").is_file()
    plan = json.loads(cli("repro", "--dry-run", "--json", cwd=repo).stdout)["stages"]
    assert {s["stage"]: s["action"] for s in plan} == dict.fromkeys(
        ["split@north", "split@south", "train"], "unchanged"
    )
    (repo / "data" / "raw.csv").chmod(0o644)
    (repo / "data" / "raw.csv").write_text("a,b\n9,9\n")
    plan = json.loads(cli("repro", "--dry-run", "--json", cwd=repo).stdout)["stages"]
    assert {s["action"] for s in plan} == {"would run"}


def test_a_dvc_file_naming_a_path_outside_is_refused_before_any_write(repo: Path, cli: Cli) -> None:
    escape = repo / "data" / "escape.dvc"
    escape.write_text("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: ../../etc/x\n")
    outcome = cli("migrate", "dvc", str(repo), cwd=repo)
    assert_one_line_error(outcome, 2, "data/escape.dvc", "unsafe path")
    assert not (repo / ".strata").exists()
    assert not (repo / "data" / "raw.csv.strata").exists()


def test_a_dvc_2_cache_and_its_crlf_md5s_are_read(repo: Path, cli: Cli) -> None:
    """DVC 2 kept objects at cache/ab/cdef… and hashed text with CRLF read as LF."""
    crlf = b"x,y\r\n5,6\r\n"
    md5 = md5_of(crlf.replace(b"\r\n", b"\n"))
    (repo / "legacy.csv").write_bytes(crlf)
    (repo / "legacy.csv.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 12\n  path: legacy.csv\n")
    legacy = repo / ".dvc" / "cache" / md5[:2] / md5[2:]
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(crlf)
    result = migrate(cli, repo)
    assert result["problems"] == []
    with Workspace(repo) as ws:
        pointer = ws.files.tracked(["legacy.csv"])[0].pointer
    assert pointer.hash == blake3.blake3(crlf).hexdigest()


def test_gto_tags_become_model_versions_with_stages_and_aliases(repo: Path, cli: Cli) -> None:
    from factories import commit_all, git

    (repo / "dvc.yaml").write_text(
        (repo / "dvc.yaml").read_text()
        + "artifacts:\n  clf:\n    path: model.bin\n    type: model\n    desc: delay model\n"
    )
    commit_all(repo, "artifacts")
    git(repo, "tag", "-a", "clf@v1.0.0", "-m", "Registering artifact clf version v1.0.0")
    git(repo, "tag", "-a", "clf#prod#1", "-m", "Assigning stage prod to artifact clf")
    (repo / "params.yaml").write_text("train:\n  lr: 0.2\n")
    dvc(repo, "repro", "-q")
    commit_all(repo, "lr 0.2")
    git(repo, "tag", "-a", "clf@v1.1.0", "-m", "Registering artifact clf version v1.1.0")
    git(repo, "tag", "-a", "clf#dev#2", "-m", "Assigning stage dev to artifact clf")
    result = migrate(cli, repo)
    assert result["models"]["registered"] == ["model:clf@1", "model:clf@2"]
    assert "top-level `artifacts`" in result["pipeline"]["notes"][0]
    with Workspace(repo) as ws:
        first, second = ws.models.show("model:clf@1"), ws.models.show("model:clf@2")
        assert (str(first.semver), first.stage, first.description) == (
            "v1.0.0",
            "production",
            "delay model",
        )
        assert (str(second.semver), second.aliases) == ("v1.1.0", ("dev",))
        for version, lr in ((first, "0.1"), (second, "0.2")):
            content = f"model lr={lr} rows=3\n".encode()
            assert version.artifact_hash == blake3.blake3(content).hexdigest()
    again = migrate(cli, repo)
    assert again["models"]["registered"] == []
    with Workspace(repo) as ws:
        assert len(ws.models.versions("clf")) == 2


def test_a_cache_configured_elsewhere_is_read(repo: Path, cli: Cli, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "remote")  # only the cache can supply the objects
    shutil.move(repo / ".dvc" / "cache", tmp_path / "shared-cache")
    dvc(repo, "cache", "dir", str(tmp_path / "shared-cache"))
    assert "missing" not in dvc(repo, "status")  # DVC finds its cache there too
    result = migrate(cli, repo)
    assert result["problems"] == [] and result["objects"] == 6
