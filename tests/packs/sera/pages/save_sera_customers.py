"""Regenerate the saved Sera customer-list pages in this folder from the bundled sandbox (small data set).

Run once by hand (`python tests/packs/sera/pages/save_sera_customers.py`); the tests read the saved files and never
start a server. The pages are fixtures: regenerate them only when the portal's markup changes on purpose."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import pyotp
from bs4 import BeautifulSoup

from robots.packs.sera.sandbox import SandboxServer, credentials

HERE = Path(__file__).parent


def sign_in(client: httpx.Client) -> None:
    creds = credentials()
    page = client.get("/login")
    page.raise_for_status()
    token = BeautifulSoup(page.text, "html.parser").find("input", attrs={"name": "csrf_token"})["value"]
    r = client.post("/login", data={"username": creds["username"], "password": creds["password"],
                                    "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/mfa", (r.status_code, r.text[:500])
    now = client.get("/_sandbox/clock").json()["now"]
    code = pyotp.TOTP(creds["totp_secret"]).at(datetime.fromisoformat(now.replace("Z", "+00:00")))
    r = client.post("/mfa", data={"code": code})
    assert r.status_code == 303, (r.status_code, r.text[:500])


def main() -> None:
    with SandboxServer(size="small") as sandbox, httpx.Client(base_url=sandbox.url, timeout=10) as client:
        sign_in(client)
        first = client.get("/customers?page=1")
        first.raise_for_status()
        last_href = BeautifulSoup(first.text, "html.parser").select('[data-cy="pagination-page"]')[-1]["href"]
        last_number = int(re.search(r"page=(\d+)", last_href).group(1))
        last = client.get(f"/customers?page={last_number}")
        last.raise_for_status()
        assert 'rel="next"' not in last.text, "the last page still has a next link"
        (HERE / "sera_customers_page1.html").write_text(first.text, encoding="utf-8")
        (HERE / "sera_customers_last.html").write_text(last.text, encoding="utf-8")
        print(f"saved page 1 and page {last_number} from {sandbox.url}")


if __name__ == "__main__":
    main()
