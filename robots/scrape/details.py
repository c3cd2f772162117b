"""Detail views (label/value pairs) and repeated items (cards, list entries) to normalized dicts.

Pure functions of HTML, like tables.py; the field specs are data carried by flows."""

from __future__ import annotations

from typing import Any

import lxml.html
from bs4 import BeautifulSoup
from pydantic import Field, field_validator, model_validator

from robots.errors import ScrapeError
from robots.locators import css_problem
from robots.scrape import normalize
from robots.scrape.tables import ValueSpec, converter, store_value


def _valid_css(css: str | None) -> str | None:
    """A field's `css` (or `each`): a ValueError when it does not parse (a template in it is checked once rendered)."""
    problem = None if css is None or "{{" in css or "{%" in css else css_problem(css)
    if problem is not None:
        raise ValueError(f"expected a CSS selector ({problem})")
    return css


class DetailField(ValueSpec):
    """A detail-view field: the label it is shown under (or a CSS selector inside the view), and how its
    value is normalized."""

    label: str | None = Field(None, description="the label as shown (case and a trailing ':' do not matter)")
    css: str | None = Field(None, description="instead of a label: a CSS selector inside the view")
    attr: str | None = Field(None, description="with css: read this attribute instead of the text (e.g. href)")
    required: bool = Field(False, description="a missing label is scrape drift instead of null")

    _css = field_validator("css")(lambda cls, v: _valid_css(v))

    @model_validator(mode="after")
    def _one_source(self) -> DetailField:
        if (self.label is None) == (self.css is None):
            raise ValueError("give exactly one of 'label' or 'css'")
        return self


class ItemField(ValueSpec):
    """A field of a repeated item: a CSS selector inside the item (none: the item itself). With `each`, the
    field is a list: one dict (through `fields`) per element matching `each` inside the item."""

    css: str | None = Field(None, description="CSS selector inside the item; omit for the item itself")
    attr: str | None = Field(None, description="read this attribute instead of the text (e.g. href)")
    each: str | None = Field(None, description="CSS selector of sub-items inside the item (e.g. a contact's "
                                               "phone numbers); the field is then a list of dicts")
    fields: dict[str, ItemField] | None = Field(None, description="with each: the fields of every sub-item")

    _css = field_validator("css", "each")(lambda cls, v: _valid_css(v))

    @model_validator(mode="after")
    def _each_with_fields(self) -> ItemField:
        if (self.each is None) != (self.fields is None):
            raise ValueError("give 'each' and 'fields' together")
        return self


def _text(el: Any) -> str:
    return " ".join(el.text_content().split())


def _label(text: str) -> str:
    return " ".join(text.split()).rstrip(":").strip().casefold()


def detail_pairs(html: str) -> dict[str, str]:
    """Label -> value text: <dt>/<dd>, two-cell table rows (<th> or <td> then <td>), elements with data-label."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except Exception as e:  # lxml raises several types for unparsable input
        raise ScrapeError(f"the detail view's HTML could not be parsed: {e}") from None
    pairs: dict[str, str] = {}
    for dt in root.xpath(".//dt"):
        dd = dt.xpath("following-sibling::dd[1]")
        if dd:
            pairs.setdefault(_text(dt), _text(dd[0]))
    for tr in root.xpath(".//tr[count(th|td) = 2]"):
        first, second = tr.xpath("./th|./td")
        pairs.setdefault(_text(first), _text(second))
    for el in root.xpath(".//*[@data-label]"):
        pairs.setdefault(el.get("data-label"), _text(el))
    return pairs


def parse_detail(html: str, fields: dict[str, DetailField] | None, *, base_url: str = "", tz: str = "UTC",
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    pairs = detail_pairs(html)
    row: dict[str, Any] = {}
    if fields is None:
        row = {normalize.snake(label): value or None for label, value in pairs.items()}
    else:
        by_label = {_label(k): v for k, v in pairs.items()}
        soup = BeautifulSoup(html, "lxml") if any(f.css for f in fields.values()) else None
        for name, spec in fields.items():
            if spec.css is not None:
                assert soup is not None
                el = soup.select_one(spec.css)
                raw = None if el is None else _soup_value(el, spec.attr)
                if raw is None and spec.required:
                    raise ScrapeError(f"the detail view has no element '{spec.css}' for field '{name}'")
            else:
                raw = by_label.get(_label(spec.label or ""))
                if raw is None and spec.required:
                    raise ScrapeError(f"the detail view has no label '{spec.label}' for field '{name}' "
                                      f"(labels: {', '.join(repr(k) for k in pairs) or 'none'})")
            store_value(row, name, spec, raw or None, converter(spec, tz, base_url))
    if extra:
        row.update(extra)
    return row


def _soup_value(el: Any, attr: str | None) -> str | None:
    if attr:
        value = el.get(attr)
        return " ".join(value) if isinstance(value, list) else value
    return " ".join(el.get_text(" ").split())


def _item_fields(item: Any, fields: dict[str, ItemField], convert: dict[str, Any], where: str, tz: str,
                 base_url: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An item's fields; the sub-items of its `each` fields carry `extra` (the page they came from) too."""
    row: dict[str, Any] = {}
    for name, spec in fields.items():
        el = item if spec.css is None or item is None else item.select_one(spec.css)
        if spec.each is not None and spec.fields is not None:
            subs = [] if el is None else el.select(spec.each)
            sub_convert = {k: converter(v, tz, base_url) for k, v in spec.fields.items()}
            row[name] = [{**_item_fields(sub, spec.fields, sub_convert, f"{where}{name} {i}, ", tz, base_url),
                          **(extra or {})} for i, sub in enumerate(subs, 1)]
            continue
        raw = None if el is None else _soup_value(el, spec.attr)
        store_value(row, name, spec, raw or None, convert[name], where)
    return row


def parse_items(items_html: list[str], fields: dict[str, ItemField], *, base_url: str = "", tz: str = "UTC",
                extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each item's outer HTML -> a dict of its fields (BeautifulSoup: CSS inside items, lenient parsing)."""
    convert = {name: converter(spec, tz, base_url) for name, spec in fields.items()}
    out = []
    for n, item_html in enumerate(items_html, 1):
        soup = BeautifulSoup(item_html, "lxml")
        item = soup.body.find() if soup.body else None
        row = _item_fields(item, fields, convert, f"item {n}, ", tz, base_url, extra)
        if extra:
            row.update(extra)
        out.append(row)
    return out
