"""`robots selectors check`: which candidates of a selector catalog match on a live page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robots.browser.settings import BrowserOverrides, resolve_options
from robots.browser.start import start_browser
from robots.errors import FlowError
from robots.selectors_catalog import SelectorCatalog

_COUNT_JS = """
return arguments[0].map(([kind, value]) => {
  try {
    if (kind === 'xpath') {
      return document.evaluate(value, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength;
    }
    return document.querySelectorAll(value).length;
  } catch (e) { return -1; }
});
"""


@dataclass(frozen=True)
class CandidateResult:
    selector: str
    candidate: str
    matches: int  # -1: the browser refused the selector


def load_catalog(catalog_file: Path) -> SelectorCatalog:
    """The catalog file, checked (FlowError naming the file and its problems)."""
    if not catalog_file.is_file():
        raise FlowError.single(str(catalog_file), "no such selector catalog file")
    catalog, issues = SelectorCatalog.load_file(catalog_file)
    if issues:
        raise FlowError(issues)
    return catalog


def count_candidates(browser: Any, catalog: SelectorCatalog) -> list[CandidateResult]:
    """For every selector of the catalog, each candidate's matches on the page the browser shows."""
    results = []
    for sel in catalog.selectors.values():
        counts = browser.script(_COUNT_JS, [list(c.webdriver()) for c in sel.candidates])
        results += [CandidateResult(sel.name, str(c), int(n)) for c, n in zip(sel.candidates, counts, strict=True)]
    return results


def check_catalog(url: str, catalog_file: Path, *, headless: bool = True) -> tuple[str, list[CandidateResult]]:
    """Open `url` in Chrome and count, for every selector in the catalog file, each candidate's matches.
    Returns the URL the browser ended on (a redirect to a login page shows here) and the results."""
    catalog = load_catalog(catalog_file)
    # The browser of ROBOTS_BROWSER / ROBOTS_GRID_URL (chromium by default), like a run's.
    browser = start_browser(resolve_options(overrides=BrowserOverrides(headless=headless)), None)
    try:
        browser.open(url)
        return browser.url, count_candidates(browser, catalog)
    finally:
        browser.quit()
