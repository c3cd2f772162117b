"""`robots selectors check URL --catalog FILE`: which candidates of a selector catalog match on a live page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from robots.cli.common import err, fail, out
from robots.errors import RobotsError

selectors_app = typer.Typer(help="Selector catalogs.", no_args_is_help=True)


@selectors_app.command("check")
def selectors_check(
    url: Annotated[str, typer.Argument(help="the page to check")],
    catalog: Annotated[Path, typer.Option(help="a catalog file, e.g. selectors/<portal>/login.yaml")],
) -> None:
    """Open URL in Chrome and show which candidates of each selector match there (first one wins; a later one
    is drift). Exit 1 when some selector has no matching candidate."""
    from robots.browser.check import check_catalog

    try:
        landed, results = check_catalog(url, catalog)
    except RobotsError as e:
        raise fail(e) from None
    table = Table(show_edge=False, box=None)
    for col in ("selector", "candidate", "matches", "verdict"):
        table.add_column(col)
    broken = []
    by_selector: dict[str, list[Any]] = {}
    for r in results:
        by_selector.setdefault(r.selector, []).append(r)
    for name, rows in by_selector.items():
        winner = next((r for r in rows if r.matches > 0), None)
        if winner is None:
            broken.append(name)
        for r in rows:
            verdict = ("invalid selector" if r.matches < 0 else "used" if r is winner and r is rows[0]
                       else "used (drift: an earlier candidate failed)" if r is winner else "")
            table.add_row(name, r.candidate, str(max(r.matches, 0)) if r.matches >= 0 else "-", verdict)
    out().print(table)
    err.print(f"checked on {landed}: {len(by_selector) - len(broken)} of {len(by_selector)} selectors match"
              + (f"; none of the candidates of {', '.join(broken)} match" if broken else ""), markup=False)
    if broken:
        raise typer.Exit(1)
