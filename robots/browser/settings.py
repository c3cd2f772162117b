"""Which browser a run uses, in one order (STYLE 11): defaults < the flow's `browser:` section < the
environment (ROBOTS_BROWSER, ROBOTS_GRID_URL) < the command line (--browser,
--grid-url, --headed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from robots.browser.launch import KINDS, BrowserOptions
from robots.errors import InputError
from robots.settings import settings


@dataclass(frozen=True)
class BrowserOverrides:
    """What the command line (or a caller) asks for; None: not given, the layers below decide."""

    kind: str | None = None
    grid_url: str | None = None
    headless: bool | None = None


def _kind(value: str, where: str) -> str:
    if value not in KINDS:
        raise InputError(f"{where}: unknown browser kind {value!r}; use one of {', '.join(KINDS)}")
    return value


def resolve_options(spec: Any = None, *, overrides: BrowserOverrides | None = None, page_load: float | None = None,
                    env: Mapping[str, str] | None = None) -> BrowserOptions:
    """The options for one run. `spec` is a flow's `browser:` section (robots.flow.model.BrowserSpec) or None;
    `page_load` the flow's `timeouts.page_load`, used when the section sets no `page_load_timeout`.
    Raises InputError for a bad kind or a remote browser without a Grid URL (before anything starts)."""
    configured = settings(env)  # ROBOTS_BROWSER, ROBOTS_GRID_URL (a bad kind is a ConfigError naming it)
    over = overrides or BrowserOverrides()
    values: dict[str, Any] = {}
    if page_load is not None:
        values["page_load_timeout"] = page_load
    if spec is not None:
        values["kind"] = spec.kind
        values["headless"] = spec.headless
        values["window_size"] = spec.size
        values["arguments"] = tuple(spec.arguments)
        if spec.grid_url:
            values["grid_url"] = spec.grid_url
        if spec.page_load_timeout is not None:
            values["page_load_timeout"] = spec.page_load_timeout
        if spec.binary:
            values["chrome_binary"] = spec.binary
    if configured.browser:
        values["kind"] = configured.browser
    if configured.grid_url:
        values["grid_url"] = configured.grid_url
    if over.kind is not None:
        values["kind"] = _kind(over.kind, "--browser")
    if over.grid_url is not None:
        values["grid_url"] = over.grid_url
    if over.headless is not None:
        values["headless"] = over.headless
    options = BrowserOptions(**values)
    if options.kind == "remote" and not options.grid_url:
        raise InputError("the remote browser needs a Selenium Grid URL: set browser.grid_url in the flow, "
                         "ROBOTS_GRID_URL, or --grid-url")
    if options.grid_url and not options.grid_url.startswith(("http://", "https://")):
        raise InputError(f"the Selenium Grid URL must start with http:// or https://, got {options.grid_url!r}")
    return options
