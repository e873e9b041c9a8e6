"""Writes that carry data: a model version registered from an uploaded artifact
(``POST /api/v1/models/{name}/versions``, multipart) and rows written to a table
(``POST /api/v1/tables/{name}/append|overwrite``, ``PUT /api/v1/tables/{name}``: a Parquet or
Arrow IPC stream body). Bodies stream to ``.strata/tmp/uploads`` and are removed afterwards;
their limit is ``server.max_upload``, not the 16 MiB of other requests."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from strata.core.pairs import parse_metrics, parse_pairs
from strata.errors import UserInputError
from strata.server.auth import CallerDep
from strata.server.model_routes import model_name
from strata.server.table_routes import table_ref
from strata.server.uploads import Form, receive_body, receive_form

router = APIRouter()
UPLOAD_PATHS = r"/api/v1/(models/[^/]+/versions|tables/[^/]+(/append|/overwrite)?)$"
FORM_FIELDS = {
    "description": "What this version is.",
    "tag": "KEY=VALUE, repeatable.",
    "metric": "NAME=NUMBER, repeatable.",
    "data": "A ref it was trained on, repeatable.",
    "features": "A feature set ref.",
    "run": "The run ref that produced it.",
    "semver": "Its semantic version X.Y.Z.",
    "bump": "major, minor or patch.",
    "signature": "Its input/output schema, as JSON.",
    "flavor": "How to load it (default: by name).",
    "allow_duplicate": "true: a new version even if the latest holds this registration.",
}
DATA_TYPES = {
    "application/vnd.apache.parquet": ".parquet",
    "application/vnd.apache.arrow.stream": ".arrows",
}


def _form_schema() -> dict[str, Any]:
    fields: dict[str, Any] = {"artifact": {"type": "string", "format": "binary"}}
    for name, text in FORM_FIELDS.items():
        fields[name] = {"type": "string", "description": text}
    schema = {"type": "object", "required": ["artifact"], "properties": fields}
    return {"requestBody": {"content": {"multipart/form-data": {"schema": schema}}}}


def _data_schema() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"requestBody": {"required": True, "content": dict.fromkeys(DATA_TYPES, binary)}}


def _flag(text: str | None, name: str) -> bool:
    if text is None or text.lower() in ("false", "0", "no", ""):
        return False
    if text.lower() in ("true", "1", "yes"):
        return True
    raise UserInputError(f"bad {name} {text!r}", hint="write true or false")


def _signature(text: str | None) -> dict[str, Any] | None:
    from strata.models.signature import normalise

    if text is None:
        return None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise UserInputError(f"the signature is not JSON: {exc}") from None
    return dict(normalise(raw))


def _register_options(form: Form) -> dict[str, Any]:
    unknown = sorted(set(form.fields) - set(FORM_FIELDS))
    if unknown:
        raise UserInputError(
            f"unknown form fields: {', '.join(unknown)}", hint=f"use {', '.join(FORM_FIELDS)}"
        )
    return {
        "description": form.value("description"),
        "tags": parse_pairs(form.values("tag"), "tag"),
        "metrics": parse_metrics(form.values("metric")),
        "data": form.values("data"),
        "features": form.value("features"),
        "run": form.value("run"),
        "semver": form.value("semver"),
        "bump": form.value("bump"),
        "signature": _signature(form.value("signature")),
        "flavor": form.value("flavor"),
        "allow_duplicate": _flag(form.value("allow_duplicate"), "allow_duplicate"),
    }


@router.post(
    "/models/{name}/versions", tags=["models"], status_code=201, openapi_extra=_form_schema()
)
async def register(name: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    """Register the uploaded ``artifact`` as the model's next version, stored as
    content-addressed objects; the same registration again makes no second version."""
    target = f"model:{model_name(name)}"
    caller.require("write", target)
    async with receive_form(request, caller.ws.root, "artifact") as form:
        if form.file is None:
            raise UserInputError("no artifact", hint="send the file as the form field 'artifact'")
        options = _register_options(form)
        for ref in options["data"]:
            caller.require("read", ref)
        version = await run_in_threadpool(
            caller.registry().register, model_name(name), form.file, **options
        )
    return version.to_dict()


async def _write(
    request: Request, caller: CallerDep, name: str, mode: str, **options: Any
) -> dict[str, Any]:
    caller.require("write", f"table:{name}")
    table_ref(name, None)  # the name checked before a byte is read
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind not in DATA_TYPES:
        raise UserInputError(
            f"cannot write a {kind or 'body without a Content-Type'} to a table",
            hint=f"send {' or '.join(DATA_TYPES)}",
        )
    tables = caller.tables()
    async with receive_body(request, caller.ws.root, f"rows{DATA_TYPES[kind]}") as path:
        if mode == "create":
            table = await run_in_threadpool(tables.create, name, path, **options)
            return {**table.info.to_dict(), "version": table.latest_version()}
        table = await run_in_threadpool(tables.open, name)
        result = await run_in_threadpool(getattr(table, mode), path, **options)
    return dict(result.to_dict())


@router.post("/tables/{name}/append", tags=["tables"], openapi_extra=_data_schema())
async def append(
    name: str,
    request: Request,
    caller: CallerDep,
    merge_schema: bool = False,
    message: str | None = None,
    allow_duplicate: bool = False,
) -> dict[str, Any]:
    """Append the body's rows as a new version; the same body again right after it landed
    (a rerun) appends nothing twice, unless ``allow_duplicate``."""
    return await _write(
        request, caller, name, "append", merge_schema=merge_schema, message=message,
        allow_duplicate=allow_duplicate,
    )  # fmt: skip


@router.post("/tables/{name}/overwrite", tags=["tables"], openapi_extra=_data_schema())
async def overwrite(
    name: str,
    request: Request,
    caller: CallerDep,
    merge_schema: bool = False,
    overwrite_schema: bool = False,
    message: str | None = None,
    allow_duplicate: bool = False,
) -> dict[str, Any]:
    """Replace all rows as a new version (old versions stay readable)."""
    return await _write(
        request, caller, name, "overwrite", merge_schema=merge_schema,
        overwrite_schema=overwrite_schema, message=message, allow_duplicate=allow_duplicate,
    )  # fmt: skip


@router.put("/tables/{name}", tags=["tables"], status_code=201, openapi_extra=_data_schema())
async def create(
    name: str, request: Request, caller: CallerDep, message: str | None = None
) -> dict[str, Any]:
    """Create a Delta table from the body's rows, at the workspace's table root."""
    return await _write(request, caller, name, "create", message=message)
