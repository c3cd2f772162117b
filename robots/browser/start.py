"""Starting a browser of any kind: `start_browser` dispatches on BrowserOptions.kind."""

from __future__ import annotations

from pathlib import Path

from robots.browser.launch import KINDS, BrowserOptions
from robots.browser.local import start_chromium
from robots.browser.page import Browser
from robots.browser.remote import start_remote
from robots.browser.undetected import start_undetected
from robots.errors import BrowserError


def start_browser(options: BrowserOptions, run_dir: Path | None) -> Browser:
    """Start the browser `options.kind` names; always end it with `quit()`. Start failures are BrowserErrors
    that say what to install or set."""
    if options.kind == "chromium":
        return start_chromium(options, run_dir)
    if options.kind == "undetected":
        return start_undetected(options, run_dir)
    if options.kind == "remote":
        return start_remote(options, run_dir)
    raise BrowserError(f"unknown browser kind {options.kind!r}; use one of {', '.join(KINDS)}")
