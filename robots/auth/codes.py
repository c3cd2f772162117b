"""Code sources for SMS and e-mail second factors: where a robot reads the code the portal sent.

Each source lists the messages it can see (newest last) with an id, a time and a text; `wait_for_code`
polls one until a message newer than the sign-in request arrives whose code was not used before, and
extracts the code with a regular expression. Sources: the sandbox's HTTP outbox (`outbox`), a Maildir
(`maildir`), an IMAP mailbox (`imap`), a file (`file`) and a command's output (`command`).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import imaplib
import logging
import re
import shlex
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from robots.errors import ConfigError, StepTimeout

log = logging.getLogger("robots.auth.codes")

DEFAULT_PATTERN = r"\b(\d{6})\b"


@dataclass(frozen=True)
class Message:
    id: str
    at: datetime | None  # when it was sent or received (aware), None when the source cannot tell
    text: str


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(DEFAULT_PATTERN, description="regular expression whose first group is the code")
    to: str | None = Field(None, description="only messages to this phone number or e-mail address")


class OutboxSpec(_Spec):
    """The sandbox's outbox (`GET /_sandbox/outbox?to=...`), or any endpoint answering the same JSON."""

    kind: Literal["outbox"]
    url: str | None = Field(None, description="default: the portal's origin + /_sandbox/outbox")


class MaildirSpec(_Spec):
    kind: Literal["maildir"]
    path: str = Field(description="the Maildir folder (with new/ and cur/)")


class ImapSpec(_Spec):
    kind: Literal["imap"]
    host: str
    port: int = 993
    ssl: bool = True
    username: str
    password: str
    folder: str = "INBOX"


class FileSpec(_Spec):
    """A file that some other process writes the message (or just the code) into."""

    kind: Literal["file"]
    path: str


class CommandSpec(_Spec):
    """A command whose standard output is the latest message (or just the code)."""

    kind: Literal["command"]
    command: str


CodeSourceSpec = Annotated[OutboxSpec | MaildirSpec | ImapSpec | FileSpec | CommandSpec, Field(discriminator="kind")]


class CodeSource(ABC):
    def __init__(self, spec: _Spec):
        self.spec = spec

    @abstractmethod
    def messages(self) -> list[Message]:
        """The messages the source holds now, oldest first."""

    def describe(self) -> str:
        return type(self.spec).__name__.removesuffix("Spec").lower()


class Outbox(CodeSource):
    spec: OutboxSpec

    def __init__(self, spec: OutboxSpec, portal_url: str | None):
        super().__init__(spec)
        if spec.url:
            self.url = spec.url
        elif portal_url:
            parts = urlsplit(portal_url)
            self.url = f"{parts.scheme}://{parts.netloc}/_sandbox/outbox"
        else:
            raise ConfigError("an outbox code source needs a `url` (the flow has no portal)")

    def messages(self) -> list[Message]:
        params = {"to": self.spec.to} if self.spec.to else None
        try:
            r = httpx.get(self.url, params=params, timeout=10)
            r.raise_for_status()
            items = r.json()["messages"]
        except (httpx.HTTPError, ValueError, KeyError) as e:
            log.warning("outbox %s could not be read: %s", self.url, type(e).__name__)
            return []
        return [Message(str(m["id"]), _instant(m.get("at")), str(m.get("body") or m.get("code") or ""))
                for m in items]  # fmt: skip

    def describe(self) -> str:
        return f"outbox {self.url}"


class Maildir(CodeSource):
    spec: MaildirSpec

    def messages(self) -> list[Message]:
        root = Path(self.spec.path)
        if not (root / "new").is_dir() and not (root / "cur").is_dir():
            raise ConfigError(f"{root} is not a Maildir (no new/ or cur/ folder)")
        found = []
        for folder in ("new", "cur"):
            for f in sorted((root / folder).glob("*")) if (root / folder).is_dir() else []:
                try:
                    msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
                except OSError:
                    continue  # delivered and moved away meanwhile
                found.append(_from_email(f.name.split(":")[0], msg, fallback=f.stat().st_mtime))
        return sorted(found, key=lambda m: m.at or datetime.min.replace(tzinfo=UTC))

    def describe(self) -> str:
        return f"maildir {self.spec.path}"


class Imap(CodeSource):
    spec: ImapSpec

    def messages(self) -> list[Message]:
        s = self.spec
        cls = imaplib.IMAP4_SSL if s.ssl else imaplib.IMAP4
        try:
            with cls(s.host, s.port) as box:
                box.login(s.username, s.password)
                box.select(s.folder, readonly=True)
                _, data = box.uid("search", "ALL")
                uids = data[0].split()[-20:]  # the latest few are enough
                out = []
                for uid in uids:
                    _, parts = box.uid("fetch", uid, "(RFC822)")
                    raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                    if raw:
                        msg = email.message_from_bytes(raw, policy=email.policy.default)
                        out.append(_from_email(uid.decode(), msg, fallback=None))
                return out
        except (OSError, imaplib.IMAP4.error) as e:
            # The message names the server, never the password.
            log.warning("IMAP %s:%s could not be read: %s", s.host, s.port, type(e).__name__)
            return []

    def describe(self) -> str:
        return f"imap {self.spec.host}:{self.spec.port}/{self.spec.folder}"


class File(CodeSource):
    spec: FileSpec

    def messages(self) -> list[Message]:
        f = Path(self.spec.path)
        try:
            st = f.stat()
            text = f.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [Message(f"{st.st_mtime_ns}", datetime.fromtimestamp(st.st_mtime, UTC), text)]

    def describe(self) -> str:
        return f"file {self.spec.path}"


class Command(CodeSource):
    spec: CommandSpec

    def messages(self) -> list[Message]:
        argv = shlex.split(self.spec.command)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ConfigError(f"the code command {argv[0]!r} failed: {type(e).__name__}") from None
        if done.returncode != 0 or not done.stdout.strip():
            return []
        text = done.stdout.strip()
        # A command cannot date its answer: it counts as new when its text differs from what was seen before.
        return [Message(f"cmd:{text}", None, text)]

    def describe(self) -> str:
        return f"command {shlex.split(self.spec.command)[0]}"


def open_source(spec: _Spec, portal_url: str | None = None) -> CodeSource:
    if isinstance(spec, OutboxSpec):
        return Outbox(spec, portal_url)
    kinds: dict[type, Callable[[_Spec], CodeSource]] = {MaildirSpec: Maildir, ImapSpec: Imap, FileSpec: File,
                                                        CommandSpec: Command}  # fmt: skip
    return kinds[type(spec)](spec)


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _from_email(mid: str, msg: email.message.EmailMessage, fallback: float | None) -> Message:
    at = None
    if msg["Date"]:
        try:
            at = email.utils.parsedate_to_datetime(str(msg["Date"]))
        except (TypeError, ValueError):
            at = None
    if at is None and fallback is not None:
        at = datetime.fromtimestamp(fallback, UTC)
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    to = str(msg["To"] or "")
    return Message(mid, at, f"To: {to}\nSubject: {msg['Subject'] or ''}\n\n{text}")


# Codes already typed by this process, per source: a code is never used twice (C4: one-use codes).
_used: set[tuple[str, str]] = set()
_used_lock = threading.Lock()


def _fingerprint(source: CodeSource, message: Message) -> tuple[str, str]:
    # Ids alone are not enough: a mailbox or outbox that was emptied may hand out the same id again.
    at = message.at.isoformat() if message.at else ""
    return source.describe(), f"{message.id}|{at}|{hashlib.sha256(message.text.encode()).hexdigest()}"


def _seen_before(source: CodeSource, message: Message) -> bool:
    with _used_lock:
        return _fingerprint(source, message) in _used


def mark_used(source: CodeSource, message: Message) -> None:
    with _used_lock:
        _used.add(_fingerprint(source, message))


def wait_for_code(source: CodeSource, *, since: datetime, timeout: float, resend: Callable[[], None] | None = None,
                  resend_after: float = 30.0, skew: float = 5.0) -> tuple[str, Message]:
    """The code of the newest message sent after `since` (minus `skew` seconds of clock difference) that
    was not used before. Calls `resend` once when nothing came within `resend_after` seconds."""
    pattern = re.compile(source.spec.pattern)
    to = (source.spec.to or "").lower()
    started = time.monotonic()
    deadline = started + timeout
    resent = False
    floor = since.timestamp() - skew
    while True:
        for message in reversed(source.messages()):
            if message.at is not None and message.at.timestamp() < floor:
                continue
            if _seen_before(source, message):
                continue
            if to and isinstance(source, Maildir | Imap) and to not in message.text.lower():
                continue
            match = pattern.search(message.text)
            if match:
                return (match.group(1) if match.groups() else match.group(0)), message
        now = time.monotonic()
        if now > deadline:
            raise StepTimeout(f"no new code arrived from {source.describe()} within {timeout:g} s")
        if resend is not None and not resent and now - started > resend_after:
            resent = True
            log.info("no code from %s after %.0f s: asking the portal to send a new one", source.describe(),
                     resend_after)  # fmt: skip
            resend()
        time.sleep(0.25)  # back-off: polling interval while waiting for a message
