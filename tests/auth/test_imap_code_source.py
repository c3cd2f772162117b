"""The IMAP code source against a real IMAP server: a private dovecot (Debian's dovecot-imapd) on a free
loopback port, started for this module and ended by its process group."""

from __future__ import annotations

import email.message
import email.utils
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from robots.auth.codes import CodeSourceSpec, mark_used, open_source, wait_for_code
from robots.errors import StepTimeout

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "robot@acme.example.com", "robot pass&<>"

CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def imap_server() -> Iterator[int]:
    if not (Path(DOVECOT).exists() and os.geteuid() == 0):
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot (Debian's dovecot-imapd) is needed for the IMAP tests: run scripts/setup.sh")
        pytest.skip("dovecot-imapd is not installed (scripts/setup.sh installs it)")
    # Not under pytest's tmp folder: that one is 0700, and dovecot's own users must read this one.
    root = Path(tempfile.mkdtemp(prefix="robots-imap-"))
    root.chmod(0o755)
    port = _free_port()
    (root / "dovecot.conf").write_text(CONF.format(root=root, port=port))
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    owner = pwd.getpwnam("dovecot")
    for sub in ("mail", "home", "run", "state"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        shutil.chown(root / sub, owner.pw_uid, owner.pw_gid)
    server = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with imaplib.IMAP4("127.0.0.1", port) as box:
                    box.login(USER, PASSWORD)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot did not start: {log}")
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


def _deliver(port: int, to: str, body: str, at: datetime) -> None:
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "no-reply@sera.example", to, "Your Sera verification code"
    msg["Date"] = email.utils.format_datetime(at)
    msg.set_content(body)
    with imaplib.IMAP4("127.0.0.1", port) as box:
        box.login(USER, PASSWORD)
        box.append("INBOX", None, None, bytes(msg))


def _spec(port: int, **extra: object) -> object:
    return TypeAdapter(CodeSourceSpec).validate_python(
        {"kind": "imap", "host": "127.0.0.1", "port": port, "ssl": False, "username": USER,
         "password": PASSWORD, **extra})


def test_imap_gives_the_newest_unused_code_sent_after_the_request(imap_server):
    now = datetime.now(UTC)
    _deliver(imap_server, USER, "Use 111111 to finish signing in.", now - timedelta(minutes=30))  # before
    _deliver(imap_server, USER, "Use 222222 to finish signing in.", now)
    _deliver(imap_server, "someone@else.example.com", "Use 999999 to finish signing in.", now)  # not ours
    source = open_source(_spec(imap_server, to=USER))
    code, message = wait_for_code(source, since=now - timedelta(seconds=1), timeout=5)
    assert code == "222222"
    mark_used(source, message)

    # a code that arrives while the robot waits is picked up
    later = datetime.now(UTC)
    _deliver(imap_server, USER, "Use 333333 to finish signing in.", later)
    assert wait_for_code(source, since=later - timedelta(seconds=1), timeout=5)[0] == "333333"


def test_imap_with_a_wrong_password_waits_then_times_out_naming_the_server_only(imap_server):
    source = open_source(_spec(imap_server, password="not it"))
    with pytest.raises(StepTimeout) as e:
        wait_for_code(source, since=datetime.now(UTC), timeout=0.5)
    assert str(e.value) == f"no new code arrived from imap 127.0.0.1:{imap_server}/INBOX within 0.5 s"
