"""The customer-list scraper on saved Sera pages (tests/packs/sera/pages/, made by its save_sera_customers.py):
a pure function from HTML to records, tested with no browser and no server (docs/STYLE.md rule 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml

from robots.errors import ContractError, ScrapeError
from robots.portals import load_profile
from robots.scrape import contracts
from robots.scrape.tables import FieldSpec, parse_table

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "tests" / "packs" / "sera" / "pages"
FLOW = REPO / "flows" / "sera" / "list_customers.yaml"
TZ = load_profile("sera")["time_zone"]  # America/Chicago: the tenant's zone the portal displays times in
BASE = "https://acme.sera.tech/customers?page=1"
EXTRA = {"source_url": BASE, "scraped_at": "2026-03-02T15:00:10Z"}


def _find_step(steps: list[Any], kind: str) -> dict[str, Any]:
    for item in steps:
        (name, args), = item.items()
        if name == kind:
            return args
        if isinstance(args, dict) and isinstance(args.get("steps"), list):
            try:
                return _find_step(args["steps"], kind)
            except LookupError:
                pass
    raise LookupError(kind)


def flow_fields() -> dict[str, FieldSpec]:
    """The field map exactly as the repo's list_customers flow declares it."""
    doc = yaml.safe_load(FLOW.read_text(encoding="utf-8"))
    extract = _find_step(doc["steps"], "extract_table")
    assert extract["record"] == "sera.customer"
    return {name: FieldSpec.model_validate(spec) for name, spec in extract["fields"].items()}


FIELDS = flow_fields()


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def table_html(page_html: str) -> str:
    """What the extract_table step hands the parser: the outerHTML of `customers.table`."""
    (table,) = lxml.html.document_fromstring(page_html).xpath('//*[@data-cy="customers-table"]')
    return lxml.html.tostring(table, encoding="unicode")


def scrape(page_html: str) -> list[dict[str, Any]]:
    return parse_table(table_html(page_html), FIELDS, base_url=BASE, tz=TZ, extra=EXTRA)


@pytest.fixture(scope="module")
def first_page() -> list[dict[str, Any]]:
    return scrape(page("sera_customers_page1.html"))


@pytest.fixture(scope="module")
def last_page() -> list[dict[str, Any]]:
    return scrape(page("sera_customers_last.html"))


def by_id(rows: list[dict[str, Any]], id_: str) -> dict[str, Any]:
    (row,) = [r for r in rows if r["id"] == id_]
    return row


def test_every_row_of_both_pages_is_read(first_page: list[dict], last_page: list[dict]) -> None:
    assert [r["id"] for r in first_page] == [str(i) for i in range(1001, 1051)]
    assert [r["id"] for r in last_page] == [str(i) for i in range(1101, 1121)]


def test_accents_apostrophes_and_lower_cased_email(first_page: list[dict]) -> None:
    # <td><a href="/customers/1003">Zoë O&#39;Brien</a></td> ... Zoe.OBrien@Example.com
    assert by_id(first_page, "1003") == {
        "id": "1003", "number": "C-100003", "name": "Zoë O'Brien", "type": "residential", "raw_type": "Residential",
        "email": "zoe.obrien@example.com", "phones": ["+15125550143"], "city": "Austin", "balance_cents": 123450,
        "created_at": "2019-05-31T11:34:00Z",  # 05/31/2019 6:34 AM CDT
        "status": "active", "raw_status": "Active", **EXTRA,
    }
    assert by_id(first_page, "1016")["name"] == "Diane De León"
    assert by_id(first_page, "1031")["name"] == "Björn Washington"


def test_missing_phone_is_an_empty_list(first_page: list[dict]) -> None:
    assert by_id(first_page, "1011") == {
        "id": "1011", "number": "C-100011", "name": "Angela Newman", "type": "residential",
        "raw_type": "Residential", "email": "angela.newman@example.org", "phones": [], "city": "Austin",
        "balance_cents": 0, "created_at": "2020-02-16T13:17:00Z",  # 02/16/2020 7:17 AM CST
        "status": "inactive", "raw_status": "Inactive", **EXTRA,
    }


def test_negative_balance(first_page: list[dict], last_page: list[dict]) -> None:
    assert by_id(first_page, "1032")["balance_cents"] == -16141  # -$161.41
    assert by_id(last_page, "1120")["balance_cents"] == -37583  # -$375.83
    assert by_id(first_page, "1035")["balance_cents"] == 1035493  # $10,354.93


def test_on_hold_status_keeps_its_label(last_page: list[dict]) -> None:
    assert by_id(last_page, "1112") == {
        "id": "1112", "number": "C-100112", "name": "Keith Russell", "type": "residential",
        "raw_type": "Residential", "email": "keith.russell@example.org", "phones": ["+15125550148"],
        "city": "Austin", "balance_cents": 0, "created_at": "2026-01-03T06:04:00Z",  # 01/03/2026 12:04 AM CST
        "status": "on_hold", "raw_status": "On Hold", **EXTRA,
    }


def test_ampersand_missing_email_and_a_dst_evening(last_page: list[dict]) -> None:
    adams = by_id(last_page, "1115")  # <a ...>Adams &amp; Sons Electric</a>
    assert (adams["name"], adams["type"], adams["status"]) == ("Adams & Sons Electric", "commercial", "inactive")
    assert by_id(last_page, "1114")["email"] is None
    # 03/20/2026 8:22 PM is CDT (DST began 03/08/2026): the next day in UTC.
    assert by_id(last_page, "1120")["created_at"] == "2026-03-21T01:22:00Z"


def test_every_row_conforms_to_the_customer_model(first_page: list[dict], last_page: list[dict]) -> None:
    rows = first_page + last_page
    conformed = contracts.conform("sera.customer", rows)
    assert len(conformed) == 70
    for row, record in zip(rows, conformed, strict=True):
        assert {k: record[k] for k in row} == row
        # what the list view does not show is null
        assert (record["tags"], record["modified_at"], record["do_not_service"]) == (None, None, None)


def test_a_row_that_does_not_fit_the_model_is_a_contract_error(first_page: list[dict]) -> None:
    rows = [dict(first_page[0]), {**first_page[1], "status": "archived"}]
    with pytest.raises(ContractError) as caught:
        contracts.conform("sera.customer", rows)
    assert str(caught.value) == ("scrape drift: record 2 does not fit 'sera.customer': field 'status' input "
                                 "should be 'active', 'inactive' or 'on_hold' (got 'archived')")


def test_a_missing_column_is_a_scrape_error() -> None:
    html = page("sera_customers_page1.html")
    assert html.count("<th>Phone</th>") == 1
    with pytest.raises(ScrapeError) as caught:
        scrape(html.replace("<th>Phone</th>", ""))
    assert str(caught.value) == ("the table has no column 'Phone' for field 'phones' (columns: 'Customer #', 'Name', "
                                 "'Type', 'Email', 'City', 'Balance', 'Created', 'Status')")


def test_a_bad_money_cell_names_the_row_and_field() -> None:
    html = page("sera_customers_page1.html")
    cell = '<td class="num">$1,234.50</td>'  # row 3, customer 1003
    assert html.count(cell) == 1
    with pytest.raises(ScrapeError) as caught:
        scrape(html.replace(cell, '<td class="num">N/A</td>'))
    assert str(caught.value) == "row 3, field 'balance_cents': not an amount of money: 'N/A'"


def test_no_table_at_all() -> None:
    with pytest.raises(ScrapeError) as caught:
        parse_table("<div>No customers match your search.</div>", FIELDS, tz=TZ)
    assert str(caught.value) == "no <table> element in the scraped HTML"


def test_an_empty_results_row_spanning_the_table_is_skipped() -> None:
    html = ("<table><thead><tr><th>Name</th><th>City</th></tr></thead>"
            "<tbody><tr><td colspan='2'>No customers</td></tr></tbody></table>")
    fields = {"name": FieldSpec(column="Name"), "city": FieldSpec(column="City")}
    assert parse_table(html, fields) == []


def test_attribute_of_a_cell_is_made_absolute() -> None:
    fields = {"id": FieldSpec(row_attr="data-id"), "link": FieldSpec(column="Name", attr="href", type="url")}
    rows = parse_table(table_html(page("sera_customers_page1.html")), fields, base_url=BASE)
    assert rows[2] == {"id": "1003", "link": "https://acme.sera.tech/customers/1003"}


def test_an_enum_label_outside_the_closed_list_is_drift() -> None:
    """Bug: a status label the field map does not list ('Suspended') silently becomes status None (and the
    record still conforms), instead of failing as scrape drift that names the row, the field and the label."""
    html = page("sera_customers_last.html")
    label = '<span class="badge badge-on_hold">On Hold</span>'  # row 12, customer 1112
    assert html.count(label) == 2  # 1112 and 1117
    html = html.replace(label, '<span class="badge badge-suspended">Suspended</span>', 1)
    with pytest.raises(ScrapeError, match=r"^row 12, field 'status': .*'Suspended'"):
        contracts.conform("sera.customer", scrape(html))
