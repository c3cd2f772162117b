"""The back-office pages over HTTP: customer detail sections, invoices (void, record a payment), payments,
memberships (Service Utilization, create and renew), estimates, customer and work-order forms, attachments,
the data volumes at default size, and faults given at start."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

import httpx
import pytest

from robots.packs.sera.sandbox import SandboxServer
from robots.packs.sera.sandbox.data import ensure_snapshot
from robots.packs.sera.sandbox.office import parse_money, payment_ref_error

from .helpers import login, soup, text_of

STATUSES = ["unscheduled", "scheduled", "dispatched", "in_progress", "paused", "on_hold", "completed", "canceled"]


@pytest.fixture
def signed_in(portal: httpx.Client) -> httpx.Client:
    login(portal)
    return portal


def token(client: httpx.Client, path: str) -> str:
    node = soup(client.get(path)).select_one("input[name=csrf_token]")
    assert node is not None
    return str(node["value"])


def first_id(client: httpx.Client, path: str, row: str) -> str:
    node = soup(client.get(path)).select_one(f"tr[data-cy={row}]")
    assert node is not None
    return str(node["data-id"])


def writes(client: httpx.Client) -> dict[str, Any]:
    result: dict[str, Any] = client.get("/_sandbox/writes").json()["writes"]["acme"]
    return result


def test_default_size_has_every_state_ten_thousand_times_and_a_full_pricebook() -> None:
    db = sqlite3.connect(ensure_snapshot())
    try:
        counts = dict(db.execute("SELECT status, COUNT(*) FROM work_orders GROUP BY status").fetchall())
        assert set(counts) == set(STATUSES) and min(counts.values()) >= 10_000
        kinds = dict(db.execute("SELECT kind, COUNT(*) FROM pricebook_items GROUP BY kind").fetchall())
        assert sum(kinds.values()) >= 300 and set(kinds) == {"service", "material", "equipment"}
        assert (
            db.execute("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM service_locations GROUP BY customer_id)").fetchone()[
                0
            ]
            >= 20
        )
        assert {r[0] for r in db.execute("SELECT DISTINCT type FROM contact_methods")} == {"email", "phone", "mobile"}
        assert {r[0] for r in db.execute("SELECT DISTINCT cadence FROM customer_memberships")} == {
            "monthly", "quarterly", "semi_annual", "annual"}  # fmt: skip
        assert {r[0] for r in db.execute("SELECT DISTINCT status FROM customer_memberships")} == {
            "active", "pending", "expired", "canceled"}  # fmt: skip
        assert {r[0] for r in db.execute("SELECT DISTINCT method FROM payments")} == {
            "card", "ach", "check", "cash", "financing"}  # fmt: skip
        assert db.execute("SELECT COUNT(*) FROM payments WHERE kind = 'refund'").fetchone()[0] > 0
        refs = [
            r[0] for r in db.execute("SELECT payment_method_ref FROM payments WHERE payment_method_ref IS NOT NULL")
        ]
        assert refs and not any(sum(ch.isdigit() for ch in ref) >= 12 for ref in refs)  # never a full card number
        # every work order's total is the sum of its line items; every invoice adds up
        assert db.execute("SELECT COUNT(*) FROM work_orders w WHERE total_cents != "
                          "(SELECT COALESCE(SUM(total_cents), 0) "
                          "FROM line_items l WHERE l.work_order_id = w.id)").fetchone()[0] == 0  # fmt: skip
        assert (
            db.execute("SELECT COUNT(*) FROM invoices WHERE total_cents != subtotal_cents + tax_cents").fetchone()[0]
            == 0
        )
        assert db.execute("SELECT COUNT(*) FROM estimate_options").fetchone()[0] > 1000
    finally:
        db.close()


def test_extra_data_is_deterministic_per_seed(tmp_path: Any) -> None:
    def dump(path: Any) -> list[Any]:
        db = sqlite3.connect(path)
        try:
            return [db.execute(f"SELECT * FROM {t} ORDER BY id").fetchall() for t in
                    ("service_locations", "contact_methods", "customer_memberships", "invoices", "payments",
                     "estimate_lines", "technician_assignments", "pricebook_items")]  # fmt: skip
        finally:
            db.close()

    assert dump(ensure_snapshot(5, "small", tmp_path / "a")) == dump(ensure_snapshot(5, "small", tmp_path / "b"))
    assert dump(ensure_snapshot(5, "small", tmp_path / "a")) != dump(ensure_snapshot(6, "small", tmp_path / "c"))


def test_money_and_payment_reference_rules() -> None:
    assert parse_money("$1,234.50") == 123450 and parse_money("12.5") == 1250 and parse_money("1,23") is None
    assert payment_ref_error("card", "4242 4242 4242 4242") is not None
    assert payment_ref_error("card", "pm_4fT9kLm2Qx7Rz8") is None and payment_ref_error("card", "4242") is None


def test_customer_detail_has_locations_contacts_memberships_and_invoices(signed_in: httpx.Client) -> None:
    db_customer = None
    for cid in range(1001, 1121):
        page = signed_in.get(f"/customers/{cid}")
        tree = soup(page)
        if tree.select("tr[data-cy=membership-row]") and tree.select("tr[data-cy=invoice-row]"):
            db_customer = tree
            break
    assert db_customer is not None, "some small-size customer has both a membership and an invoice"
    assert db_customer.select("tr[data-cy=location-row][data-primary=true]")
    method_types = {li["data-type"] for li in db_customer.select("[data-cy=contact-method]")}
    assert method_types and method_types <= {"email", "phone", "mobile"}
    zoe = signed_in.get("/customers/1003")
    assert text_of(zoe, "customer-name") == "Zoë O'Brien" and text_of(zoe, "location-city") == "Austin"


def test_void_an_invoice_needs_confirmation(signed_in: httpx.Client) -> None:
    iid = first_id(signed_in, "/invoices?status=finalized", "invoice-row")
    csrf = token(signed_in, f"/invoices/{iid}")
    refused = signed_in.post(f"/invoices/{iid}/void", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 422
    assert text_of(refused, "error-confirm") == "Tick the box to confirm that you want to void this invoice."
    assert text_of(refused, "error-reason") == "Give a reason for voiding the invoice."
    assert signed_in.post(f"/invoices/{iid}/void", data={"csrf_token": "x", "confirm": "yes",
                                                         "reason": "Dup"}).status_code == 400  # fmt: skip
    done = signed_in.post(f"/invoices/{iid}/void", data={"csrf_token": csrf, "confirm": "yes", "reason": "Duplicate"})
    assert done.status_code == 303
    page = signed_in.get(done.headers["location"])
    assert text_of(page, "invoice-status") == "Voided" and text_of(page, "invoice-balance") == "$0.00"
    assert text_of(page, "invoice-notice") == "Invoice voided." and text_of(page, "invoice-void-reason") == "Duplicate"
    assert writes(signed_in) == {"invoices": 1}


def test_record_a_payment_validates_next_to_fields(signed_in: httpx.Client) -> None:
    iid = first_id(signed_in, "/invoices?status=finalized&payment_status=unpaid", "invoice-row")
    path = f"/invoices/{iid}/payments/new"
    csrf = token(signed_in, path)
    bad = signed_in.post(path, data={"csrf_token": csrf, "amount": "99999999", "method": "card",
                                     "reference": "4111 1111 1111 1111", "paid_date": "13/45/2026"})  # fmt: skip
    assert bad.status_code == 422
    assert text_of(
        bad,
        "error-amount",
    ).startswith("The amount cannot exceed the balance due of $")  # type: ignore[union-attr]
    assert "full card number" in (text_of(bad, "error-reference") or "")
    assert "4111" not in bad.text  # a typed card number is never echoed back
    assert text_of(bad, "error-paid_date") == "Enter the payment date as MM/DD/YYYY."
    ok = signed_in.post(path, data={"csrf_token": csrf, "amount": "10.00", "method": "card",
                                    "reference": "pm_4fT9kLm2Qx7Rz8", "paid_date": "03/02/2026"})  # fmt: skip
    assert ok.status_code == 303
    page = signed_in.get(ok.headers["location"])
    assert text_of(page, "invoice-payment-status") == "Partially Paid"
    payment_rows = [r.get_text(" ", strip=True) for r in soup(page).select("tr[data-cy=payment-row]")]
    assert [text_of_row for text_of_row in payment_rows
            if "pm_4fT9kLm2Qx7Rz8" in text_of_row]  # fmt: skip
    listed = signed_in.get("/payments")
    assert text_of(listed, "payment-reference") == "pm_4fT9kLm2Qx7Rz8"  # the newest payment comes first
    assert writes(signed_in) == {"payments": 1}


def test_create_and_renew_a_membership(signed_in: httpx.Client) -> None:
    path = "/customers/1003/memberships/new"
    csrf = token(signed_in, path)
    bad = signed_in.post(path, data={"csrf_token": csrf, "program_id": "", "cadence": "weekly", "interval_count": "0",
                                     "price": "abc", "autopay": "1", "payment_method_ref": "",
                                     "start_date": "03/02/2026"})  # fmt: skip
    assert bad.status_code == 422
    assert text_of(bad, "error-program_id") == "Choose a membership program."
    assert text_of(bad, "error-cadence") == "Choose how often the membership is billed."
    assert text_of(bad, "error-interval_count") == "Bill every 1 to 12 periods."
    assert text_of(bad, "error-price") == "Enter a price like 189.00."
    assert text_of(bad, "error-payment_method_ref") == "Autopay needs a saved payment method token (pm_…)."
    ok = signed_in.post(path, data={"csrf_token": csrf, "program_id": "1", "cadence": "quarterly",
                                    "interval_count": "1", "price": "$47.25", "autopay": "1",
                                    "payment_method_ref": "pm_Zoe12345678", "start_date": "03/02/2026"})  # fmt: skip
    assert ok.status_code == 303
    page = signed_in.get(ok.headers["location"])
    assert (text_of(page, "membership-status"), text_of(page, "membership-cadence"),
            text_of(page, "membership-price"), text_of(page, "membership-next-billing"),
            text_of(page, "membership-payment-method")) == ("Active", "Quarterly", "$47.25", "06/02/2026",
                                                            "pm_Zoe12345678")  # fmt: skip
    renew_path = ok.headers["location"].split("?")[0] + "/renew"
    form = soup(signed_in.get(renew_path))
    assert form.select_one("[data-cy=membership-price]")["value"] == "47.25"  # type: ignore[index]
    renewed = signed_in.post(renew_path, data={"csrf_token": csrf, "program_id": "1", "cadence": "annual",
                                               "interval_count": "1", "price": "189", "payment_method_ref": "",
                                               "start_date": "03/02/2027"})  # fmt: skip
    assert renewed.status_code == 303
    assert text_of(signed_in.get(renewed.headers["location"]), "membership-status") == "Pending"
    assert writes(signed_in) == {"memberships": 2}
    utilization = signed_in.get("/memberships", params={"tab": "utilization"})
    statuses = {td.get_text() for td in soup(utilization).select("[data-cy=utilization-status]")}
    assert statuses <= {"Available", "Completed"} and statuses


def test_estimates_list_and_options(signed_in: httpx.Client) -> None:
    eid = first_id(signed_in, "/estimates", "estimate-row")
    page = signed_in.get(f"/estimates/{eid}")
    options = soup(page).select("[data-cy=estimate-option]")
    assert options and all(o.select("tr[data-cy=option-line-item]") for o in options)


def test_customer_form_validates_and_saves(signed_in: httpx.Client) -> None:
    csrf = token(signed_in, "/customers/new")
    bad = signed_in.post("/customers/new", data={"csrf_token": csrf, "name": " ", "type": "residential",
                                                 "email": "nope", "phone": "12", "city": "", "state": "Texas",
                                                 "status": "active"})  # fmt: skip
    assert bad.status_code == 422
    assert [text_of(bad, f"error-{f}") for f in ("name", "email", "phone", "city", "state")] == [
        "Enter the customer's name.", "Enter an e-mail address like name@example.com.",
        "Enter a 10-digit US phone number like (512) 555-0143.", "Enter the city of the service address.",
        "Enter the two-letter state code, e.g. TX."]  # fmt: skip
    ok = signed_in.post("/customers/new", data={"csrf_token": csrf, "name": "Renée  Núñez", "type": "residential",
                                                "email": "Renee@Example.com", "phone": "+1 (512) 555-0199",
                                                "city": "Austin", "state": "tx", "status": "active"})  # fmt: skip
    assert ok.status_code == 303
    page = signed_in.get(ok.headers["location"])
    assert (text_of(page, "customer-name"), text_of(page, "customer-phone"), text_of(page, "customer-state"),
            text_of(page, "customer-notice")) == (
        "Renée Núñez", "(512) 555-0199", "TX", "Customer created.")  # fmt: skip
    edit = ok.headers["location"].split("?")[0] + "/edit"
    assert signed_in.post(edit, data={"csrf_token": csrf, "name": "Renée Núñez-Peña", "type": "residential",
                                      "email": "", "phone": "", "city": "Austin", "state": "TX",
                                      "status": "active"}).status_code == 422  # fmt: skip
    assert writes(signed_in) == {"customers": 1}


def test_new_work_order_rechecks_the_total_on_the_server(signed_in: httpx.Client) -> None:
    assert 1003 in [c["id"] for c in signed_in.get("/api/customers/search", params={"q": "Zoë"}).json()["items"]]
    location = signed_in.get("/api/customers/1003/locations").json()["items"][0]["id"]
    items = signed_in.get("/api/pricebook/search", params={"q": ""}).json()["items"][:2]
    csrf = token(signed_in, "/jobs/new")
    form = {"csrf_token": csrf, "customer_id": "1003", "customer_label": "Zoë O'Brien", "location_id": str(location),
            "job_type": "AC Tune-Up", "priority": "high", "summary": "Two units", "schedule_date": "03/05/2026",
            "schedule_time": "9:00 AM", "arrival_window": "", "line_item_id": [str(i["id"]) for i in items],
            "line_quantity": ["1", "2"], "client_total": "1.00"}  # fmt: skip
    stale = signed_in.post("/jobs/new", data=form)
    assert stale.status_code == 422 and (text_of(stale, "error-lines") or "").startswith("The total changed to $")
    totals = [items[0]["price_cents"], 2 * items[1]["price_cents"]]
    tax = (sum(t for t, i in zip(totals, items, strict=True) if i["taxable"]) * 825 + 5000) // 10000  # 8.25 % in TX
    form["client_total"] = f"{(sum(totals) + tax) / 100:.2f}"
    created = signed_in.post("/jobs/new", data=form)
    assert created.status_code == 303
    page = signed_in.get(created.headers["location"])
    assert text_of(page, "job-status") == "Scheduled" and text_of(page, "job-arrival-window") == "9 AM – 11 AM"
    assert text_of(page, "job-notice") == f"Work order {text_of(page, 'job-number')} created."
    assert len(soup(page).select("tr[data-cy=job-line-item]")) == 2
    assert text_of(
        page,
        "job-scheduled",
    ).startswith("03/05/2026 9:00 AM")  # type: ignore[union-attr]
    assert writes(signed_in) == {"work_orders": 1}
    missing = signed_in.post("/jobs/new", data={"csrf_token": csrf, "customer_id": "", "job_type": "x"})
    assert missing.status_code == 422
    assert text_of(missing, "error-customer_id") == "Choose a customer from the list."
    assert text_of(missing, "error-lines") == "Add at least one line item."


def test_upload_shows_the_checksum_and_the_viewer_lists_it(signed_in: httpx.Client) -> None:
    job = first_id(signed_in, "/jobs", "job-row")
    csrf = token(signed_in, f"/jobs/{job}")
    body = "Compressor amps: 18.2 A\nSuperheat: 12 °F\n".encode()
    done = signed_in.post(f"/jobs/{job}/attachments", data={"csrf_token": csrf},
                          files={"file": ("readings.txt", body, "text/plain")})  # fmt: skip
    assert done.status_code == 303
    page = signed_in.get(done.headers["location"])
    digest = hashlib.sha256(body).hexdigest()
    assert text_of(page, "upload-sha256") == digest and text_of(page, "upload-filename") == "readings.txt"
    viewer = signed_in.get(f"/jobs/{job}/attachments/viewer")
    assert text_of(viewer, "viewer-file-sha256") == digest and "Superheat" in (text_of(viewer, "viewer-preview") or "")
    link = soup(viewer).select_one("[data-cy=viewer-file-link]")["href"]  # type: ignore[index]
    download = signed_in.get(str(link))
    assert download.content == body and download.headers["x-checksum-sha256"] == digest
    empty = signed_in.post(f"/jobs/{job}/attachments", data={"csrf_token": csrf}, files={"file": ("e.txt", b"")})
    assert text_of(signed_in.get(empty.headers["location"]), "upload-error") == "Choose a file to upload."
    assert writes(signed_in) == {"attachments": 1}


def test_slow_commit_applies_to_the_new_forms(signed_in: httpx.Client) -> None:
    iid = first_id(signed_in, "/invoices?status=finalized", "invoice-row")
    csrf = token(signed_in, f"/invoices/{iid}")
    signed_in.post("/_sandbox/faults", json={"name": "slow_commit", "ms": 600, "paths": ["/invoices/"]})
    with pytest.raises(httpx.ReadTimeout):  # the answer comes after the commit's 600 ms, the client gives up at 300
        signed_in.post(f"/invoices/{iid}/void", data={"csrf_token": csrf, "confirm": "yes", "reason": "Dup"},
                       timeout=0.3)  # fmt: skip
    deadline = time.monotonic() + 30  # a bound on the wait, not a timing assertion (a loaded machine is slow)
    while writes(signed_in) != {"invoices": 1} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert writes(signed_in) == {"invoices": 1}  # committed although the answer never came in time


def test_faults_given_at_start_are_on_and_come_back_after_a_reset() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        SandboxServer(size="small", faults=[{"name": "nope"}])
    with SandboxServer(size="small", faults=[{"name": "layout_b"}, {"name": "latency", "ms": 1}]) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            names = lambda: [f["name"] for f in client.get("/_sandbox/faults").json()["faults"]]  # noqa: E731
            assert names() == ["layout_b", "latency"]
            assert client.delete("/_sandbox/faults").json()["faults"] == []
            client.post("/_sandbox/faults", json={"name": "maintenance"})
            server.reset()
            assert names() == ["layout_b", "latency"]
            client.get("/login")
            assert client.get("/_sandbox/requests").json()[-1]["faults"] == ["layout_b", "latency"]
