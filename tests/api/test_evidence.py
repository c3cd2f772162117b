"""Failures through the API against the sandbox: the portal's 500 page is 502, a portal that does not answer within
the flow's page-load timeout is 504 (one run each), and a failed run's evidence is listed (size, SHA-256, URL per
file) and served as files: the right content type, secrets masked, nothing outside the run's evidence folder."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.masking import MASK
from robots.packs.sera.fixtures import reset_sandbox
from robots.packs.sera.sandbox import credentials

from .conftest import ApiClient, bearer, library_with_page_load, token
from .test_contracts import envelope, wait_for_run

pytestmark = pytest.mark.browser


@pytest.fixture
def api_env(sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    for name, value in {**sandbox_env, "SE_OFFLINE": "true"}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def api(make_client: Callable[..., ApiClient], sandbox: Any, api_env: None) -> ApiClient:
    return make_client(portal_url=sandbox.url)


@pytest.mark.long
def test_the_portals_500_page_is_502_and_a_page_that_does_not_load_in_time_is_504(
        make_client: Callable[..., ApiClient], sandbox: Any, api_env: None, tmp_path: Path) -> None:
    # The status flow with a 3 s page-load timeout instead of its 8 s: the late page below is late by less.
    api = make_client(portal_url=sandbox.url,
                      library_dir=library_with_page_load(tmp_path, 3, "sera/change_work_order_status"))
    headers = bearer(token(api, "work_orders:write"))
    faults = f"{sandbox.url}/_sandbox/faults"
    httpx.post(faults, json={"name": "server_error", "paths": ["/jobs/50009"]}).raise_for_status()
    failed = envelope(api.patch("/work-orders/50009/status", json={"status": "dispatched"},
                                headers={**headers, "Idempotency-Key": "w-500"}), 502, "portal_failed",
                      f"the portal failed: it answered HTTP 500 on {sandbox.url}/jobs/50009")
    assert (failed["details"]["status"], failed["details"]["error_class"], failed["details"]["failure_kind"]) == (
        "errored", "PortalFailed", "technical")
    assert failed["details"]["error"] == ("the portal answered HTTP 500 on GET /jobs/50009 (while waiting for "
                                          "'job_status.status')")

    reset_sandbox(sandbox)
    # Longer than the status flow's page-load timeout (3 s here): each of its 3 reads of the page gives up.
    httpx.post(faults, json={"name": "latency", "ms": 3500, "paths": ["/jobs/50009"]}).raise_for_status()
    late = envelope(api.patch("/work-orders/50009/status", json={"status": "dispatched"},
                              headers={**headers, "Idempotency-Key": "w-late"}), 504, "portal_timeout",
                    f"the page {sandbox.url}/jobs/50009 did not load in time")
    assert (late["details"]["error_class"], late["details"]["failure_kind"]) == ("StepTimeout", "technical")
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {}
    # Neither answer was kept: the same key again runs the flow again (here: the portal answers now).
    reset_sandbox(sandbox)
    again = api.patch("/work-orders/50009/status", json={"status": "dispatched"},
                      headers={**headers, "Idempotency-Key": "w-late"})
    assert (again.status_code, again.json()["changed"], again.json()["work_order"]["status"]) == (
        200, True, "dispatched")


def test_a_failed_runs_evidence_is_listed_and_served_as_files_with_secrets_masked(api: ApiClient,
                                                                                  sandbox: Any) -> None:
    headers = bearer(token(api, "flows:run", "runs:read"))
    started = api.post("/flows/search_then_fail/runs", headers=headers, json={})
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    run_id = started.json()["run_id"]
    done = wait_for_run(api, headers, location, lambda b: b["status"] != "running", timeout=120)
    assert (done["status"], done["error_class"]) == ("errored", "ElementNotFound"), done

    listed = api.get(f"{location}/evidence", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["run_id"] == run_id and len(body["evidence"]) == 1
    step = body["evidence"][0]
    password = credentials()["password"]
    assert step["url"] == f"{sandbox.url}/customers?q={MASK}"
    files = {kind: step[kind] for kind in ("screenshot", "html", "console", "network")}
    assert {k: (f["name"], f["content_type"], f["url"]) for k, f in files.items()} == {
        kind: (f"step-{step['step_index']:03d}{ext}", ctype,
               f"/runs/{run_id}/evidence/step-{step['step_index']:03d}{ext}")
        for kind, ext, ctype in (("screenshot", ".png", "image/png"), ("html", ".html", "text/html; charset=utf-8"),
                                 ("console", ".console.json", "application/json"),
                                 ("network", ".network.json", "application/json"))}
    for kind, listed_file in files.items():
        got = api.get(listed_file["url"], headers=headers)
        assert (got.status_code, got.headers["content-type"]) == (200, listed_file["content_type"]), kind
        assert (len(got.content), hashlib.sha256(got.content).hexdigest()) == (listed_file["size"],
                                                                                listed_file["sha256"])
        assert password.encode() not in got.content
    html = api.get(files["html"]["url"], headers=headers)
    assert html.content.startswith(b"<html") and f'value="{MASK}"' in html.text  # the search box held the password
    assert html.headers["content-security-policy"] == "sandbox"  # a saved portal page runs nothing in the API's origin
    assert api.get(files["screenshot"]["url"], headers=headers).content[:8] == b"\x89PNG\r\n\x1a\n"

    envelope(api.get(f"{location}/evidence/step-999.png", headers=headers), 404, "evidence_not_found",
             f"run {run_id} has no evidence file named 'step-999.png'")
    for sneaky in ("..%2Freport.json", "..%2F..%2F..%2Frobots.db", "%2Fetc%2Fpasswd", "../report.json"):
        r = api.get(f"{location}/evidence/{sneaky}", headers=headers)
        assert r.status_code == 404 and password not in r.text, (sneaky, r.text)
        assert r.json()["error"]["type"] in ("evidence_not_found", "not_found"), (sneaky, r.text)
    envelope(api.get(f"{location}/evidence/..%2Freport.json", headers=headers), 404, "evidence_not_found",
             f"run {run_id} has no evidence file named '../report.json'")
    envelope(api.get(f"/runs/nope/evidence/{files['html']['name']}", headers=headers), 404, "run_not_found",
             "no run with id 'nope'")
    others = bearer(token(api, "flows:run"))
    envelope(api.get(files["html"]["url"], headers=others), 403, "missing_scope",
             "this token lacks the scope 'runs:read'")
    envelope(api.get(f"{location}/evidence", headers=others), 403, "missing_scope",
             "this token lacks the scope 'runs:read'")
