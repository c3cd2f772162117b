"""What flows the API runs and what files they may read: `POST /flows/{name}/runs` runs only the flows an operator
allowed (ROBOTS_API_FLOWS), and a flow's file input given through the API is an upload of the caller (POST /uploads)
or a path under ROBOTS_API_FILES_DIR, never any other path of the server; refused before any run starts."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import TEST_FLOWS, ApiClient, bearer, serve, token
from robots.api import ApiSettings, create_app
from robots.api.settings import DEFAULT_FLOWS

HERE = Path(__file__).resolve().parent / "policy_flows"
NOT_ALLOWED = "flow {!r} is not allowed through the API; an operator lists the allowed flows in ROBOTS_API_FLOWS"
NOT_A_FILE = ("var {!r}: the API takes files as upload ids from POST /uploads (or paths under ROBOTS_API_FILES_DIR), "
              "not {!r}")


@pytest.fixture
def make_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ApiClient]]:
    import contextlib

    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    with contextlib.ExitStack() as stack:
        def make(**settings: Any) -> ApiClient:
            options: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path}/robots.db", "home": tmp_path / "home",
                                       "flows_dir": HERE, "portal_url": None}
            options.update(settings)
            return stack.enter_context(serve(create_app(ApiSettings(**options))))

        yield make


def error(response: httpx.Response, status: int, type_: str, message: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert (body["type"], body["message"]) == (type_, message)
    assert body["request_id"] == response.headers["X-Request-Id"]
    return dict(body)


def finished(client: ApiClient, headers: dict[str, str], location: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(location, headers=headers).json()
        if body["status"] != "running" or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.1)  # polling the run with a deadline


def upload(client: ApiClient, headers: dict[str, str], name: str, data: bytes) -> dict[str, Any]:
    r = client.post("/uploads", headers=headers, files={"file": (name, data, "application/octet-stream")})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_only_the_flows_an_operator_allowed_run_through_the_api(make_client: Callable[..., ApiClient]) -> None:
    shipped = make_client(flows_dir=DEFAULT_FLOWS)  # no ROBOTS_API_FLOWS: no flow at all
    headers = bearer(token(shipped, "flows:run"))
    body = {"vars": {"idempotency_key": "k", "job_id": 50005, "file": "/etc/passwd"}}
    error(shipped.post("/flows/sera/upload_attachment/runs", headers=headers, json=body), 403, "flow_not_allowed",
          NOT_ALLOWED.format("sera/upload_attachment"))
    error(shipped.post("/flows/sera/list_customers/runs", headers=headers, json={}), 403, "flow_not_allowed",
          NOT_ALLOWED.format("sera/list_customers"))

    client = make_client(flows_dir=TEST_FLOWS, allowed_flows=("echo", "wait_*"))
    headers = bearer(token(client, "flows:run"))
    assert client.post("/flows/echo/runs", headers=headers, json={"vars": {"msg": "hi"}}).status_code == 202
    error(client.post("/flows/search_then_fail/runs", headers=headers, json={}), 403, "flow_not_allowed",
          NOT_ALLOWED.format("search_then_fail"))
    # A flow that does not exist is refused the same way: the answer tells nothing about the flows folder.
    error(client.post("/flows/nothing/runs", headers=headers, json={}), 403, "flow_not_allowed",
          NOT_ALLOWED.format("nothing"))
    error(client.post("/flows/wait_forever/more/runs", headers=headers, json={}), 403, "flow_not_allowed",
          NOT_ALLOWED.format("wait_forever/more"))  # a '*' stays within one folder


def test_a_server_path_as_a_file_input_is_refused_before_any_run(make_client: Callable[..., ApiClient],
                                                                 tmp_path: Path) -> None:
    client = make_client(flows_dir=DEFAULT_FLOWS, allowed_flows=("sera/upload_attachment",))
    headers = bearer(token(client, "flows:run"))
    for given in ("/etc/passwd", str(tmp_path / "home" / "vault.key"), "../../.robots/vault.key", "upl_nope"):
        body = {"vars": {"idempotency_key": "k", "job_id": 50005, "file": given}}
        found = error(client.post("/flows/sera/upload_attachment/runs", headers=headers, json=body), 422,
                      "invalid_input", NOT_A_FILE.format("file", given))
        assert found["details"] == [{"loc": ["body", "vars", "file"], "field": "vars.file",
                                     "msg": NOT_A_FILE.format("file", given), "type": "value_error"}]
    assert client.app.state.store.list(limit=None) == []  # no run, no browser

    # A var that is not declared `type: file` but that a step reads as a file is a file input all the same.
    client = make_client(allowed_flows=("api_*",))
    headers = bearer(token(client, "flows:run"))
    error(client.post("/flows/api_untyped_file/runs", headers=headers, json={"vars": {"where": "/etc/passwd"}}),
          422, "invalid_input", NOT_A_FILE.format("where", "/etc/passwd"))


def test_an_upload_is_the_file_input_of_its_owner_only(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(allowed_flows=("api_*",))
    mine = bearer(token(client, "flows:run", "runs:read"))
    data = "Zoë's condenser coil\n".encode() * 100
    stored = upload(client, mine, "coil notes.txt", data)
    assert set(stored) == {"upload_id", "name", "size", "sha256"}
    assert stored["upload_id"].startswith("upl_")
    assert (stored["name"], stored["size"], stored["sha256"]) == ("coil notes.txt", len(data),
                                                                  hashlib.sha256(data).hexdigest())
    started = client.post("/flows/api_file_checksum/runs", headers=mine,
                          json={"vars": {"file": stored["upload_id"]}})
    assert started.status_code == 202, started.text
    done = finished(client, mine, started.headers["Location"])
    assert done["status"] == "passed", done
    local = done["outputs"]["local"]
    assert (local["name"], local["size"], local["sha256"]) == ("coil notes.txt", len(data), stored["sha256"])

    theirs = bearer(token(client, "flows:run", "runs:read"))
    error(client.post("/flows/api_file_checksum/runs", headers=theirs, json={"vars": {"file": stored["upload_id"]}}),
          422, "invalid_input", f"var 'file': {stored['upload_id']!r} is not an upload of this caller; upload the "
                                "file with POST /uploads")

    # The upload endpoint itself: a token with flows:run, one file in a multipart/form-data body.
    error(client.post("/uploads", files={"file": ("a.txt", b"a")}), 401, "missing_token",
          "an API token is required: send `Authorization: Bearer <token>`")
    error(client.post("/uploads", headers=bearer(token(client, "runs:read")), files={"file": ("a.txt", b"a")}), 403,
          "missing_scope", "this token lacks the scope 'flows:run'")
    error(client.post("/uploads", headers=mine, json={"file": "/etc/passwd"}), 415, "unsupported_media_type",
          "POST /uploads takes a multipart/form-data body with one file field named 'file'")
    error(client.post("/uploads", headers=mine, files={"other": ("a.txt", b"a")}), 422, "invalid_input",
          "POST /uploads takes a multipart/form-data body with one file field named 'file'")


def test_paths_under_the_files_dir_are_file_inputs(make_client: Callable[..., ApiClient], tmp_path: Path) -> None:
    files = tmp_path / "shared files"
    (files / "jobs").mkdir(parents=True)
    (files / "jobs" / "photo.jpg").write_bytes(b"\xff\xd8 a photo")
    (files / "passwd").symlink_to("/etc/passwd")
    (tmp_path / "outside.txt").write_text("not shared")
    client = make_client(allowed_flows=("api_file_checksum",), files_dir=files)
    headers = bearer(token(client, "flows:run", "runs:read"))
    for given in ("jobs/photo.jpg", str(files / "jobs" / "photo.jpg")):
        started = client.post("/flows/api_file_checksum/runs", headers=headers, json={"vars": {"file": given}})
        assert started.status_code == 202, started.text
        done = finished(client, headers, started.headers["Location"])
        assert (done["status"], done["outputs"]["local"]["sha256"]) == (
            "passed", hashlib.sha256(b"\xff\xd8 a photo").hexdigest())
    for given in ("passwd", "../outside.txt", str(tmp_path / "outside.txt"), "jobs", "jobs/none.jpg"):
        error(client.post("/flows/api_file_checksum/runs", headers=headers, json={"vars": {"file": given}}), 422,
              "invalid_input", NOT_A_FILE.format("file", given))


@pytest.mark.browser
def test_upload_attachment_through_the_api_sends_the_uploaded_bytes(make_client: Callable[..., ApiClient],
                                                                    sandbox: Any, sandbox_env: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**sandbox_env, "SE_OFFLINE": "true"}.items():
        monkeypatch.setenv(name, value)
    client = make_client(flows_dir=DEFAULT_FLOWS, allowed_flows=("sera/upload_attachment",), portal_url=sandbox.url)
    headers = bearer(token(client, "flows:run", "runs:read"))
    data = bytes(range(256)) * 30 + b"end of the inspection report"
    stored = upload(client, headers, "inspection report.pdf", data)
    started = client.post("/flows/sera/upload_attachment/runs", headers=headers, json={
        "vars": {"idempotency_key": "api-1", "job_id": 50005, "file": stored["upload_id"]}})
    assert started.status_code == 202, started.text
    done = finished(client, headers, started.headers["Location"], timeout=240)
    assert done["status"] == "passed", done
    assert (done["outputs"]["verified"], done["outputs"]["attachment"]["name"]) == (True, "inspection report.pdf")
    assert sandbox.db_path is not None
    with sqlite3.connect(sandbox.db_path) as db:
        rows = db.execute("SELECT filename, data FROM attachments WHERE work_order_id = 50005").fetchall()
    assert [(name, hashlib.sha256(blob).hexdigest()) for name, blob in rows] == [
        ("inspection report.pdf", stored["sha256"])]
