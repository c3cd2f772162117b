"""The read flows' scrapers on saved Sera pages (pages/ beside this file, saved by save_sera_pages.py): pure functions
of HTML, through each flow's own field maps and selector catalog, in the default layout and in layout variant B
(every first choice broken: the fallbacks read the same records). No browser, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from robots.errors import ContractError, ElementNotFound, ScrapeError
from robots.packs.sera.library import FLOWS_DIR, scrape
from robots.scrape import contracts

PAGES = Path(__file__).resolve().parent / "pages"
NOW = "2026-03-10T12:00:00Z"

#: flow -> saved pages it reads (stems without the layout suffix)
READS = {
    "list_customers": ["sera_customers"],
    "get_customer": ["sera_customer_detail", "sera_customer_detail_sparse", "sera_customer_detail_negative"],
    "list_work_orders": ["sera_jobs", "sera_jobs_last"],
    "get_work_order": ["sera_job_detail", "sera_job_detail_unscheduled"],
    "dispatch_board": ["sera_schedule_board"],
    "list_pricebook": ["sera_pricebook"],
    "list_estimates": ["sera_estimates"],
    "list_invoices": ["sera_invoices"],
    "list_payments": ["sera_payments"],
    "list_memberships": ["sera_memberships"],
    "get_membership": ["sera_membership_detail"],
    "list_membership_programs": ["sera_programs"],
    "list_users": ["sera_users"],
}


def read(flow: str, page: str, layout: str = "") -> dict:
    html = (PAGES / f"{page}{layout}.html").read_text(encoding="utf-8")
    result = scrape(FLOWS_DIR / f"{flow}.yaml", html, "https://acme.sera.tech/page", scraped_at=NOW)
    return {"outputs": result.outputs, "matches": [(s.name, i) for s, i in result.matches], "rows": result.rows}


CASES = [(flow, page) for flow, pages in READS.items() for page in pages]


@pytest.mark.parametrize(("flow", "page"), CASES, ids=[f"{f}-{p}" for f, p in CASES])
def test_layout_b_reads_the_same_records_through_fallbacks(flow: str, page: str) -> None:
    """docs/CONTRACTS.md C6 on saved pages: the default layout matches every first choice; under B none matches and the
    fallbacks give exactly the same records."""
    a, b = read(flow, page), read(flow, page, "_b")
    assert a["matches"] and all(index == 0 for _, index in a["matches"]), a["matches"]
    assert [name for name, _ in b["matches"]] == [name for name, _ in a["matches"]]
    assert all(index >= 1 for _, index in b["matches"]), b["matches"]
    assert b["outputs"] == a["outputs"]


def test_customer_detail_with_accents_thousands_and_contacts() -> None:
    out = read("get_customer", "sera_customer_detail")["outputs"]
    assert out["profile"] == {
        "number": "C-100003", "type": "residential", "raw_type": "Residential", "status": "active",
        "raw_status": "Active", "email": "zoe.obrien@example.com", "phones": ["+15125550143"], "city": "Austin",
        "state": "TX", "balance_cents": 123450, "created_at": "2019-05-31T11:34:00Z",
        "source_url": "https://acme.sera.tech/page", "scraped_at": NOW,
    }  # fmt: skip
    cards = out["contacts"][0]["cards"]
    assert [(c["id"], c["name"], c["role"], c["primary"]) for c in cards] == [
        ("6", "Zoë O'Brien", "Primary", True), ("7", "Luke O'Brien", "Spouse", False)]
    assert cards[0]["methods"] == [
        {"type": "email", "value": "zoe.obrien@example.com", "opt_in": True},
        {"type": "phone", "value": "+15125550143", "opt_in": True},
        {"type": "mobile", "value": "+15125550565", "opt_in": True},
    ]
    assert out["locations"][0]["address"] == {"street": "902 Khan Oval Apt. 489", "unit": None, "city": "Austin",
                                              "state": "TX", "zip": "42061"}  # fmt: skip
    membership = out["memberships"][0]
    assert (membership["number"], membership["program"], membership["status"]) == (
        "M-20001", "Total Home Plan — Élite", "canceled")
    assert membership["billing"] == {"cadence": "semi_annual", "raw_cadence": "Semi-Annual", "interval_count": 1,
                                     "price_cents": 20970, "autopay": True}  # fmt: skip
    assert (membership["visits_used"], membership["visits_included"], membership["next_billing_date"]) == (1, 3, None)
    assert [(j["number"], j["status"], j["total_cents"]) for j in out["jobs"]] == [
        ("WO-10005", "completed", 889800), ("WO-10004", "completed", 747600)]


def test_customer_detail_missing_phone_and_negative_balance() -> None:
    sparse = read("get_customer", "sera_customer_detail_sparse")["outputs"]["profile"]
    assert (sparse["phones"], sparse["email"], sparse["balance_cents"]) == ([], "angela.newman@example.org", 0)
    negative = read("get_customer", "sera_customer_detail_negative")["outputs"]["profile"]
    assert (negative["number"], negative["balance_cents"], negative["city"]) == ("C-100032", -16141, "Pflugerville")


def test_work_order_detail_totals_assignments_and_history() -> None:
    out = read("get_work_order", "sera_job_detail")["outputs"]
    details = out["details"]
    assert (details["customer"], details["customer_id"], details["status"], details["invoice_id"]) == (
        "Zoë O'Brien", "1003", "completed", "300004")
    assert (details["scheduled_start_at"], details["scheduled_end_at"]) == (
        "2023-11-17T20:00:00Z", "2023-11-17T22:00:00Z")
    assert [(line["description"], line["quantity"], line["unit_price_cents"], line["pricebook_item_id"])
            for line in out["lines"]][-2:] == [("Repair PRV Valve", 1.0, 81699, "43"), ("Labor", 1.0, 570303, None)]
    assert out["totals"]["grand_total_cents"] == sum(line["total_cents"] for line in out["lines"]) == 889800
    assignment = out["assignments"][0]
    assert (assignment["technician"], assignment["role"], assignment["accepted_at"], assignment["completed_at"]) == (
        "Dwayne Brooks", "lead", "2023-11-11T14:22:00Z", "2023-11-12T02:57:00Z")
    assert [h["status"] for h in out["history"]][:3] == ["unscheduled", "scheduled", "dispatched"]
    unscheduled = read("get_work_order", "sera_job_detail_unscheduled")["outputs"]
    assert unscheduled["details"]["scheduled_start_at"] is None and unscheduled["lines"] == []


def test_schedule_board_times_cross_the_spring_forward_change() -> None:
    """2026-03-09 is the first Monday of daylight time in America/Chicago: 8 AM local is 13:00 UTC."""
    cards = read("dispatch_board", "sera_schedule_board")["outputs"]["appointments"][0]["cards"]
    first = contracts.conform("sera.appointment", cards)[0]
    assert {k: first[k] for k in ("technician", "job_type", "customer", "start_at", "end_at", "status",
                                  "raw_status")} == {
        "technician": "Tara Nguyen", "job_type": "Drain Cleaning", "customer": "Grimes PLC",
        "start_at": "2026-03-09T13:00:00Z", "end_at": "2026-03-09T15:00:00Z", "status": "running",
        "raw_status": "Running"}  # fmt: skip
    assert len(cards) == 7


def test_lists_normalize_refunds_pricebook_programs_and_users() -> None:
    refunds = read("list_payments", "sera_payments")["outputs"]["rows"]
    assert {k: refunds[0][k] for k in ("number", "invoice_id", "customer", "kind", "method", "amount_cents",
                                       "paid_at", "payment_method_ref")} == {
        "number": "P-70059", "invoice_id": "300061", "customer": "Zoë Kirby", "kind": "refund", "method": "card",
        "amount_cents": -641800, "paid_at": "2025-09-02T20:48:00Z", "payment_method_ref": "Visa •••• 8265"}  # fmt: skip
    items = read("list_pricebook", "sera_pricebook")["outputs"]["pricebook"]
    assert len(items) == 349 and {i["kind"] for i in items} == {"service", "material", "equipment"}
    inactive = next(i for i in items if not i["active"])
    assert (inactive["code"], inactive["raw_active"], inactive["price_cents"]) == ("DIA-102", "Inactive", 6999)
    programs = read("list_membership_programs", "sera_programs")["outputs"]["programs"]
    assert [(p["name"], p["cadence"], p["price_cents"]) for p in programs][3] == (
        "Total Home Plan — Élite", "monthly", 3495)
    assert programs[0]["tasks"] == ["Spring AC tune-up", "Fall furnace tune-up"]
    users = read("list_users", "sera_users")["outputs"]["users"]
    assert {u["role"] for u in users} == {"admin", "dispatcher", "csr", "technician"}
    assert next(u for u in users if u["username"] == "demo")["permissions"][-1] == "pricebook"
    invoices = read("list_invoices", "sera_invoices")["outputs"]["rows"]
    assert invoices[0]["due_date"] is None and invoices[1]["due_date"] == "2026-04-21"
    memberships = read("list_memberships", "sera_memberships")["outputs"]["rows"]
    assert memberships[1]["billing"]["interval_count"] == 2 and memberships[1]["next_billing_date"] is None


def test_an_unknown_label_is_scrape_drift_naming_row_field_and_label() -> None:
    html = (PAGES / "sera_payments.html").read_text(encoding="utf-8").replace(
        'data-cy="payment-method">Credit Card<', 'data-cy="payment-method">Crypto Wallet<', 1)
    with pytest.raises(ScrapeError) as caught:
        scrape(FLOWS_DIR / "list_payments.yaml", html, "https://acme.sera.tech/payments")
    assert str(caught.value) == ("row 1, field 'method': the label 'Crypto Wallet' is not in the closed list "
                                 "(ach, card, cash, check, financing)")


def test_a_full_card_number_on_the_page_is_a_contract_error() -> None:
    html = (PAGES / "sera_payments.html").read_text(encoding="utf-8").replace("Visa •••• 8265", "4111 1111 1111 1111")
    with pytest.raises(ContractError) as caught:
        scrape(FLOWS_DIR / "list_payments.yaml", html, "https://acme.sera.tech/payments")
    assert str(caught.value).startswith("scrape drift: record 1 does not fit 'sera.payment': field "
                                        "'payment_method_ref' string should match pattern")
    assert str(caught.value).endswith("(got '4111 1111 1111 1111')")


def test_a_page_without_the_table_names_the_selector_and_candidates() -> None:
    html = (PAGES / "sera_schedule_board.html").read_text(encoding="utf-8")
    with pytest.raises(ElementNotFound) as caught:
        scrape(FLOWS_DIR / "list_pricebook.yaml", html, "https://acme.sera.tech/pricebook")
    assert str(caught.value) == ("no element matched 'pricebook.table' (tried data-cy:pricebook-table, "
                                 "id:pricebook-table, css:main table) on https://acme.sera.tech/pricebook")
