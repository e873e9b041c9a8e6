"""The web UI in a real headless Chromium (Debian's chromium and chromium-driver): the pages'
scripts run, the lineage graph holds what the API returns and answers clicks, and a
maintainer's promotion through the page lands in the registry and its trail."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from server_support import Server, Site

REQUIRE_CHROMIUM = os.environ.get("STRATA_REQUIRE_CHROMIUM") == "1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        reason = "chromium and chromium-driver are not installed (apt-get install them)"
        if REQUIRE_CHROMIUM:
            pytest.fail(f"STRATA_REQUIRE_CHROMIUM=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--disable-gpu"):  # fmt: skip
        options.add_argument(argument)
    started = webdriver.Chrome(service=Service(driver), options=options)
    started.set_page_load_timeout(30)
    yield started
    started.quit()


def wait_for(check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
            if found:
                return found
        except Exception:  # the page is still loading: look again
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.1)


def log_in(browser: Any, server: Server, token: str, then: str) -> None:
    browser.delete_all_cookies()
    browser.get(server.url + then)
    wait_for(lambda: "/login" in browser.current_url)
    browser.find_element("name", "token").send_keys(token)
    browser.find_element("css selector", "#login button").click()
    wait_for(lambda: browser.current_url == server.url + then)


def test_the_lineage_graph_holds_the_apis_nodes_and_a_click_shows_details(
    browser: Any, server: Server, site: Site
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    log_in(browser, server, site.tokens["bo"], "/lineage/model:clf@1")
    drawn = wait_for(lambda: browser.execute_script(
        "return window.strataGraph && window.strataGraph.nodes().map(n => n.id())"
    ))  # fmt: skip
    with server.client(site.tokens["bo"]) as api:
        expected = api.get("/api/v1/lineage/model:clf@1", params={"depth": 6}).json()
    assert set(drawn) == {node["ref"] for node in expected["nodes"]}
    assert "table:deliveries@0" in drawn
    # Click the table's node where Cytoscape drew it (offsets from the canvas's centre).
    x, y, width, height = browser.execute_script(
        "const n = window.strataGraph.getElementById('table:deliveries@0').renderedPosition();"
        "const box = document.getElementById('graph').getBoundingClientRect();"
        "return [n.x, n.y, box.width, box.height];"
    )
    canvas = browser.find_element("id", "graph")
    ActionChains(browser).move_to_element_with_offset(
        canvas, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    details = wait_for(lambda: browser.find_element("id", "details").text)
    assert "table:deliveries@0" in details
    centre = browser.find_element("css selector", "#details a.centre-node")
    assert centre.get_attribute("href").endswith("/lineage/table:deliveries@0")


def test_a_viewer_gets_no_promote_button(browser: Any, server: Server, site: Site) -> None:
    log_in(browser, server, site.tokens["bo"], "/models/clf/2")
    assert browser.find_elements("id", "promote") == []
    assert browser.find_element("css selector", "h1").text.startswith("clf")


def test_html_in_a_description_shows_as_text(browser: Any, server: Server, site: Site) -> None:
    log_in(browser, server, site.tokens["bo"], "/models/hostile/1")
    shown = browser.find_element("css selector", "p.description").text
    assert shown == "<script>alert('owned')</script>"
    assert browser.execute_script("return document.querySelectorAll('main script').length") == 0


def test_a_maintainer_promotes_through_the_page_with_a_reason(
    browser: Any, server: Server, site: Site
) -> None:
    from selenium.webdriver.support.ui import Select

    log_in(browser, server, site.tokens["ana"], "/models/other/1")
    form = browser.find_element("css selector", 'form[data-action="stage"]')
    Select(form.find_element("name", "stage")).select_by_value("production")
    form.find_element("name", "reason").send_keys("chosen in the browser")
    form.find_element("id", "promote").click()
    wait_for(lambda: browser.find_element("id", "stage").text == "production")
    with server.client(site.tokens["bo"]) as api:
        assert api.get("/api/v1/refs/model:other@production").json()["version"] == 1
        trail = api.get("/api/v1/audit", params={"model": "other"}).json()
    assert trail[0]["reason"] == "chosen in the browser" and trail[0]["actor"] == "ana"


def test_a_refused_change_shows_the_servers_reason(
    browser: Any, server: Server, site: Site
) -> None:
    log_in(browser, server, site.tokens["cy"], "/models/race/1")  # an editor on race
    form = browser.find_element("css selector", 'form[data-action="alias"]')
    form.find_element("name", "alias").send_keys("bad alias!")
    form.find_element("name", "reason").send_keys("try")
    form.find_element("id", "set-alias").click()
    message = wait_for(lambda: browser.find_element("css selector", ".action-result.failed").text)
    assert "alias" in message
