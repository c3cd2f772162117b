"""CSV files (a portal's spreadsheet export) to a list of dicts through the same field map as tables: a column
by header text, normalized by type. A byte-order mark (spreadsheet exports carry one) is dropped."""

from __future__ import annotations

import csv
import io
from typing import Any

from robots.errors import ScrapeError
from robots.scrape.tables import FieldSpec, converter, store_value


def parse_csv(text: str, fields: dict[str, FieldSpec], *, tz: str = "UTC", base_url: str = "",
              delimiter: str = ",", extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a CSV text (its first line the headers) as dicts with the fields of `fields` (plus `extra`)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter)
    headers = [" ".join(h.split()) for h in next(reader, [])]
    index = {h: i for i, h in enumerate(headers)}
    plan = []
    for name, spec in fields.items():
        if spec.column is None:
            raise ScrapeError(f"field '{name}': a CSV field names a column (a file has no row attributes)")
        if spec.column not in index:
            raise ScrapeError(f"the file has no column '{spec.column}' for field '{name}' "
                              f"(columns: {', '.join(repr(h) for h in headers) or 'none'})")
        plan.append((name, index[spec.column], spec, converter(spec, tz, base_url)))
    out = []
    for rownum, cells in enumerate(reader, 1):
        if not any(c.strip() for c in cells):
            continue  # a blank line (a trailing newline, a spreadsheet's empty row)
        row: dict[str, Any] = {}
        for name, i, spec, convert in plan:
            raw = " ".join(cells[i].split()) if i < len(cells) else None
            store_value(row, name, spec, raw or None, convert, f"row {rownum}, ")
        if extra:
            row.update(extra)
        out.append(row)
    return out
