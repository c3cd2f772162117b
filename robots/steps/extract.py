"""Reading pages: texts, attributes, tables, detail views and repeated items, to normalized records
(one round trip per read, parsed with lxml or BeautifulSoup, never cell by cell)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field, field_validator

from robots.scrape import contracts
from robots.scrape.details import DetailField, ItemField, parse_detail, parse_items
from robots.scrape.tables import FieldSpec, parse_table
from robots.steps.base import SelectorRef, StepArgs, step
from robots.steps.shapes import ANY, TEXT, Shape, ShapeSource, field_map_shape, list_of

if TYPE_CHECKING:
    from robots.steps.context import StepContext

def _known_record(v: str | None) -> str | None:
    """A `record:` argument: the model it names comes from the pack its prefix names (robots.scrape.contracts)."""
    return contracts.check_name(v) if v is not None else None


class ExtractTableArgs(StepArgs):
    example: ClassVar[str | None] = (
        "- extract_table:\n    id: rows\n    table: customers.table\n    record: sera.customer\n"
        "    fields:\n      id: {row_attr: data-id}\n      name: {column: Name}\n"
        "      balance_cents: {column: Balance, type: money}")
    table: SelectorRef
    fields: dict[str, FieldSpec]
    record: str | None = None

    @field_validator("record")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return _known_record(v)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return list_of(rows_shape(shapes, self.record, self.fields))


def rows_shape(shapes: ShapeSource, record: str | None, fields: dict[str, Any] | None) -> Shape:
    """A scraped record: its model's fields (with `record`), else its field map's."""
    if record is not None:
        return shapes.record_model(record)
    return ANY if fields is None else field_map_shape(fields)


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


class ReadTextArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return TEXT


@step("read_text")
def read_text(ctx: StepContext, args: ReadTextArgs) -> str:
    """Read an element's visible text (whitespace collapsed). Output: the text."""
    return " ".join(ctx.browser.text(ctx.selector(args.target), ctx.timeout).split())


class ReadAttrArgs(StepArgs):
    target: SelectorRef
    attr: str = Field(description="the attribute (or DOM property) to read, e.g. href, value, data-id")


@step("read_attr")
def read_attr(ctx: StepContext, args: ReadAttrArgs) -> str | None:
    """Read an attribute of an element. Output: its value (None when absent)."""
    return ctx.browser.attribute(ctx.selector(args.target), args.attr, ctx.timeout)


class ExtractDetailArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef = Field(description="the element holding label/value pairs (dl, table, or a form-like list)")
    fields: dict[str, DetailField] | None = Field(
        None, description="output field -> {label, type, ...}; without it every label becomes a snake_case key")
    record: str | None = None

    @field_validator("record")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return _known_record(v)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return rows_shape(shapes, self.record, self.fields)  # without fields: every label is a key (ANY)


@step("extract_detail")
def extract_detail(ctx: StepContext, args: ExtractDetailArgs) -> dict[str, Any]:
    """Read a detail view's label/value pairs (<dl><dt><dd>, two-column table rows, or elements marked
    data-label) into one dict, normalized like extract_table's fields. Output: the dict."""
    html = ctx.browser.outer_html(ctx.selector(args.target), ctx.timeout)
    extra = {"source_url": ctx.browser.url, "scraped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    row = parse_detail(html, args.fields, base_url=extra["source_url"], tz=ctx.time_zone, extra=extra)
    if args.record:
        row = contracts.conform(args.record, [row])[0]
    return row


class ExtractListArgs(StepArgs):
    items: SelectorRef = Field(description="each repeated card or list item")
    fields: dict[str, ItemField]
    record: str | None = None

    @field_validator("record")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return _known_record(v)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return list_of(rows_shape(shapes, self.record, self.fields))


@step("extract_list")
def extract_list(ctx: StepContext, args: ExtractListArgs) -> list[dict[str, Any]]:
    """Read repeated cards or list items into dicts: each field is a CSS selector inside the item (or the
    item itself), normalized like extract_table's fields. Output: the list."""
    items = ctx.browser.outer_html_all(ctx.selector(args.items), ctx.timeout)
    extra = {"source_url": ctx.browser.url, "scraped_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    rows = parse_items(items, args.fields, base_url=extra["source_url"], tz=ctx.time_zone, extra=extra)
    if args.record:
        rows = contracts.conform(args.record, rows)
    ctx.count(rows=len(rows))
    return rows
