"""Detail views (label/value pairs) and repeated items (cards, list entries) to normalized dicts.

Pure functions of HTML, like tables.py; the field specs are data carried by flows."""

from __future__ import annotations

from typing import Any

import lxml.html
from bs4 import BeautifulSoup
from pydantic import Field

from robots.errors import ScrapeError
from robots.scrape import normalize
from robots.scrape.tables import ValueSpec, converter, store_value


class DetailField(ValueSpec):
    """A detail-view field: the label it is shown under, and how its value is normalized."""

    label: str = Field(description="the label as shown (case and a trailing ':' do not matter)")
    required: bool = Field(False, description="a missing label is scrape drift instead of null")


class ItemField(ValueSpec):
    """A field of a repeated item: a CSS selector inside the item (none: the item itself)."""

    css: str | None = Field(None, description="CSS selector inside the item; omit for the item itself")
    attr: str | None = Field(None, description="read this attribute instead of the text (e.g. href)")


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
        for name, spec in fields.items():
            raw = by_label.get(_label(spec.label))
            if raw is None and spec.required:
                raise ScrapeError(f"the detail view has no label '{spec.label}' for field '{name}' "
                                  f"(labels: {', '.join(repr(k) for k in pairs) or 'none'})")
            store_value(row, name, spec, raw or None, converter(spec, tz, base_url))
    if extra:
        row.update(extra)
    return row


def parse_items(items_html: list[str], fields: dict[str, ItemField], *, base_url: str = "", tz: str = "UTC",
                extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each item's outer HTML -> a dict of its fields (BeautifulSoup: CSS inside items, lenient parsing)."""
    convert = {name: converter(spec, tz, base_url) for name, spec in fields.items()}
    out = []
    for n, item_html in enumerate(items_html, 1):
        soup = BeautifulSoup(item_html, "lxml")
        item = soup.body.find() if soup.body else None
        row: dict[str, Any] = {}
        for name, spec in fields.items():
            el = item if spec.css is None or item is None else item.select_one(spec.css)
            if el is None:
                raw = None
            elif spec.attr:
                value = el.get(spec.attr)
                raw = " ".join(value) if isinstance(value, list) else value
            else:
                raw = " ".join(el.get_text(" ").split())
            store_value(row, name, spec, raw or None, convert[name], f"item {n}, ")
        if extra:
            row.update(extra)
        out.append(row)
    return out
