"""Compatibility re-export: the names this module held before the browser layer was split. New code imports
from where they live now:

- robots.browser.page: the `Browser` page facade (its action families in robots/browser/page/);
- robots.browser.launch: `BrowserOptions`, `KINDS`, Chrome's arguments, binaries, Xvfb, process tracking,
  the gated chromedriver Service and `prepare`;
- robots.browser.local / .undetected / .remote: each kind's start; robots.browser.start: `start_browser`;
- robots.browser.diagnosis: what Selenium and chromedriver say, as robots errors (`start_error`, `log_tail`).

Kept because the engine, tests and scripts import `from robots.browser.drivers import Browser, BrowserOptions,
start_browser, ...`; it defines nothing of its own."""

from __future__ import annotations

from robots.browser.diagnosis import log_tail, start_error
from robots.browser.launch import (
    CHROME_FLAGS,
    DRIVER_LOG_ARGS,
    KINDS,
    BrowserOptions,
    chrome_arguments,
    driver_port,
    prepare,
)
from robots.browser.local import start_chromium
from robots.browser.page import Browser
from robots.browser.start import start_browser

__all__ = [
    "CHROME_FLAGS",
    "DRIVER_LOG_ARGS",
    "KINDS",
    "Browser",
    "BrowserOptions",
    "chrome_arguments",
    "driver_port",
    "log_tail",
    "prepare",
    "start_browser",
    "start_chromium",
    "start_error",
]
