"""``/lineage/{ref}``: the graph around a ref, drawn in the browser; ``/search``: any ref typed
in the search box, taken to the page that shows it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from strata.errors import UserInputError
from strata.refs import parse_ref
from strata.server.auth import thing_of
from strata.server.lineage_routes import WAYS
from strata.server.ui.render import PageCallerDep, page, ref_link

router = APIRouter(include_in_schema=False)


@router.get("/lineage/{ref:path}", response_class=HTMLResponse)
def lineage(
    request: Request,
    ref: str,
    caller: PageCallerDep,
    direction: Annotated[Literal["up", "down", "both"], Query()] = "both",
    depth: Annotated[int, Query(ge=1, le=50)] = 6,
) -> HTMLResponse:
    """Upstream and downstream of a ref; the browser lays the graph out and lets one click a
    node for its details or to centre the graph on it."""
    caller.require("read", thing_of(ref))
    graph = caller.ws.lineage.graph(ref, direction=WAYS[direction], depth=depth).to_dict()
    nodes = [{**node, "link": ref_link(node["ref"])} for node in graph["nodes"]]
    return page(
        request, caller, "lineage.html", ref=ref, graph={**graph, "nodes": nodes},
        direction=direction, depth=depth,
    )  # fmt: skip


@router.get("/search")
def search(caller: PageCallerDep, ref: Annotated[str, Query(min_length=1)]) -> RedirectResponse:
    """Any ref to its page: a model's selector made exact, a table, a run, else its lineage."""
    text = ref.strip()
    if ":" not in text:
        text = f"model:{text}"  # a bare name is the commonest search: a model
    parsed = parse_ref(text)
    caller.require("read", thing_of(text))
    if parsed.kind == "model" and parsed.selector is not None:
        text = caller.ws.models.resolve(parsed).ref
    elif parsed.kind == "model":
        caller.ws.models.versions(parsed.name, limit=1)  # an unknown model: a 404 here
    elif parsed.kind == "table":
        caller.ws.tables.info(parsed.name)
    elif parsed.kind not in ("run",):
        text = caller.ws.lineage.exact(text)
    if not text:
        raise UserInputError("nothing to search for", hint="type a ref, e.g. model:NAME@production")
    return RedirectResponse(ref_link(text), status_code=303)
