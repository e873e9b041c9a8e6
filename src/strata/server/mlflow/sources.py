"""Where an MLflow registration's artifacts are: ``models:/m-ID`` (a logged model),
``runs:/RUN/PATH`` (a run's folder, or the logged model of that name the run produced) or
``mlflow-artifacts:/PATH``, each a folder of ``ws.run_artifacts``. Only artifacts this server
keeps can be registered: Strata stores a version's bytes itself."""

from __future__ import annotations

from strata.errors import NotTrackedError, UserInputError
from strata.models.artifacts import StoredFolder
from strata.objects.tree import TreeEntry
from strata.workspace import Workspace

SCHEME = "mlflow-artifacts:"


def folder_of(ws: Workspace, source: str, run_id: str | None) -> tuple[str, str | None]:
    """The artifact folder ``source`` names, and the logged model it belongs to (if any)."""
    if source.startswith("models:/m-"):
        model = ws.tracking.logged_models.get(source.removeprefix("models:/"))
        return _folder(model.artifact_uri), model.id
    if source.startswith("runs:/"):
        run, _, path = source.removeprefix("runs:/").partition("/")
        found = ws.tracking.tracked_run(run)
        folder = f"{_folder(found.artifact_uri)}/{path.strip('/')}".rstrip("/")
        if ws.run_artifacts.files(folder):
            return folder, None
        for model in ws.tracking.logged_models.of_runs([run]):
            if model.name == path.strip("/"):
                return _folder(model.artifact_uri), model.id
        return folder, None
    if source.startswith(SCHEME):
        return _folder(source), None
    raise UserInputError(
        f"cannot register {source!r}: Strata registers artifacts logged to this server",
        hint="log the model with this server as MLFLOW_TRACKING_URI, then register runs:/ID/PATH",
    )


def _folder(uri: str) -> str:
    if not uri.startswith(SCHEME):
        raise UserInputError(f"the artifacts at {uri!r} are not kept by this server")
    return uri.removeprefix(SCHEME).strip("/")


def stored_folder(ws: Workspace, folder: str) -> StoredFolder:
    """The files of ``folder``, objects of the store already, to register as they are;
    NotTrackedError when there are none."""
    files = ws.run_artifacts.files(folder)
    if not files:
        raise NotTrackedError(f"no artifacts at {folder}: nothing to register")
    entries = tuple(TreeEntry(rel, digest, size) for rel, (digest, size) in files.items())
    return StoredFolder(folder.rsplit("/", 1)[-1], entries)
