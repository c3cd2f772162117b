"""CSV exports read through a field map (robots.scrape.csv_files): the byte-order mark dropped, values normalized
like table cells, a missing column named."""

from __future__ import annotations

import pytest

from robots.errors import ScrapeError
from robots.scrape.csv_files import parse_csv
from robots.scrape.tables import FieldSpec

EXPORT = ("\ufeffCustomer #,Name,Type,Balance,Created,Tags,Customer ID\r\n"
          'C-001003,"Zoë Ångström, Jr.",Residential,"-$1,234.50",03/02/2026 09:15 AM,VIP; Warranty,1003\r\n'
          "C-001004,Acme Mechanical,Commercial,$0.00,,,1004\r\n\r\n")  # fmt: skip

FIELDS = {
    "id": FieldSpec(column="Customer ID"),
    "number": FieldSpec(column="Customer #"),
    "name": FieldSpec(column="Name"),
    "type": FieldSpec(column="Type", type="enum", values=["residential", "commercial"]),
    "balance_cents": FieldSpec(column="Balance", type="money"),
    "created_at": FieldSpec(column="Created", type="datetime", format="%m/%d/%Y %I:%M %p"),
    "tags": FieldSpec(column="Tags", split="; "),
}


def test_rows_are_normalized_and_the_bom_is_dropped() -> None:
    rows = parse_csv(EXPORT, FIELDS, tz="America/Chicago", extra={"source_url": "u"})
    assert rows == [
        {"id": "1003", "number": "C-001003", "name": "Zoë Ångström, Jr.", "type": "residential",
         "raw_type": "Residential", "balance_cents": -123450, "created_at": "2026-03-02T15:15:00Z",
         "tags": ["VIP", "Warranty"], "source_url": "u"},
        {"id": "1004", "number": "C-001004", "name": "Acme Mechanical", "type": "commercial",
         "raw_type": "Commercial", "balance_cents": 0, "created_at": None, "tags": [], "source_url": "u"},
    ]  # fmt: skip


def test_a_missing_column_and_a_row_attribute_are_named() -> None:
    with pytest.raises(ScrapeError) as missing:
        parse_csv(EXPORT, {"city": FieldSpec(column="City")})
    assert str(missing.value) == ("the file has no column 'City' for field 'city' (columns: 'Customer #', 'Name', "
                                  "'Type', 'Balance', 'Created', 'Tags', 'Customer ID')")  # fmt: skip
    with pytest.raises(ScrapeError) as attr:
        parse_csv(EXPORT, {"id": FieldSpec(row_attr="data-id")})
    assert str(attr.value) == "field 'id': a CSV field names a column (a file has no row attributes)"


def test_a_label_outside_an_enum_names_the_row() -> None:
    with pytest.raises(ScrapeError) as drift:
        parse_csv(EXPORT.replace("Commercial", "Industrial"), {"type": FIELDS["type"]})
    assert str(drift.value).startswith("row 2, field 'type': the label 'Industrial' is not in the closed list")
