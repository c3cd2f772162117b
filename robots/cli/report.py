"""`robots report`: one run's report (html, json, junit), or with --since a dashboard of many runs. Registered by
robots/cli/__init__.py."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from robots.cli.common import fail, parse_age, report_name
from robots.errors import InputError, RobotsError


def report(
    run_id: Annotated[str | None, typer.Argument(help="a run id: that run's report")] = None,
    format: Annotated[str, typer.Option("--format", help="html, json or junit (one run)")] = "html",
    since: Annotated[str | None, typer.Option(help="a dashboard of all runs started within this age, e.g. 7d")] = None,
    output: Annotated[Path | None, typer.Option(help="where to write it")] = None,
) -> None:
    """Write a run's report (html, json, junit), or with --since a multi-run HTML dashboard."""
    from robots.records import open_store
    from robots.reports import write_report

    try:
        if (run_id is None) == (since is None):
            raise InputError("give a run id, or --since AGE for the dashboard (not both)")
        store = open_store()
        if since is not None:
            from robots.reports._files import write_atomically
            from robots.reports.dashboard import render_dashboard

            now = datetime.now(UTC)
            start = now - parse_age(since, "--since")
            target = output or Path("dashboard.html")
            page = render_dashboard(store.list(limit=None, since=start), since=start, now=now)
            write_atomically(target, page.encode("utf-8"))
        else:
            assert run_id is not None
            record = store.get(run_id)
            target = output or Path(record.run_dir or ".") / report_name(format)
            write_report(format, record, target)
    except RobotsError as e:
        raise fail(e) from None
    sys.stdout.write(f"{target}\n")
