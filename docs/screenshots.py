"""Screenshots of the web UI on the demo workspace, into docs/img/, and how long each page
takes to serve (median of 5 warm loads).

    .venv/bin/python docs/screenshots.py            # or: make screenshots

Builds the demo workspace (`strata demo --keep`), starts `strata server` on a free loopback
port, logs in as the demo's maintainer in headless Chromium (Debian's chromium and
chromium-driver), and saves one PNG per page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
STRATA = Path(sys.executable).parent / "strata"
PAGES = {  # file name → path; {lineage} is the demo's largest lineage graph
    "models": "/models",
    "model": "/models/delay-classifier",
    "version": "/models/delay-classifier/2",
    "lineage": "/lineage/{lineage}",
    "table": "/tables/deliveries?from=1&to=4&key=delivery_id",
    "guard": "/guard",
    "incident": "/incidents/1",
    "runs": "/runs",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_workspace() -> Path:
    out = subprocess.run(
        [str(STRATA), "demo", "--keep"], capture_output=True, text=True, check=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    ).stdout  # fmt: skip
    found = re.search(r"kept at (\S+), beside", out)
    if found is None:
        raise SystemExit(f"the demo did not say where it kept its workspace:\n{out}")
    return Path(found.group(1))


def strata(root: Path, *args: str) -> str:
    return subprocess.run(
        [str(STRATA), *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def largest_lineage(client: httpx.Client, candidates: list[str]) -> str:
    sizes = {}
    for ref in candidates:
        answer = client.get(f"/api/v1/lineage/{ref}", params={"depth": 6})
        if answer.status_code == 200:
            sizes[ref] = len(answer.json()["nodes"])
    return max(sizes, key=lambda ref: sizes[ref])


def page_times(client: httpx.Client, paths: dict[str, str]) -> dict[str, float]:
    times = {}
    for name, path in paths.items():
        client.get(path)  # warm
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            assert client.get(path).status_code == 200, path
            samples.append((time.perf_counter() - started) * 1000)
        times[name] = statistics.median(samples)
    return times


def screenshots(url: str, token: str, paths: dict[str, str], out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,900", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get(url + "/login")
        browser.find_element("name", "token").send_keys(token)
        browser.find_element("css selector", "#login button").click()
        time.sleep(1)
        for name, path in paths.items():
            browser.get(url + path)
            time.sleep(1.5 if name == "lineage" else 0.5)  # the graph lays itself out
            if name == "lineage":  # show a node's details, as a click would
                browser.execute_script("window.strataGraph.nodes('.root').emit('tap')")
            browser.save_screenshot(str(out / f"{name}.png"))
            print(f"  {out / f'{name}.png'}")
    finally:
        browser.quit()


def main() -> None:
    root = demo_workspace()
    token = json.loads(strata(root, "token", "create", "ana", "--json"))["token"]
    port = free_port()
    server = subprocess.Popen(
        [str(STRATA), "server", "--port", str(port)], cwd=root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
            for _ in range(100):
                try:
                    if api.get("/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            candidates = ["model:delay-classifier@production", "table:deliveries@4",
                          "file:data/deliveries", "file:pipeline/model.txt"]  # fmt: skip
            lineage = largest_lineage(api, candidates)
            paths = {name: path.format(lineage=lineage) for name, path in PAGES.items()}
        with httpx.Client(base_url=url, cookies={"strata_session": token}) as browserless:
            times = page_times(browserless, paths)
        print("page times on the demo workspace (median of 5, ms):")
        for name, ms in times.items():
            print(f"  {name:<9} {paths[name]:<52} {ms:7.1f}")
        out = HERE / "img"
        out.mkdir(exist_ok=True)
        screenshots(url, token, paths, out)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(root, ignore_errors=True)
        for sibling in ("remote", "teammate"):
            shutil.rmtree(root.with_name(f"{root.name}-{sibling}"), ignore_errors=True)


if __name__ == "__main__":
    main()
