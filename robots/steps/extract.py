"""Reading pages: tables to normalized records (one round trip per table, parsed with lxml)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import field_validator

from robots.scrape import contracts
from robots.scrape.tables import FieldSpec, parse_table
from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

class ExtractTableArgs(StepArgs):
    table: SelectorRef
    fields: dict[str, FieldSpec]
    record: str | None = None

    @field_validator("record")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None and v not in contracts.known_models():
            from robots.steps.base import suggest

            raise ValueError(f"unknown record model '{v}'{suggest(v, contracts.known_models())}; "
                             f"known: {', '.join(contracts.known_models())}")
        return v


@step("extract_table")
def extract_table(ctx: StepContext, args: ExtractTableArgs) -> list[dict[str, Any]]:
    """Read a table's rows into dicts through a field map; with `record`, every row must fit that model
    (fields the table does not show are None). Every row gets `source_url` and `scraped_at`.
    Output: the list of rows."""
    html = ctx.browser.outer_html(ctx.selector(args.table), ctx.timeout)
    extra = {"source_url": ctx.browser.url, "scraped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    rows = parse_table(html, args.fields, base_url=extra["source_url"], tz=ctx.time_zone, extra=extra)
    if args.record:
        rows = contracts.conform(args.record, rows)
    ctx.count(rows=len(rows))
    return rows
