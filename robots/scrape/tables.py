"""Tables: an HTML table (one round trip's outerHTML) to a list of dicts, through a field map.

A field map says, per output field, where its value comes from (a column by header text, or an attribute
of the row) and how to normalize it. It is data: flows carry it, so a changed portal means a changed flow,
not changed Python."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

import lxml.html
from pydantic import BaseModel, ConfigDict, Field, model_validator

from robots.errors import ScrapeError
from robots.scrape import normalize

FieldType = Literal["text", "integer", "number", "money", "date", "datetime", "phone", "email", "contact", "enum",
                    "boolean", "url"]


class ValueSpec(BaseModel):
    """How one output field's displayed text is normalized (shared by tables, details and lists)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: FieldType = "text"
    format: str | None = Field(None, description="strptime format for date/datetime")
    values: builtins.list[str] | dict[str, str] | None = Field(
        None, description="enum: the closed list of snake_case values, or a label -> value map")
    list: bool = Field(False, description="wrap the value in a list ([] when empty)")
    raw: str | None = Field(None, description="also keep the displayed label under this field name")
    on_unknown: Literal["error", "null"] = Field(
        "error", description="enum: a label outside `values` is scrape drift (error), or null beside its raw label")
    pattern: str | None = Field(
        None, description="a regular expression applied to the text first; its first group (or the whole match) "
                          "is the value, no match is an empty value (e.g. `x(\\d+)` for 'Monthly x2')")
    default: str | None = Field(None, description="the text used when the page shows nothing (before normalizing)")
    split: str | None = Field(None, description="the text is a list with this separator (e.g. ', '): the value is "
                                                "the list of its normalized parts ([] when empty)")

    @model_validator(mode="after")
    def _pattern_compiles(self) -> ValueSpec:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as e:
                raise ValueError(f"'pattern' is not a regular expression: {e}") from None
        return self

    @model_validator(mode="after")
    def _enum_values(self) -> ValueSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum field needs 'values' (the closed list)")
        return self


class FieldSpec(ValueSpec):
    """A table field: where it comes from (a column or an attribute of the row) and how it is normalized."""

    column: str | None = Field(None, description="header text of the column")
    row_attr: str | None = Field(None, description="an attribute of the row element, e.g. data-id")
    attr: str | None = Field(None, description="read this attribute of the cell's first element having it "
                                               "(e.g. href of a link) instead of the cell's text")

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.column is None) == (self.row_attr is None):
            raise ValueError("give exactly one of 'column' or 'row_attr'")
        return self


@dataclass(frozen=True)
class _Compiled:
    name: str
    spec: FieldSpec
    convert: Callable[[str | None], Any]


# The value types whose conversion needs nothing but the cell's text.
_PLAIN: dict[str, Callable[[str | None], Any]] = {
    "money": normalize.money_cents, "integer": normalize.integer, "number": normalize.number,
    "contact": normalize.contact, "phone": normalize.phone_e164, "email": normalize.email,
    "boolean": normalize.boolean,
}


def converter(spec: ValueSpec, tz: str, base_url: str) -> Callable[[str | None], Any]:
    t = spec.type
    if t in _PLAIN:
        return _PLAIN[t]
    if t == "date":
        return lambda s: normalize.date_iso(s, spec.format)
    if t == "datetime":
        return lambda s: normalize.instant_utc(s, tz, spec.format)
    if t == "url":
        return lambda s: urljoin(base_url, s) if s else None
    if t == "enum":
        return _enum_converter(spec)
    return normalize.text


def _enum_converter(spec: ValueSpec) -> Callable[[str | None], str | None]:
    """A closed list's labels to their values (snake-cased labels compared); an unknown label is None, or an
    error when the spec says `on_unknown: error`."""
    if isinstance(spec.values, dict):
        table = {normalize.snake(k): v for k, v in spec.values.items()}
    else:
        table = {v: v for v in spec.values or ()}
    known = ", ".join(sorted(set(table.values())))

    seen: dict[str, str | None] = {}  # a page repeats a handful of labels: normalize each once

    def enum(s: str | None) -> str | None:
        if not s:
            return None
        if s in seen:
            return seen[s]
        value = table.get(normalize.snake(s))
        if (value is not None or spec.on_unknown != "error") and len(seen) < 256:
            seen[s] = value
        if value is None and spec.on_unknown == "error":
            raise ValueError(f"the label {s!r} is not in the closed list ({known})")
        return value

    return enum


def _cell_text(el: Any) -> str:
    if len(el) == 0:  # a cell with only text (most of them): no descendants to gather
        text = el.text
        return " ".join(text.split()) if text else ""
    return " ".join(el.text_content().split())


_CELLS = ("td", "th")


def parse_table(html: str | Any, fields: dict[str, FieldSpec], *, base_url: str = "", tz: str = "UTC",
                extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of the first table in `html` (text, or an lxml element already parsed) as dicts with the fields of
    `fields` (plus `extra` on every row).

    The hot path of every list read: one parse, each cell's text read once, no per-row XPath."""
    if isinstance(html, str):
        try:
            root = lxml.html.fragment_fromstring(html, create_parent="div")
        except Exception as e:  # lxml raises several types for unparsable input
            raise ScrapeError(f"the table's HTML could not be parsed: {e}") from None
    else:
        root = html
    table = root if root.tag == "table" else next(root.iter("table"), None)
    if table is None:
        raise ScrapeError("no <table> element in the scraped HTML")
    header_row = table.xpath("./thead/tr[1]") or table.xpath(".//tr[th][1]")
    headers = [_cell_text(c) for c in header_row[0].iterchildren(*_CELLS)] if header_row else []
    index = {h: i for i, h in enumerate(headers)}
    compiled = []
    for name, spec in fields.items():
        if spec.column is not None and spec.column not in index:
            raise ScrapeError(f"the table has no column '{spec.column}' for field '{name}' "
                              f"(columns: {', '.join(repr(h) for h in headers) or 'none'})")
        compiled.append(_Compiled(name, spec, converter(spec, tz, base_url)))
    # (name, row attribute, column index, cell attribute, the field's writer)
    plan = [(f.name, f.spec.row_attr, index[f.spec.column] if f.spec.column is not None else -1, f.spec.attr,
             field_writer(f.name, f.spec, f.convert))
            for f in compiled]  # fmt: skip
    body_rows = table.xpath("./tbody/tr") or [r for r in table.xpath(".//tr") if not r.xpath("./th")]
    width = len(headers)
    out = []
    for rownum, tr in enumerate(body_rows, 1):
        cells = list(tr.iterchildren(*_CELLS))
        if len(cells) < width and len(cells) == 1 and cells[0].get("colspan"):
            continue  # a "no results" row spanning the table
        row: dict[str, Any] = {}
        for name, row_attr, i, attr, write in plan:
            if row_attr is not None:
                raw = tr.get(row_attr)
            elif i >= len(cells):
                raw = None
            elif attr:
                hit = cells[i].xpath(f".//*[@{attr}]")
                raw = hit[0].get(attr) if hit else None
            else:
                raw = _cell_text(cells[i])
            try:
                write(row, raw or None)
            except ValueError as e:
                raise ScrapeError(f"row {rownum}, field '{name}': {e}") from None
            except ScrapeError as e:
                raise ScrapeError(f"row {rownum}, {e}") from None
        if extra:
            row.update(extra)
        out.append(row)
    return out


def field_writer(name: str, spec: ValueSpec,
                 convert: Callable[[str | None], Any]) -> Callable[[dict[str, Any], str | None], None]:
    """`store_value` for one field, worked out once: a function (row, raw text or None) -> None that stores the
    normalized value (and an enum's label) in the row. The common shapes - a value, an enum with its label, a
    one-value list - skip the general path. A value the converter cannot read raises ValueError (ScrapeError
    "field 'name': ..." on the general path)."""
    plain = "." not in name and not (spec.pattern or spec.default is not None or spec.split or spec.raw)
    if plain and spec.type == "enum" and not spec.list:
        label = "raw_status" if name == "status" else f"raw_{name}"

        def enum(row: dict[str, Any], raw: str | None) -> None:
            row[name] = convert(raw)
            row[label] = raw

        return enum
    if plain and spec.list and spec.type != "enum":
        def one_value_list(row: dict[str, Any], raw: str | None) -> None:
            value = convert(raw)
            row[name] = [] if value is None else [value]

        return one_value_list
    if plain and not spec.list:
        def value(row: dict[str, Any], raw: str | None) -> None:
            row[name] = convert(raw)

        return value

    def general(row: dict[str, Any], raw: str | None) -> None:
        store_value(row, name, spec, raw, convert)

    return general


def store_value(row: dict[str, Any], name: str, spec: ValueSpec, raw: str | None,
                convert: Callable[[str | None], Any], where: str = "") -> None:
    """Normalize `raw` into row[name] (a list with `list: true`), keeping the label of an enum beside it.
    A dotted name (`address.city`) stores into a nested dict (`row["address"]["city"]`)."""
    if raw and spec.pattern is not None:
        m = re.search(spec.pattern, raw)
        raw = (m.group(1) if m.groups() else m.group(0)) if m else None
    if not raw and spec.default is not None:
        raw = spec.default
    try:
        if spec.split is not None:
            value = [convert(part.strip()) for part in raw.split(spec.split) if part.strip()] if raw else []
        else:
            value = convert(raw or None)
    except ValueError as e:
        raise ScrapeError(f"{where}field '{name}': {e}") from None
    if spec.list and spec.split is None:
        value = [] if value is None else [value]
    target, leaf = row, name
    if "." in name:
        *parents, leaf = name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
    target[leaf] = value
    if spec.raw:
        target[spec.raw] = raw or None
    elif spec.type == "enum":
        target["raw_status" if leaf == "status" else f"raw_{leaf}"] = raw or None
