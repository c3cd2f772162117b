"""The Sera file flows end to end (real Chromium against the sandbox): upload_attachment uploads a file once per
key (the sandbox's write counter, also when the upload is answered after the page-load timeout) and proves the
portal's copy by its SHA-256, a copy that differs fails naming both digests, and export_customers saves the CSV
export with its checksum and reads the same customers as list_customers for the same filter (under layout B,
with the drift recorded).

The tests of this module share a home (ROBOTS_HOME and its SQLite store), so only the first signs in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.testing import run_flow_cli, tracked_pids_alive

FLOWS = Path(__file__).resolve().parents[3] / "flows" / "sera"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


def writes(sandbox: Any) -> dict[str, int]:
    return httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"]


def upload(home: Path, env: dict[str, str], path: Path, key: str) -> Any:
    return run_flow_cli([str(FLOWS / "upload_attachment.yaml"), "--var", "job_id=50005", "--var", f"file={path}",
                         "--var", f"idempotency_key={key}", "--report", "json"], home, env=env)  # fmt: skip


def test_upload_attachment_verifies_the_checksum_and_the_same_file_again_uploads_nothing(
        sandbox, sandbox_env, home, tmp_path):  # fmt: skip
    photo = tmp_path / "condenser coil.jpg"
    photo.write_bytes(bytes(range(256)) * 40 + "Zoë's unit".encode())
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "slow_commit", "ms": 9000,
                                                       "paths": ["/jobs/50005/attachments"]}).raise_for_status()
    first = upload(home, sandbox_env, photo, "a-1")
    assert first.returncode == 0, first.stderr
    assert tracked_pids_alive(home / "runs" / first.run_id) == []
    out = first.outputs
    attachment = out["attachment"]
    assert (attachment["name"], attachment["size"], attachment["sha256"]) == ("condenser coil.jpg", 10251, digest)
    assert attachment["url"] == f"{sandbox.url}/jobs/50005/attachments/{attachment['id']}"
    assert out["local"] == {"path": str(photo), "name": "condenser coil.jpg", "size": 10251, "sha256": digest}
    saved = Path(out["downloaded"]["path"])
    assert saved.parent == home / "runs" / first.run_id / "downloads"
    assert out["downloaded"] == {"path": str(saved), "size": 10251, "sha256": digest}
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == digest and saved.read_bytes() == photo.read_bytes()
    assert (out["verified"], out["created"], out["submits"], out["idempotency_key"]) == (True, True, 1, "a-1")
    assert writes(sandbox) == {"attachments": 1}
    posts = [e for e in httpx.get(f"{sandbox.url}/_sandbox/requests").json() if e["method"] == "POST"
             and e["path"] == "/jobs/50005/attachments"]  # fmt: skip
    assert [e.get("faults") for e in posts] == [["slow_commit"]]  # answered after the page-load timeout: not resent
    httpx.delete(f"{sandbox.url}/_sandbox/faults/slow_commit").raise_for_status()

    again = upload(home, sandbox_env, photo, "a-1")
    assert again.returncode == 0, again.stderr
    assert (again.outputs["created"], again.outputs["submits"], again.outputs["verified"]) == (False, 0, True)
    assert again.outputs["attachment"]["id"] == attachment["id"]
    assert writes(sandbox) == {"attachments": 1}


def test_a_copy_that_differs_from_the_local_file_fails_naming_both_digests(sandbox, sandbox_env, home, tmp_path):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "corrupt_upload"}).raise_for_status()
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Replaced the capacitor.\n")
    done = upload(home, sandbox_env, notes, "a-2")
    assert done.returncode == 3, done.stderr
    local, stored = hashlib.sha256(b"Replaced the capacitor.\n").hexdigest(), hashlib.sha256(
        b"Replaced the capacitor.").hexdigest()
    assert (f"error: download: checksum mismatch: the downloaded file's SHA-256 is {stored}, expected {local}"
            in done.stderr)  # fmt: skip
    assert writes(sandbox) == {"attachments": 1}  # uploaded once: the probe found it by name, then the check failed


def test_export_customers_saves_the_file_with_its_checksum_and_reads_the_listed_customers_under_layout_b(
        sandbox, sandbox_env, home):  # fmt: skip
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    done = run_flow_cli([str(FLOWS / "export_customers.yaml"), "--var", "tag=VIP", "--var", "type=commercial",
                         "--report", "json"], home, env=sandbox_env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tracked_pids_alive(home / "runs" / done.run_id) == []
    out = done.outputs
    data = Path(out["path"]).read_bytes()
    assert data.startswith("\ufeffCustomer #,Name,".encode())  # the export's byte-order mark, dropped by read_csv
    assert (out["sha256"], out["size"]) == (hashlib.sha256(data).hexdigest(), len(data))
    assert out["row_count"] == len(out["customers"]) == len(data.decode("utf-8-sig").splitlines()) - 1 > 0
    steps = json.loads((home / "runs" / done.run_id / "report.json").read_text())["steps"]
    assert any(s["drift"] and s["drift"].startswith("customers.export: matched fallback") for s in steps)

    listed = run_flow_cli([str(FLOWS / "list_customers.yaml"), "--var", "tag=VIP", "--var", "type=commercial"], home,
                          env=sandbox_env)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    shown = ("id", "number", "name", "type", "raw_type", "email", "phones", "city", "balance_cents", "created_at",
             "status", "raw_status")  # what the list shows  # fmt: skip
    assert [{k: c[k] for k in shown} for c in out["customers"]] == [
        {k: c[k] for k in shown} for c in listed.outputs["customers"]]
    assert all(c["tags"] and "VIP" in c["tags"] and c["modified_at"].endswith("Z") for c in out["customers"])
