"""``/api/2.0/mlflow-artifacts``: the artifacts of ``mlflow-artifacts:/`` URIs, proxied into
Strata's object store (``ws.run_artifacts``), and the tracking API's ``artifacts/list``.

An upload streams to a temp file in the store's tmp area (no body limit), then is stored as an
object; an upload cut off half-way stores nothing. Reading needs a viewer; an upload or a
delete an editor on the experiment the path starts with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.requests import ClientDisconnect

from strata.errors import NotTrackedError, UserInputError
from strata.lineage.run_artifacts import RunArtifacts, check_path
from strata.server.auth import Caller, CallerDep
from strata.server.mlflow.registry_shapes import REGISTRY_ROOT
from strata.server.mlflow.requests import RunId, args_of

router = APIRouter(tags=["mlflow"])
tracking_router = APIRouter(tags=["mlflow"])
SCHEME = "mlflow-artifacts:"


def _artifacts(caller: Caller) -> RunArtifacts:
    return caller.ws.run_artifacts


def target_of(caller: Caller, path: str) -> str:
    """``experiment:NAME`` of the experiment a path starts with (``ID/...``), else all."""
    first = path.split("/", 1)[0]
    if not first.isdigit():
        return "experiment:*"
    return f"experiment:{caller.ws.tracking.experiment(first).name}"


@router.put("/artifacts/{path:path}")
async def upload(path: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    target = check_path(path)
    caller.require("write", await run_in_threadpool(target_of, caller, target))
    declared = request.headers.get("content-length")
    with _artifacts(caller).receiving() as tmp:
        received = 0
        with tmp.open("wb") as out:
            try:
                async for chunk in request.stream():
                    out.write(chunk)
                    received += len(chunk)
            except ClientDisconnect:
                raise UserInputError(f"the upload of {target} was cut off") from None
        if declared is not None and declared.isdigit() and int(declared) != received:
            raise UserInputError(f"the upload of {target} was cut off at {received} bytes")
        await run_in_threadpool(_artifacts(caller).put, target, tmp)
    return {}


@router.get("/artifacts/{path:path}")
def download(path: str, caller: CallerDep) -> FileResponse:
    if _in_registry(path):
        found = registry_copy(caller, path)
        if not found.is_file():
            raise NotTrackedError(f"artifact {path} does not exist")
    else:
        caller.require("read", "experiment:*")
        found = _artifacts(caller).file(path, verify=True)
    return FileResponse(found, media_type="application/octet-stream")


@router.get("/artifacts")
def list_artifacts(caller: CallerDep, path: str = "") -> dict[str, Any]:
    if _in_registry(path):
        return _registry_listing(registry_copy(caller, path))
    caller.require("read", "experiment:*")
    return _listing(caller, path)


@router.delete("/artifacts/{path:path}")
def delete(path: str, caller: CallerDep) -> dict[str, Any]:
    target = check_path(path)
    caller.require("write", target_of(caller, target))
    _artifacts(caller).delete(target)
    return {}


class ListArtifacts(RunId):
    path: str = ""


@tracking_router.get("/artifacts/list")
def list_run_artifacts(
    caller: CallerDep, args: Annotated[ListArtifacts, args_of(ListArtifacts)]
) -> dict[str, Any]:
    """A run's artifacts, as the tracking API lists them (the UI's file tree)."""
    caller.require("read", "experiment:*")
    root = caller.ws.tracking.tracked_run(args.id()).artifact_uri
    if not root.startswith(SCHEME):
        raise UserInputError(f"the artifacts of run {args.id()} are not kept by this server")
    base = root.removeprefix(SCHEME).strip("/")
    listed = _listing(caller, f"{base}/{args.path}".rstrip("/"))
    for entry in listed.get("files", []):
        entry["path"] = f"{args.path.strip('/')}/{entry['path']}".lstrip("/")
    return {"root_uri": root, **listed}


def _in_registry(path: str) -> bool:
    return path.strip("/").startswith(f"{REGISTRY_ROOT}/")


def registry_copy(caller: Caller, path: str) -> Path:
    """``registry/NAME/N[/REST]``: the path in a verified local copy of version N's artifact
    (Strata's registry is where a version's bytes are), once the caller may read the model."""
    parts = check_path(path).split("/", 3)
    if len(parts) < 3:
        raise NotTrackedError(f"artifact {path} does not exist", hint="name a model version")
    name, number, rest = parts[1], parts[2], (parts[3] if len(parts) > 3 else "")
    caller.require("read", f"model:{name}")
    version = caller.ws.models.show(f"model:{name}@{number}")
    local = caller.ws.models.path(version.ref)
    if version.artifact_kind != "directory":  # one file, listed under its own name
        return local.parent if not rest else local.parent / rest
    return local / rest if rest else local


def _registry_listing(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        return {}
    files = []
    for child in sorted(folder.iterdir()):
        item: dict[str, Any] = {"path": child.name, "is_dir": child.is_dir()}
        if child.is_file():
            item["file_size"] = child.stat().st_size
        files.append(item)
    return {"files": files} if files else {}


def _listing(caller: Caller, folder: str) -> dict[str, Any]:
    if not folder.strip("/"):
        return {}
    files = []
    for entry in _artifacts(caller).listing(folder):
        item: dict[str, Any] = {"path": entry.name, "is_dir": entry.is_dir}
        if entry.size is not None:
            item["file_size"] = entry.size
        files.append(item)
    return {"files": files} if files else {}
