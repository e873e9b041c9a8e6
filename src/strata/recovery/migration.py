"""``strata migrate dvc``: a DVC repository's remotes, data and pipeline, in that order.

The pipeline is converted (and checked) first, so a dvc.yaml Strata cannot express stops the
migration before anything is written; it is written last, as its lock needs the data's hashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from strata.core.progress import Progress, no_progress
from strata.errors import UserInputError
from strata.files.dvc_remotes import folder_of, strata_settings
from strata.files.dvc_repo import DvcRemote, read_config, require_repo
from strata.recovery.migration_gto import GtoImport, gto_tags, import_gto

if TYPE_CHECKING:
    from strata.files.dvc_import import DvcImportResult
    from strata.files.remotes import Remotes
    from strata.files.service import Files
    from strata.models import Registry
    from strata.pipelines.dvc_import import PipelineImport
    from strata.pipelines.service import Pipelines


@dataclass
class DvcMigration:
    files: DvcImportResult
    remotes_added: list[str] = field(default_factory=list)
    remotes_kept: list[str] = field(default_factory=list)  # there already, left as they are
    fetched_from: str | None = None
    pipeline: PipelineImport | None = None
    models: GtoImport | None = None  # GTO's tags, as model versions and stages

    def to_dict(self) -> dict[str, object]:
        return {
            **self.files.to_dict(),
            "remotes_added": self.remotes_added,
            "remotes_kept": self.remotes_kept,
            "fetched_from": self.fetched_from,
            "pipeline": self.pipeline.to_dict() if self.pipeline else None,
            "models": self.models.to_dict() if self.models else None,
        }


def _fetch_from(root: Path, from_remote: str | None) -> tuple[str | None, Path | None]:
    """The DVC remote to fetch what the cache lacks from (``from_remote``, else the default)
    and its folder (None: not a folder, so nothing is fetched)."""
    dvc_remotes, default = read_config(root)
    by_name = {r.name: r for r in dvc_remotes}
    chosen = from_remote or default
    if from_remote is not None and from_remote not in by_name:
        known = ", ".join(by_name) or "none"
        raise UserInputError(
            f"no DVC remote named {from_remote!r} (known: {known})", hint="check .dvc/config"
        )
    folder = folder_of(by_name[chosen], root) if chosen in by_name else None
    if from_remote is not None and folder is None:
        raise UserInputError(
            f"DVC remote {from_remote!r} is not a folder; Strata fetches from folder remotes",
            hint="run `dvc pull` first, then migrate from the DVC cache",
        )
    return chosen, folder


def check_dvc_repo(
    root: Path, *, from_remote: str | None = None, skip_pipeline: bool = False
) -> None:
    """Everything that can refuse a migration, before anything is written (even
    ``.strata/``): not a DVC repository, a DVC file Strata cannot read, a dvc.yaml Strata
    cannot express."""
    from strata.files.dvc_import import discover_outs
    from strata.pipelines.dvc_import import DVC_PIPELINE, convert_pipeline

    require_repo(root)
    _fetch_from(root, from_remote)
    discover_outs(root)
    if not skip_pipeline and (root / DVC_PIPELINE).is_file():
        convert_pipeline(root, (root / DVC_PIPELINE).read_text(encoding="utf-8"))


def migrate_dvc(
    files: Files,
    remotes: Remotes,
    pipelines: Pipelines,
    registry: Registry,
    *,
    from_remote: str | None = None,
    dry_run: bool = False,
    keep_dvc: bool = False,
    all_commits: bool = False,
    skip_pipeline: bool = False,
    progress: Progress = no_progress,
) -> DvcMigration:
    """Migrate the DVC repository at the workspace's root; rerunning imports nothing twice."""
    root = files.root
    require_repo(root)
    converted = None if skip_pipeline else pipelines.convert_dvc()
    dvc_remotes, default = read_config(root)
    chosen, folder = _fetch_from(root, from_remote)
    git = files.context.git
    tags = gto_tags(git) if git is not None else []
    imported = files.import_dvc(
        remotes=[folder] if folder else [],
        dry_run=dry_run,
        keep_dvc=keep_dvc,
        all_commits=all_commits,
        revisions=sorted({t.commit for t in tags if t.kind == "register"}),
        progress=progress,
    )
    added: list[str] = []
    kept: list[str] = []
    if not dry_run:
        added, kept = _adopt_remotes(remotes, root, dvc_remotes, default)
    result = DvcMigration(imported, added, kept, chosen if folder else None)
    if converted is not None:
        result.pipeline = pipelines.import_dvc(converted, dry_run=dry_run)
    if tags and not dry_run:
        result.models = import_gto(files, registry, tags)
    return result


def _adopt_remotes(
    remotes: Remotes, root: Path, dvc_remotes: list[DvcRemote], default: str | None
) -> tuple[list[str], list[str]]:
    """Each DVC remote as a Strata remote of the same name, options and all; credentials go
    to the local config file (``remotes.modify`` sends them there). Returns the names added
    and the names left as they were (a Strata remote by that name exists)."""
    configured = remotes.configured()
    added: list[str] = []
    kept: list[str] = []
    for remote in dvc_remotes:
        if remote.name in configured:
            kept.append(remote.name)
            continue
        url, options = strata_settings(remote, root)
        remotes.add(remote.name, url, default=remote.name == default and not configured)
        for key, value in options.items():
            remotes.modify(remote.name, key, value)
        added.append(remote.name)
    return added, kept
