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
    sign_in: Annotated[Path | None, typer.Option(
        "--sign-in", "--flow", help="run this flow first (e.g. flows/<portal>/sign_in.yaml), then check URL in its "
                                    "browser: pages behind the sign-in")] = None,
    var: Annotated[list[str] | None, typer.Option("--var", help="KEY=VALUE for the --sign-in flow")] = None,
    portal_url: Annotated[str | None, typer.Option(help="the portal the --sign-in flow signs in to; default: "
                                                        "URL's scheme, host and port")] = None,
) -> None:
    """Open URL in Chrome and show which candidates of each selector match there (first one wins; a later one
    is drift). Exit 1 when some selector has no matching candidate. With --sign-in FLOW, the flow runs first (its
    secrets found as `robots run` finds them) and URL is checked in the browser it signed in."""
    from robots.browser.check import check_catalog

    try:
        if sign_in is None:
            landed, results = check_catalog(url, catalog)
        else:
            landed, results = _check_signed_in(url, catalog, sign_in, var or [], portal_url)
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


def _check_signed_in(url: str, catalog_file: Path, flow_path: Path, var: list[str],
                     portal_url: str | None) -> tuple[str, list[Any]]:
    """Run the sign-in flow like `robots run` (recorded as a run), then check URL in the browser it signed in."""
    from urllib.parse import urlsplit

    from robots.browser.check import count_candidates, load_catalog
    from robots.cli.common import home, parse_vars
    from robots.engine import resolve_vars
    from robots.errors import BusinessFailure, TechnicalError
    from robots.flow.loader import load_flow
    from robots.run.launch import prepare_run

    catalog = load_catalog(catalog_file)
    flow = load_flow(flow_path)
    vars_ = parse_vars(var)
    resolve_vars(flow, vars_)  # bad vars are input errors before anything starts
    parts = urlsplit(url)
    seen: dict[str, Any] = {}

    def check(browser: Any) -> None:
        browser.open(url)
        seen["landed"], seen["results"] = browser.url, count_candidates(browser, catalog)

    portal_url = portal_url or f"{parts.scheme}://{parts.netloc}"
    with prepare_run(flow, trigger="cli", home=home(), portal_url=portal_url,
                     near=flow.path.parent.resolve()) as launch:
        record = launch.run(vars=vars_, then=check)
    if record.status != "passed":
        kind = BusinessFailure if record.status == "failed" else TechnicalError
        raise kind(f"{flow_path} did not sign in (run {record.run_id} {record.status}): {record.error_message}")
    return seen["landed"], seen["results"]
