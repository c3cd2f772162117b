"""The pages beyond the customer list: filters and sort, page-size choice, CSV export, jobs with numbered
pagination only, job status transitions, the pricebook, the script-drawn board's JSON, write counters."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest

from robots.packs.sera.sandbox.data import generate_customers, generate_work_orders

from .helpers import login, soup, text_of


@pytest.fixture
def signed_in(portal: httpx.Client) -> httpx.Client:
    login(portal)
    return portal


def cells(response: httpx.Response, column: str, table: str = "main table") -> list[str]:
    node = soup(response).select_one(table)
    assert node is not None
    headers = [th.get_text(strip=True) for th in node.select("thead th")]
    index = headers.index(column)
    return [tr.select("td")[index].get_text(strip=True) for tr in node.select("tbody tr")]


def test_work_orders_are_deterministic_per_seed() -> None:
    customers = generate_customers(1234, "small")
    assert generate_work_orders(customers, 1234) == generate_work_orders(customers, 1234)
    assert generate_work_orders(customers, 1234) != generate_work_orders(customers, 99)


def test_customer_filters_combine_and_stay_in_the_links(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"type": "commercial", "status": "active", "page_size": 25})
    assert set(cells(page, "Type")) == {"Commercial"} and set(cells(page, "Status")) == {"Active"}
    summary = text_of(page, "pagination-summary")
    assert summary and re.fullmatch(r"Showing 1–\d+ of \d+ customers", summary)
    tagged = signed_in.get("/customers", params={"tag": "VIP", "page_size": 100})
    ids = [tr["data-id"] for tr in soup(tagged).select("tr[data-cy=customer-row]")]
    assert 0 < len(ids) < 120
    assert soup(page).select_one("select[data-cy=customers-filter-type] option[selected]")["value"] == "commercial"  # type: ignore[index]


def test_modified_since_and_sort(signed_in: httpx.Client) -> None:
    recent = signed_in.get("/customers", params={"modified_since": "2026-01-01", "page_size": 100})
    everyone = signed_in.get("/customers", params={"page_size": 100})
    assert 0 < len(cells(recent, "Name")) < len(cells(everyone, "Name"))
    by_name = cells(signed_in.get("/customers", params={"sort": "name", "page_size": 100}), "Name")
    assert by_name == sorted(by_name, key=str.lower)
    balances = cells(signed_in.get("/customers", params={"sort": "-balance"}), "Balance")
    cents = [int(re.sub(r"[^\d-]", "", b)) for b in balances]
    assert cents == sorted(cents, reverse=True)


def test_page_size_choice_links(signed_in: httpx.Client) -> None:
    page = signed_in.get("/customers", params={"q": "a"})
    link = soup(page).select_one("a[data-cy=page-size-100]")
    assert link is not None and link["href"] == "/customers?page=1&page_size=100&q=a"
    assert text_of(page, "page-size-current") == "50"


def test_csv_export_follows_the_filters(signed_in: httpx.Client) -> None:
    response = signed_in.get("/customers/export", params={"status": "on_hold"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="customers-\d{8}\.csv"', response.headers["content-disposition"])
    assert response.text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows and {r["Status"] for r in rows} == {"On Hold"}
    everyone = list(csv.DictReader(io.StringIO(signed_in.get("/customers/export").text.lstrip("\ufeff"))))
    assert len(everyone) == 120
    zoe = next(r for r in everyone if r["Customer #"] == "C-100003")
    assert (zoe["Name"], zoe["Balance"], zoe["Email"]) == ("Zoë O'Brien", "$1,234.50", "Zoe.OBrien@Example.com")


def test_jobs_have_numbered_pagination_only(signed_in: httpx.Client) -> None:
    first = signed_in.get("/jobs")
    nav = soup(first).select_one("nav[data-cy=jobs-pagination]")
    assert nav is not None
    assert nav.select_one("a[rel=next]") is None and "Next" not in nav.get_text()
    count = text_of(first, "jobs-page-count")
    assert count is not None
    pages = int(count.rsplit(" ", 1)[1])
    assert pages > 3 and count == f"Page 1 of {pages}"
    second = signed_in.get(nav.select("a[data-cy=jobs-page]")[0]["href"])  # type: ignore[arg-type]
    assert text_of(second, "jobs-page-current") == "2"
    assert cells(second, "Job #")[0] != cells(first, "Job #")[0]
    beyond = signed_in.get("/jobs", params={"page": pages + 1})
    assert cells(beyond, "Job #") == cells(first, "Job #")  # out of range: page 1 again, silently


def test_a_job_moves_through_its_lifecycle_and_refuses_illegal_moves(signed_in: httpx.Client) -> None:
    listed = signed_in.get("/jobs", params={"status": "scheduled"})
    href = soup(listed).select_one("tr[data-cy=job-row] a")["href"]  # type: ignore[index]
    page = signed_in.get(str(href))
    assert text_of(page, "job-status") == "Scheduled"
    options = [o["value"] for o in soup(page).select("select[data-cy=job-next-status] option")]
    assert options == ["dispatched", "canceled"]
    token = soup(page).select_one("input[name=csrf_token]")["value"]  # type: ignore[index]
    moved = signed_in.post(f"{href}/status", data={"status": "dispatched", "csrf_token": token})
    assert moved.status_code == 303
    after = signed_in.get(moved.headers["location"])
    assert text_of(after, "job-notice") == "Status changed to Dispatched."
    history = [tr.select("td")[0].get_text() for tr in soup(after).select("tr[data-cy=job-history-row]")]
    assert history[-1] == "Dispatched" and history[-2] == "Scheduled"
    illegal = signed_in.post(f"{href}/status", data={"status": "completed", "csrf_token": token})
    assert illegal.status_code == 409
    assert (
        text_of(illegal, "job-error")
        == "A job that is Dispatched cannot become Completed. Allowed: In Progress, Canceled."
    )
    forged = signed_in.post(f"{href}/status", data={"status": "in_progress", "csrf_token": "x"})
    assert forged.status_code == 400
    assert signed_in.get("/_sandbox/writes").json()["writes"] == {"acme": {"work_orders": 1}, "summit": {}}


def test_the_pricebook_lists_items_by_category(signed_in: httpx.Client) -> None:
    page = signed_in.get("/pricebook", params={"category": "Equipment"})
    assert set(cells(page, "Category")) == {"Equipment"}
    assert all(re.fullmatch(r"\$[\d,]+\.\d\d", p) for p in cells(page, "Price"))


def test_the_schedule_board_html_is_empty_until_its_script_asks_for_json(signed_in: httpx.Client) -> None:
    page = signed_in.get("/dispatch/board", params={"date": "2026-03-02"})
    board = soup(page).select_one("[data-cy=schedule-board]")
    assert board is not None and board.select("[data-cy=schedule-appointment]") == []
    data = signed_in.get("/api/dispatch", params={"date": "2026-03-02"}).json()
    assert data["date_label"] == "Monday, March 2, 2026" and len(data["technicians"]) == 5
    server_side = signed_in.get("/dispatch", params={"date": "2026-03-02"})
    expected = len(soup(server_side).select("[data-cy=dispatch-appointment]"))
    assert sum(1 for t in data["technicians"] for s in t["slots"] if s) == expected
    signed_in.cookies.clear()
    expired = signed_in.get("/api/dispatch")
    assert expired.status_code == 401 and expired.json()["login"].startswith("/login")


@pytest.mark.parametrize("path", ["/jobs/abc", "/jobs/1", "/customers?page_size=%ff", "/pricebook?category=%00"])
def test_odd_requests_get_portal_pages(signed_in: httpx.Client, path: str) -> None:
    page = signed_in.get(path)
    assert page.headers["content-type"].startswith("text/html")
    assert page.status_code in (200, 404) and "Traceback" not in page.text
