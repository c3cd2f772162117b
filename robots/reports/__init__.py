"""Report formats for a finished (or running) run record: one module per format, registered here."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable

from robots.errors import ConfigError
from robots.records.model import RunRecord
from robots.reports.html import write_html
from robots.reports.json import write_json
from robots.reports.junit import write_junit

Reporter = Callable[[RunRecord, "str | os.PathLike[str]"], None]

REPORTERS: dict[str, Reporter] = {"html": write_html, "json": write_json, "junit": write_junit}

__all__ = [
    "REPORTERS",
    "Reporter",
    "UnknownReportKind",
    "register_reporter",
    "write_html",
    "write_json",
    "write_junit",
    "write_report",
]


class UnknownReportKind(ConfigError, ValueError):
    """A report kind that no reporter is registered for (e.g. a mistyped `--report`)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        known = sorted(REPORTERS)
        close = difflib.get_close_matches(kind, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(f"unknown report kind {kind!r}{hint}; known kinds: {', '.join(known)}")


def register_reporter(kind: str, reporter: Reporter) -> None:
    """Add a report format (a plugin's, say); a kind already registered is an error."""
    if kind in REPORTERS:
        raise ValueError(f"report kind {kind!r} is already registered")
    REPORTERS[kind] = reporter


def write_report(kind: str, record: RunRecord, path: str | os.PathLike[str]) -> None:
    try:
        reporter = REPORTERS[kind]
    except KeyError:
        raise UnknownReportKind(kind) from None
    reporter(record, path)
