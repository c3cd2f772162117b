"""A failed run's HTML report opened in real headless Chromium: the inline screenshot loads (the page's
Content-Security-Policy allows data: images and nothing external) and the status badge reads right."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from report_builders import failed_run

from robots.browser.drivers import BrowserOptions, start_chromium
from robots.reports.html import write_html

pytestmark = pytest.mark.browser

LOGIN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in · Sera</title>
<style>body{font-family:sans-serif;background:#f3f5f9;margin:0}
.top{height:52px;background:#0f2748;color:#fff;padding:14px 20px;font-weight:700}
form{width:360px;margin:60px auto;background:#fff;padding:24px;border-radius:8px;border:1px solid #e3e8f0}
.err{background:#fdecec;color:#b42318;padding:10px;border-radius:6px}
input{display:block;width:100%;margin:10px 0;padding:8px}</style></head>
<body><div class="top">Sera · acme</div><form><h2>Sign in</h2>
<div class="err">Invalid username or password.</div>
<input value="demo@acme.test"><input type="password" value="••••••"><button>Sign in</button></form></body></html>
"""


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def test_failed_run_report_renders_in_chromium(tmp_path: Path) -> None:
    """Starts one Chromium (a few seconds): it screenshots a login page for the evidence, then opens the report."""
    portal = tmp_path / "portal" / "login.html"
    portal.parent.mkdir()
    portal.write_text(LOGIN_PAGE, encoding="utf-8")
    run_dir = tmp_path / "runs" / "run-failed"
    report = run_dir / "report.html"

    browser = start_chromium(BrowserOptions(), None)
    try:
        driver = browser.driver
        driver.get(portal.as_uri())
        shot = browser.screenshot_png([])
        assert shot is not None
        write_html(failed_run(run_dir, shot=shot, drift=True), report)

        driver.set_window_size(1366, 2200)
        driver.get(report.as_uri())
        image = driver.execute_script(
            "const img = document.querySelector('img.screenshot');"
            "return {complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};")
        badge = driver.execute_script(
            "const b = document.getElementById('status');"
            "return {text: b.innerText, content: b.textContent, color: getComputedStyle(b).backgroundColor};")
        drift_box = driver.execute_script("return document.getElementById('drift').innerText;")
        driver.get_screenshot_as_file(str(tmp_path / "report.png"))
    finally:
        browser.quit()

    assert image == {"complete": True, "width": png_size(shot)[0], "height": png_size(shot)[1]}
    assert image["width"] > 0
    assert badge == {"text": "FAILED", "content": "failed", "color": "rgb(207, 34, 46)"}
    assert drift_box.startswith("Selector drift: 1 step matched a fallback selector")
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
