"""The customer list and detail pages as a scraper sees them (small size: 120 customers)."""

from __future__ import annotations

import re

import httpx
import pytest

from .helpers import login, soup, text_of

HEADERS = ["Customer #", "Name", "Type", "Email", "Phone", "City", "Balance", "Created", "Status"]


@pytest.fixture
def signed_in(portal: httpx.Client) -> httpx.Client:
    login(portal)
    return portal


def row_ids(response: httpx.Response) -> list[int]:
    return [int(str(tr["data-id"])) for tr in soup(response).select("#customers-table tbody tr[data-cy=customer-row]")]


def test_the_first_page_shows_fifty_customers_in_id_order(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers")
    table = soup(page).select_one("table#customers-table.table[data-cy=customers-table]")
    assert table is not None
    assert [th.get_text(strip=True) for th in table.select("thead th")] == HEADERS
    assert row_ids(page) == list(range(1001, 1051))
    assert text_of(page, "pagination-summary") == "Showing 1–50 of 120 customers"
    assert [a.get_text() for a in soup(page).select("nav[data-cy=pagination] a[data-cy=pagination-page]")] == [
        "2",
        "3",
    ]
    next_link = soup(page).select_one("nav[data-cy=pagination] a[rel=next]")
    assert next_link is not None and next_link["href"] == "/customers?page=2"


def test_cells_are_formatted_like_the_portal(signed_in: httpx.Client) -> None:
    page = soup(signed_in.get("/customers"))
    cells = [td.get_text(strip=True) for td in page.select("tr[data-id='1003'] td")]
    assert cells[:7] == ["C-100003", "Zoë O'Brien", "Residential", "Zoe.OBrien@Example.com", "(512) 555-0143",
                         "Austin", "$1,234.50"]  # fmt: skip
    assert re.fullmatch(r"\d{2}/\d{2}/2019 \d{1,2}:\d{2} [AP]M", cells[7])
    assert cells[8] == "Active"
    link = page.select_one("tr[data-id='1003'] td a")
    assert link is not None and link["href"] == "/customers/1003"
    assert page.select_one("tr[data-id='1003'] span.badge") is not None


def test_the_last_page_has_no_next_link(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"page": 3})
    assert row_ids(page) == list(range(1101, 1121))
    assert text_of(page, "pagination-summary") == "Showing 101–120 of 120 customers"
    nav = soup(page).select_one("nav[data-cy=pagination]")
    assert nav is not None and nav.select_one("a[rel=next]") is None
    disabled = nav.select_one("span.disabled[aria-disabled=true]:-soup-contains('Next')")
    assert disabled is not None
    assert nav.select_one("a[rel=prev]")["href"] == "/customers?page=2"  # type: ignore[index]


@pytest.mark.parametrize("page_number", ["4", "99", "0", "-1", "abc", ""])
def test_an_invalid_page_silently_shows_page_one(signed_in: httpx.Client, page_number: str) -> None:
    page = signed_in.get("/customers", params={"page": page_number})
    assert page.status_code == 200
    assert row_ids(page)[0] == 1001
    assert text_of(page, "pagination-current") == "1"


def test_page_size_and_query_are_kept_in_links(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"page_size": 25})
    assert len(row_ids(page)) == 25
    assert text_of(page, "pagination-summary") == "Showing 1–25 of 120 customers"
    assert soup(page).select_one("a[rel=next]")["href"] == "/customers?page=2&page_size=25"  # type: ignore[index]
    odd = signed_in.get("/customers", params={"page_size": 30})
    assert len(row_ids(odd)) == 50


def test_search_filters_the_list(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"q": "o'brien"})
    names = [a.get_text() for a in soup(page).select("tr[data-cy=customer-row] td:nth-of-type(2) a")]
    assert "Zoë O'Brien" in names
    assert all("o'brien" in n.lower() for n in names)
    assert text_of(page, "customers-search") is not None or soup(page).select_one("input[data-cy=customers-search]")
    assert soup(page).select_one("input[data-cy=customers-search]")["value"] == "o'brien"  # type: ignore[index]
    by_number = signed_in.get("/customers", params={"q": "C-100042"})
    assert row_ids(by_number) == [1042]


def test_an_empty_search_shows_the_message_and_no_rows(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"q": "no such customer zzz"})
    assert row_ids(page) == []
    assert text_of(page, "customers-empty") == "No customers match your search."
    assert soup(page).select_one("a[rel=next]") is None


def test_the_detail_page_shows_the_customer(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers/1003")
    assert page.status_code == 200
    assert text_of(page, "customer-name") == "Zoë O'Brien"
    assert text_of(page, "customer-number") == "C-100003"
    assert text_of(page, "customer-type") == "Residential"
    assert text_of(page, "customer-email") == "Zoe.OBrien@Example.com"
    assert text_of(page, "customer-phone") == "(512) 555-0143"
    assert text_of(page, "customer-city") == "Austin" and text_of(page, "customer-state") == "TX"
    assert text_of(page, "customer-balance") == "$1,234.50"
    assert text_of(page, "customer-status") == "Active"


@pytest.mark.parametrize("path", ["/customers/999999", "/customers/abc"])
def test_an_unknown_customer_is_the_portals_404_page(signed_in: httpx.Client, path: str) -> None:
    page = signed_in.get(path)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert text_of(page, "error-title") == "Page not found"
