"""The sandbox's parts that the membership and file flows rely on, over HTTP: a membership's term history, a
term renewed only once, the CSV export's Customer ID column, and the corrupt_upload fault."""

from __future__ import annotations

import csv
import hashlib
import io

import httpx
import pytest

from .helpers import login, soup, text_of


@pytest.fixture
def signed_in(portal: httpx.Client) -> httpx.Client:
    login(portal)
    return portal


def token(client: httpx.Client, path: str, form: str = "form") -> str:
    node = soup(client.get(path)).select_one(f"{form} input[name=csrf_token]")
    assert node is not None
    return str(node["value"])


def test_a_term_is_renewed_once_and_both_pages_show_the_history(signed_in: httpx.Client) -> None:
    path = "/memberships/3/renew"
    page = soup(signed_in.get(path))
    fields = {str(f["name"]): str(f.get("value", "")) for f in page.select("form[method=post] input[name]")}
    chosen = page.select_one("select[name=program_id] option[selected]")
    assert chosen is not None
    form = {**fields, "program_id": str(chosen["value"]), "cadence": "annual", "price": "199.00"}
    form.pop("autopay", None)
    before = signed_in.get("/memberships/3")
    term = (text_of(before, "membership-start"), text_of(before, "membership-end"))
    renewed = signed_in.post(path, data=form)
    assert renewed.status_code == 303
    new = signed_in.get(renewed.headers["location"])
    assert text_of(new, "membership-renewal-of") == f"Renewal of M-20003 ({term[0]} – {term[1]})"
    old = signed_in.get("/memberships/3")
    number = text_of(new, "membership-number")
    assert (text_of(old, "membership-renewed-as") or "").startswith(f"Renewed as {number} ({form['start_date']} – ")
    assert text_of(old, "membership-renew") is None  # no Renew button on a renewed term
    again = signed_in.post(path, data=form)
    assert again.status_code == 409
    assert text_of(again, "membership-error") == f"This membership was already renewed as {number}."


def test_the_export_ends_with_the_customer_id(signed_in: httpx.Client) -> None:
    response = signed_in.get("/customers/export", params={"q": "C-100003"})
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert rows[0][-1] == "Customer ID" and [r[-1] for r in rows[1:]] == ["1003"]
    assert rows[1][0] == "C-100003"


def test_corrupt_upload_stores_the_file_one_byte_short(signed_in: httpx.Client) -> None:
    signed_in.post("/_sandbox/faults", json={"name": "corrupt_upload", "paths": ["/jobs/"]}).raise_for_status()
    csrf = token(signed_in, "/jobs/50005", "form[enctype='multipart/form-data']")
    sent = signed_in.post("/jobs/50005/attachments", data={"csrf_token": csrf},
                          files={"file": ("notes.txt", b"coil cleaned\n", "text/plain")})  # fmt: skip
    assert sent.status_code == 303
    viewer = soup(signed_in.get("/jobs/50005/attachments/viewer"))
    link = viewer.select_one("[data-cy=viewer-file] a")
    assert link is not None
    copy = signed_in.get(str(link["href"]))
    assert copy.content == b"coil cleaned"
    assert copy.headers["x-checksum-sha256"] == hashlib.sha256(b"coil cleaned").hexdigest()
