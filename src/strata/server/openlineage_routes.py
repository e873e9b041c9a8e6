"""``POST /api/v1/lineage``: OpenLineage events, as Marquez takes them from the Spark, Airflow,
Flink and dbt integrations and the ``openlineage-python`` HTTP transport.

    OPENLINEAGE_URL=http://strata:8765 OPENLINEAGE_API_KEY=strata_... spark-submit ...

The body is one RunEvent, JobEvent or DatasetEvent, gzip-compressed or not
(``Content-Encoding: gzip``); it goes through the same checks and ingest as
``strata openlineage ingest``: 201 when stored, 400 with the reason when it cannot be, and the
same event twice changes nothing. The body limit applies to its decompressed size too.

Permissions: an event is a claim about what a job wrote, so it needs ``write`` on every table
or dataset it names as written (its outputs; a DatasetEvent's dataset): an editor grant on
``table:deliveries`` lets a job report writing that table and no other. An event that writes
nothing (a run's START with inputs only, an Airflow DAG run) needs the editor role itself.
Reading is every user's: what a run read changes no one's data.
"""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from strata.lineage.ingest import MAX_NESTING, nesting
from strata.server.auth import Caller, CallerDep, require
from strata.server.middleware import too_large

router = APIRouter(tags=["openlineage"])
WHOLE = "lineage"
"""What an event that names nothing as written is checked against: only a global role fits."""


async def event_body(request: Request) -> Any:
    """The request's JSON body, decompressed (gzip) within the body limit; 400 when it is
    not JSON, 413 when it grows over the limit."""
    raw = await request.body()
    limit: int = request.app.state.max_body
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        raw = gunzip(raw, limit)
    elif encoding not in ("", "identity"):
        raise HTTPException(400, f"Content-Encoding {encoding!r} is not taken: send gzip or none")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the body is not UTF-8 text") from None
    depth = nesting(text)
    if depth > MAX_NESTING:
        raise HTTPException(400, f"JSON nested {depth} levels deep (at most {MAX_NESTING})")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise HTTPException(400, f"malformed JSON: {exc}") from None


def gunzip(data: bytes, limit: int) -> bytes:
    """``data`` decompressed, never more than ``limit`` bytes of it (a gzip bomb stops there)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise HTTPException(400, f"the body is not valid gzip: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit, "decompressed ")
    if not inflater.eof:
        raise HTTPException(400, "the body is not valid gzip: it ends before its last block")
    if inflater.unused_data:
        raise HTTPException(400, "the body is not valid gzip: bytes follow its end")
    return out


EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "An OpenLineage RunEvent, JobEvent or DatasetEvent "
                    "(https://openlineage.io/spec/2-0-2/OpenLineage.json), gzip or not",
                }
            }
        },
    }
}


def some_writer(caller: CallerDep) -> Caller:
    """The caller, refused before their event is read when they may write nothing at all."""
    if not caller.principal.may_anywhere("write"):
        require(caller.principal, "write", WHOLE)
    return caller


@router.post("/lineage", status_code=201, openapi_extra=EVENT_BODY)
def post_event(
    caller: Annotated[Caller, Depends(some_writer)],  # first: refused before the body is read
    event: Annotated[Any, Depends(event_body)],
) -> dict[str, Any]:
    """Store one OpenLineage event (RunEvent, JobEvent, DatasetEvent) in the lineage graph:
    Spark, Airflow, Flink and dbt post here as they would to Marquez."""
    lineage = caller.ws.lineage
    planned = lineage.check_event(event)
    for thing in planned.written() or [WHOLE]:
        caller.require("write", thing)
    lineage.record_event(planned)
    return {
        "kind": planned.kind,
        "run": planned.run,
        "inputs": list(planned.inputs),
        "outputs": list(planned.outputs),
    }
