"""The web UI over HTTP: log-in and its cookie, CSRF, what each page shows, what a role may
see, escaping, error pages. The browser's side (scripts, the graph, clicks) is in
test_browser.py."""

from __future__ import annotations

import json
import re

import httpx

from server_support import Server, Site
from ui_support import HOSTILE, browser_like, log_in


def test_an_anonymous_visitor_is_sent_to_the_log_in_page(server: Server) -> None:
    with server.client(follow_redirects=False) as client:
        answer = client.get("/models/clf?at=2026-01-01")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login?next=/models/clf%3Fat%3D2026-01-01"
        form = client.get(answer.headers["location"]).text
        assert 'name="token"' in form and 'value="/models/clf?at=2026-01-01"' in form


def test_logging_in_sets_an_http_only_secure_strict_session_cookie(
    server: Server, site: Site
) -> None:
    with browser_like(server) as client:
        client.get("/login")
        csrf = client.cookies["strata_csrf"]
        answer = client.post(
            "/session", data={"token": site.tokens["bo"]}, headers={"x-csrf-token": csrf}
        )
        assert answer.status_code == 303
        cookie = next(
            value for key, value in answer.headers.multi_items()
            if key == "set-cookie" and value.startswith("strata_session=")
        )  # fmt: skip
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=strict"} <= flags
        assert cookie.startswith(f"strata_session={site.tokens['bo']}")


def test_a_wrong_token_or_a_missing_csrf_token_logs_nobody_in(server: Server, site: Site) -> None:
    with browser_like(server) as client:
        client.get("/login")
        csrf = client.cookies["strata_csrf"]
        bad = {"token": "strata_x_y"}
        wrong = client.post("/session", data=bad, headers={"x-csrf-token": csrf})
        assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?failed")
        assert "strata_session" not in wrong.headers.get("set-cookie", "")
        forged = client.post("/session", data={"token": site.tokens["ana"]})  # no CSRF header
        assert forged.status_code == 403
        assert "strata_session" not in forged.headers.get("set-cookie", "")
        assert client.get("/models").status_code == 303  # still logged out


def test_after_log_in_only_paths_on_this_server_are_followed(server: Server) -> None:
    with server.client() as client:
        for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            form = client.get("/login", params={"next": elsewhere}).text
            assert 'name="next" value="/models"' in form, elsewhere


def test_a_change_with_the_session_cookie_needs_the_csrf_header(server: Server, site: Site) -> None:
    with log_in(server, site.tokens["ana"]) as client:
        path = "/api/v1/models/other/aliases/ui-check"
        body = {"version": 1, "reason": "from a page"}
        assert client.put(path, json=body).status_code == 403
        assert client.get("/api/v1/refs/model:other@ui-check").status_code == 404
        csrf = {"x-csrf-token": client.cookies["strata_csrf"]}
        assert client.put(path, json=body, headers=csrf).status_code == 200
        assert client.delete(path, headers=csrf).status_code == 200


def test_the_registry_pages_show_versions_stages_and_the_trail(server: Server, site: Site) -> None:
    with server.client(site.tokens["ana"]) as api, log_in(server, site.tokens["ana"]) as client:
        api.post("/api/v1/models/clf/versions/3/stage", json={"stage": "staging", "reason": "r1"})
        listing = client.get("/models").text
        assert all(f'data-model="{name}"' in listing for name in ("clf", "race", "other"))
        assert re.search(r'class="badge staging"[^>]*>v3<', listing)
        model = client.get("/models/clf").text
        assert all(f'data-version="{n}"' in model for n in (1, 2, 3))
        assert "r1" in model and ">ana<" in model  # the trail: why, and who (not the server)
        version = client.get("/models/clf/1").text
        assert 'href="/tables/deliveries?version=0">table:deliveries@0<' in version


def test_production_at_a_time_is_the_version_that_held_it_then(server: Server, site: Site) -> None:
    with site.workspace() as ws:
        before = ws.models.history("race")[-1].at
    with server.client(site.tokens["ana"]) as api, log_in(server, site.tokens["ana"]) as client:
        promotion = {"stage": "production", "reason": "t"}
        api.post("/api/v1/models/race/versions/1/stage", json=promotion)
        at_then = client.get("/models/race", params={"at": before.isoformat()}).text
        assert "no version was in production" in at_then
        now = client.get("/models/race", params={"at": "2999-01-01T00:00:00"}).text
        assert re.search(r'production was <a href="/models/race/1">v1</a>', now)


def test_html_in_names_and_descriptions_is_shown_as_text(server: Server, site: Site) -> None:
    with log_in(server, site.tokens["bo"]) as client:
        page = client.get("/models/hostile/1").text
        assert HOSTILE not in page
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
        error = client.get("/search", params={"ref": f"table:{HOSTILE}"})
        assert error.status_code in (400, 404) and "<script>" not in error.text
        assert "&lt;script&gt;" in error.text  # the message names what was asked for, as text


def test_a_viewer_sees_no_action_and_a_grant_shows_them_on_its_model_only(
    server: Server, site: Site
) -> None:
    with log_in(server, site.tokens["bo"]) as viewer:
        assert 'id="actions"' not in viewer.get("/models/clf/1").text
    with log_in(server, site.tokens["cy"]) as editor:  # maintainer on model:clf only
        on_clf = editor.get("/models/clf/1").text
        assert 'id="rollback"' in on_clf and '<option value="production">' in on_clf
        on_race = editor.get("/models/race/2").text
        assert 'id="set-alias"' in on_race
        assert 'id="rollback"' not in on_race and '<option value="production">' not in on_race


def test_the_table_page_shows_history_stats_pins_and_a_keyed_diff(
    server: Server, site: Site
) -> None:
    import pyarrow as pa

    with site.workspace() as ws:
        table = ws.tables.open("deliveries")
        table.append(pa.table({"id": [4], "delay": [4.0]}), message="one more")
        ws.tables.pin("deliveries", 0, by="tests")
    with log_in(server, site.tokens["bo"]) as client:
        page = client.get("/tables/deliveries", params={"from": "0", "to": "1", "key": "id"}).text
        assert 'data-version="1"' in page and "one more" in page
        assert '<span class="added">+1</span>' in page  # rows the append added
        assert '<span class="badge pinned">tests</span>' in page
        assert "+1 added" in page and "\u22120 removed" in page


def test_the_lineage_page_holds_the_graph_the_api_returns(server: Server, site: Site) -> None:
    with log_in(server, site.tokens["bo"]) as client:
        page = client.get("/lineage/model:clf@1").text
        data = r'<script type="application/json" id="graph-data">(.*?)</script>'
        embedded = re.search(data, page)
        assert embedded is not None
        graph = json.loads(embedded.group(1))
        api = client.get("/api/v1/lineage/model:clf@1", params={"depth": 6}).json()
        assert {n["ref"] for n in graph["nodes"]} == {n["ref"] for n in api["nodes"]}
        assert "table:deliveries@0" in {n["ref"] for n in graph["nodes"]}


def test_the_search_box_takes_any_ref_to_its_page(server: Server, site: Site) -> None:
    with log_in(server, site.tokens["bo"]) as client:

        def goes(ref: str) -> str:
            answer = client.get("/search", params={"ref": ref})
            assert answer.status_code == 303, answer.text
            return str(answer.headers["location"])

        assert goes("model:clf@1") == "/models/clf/1"
        assert goes("clf") == "/models/clf"
        assert goes("table:deliveries") == "/tables/deliveries"


def test_unknown_things_get_an_error_page_not_a_traceback(server: Server, site: Site) -> None:
    with log_in(server, site.tokens["bo"]) as client:
        for path in ("/models/nope", "/models/clf/99", "/tables/nope", "/search?ref=model:nope@1",
                     "/lineage/table:nope@1", "/search?ref=bad%20ref%3A%3A"):  # fmt: skip
            answer = client.get(path)
            assert answer.status_code in (400, 404), (path, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html"), path
            assert 'class="error-message"' in answer.text and "Traceback" not in answer.text


def test_api_errors_keep_their_json_shape(server: Server, site: Site) -> None:
    with server.client(site.tokens["bo"]) as client:
        answer = client.get("/api/v1/models/nope/versions/1")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_static_files_are_served_with_the_vendored_graph_library(server: Server) -> None:
    for path in ("/static/vendor/cytoscape.min.js", "/static/vendor/cytoscape-dagre.js"):
        assert httpx.get(server.url + path).status_code == 200
    assert httpx.get(server.url + "/static/vendor/LICENSE.cytoscape").status_code == 200


def test_the_runs_pages_show_a_runs_params_metrics_and_inputs(server: Server, site: Site) -> None:
    with site.workspace() as ws:
        [run] = ws.lineage.runs(job="train")
    with log_in(server, site.tokens["bo"]) as client:
        listing = client.get("/runs").text
        assert f'data-run="{run.id}"' in listing
        page = client.get(f"/runs/{run.id}").text
        assert "<dt>lr</dt><dd>0.1</dd>" in page and "<dt>mae</dt><dd>1.5</dd>" in page
        assert 'href="/tables/deliveries?version=0">table:deliveries@0<' in page


def test_the_guard_page_shows_the_policy_and_the_rollback_it_made(
    server: Server, site: Site
) -> None:
    with log_in(server, site.tokens["bo"]) as client:
        page = client.get("/guard").text
        assert "error_rate &gt; 0.05" in page and "rollback" in page  # the policy's rule
        assert 'data-outcome="rolled_back"' in page
        assert "model:guarded@2" in page and "model:guarded@1" in page


def test_an_incident_is_the_timeline_around_a_guard_action(server: Server, site: Site) -> None:
    with site.workspace() as ws:
        [event] = ws.guard.events("guarded")
    with log_in(server, site.tokens["bo"]) as client:
        listing = client.get("/incidents").text
        assert f'href="/incidents/{event.id}"' in listing
        page = client.get(f"/incidents/{event.id}").text
        assert "rolled_back" in page
        assert "model:guarded@2: stage none → production — better" in page  # the trail
        assert client.get("/incidents/999999").status_code == 404
    with server.client(site.tokens["bo"]) as api:
        answer = api.get(f"/api/v1/incidents/{event.id}").json()
        assert answer["event"]["id"] == event.id and answer["event"]["outcome"] == "rolled_back"
        assert any("— better" in entry["text"] for entry in answer["timeline"])
        assert api.get("/api/v1/incidents/999999").json()["error"]["code"] == "not_found"


def test_the_releases_pages_show_what_shipped_together(server: Server, site: Site) -> None:
    with site.workspace() as ws:
        ws.recovery.releases.create("2026.12.06", description="ui check")
    with log_in(server, site.tokens["bo"]) as client:
        assert 'href="/releases/2026.12.06"' in client.get("/releases").text
        page = client.get("/releases/2026.12.06").text
        assert "ui check" in page and "table:deliveries@" in page
