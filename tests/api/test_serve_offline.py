"""`robots serve` as a user runs it: `--port 0` announces the port it actually bound (after binding), a port in use is
a one-line error before any announcement, and the docs pages (/docs, /redoc) render in a real headless Chromium
with no request leaving loopback (their Swagger UI and ReDoc assets are served by the API itself)."""

from __future__ import annotations

import json
import queue
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from robots.browser.launch import BrowserOptions
from robots.browser.start import start_browser
from robots.testing.helpers import cli_env

from .conftest import ApiClient

ANNOUNCED = re.compile(r"Sera API on http://127\.0\.0\.1:(\d+) \(docs: /docs\)")


def test_robots_serve_on_port_0_announces_the_port_it_bound(tmp_path: Path) -> None:
    server = subprocess.Popen([sys.executable, "-m", "robots.cli", "serve", "--port", "0"], env=cli_env(tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr or ()], daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=120)  # a bound on a hang, not on speed
        found = ANNOUNCED.fullmatch(first.rstrip("\n"))
        assert found, first
        port = int(found[1])
        assert port != 0
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
        assert (health.status_code, health.json()["status"]) == (200, "ok")
    finally:
        server.terminate()
        server.wait(timeout=60)
        reader.join(timeout=60)
        assert server.stderr is not None
        server.stderr.close()


def test_robots_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "robots.cli", "serve", "--port", str(port)],
                              env=cli_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"error: cannot listen on 127.0.0.1 port {port}: the port is in use (another program "
                           f"listens there); choose another with --port, or --port 0 for a free one\n")


@pytest.mark.browser
def test_the_docs_pages_render_offline_in_chromium(make_client: Callable[..., ApiClient]) -> None:
    client = make_client()
    base = str(client.base_url).rstrip("/")
    # No name resolves (a CDN's included): only the API on 127.0.0.1 can answer.
    offline = BrowserOptions(arguments=("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",))
    browser = start_browser(offline, None)
    try:
        driver = browser.driver
        driver.get(f"{base}/docs")
        wait = WebDriverWait(driver, 60)  # a bound on a hang, not on speed
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
        paths = {e.text.replace("\u200b", "") for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        assert {"/health", "/runs/{run_id}", "/customers"} <= paths
        driver.get(f"{base}/redoc")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[id^='operation/']"))
        assert "/runs/{run_id}" in driver.find_element(By.TAG_NAME, "body").text
        requests = sent(browser.driver.execute("getLog", {"type": "performance"})["value"])
    finally:
        browser.quit()
    assert f"{base}/static-offline-docs/swagger-ui-bundle.js" in requests
    assert f"{base}/static-offline-docs/redoc.standalone.js" in requests
    # ReDoc's sidebar asks for its maker's logo on a CDN: the page's Content-Security-Policy stops it in the browser
    assert {url: why for url, why in requests.items() if not url.startswith(base + "/")} == {
        url: "csp" for url in requests if not url.startswith(base + "/")}
    assert {why for url, why in requests.items() if url.startswith(base + "/")} == {None}


def sent(performance_log: list[dict[str, Any]]) -> dict[str, str | None]:
    """Every URL the pages asked for (Chrome's performance log), each with why Chrome blocked it (None: it did
    not, the request was made)."""
    urls: dict[str, str] = {}
    blocked: dict[str, str | None] = {}
    for entry in performance_log:
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
            blocked.setdefault(params["requestId"], None)
        elif message.get("method") == "Network.loadingFailed":
            blocked[params["requestId"]] = params.get("blockedReason")
    return {url: blocked[rid] for rid, url in urls.items() if url.startswith(("http:", "https:", "ws:", "wss:"))}
