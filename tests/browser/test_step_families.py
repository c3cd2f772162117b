"""The step families of the flow language, driven through real Chromium against the sandbox."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest

from robots import load_flow
from robots.engine import Runner
from robots.packs.sera.sandbox import credentials
from robots.portals import open_portal
from robots.records import MemoryStore

FLOWS = Path(__file__).resolve().parent / "flows"

pytestmark = pytest.mark.browser


def _secrets() -> dict[str, str]:
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"]}


def test_step_tour(sandbox, tmp_path):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "whats_new"}).raise_for_status()
    flow = load_flow(FLOWS / "step_tour.yaml")
    with open_portal("sera", url=sandbox.url) as portal:
        record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, secrets=_secrets(),
                                                                                 portal=portal)
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    out = record.outputs
    assert re.fullmatch(r"Showing 1–50 of 2,500 customers", out["summary"])
    assert out["filtered_url"].endswith("/customers")
    assert 1 <= out["commercial_rows"] <= 50
    assert re.fullmatch(r"C-\d{6}", out["first_detail"]["number"])
    assert out["first_detail"]["status"] in ("active", "inactive", "on_hold")
    assert len(out["names"]) == 3 and all(isinstance(n, str) and n for n in out["names"])
    assert out["board_rows"] >= 1
    assert out["rounds"] == 2
    assert (Path(record.run_dir) / out["shot"]).read_bytes()[:4] == b"\x89PNG"
    by_kind = {s.name.split(" ", 1)[1]: s.status for s in record.steps}
    assert by_kind["dismiss_if_present"] == "passed"
    assert all(s.status in ("passed", "skipped") for s in record.steps)
    kinds = {s.name.split(" ", 1)[1] for s in record.steps}
    assert {"press", "select", "read_attr", "assert_count", "for_each", "extract_detail", "back", "refresh",
            "if", "log", "wait_xhr", "extract_list", "retry", "repeat_until", "screenshot", "set"} <= kinds


def test_upload_frame_and_window_steps(sandbox, tmp_path):
    attachment = tmp_path / "site photo.txt"
    attachment.write_bytes("condenser coil, Zoë's unit\n".encode() * 100)
    want = hashlib.sha256(attachment.read_bytes()).hexdigest()
    flow = load_flow(FLOWS / "job_attachments.yaml")
    with open_portal("sera", url=sandbox.url) as portal:
        record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(
            flow, vars={"job": "50001", "file": str(attachment)}, secrets=_secrets(), portal=portal)
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    out = record.outputs
    assert out["sent"] == {"path": str(attachment), "size": attachment.stat().st_size, "sha256": want}
    assert out["shown_sha256"] == want  # the portal saw the same bytes
    assert want in out["viewer_sha256"]  # read inside the iframe
    assert out["print_number"] == out["job_number"]  # read in the print window
    writes = httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"]
    assert writes["attachments"] == 1


def test_http_get_and_download_reuse_the_browser_session(sandbox, tmp_path):
    flow = load_flow(FLOWS / "hybrid_reads.yaml")
    with open_portal("sera", url=sandbox.url) as portal:
        record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, secrets=_secrets(),
                                                                                 portal=portal)
    assert record.status == "passed", record.error_message
    rows = record.outputs["rows"]
    assert [r["id"] for r in rows] == [str(i) for i in range(1051, 1101)]  # page 2, signed in over HTTP
    export = record.outputs["export"]
    data = Path(export["path"]).read_bytes()
    assert export["sha256"] == hashlib.sha256(data).hexdigest() and export["size"] == len(data)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Customer #,Name,Type,Status,Email,Phone,City,State,Balance")
    assert len(lines) == 2501  # a header and every customer


def test_catalog_selectors_scoped_within_an_element_and_inside_a_frame(sandbox, tmp_path):
    flow = load_flow(FLOWS / "catalog_scopes.yaml")
    with open_portal("sera", url=sandbox.url) as portal:
        record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(
            flow, vars={"job": "50001"}, secrets=_secrets(), portal=portal)
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    out = record.outputs
    assert out["first_name"] and out["first_name"] == out["plain_first_name"]  # the name cell of the first row
    assert out["row_count"] > 1 and out["row_count"] == out["plain_row_count"]
    assert record.outputs["viewer_heading"] == "Attachments"  # inside the iframe (its fallback candidate)
    assert re.fullmatch(r"WO-\d+", record.outputs["job_number"])  # back in the page, without switch_frame
    drift = {s.name: s.drift for s in record.steps if s.drift}
    assert drift == {"steps[7] read_text": "job.viewer_heading: matched fallback data-cy:viewer-title after css:h1 "
                                           "failed"}
