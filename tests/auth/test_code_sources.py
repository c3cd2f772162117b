"""Code sources for SMS and e-mail second factors (no browser): Maildir, file and command sources, and the
rules of `wait_for_code` (newer than the request, never the same message twice, resend once)."""

from __future__ import annotations

import email.message
import email.utils
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from robots import load_flow
from robots.auth.codes import CodeSourceSpec, mark_used, open_source, wait_for_code
from robots.errors import ConfigError, FlowError, StepTimeout

SPEC: TypeAdapter = TypeAdapter(CodeSourceSpec)


def _maildir(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def _deliver(root: Path, name: str, to: str, body: str, at: datetime) -> None:
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "no-reply@portal.example", to, "Your code"
    msg["Date"] = email.utils.format_datetime(at)
    msg.set_content(body)
    (root / "new" / name).write_bytes(bytes(msg))


def test_maildir_gives_the_newest_code_for_the_recipient_sent_after_the_request(tmp_path):
    root = _maildir(tmp_path)
    now = datetime.now(UTC)
    _deliver(root, "1.old", "casey@acme.example.com", "Use 111111 to sign in.", now - timedelta(minutes=10))
    _deliver(root, "2.other", "dina@acme.example.com", "Use 222222 to sign in.", now)
    _deliver(root, "3.mine", "casey@acme.example.com", "Use 333333 to sign in.", now)
    source = open_source(SPEC.validate_python({"kind": "maildir", "path": str(root), "to": "casey@acme.example.com"}))

    code, message = wait_for_code(source, since=now - timedelta(seconds=1), timeout=1)
    assert code == "333333"
    mark_used(source, message)
    with pytest.raises(StepTimeout) as e:  # the only other message for casey is older than the request
        wait_for_code(source, since=now - timedelta(seconds=1), timeout=0.3)
    assert str(e.value) == f"no new code arrived from maildir {root} within 0.3 s"


def test_a_folder_that_is_not_a_maildir_is_a_config_error(tmp_path):
    source = open_source(SPEC.validate_python({"kind": "maildir", "path": str(tmp_path)}))
    with pytest.raises(ConfigError) as e:
        wait_for_code(source, since=datetime.now(UTC), timeout=1)
    assert str(e.value) == f"{tmp_path} is not a Maildir (no new/ or cur/ folder)"


def test_file_source_with_a_custom_pattern(tmp_path):
    f = tmp_path / "code.txt"
    f.write_text("PIN: 4711-99\n")
    source = open_source(SPEC.validate_python({"kind": "file", "path": str(f), "pattern": r"PIN: (\d{4}-\d\d)"}))
    code, _ = wait_for_code(source, since=datetime.now(UTC) - timedelta(seconds=2), timeout=1)
    assert code == "4711-99"


def test_command_source_and_resend_when_nothing_came(tmp_path):
    counter = tmp_path / "n"
    script = tmp_path / "latest.py"
    # Prints nothing until the "portal" was asked to resend, then a message with a code.
    script.write_text(f"import pathlib; p = pathlib.Path({str(counter)!r})\n"
                      "print('Your code is 654321' if p.exists() else '')\n")
    source = open_source(SPEC.validate_python({"kind": "command", "command": f"{sys.executable} {script}"}))
    asked = []

    def resend() -> None:
        asked.append(True)
        counter.write_text("1")

    code, message = wait_for_code(source, since=datetime.now(UTC), timeout=5, resend=resend, resend_after=0.3)
    assert (code, asked) == ("654321", [True])
    mark_used(source, message)
    with pytest.raises(StepTimeout):  # the same output again is the same (used) code
        wait_for_code(source, since=datetime.now(UTC), timeout=0.3)


def test_a_bad_code_source_in_a_flow_is_reported_with_its_location(tmp_path):
    f = tmp_path / "f.yaml"
    f.write_text("name: f\nsteps:\n  - open: http://x\n"
                 "  - mfa: {done: 'css:nav', source: {kind: pigeon}}\n"
                 "  - mfa: {done: 'css:nav', source: {kind: maildir}}\n"
                 "  - mfa: {done: 'css:nav'}\n")
    with pytest.raises(FlowError) as e:
        load_flow(f)
    assert [str(i) for i in e.value.issues] == [
        f"{f}:4:36: steps[1].mfa.source: input tag 'pigeon' found using 'kind' does not match any of the expected "
        "tags: 'outbox', 'maildir', 'imap', 'file', 'command', got a mapping",
        f"{f}:5:36: steps[2].mfa.source.maildir: missing required argument 'path'",
        f"{f}:6:10: steps[3].mfa: give a 'totp' secret, a code 'source', or both",
    ]
