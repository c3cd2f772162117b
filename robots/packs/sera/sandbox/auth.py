"""Sign-in state of one sandbox tenant: sessions, pending MFA, codes, trusted devices, throttles and lockout.

Behaves like a real portal (docs/DOMAIN.md, "How real logins behave"): a TOTP code is accepted once; SMS and
e-mail codes expire, a new one invalidates the previous, and a resend inside the cooldown silently sends
nothing (the old code stays valid); failed codes add a growing delay during which even a correct code fails;
too many failures end the attempt; repeated wrong passwords lock the account for a while. Sessions end when
idle too long, when older than their absolute lifetime, or when revoked. Every time is read from the sandbox
clock, so tests advance it instead of waiting. All state is in memory and `clear()` (the reset) forgets it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import pyotp

from .accounts import USERS, User
from .clock import SandboxClock, format_instant


class Outcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"  # an SMS or e-mail code past its lifetime
    LOCKED = "locked"
    EXHAUSTED = "exhausted"  # too many wrong codes: the pending sign-in is over


@dataclass
class Session:
    username: str
    last_seen: datetime
    created: datetime = field(default_factory=lambda: datetime.min)
    #: the bearer token the portal's own scripts send to its JSON API (policy `api_token`); the first page
    #: after the sign-in stores it in the browser's local storage, as single-page apps do
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    api_token_delivered: bool = False


@dataclass
class PendingLogin:
    username: str
    started: datetime
    next_path: str | None
    failures: int = 0
    last_failure: datetime | None = None
    code: str | None = None  # the live SMS or e-mail code
    code_sent: datetime | None = None
    resends: int = 0


@dataclass
class _PasswordFailures:
    count: int = 0
    locked_until: datetime | None = None


@dataclass
class AuthPolicy:
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_lifetime: timedelta = timedelta(hours=12)
    pending_ttl: timedelta = timedelta(minutes=10)
    max_code_failures: int = 5
    # After the n-th wrong code, any code is refused for 2**(n-1) seconds (capped): a robot that retries
    # at once fails again, one that waits for the next 30 s window succeeds.
    max_code_delay: timedelta = timedelta(seconds=30)
    lockout_after: int = 10
    lockout_for: timedelta = timedelta(minutes=15)
    code_ttl: timedelta = timedelta(minutes=5)  # SMS and e-mail codes
    resend_cooldown: timedelta = timedelta(seconds=60)
    device_ttl: timedelta = timedelta(days=30)  # "remember this device"
    # One session per user, like portals that sign you out elsewhere when you sign in: a new sign-in
    # ends the user's other sessions (workers sharing an account must share one session).
    single_session: bool = False
    # The portal's scripts call its JSON API (/api/dispatch) with a bearer token kept in local storage, given
    # to the browser once, on the first page after the sign-in: a session restored from cookies alone is sent
    # back to the login page by the schedule board.
    api_token: bool = False


class Outbox:
    """SMS and e-mail messages the portal "sent", shared by all tenants, readable over /_sandbox/outbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []

    def send(self, *, tenant: str, channel: str, to: str, subject: str, body: str, code: str, at: datetime) -> None:
        with self._lock:
            message = {"id": len(self._messages) + 1, "tenant": tenant, "channel": channel, "to": to,
                       "subject": subject, "body": body, "code": code, "at": format_instant(at)}  # fmt: skip
            self._messages.append(message)

    def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages if to is None or m["to"].lower() == to.lower()]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()


@dataclass
class AuthState:
    clock: SandboxClock
    users: dict[str, User] = field(default_factory=lambda: dict(USERS))
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    outbox: Outbox = field(default_factory=Outbox)
    tenant: str = "acme"

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seed_users = dict(self.users)
        self._seed_policy = replace(self.policy)
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, PendingLogin] = {}
        self._used_steps: set[tuple[str, int]] = set()
        self._password_failures: dict[str, _PasswordFailures] = {}
        self._devices: dict[str, tuple[str, datetime]] = {}

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._pending.clear()
            self._used_steps.clear()
            self._password_failures.clear()
            self._devices.clear()
            self.users = dict(self._seed_users)  # changed passwords revert
            self.policy = replace(self._seed_policy)

    # -- password step -------------------------------------------------------------------------------

    def check_password(self, username: str, password: str) -> tuple[Outcome, User | None]:
        now = self.clock.now()
        user = self.users.get(username)
        with self._lock:
            failures = self._password_failures.get(username)
            if failures and failures.locked_until and now < failures.locked_until:
                return Outcome.LOCKED, None
            if user and hmac.compare_digest(user.password.encode(), password.encode()):
                self._password_failures.pop(username, None)
                return Outcome.OK, user
            if user:  # only real accounts are tracked, so unknown names cannot grow this table
                failures = self._password_failures.setdefault(username, _PasswordFailures())
                if failures.locked_until and now >= failures.locked_until:
                    failures.count, failures.locked_until = 0, None
                failures.count += 1
                if failures.count >= self.policy.lockout_after:
                    failures.locked_until = now + self.policy.lockout_for
            return Outcome.INVALID, None

    def change_password(self, username: str, new_password: str) -> None:
        with self._lock:
            user = self.users[username]
            self.users[username] = replace(user, password=new_password, password_expired=False)

    def start_pending(self, user: User, next_path: str | None) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            pending = PendingLogin(user.username, self.clock.now(), next_path)
            self._pending[token] = pending
            if user.mfa in ("sms", "email"):
                self._send_code(user, pending)
        return token

    def pending(self, token: str | None) -> PendingLogin | None:
        if not token:
            return None
        with self._lock:
            pending = self._pending.get(token)
            if pending and self.clock.now() - pending.started > self.policy.pending_ttl:
                del self._pending[token]
                return None
            return pending

    # -- SMS and e-mail codes ------------------------------------------------------------------------

    def _send_code(self, user: User, pending: PendingLogin) -> None:
        """Issue a fresh code (the previous one stops working) and put the message in the outbox."""
        now = self.clock.now()
        code = f"{secrets.randbelow(1_000_000):06d}"
        pending.code, pending.code_sent = code, now
        minutes = int(self.policy.code_ttl.total_seconds() // 60)
        if user.mfa == "sms":
            assert user.phone is not None
            body = f"Your Sera verification code is {code}. It expires in {minutes} minutes."
            self.outbox.send(tenant=self.tenant, channel="sms", to=user.phone, subject="", code=code, at=now, body=body)
        else:
            assert user.email is not None
            body = f"Use {code} to finish signing in to Sera. The code expires in {minutes} minutes."
            self.outbox.send(tenant=self.tenant, channel="email", to=user.email, code=code, at=now, body=body,
                             subject="Your Sera verification code")  # fmt: skip

    def resend(self, token: str) -> bool:
        """Send a new code unless inside the cooldown; True when one was sent. Either way the page says the
        same thing, like the real portal, so a robot cannot tell (the old code stays valid)."""
        now = self.clock.now()
        with self._lock:
            pending = self._pending.get(token)
            if pending is None:
                return False
            user = self.users[pending.username]
            if user.mfa not in ("sms", "email"):
                return False
            if pending.code_sent is not None and now - pending.code_sent < self.policy.resend_cooldown:
                return False
            pending.resends += 1
            self._send_code(user, pending)
            return True

    # -- MFA step ------------------------------------------------------------------------------------

    def verify_code(self, token: str, code: str) -> tuple[Outcome, str | None, str | None]:
        """(outcome, new session token, next path) for a code typed on the MFA page."""
        now = self.clock.now()
        code = code.strip().replace(" ", "")
        with self._lock:
            pending = self._pending.get(token)
            if pending is None:
                return Outcome.EXHAUSTED, None, None
            user = self.users[pending.username]
            throttled = self._throttled(pending, now)
            if user.mfa == "totp":
                step = self._matching_step(user, code, now)
                ok = step is not None and not throttled and (user.username, step) not in self._used_steps
                if ok:
                    assert step is not None
                    self._used_steps.add((user.username, step))
            else:
                matches = pending.code is not None and hmac.compare_digest(pending.code, code)
                if matches and not throttled and pending.code_sent and now - pending.code_sent > self.policy.code_ttl:
                    return Outcome.EXPIRED, None, None
                ok = matches and not throttled
            if ok:
                del self._pending[token]
                return Outcome.OK, self._new_session(user.username, now), pending.next_path
            pending.failures += 1
            pending.last_failure = now
            if pending.failures >= self.policy.max_code_failures:
                del self._pending[token]
                return Outcome.EXHAUSTED, None, None
            return Outcome.INVALID, None, None

    def _throttled(self, pending: PendingLogin, now: datetime) -> bool:
        if not pending.failures or pending.last_failure is None:
            return False
        delay = min(timedelta(seconds=2 ** (pending.failures - 1)), self.policy.max_code_delay)
        return now < pending.last_failure + delay

    @staticmethod
    def _matching_step(user: User, code: str, now: datetime) -> int | None:
        """The TOTP time step the code belongs to (current one or a neighbour), or None."""
        if not (len(code) == 6 and code.isdigit()):
            return None
        totp = pyotp.TOTP(user.totp_secret)
        for_time = int(now.timestamp())
        if not totp.verify(code, for_time=for_time, valid_window=1):
            return None
        current = totp.timecode(now)
        for step in (current, current - 1, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None  # pragma: no cover - verify() and at() agree

    # -- trusted devices -----------------------------------------------------------------------------

    def remember_device(self, username: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._devices[token] = (username, self.clock.now() + self.policy.device_ttl)
        return token

    def trusted_device(self, token: str | None, username: str) -> bool:
        if not token:
            return False
        with self._lock:
            entry = self._devices.get(token)
            return entry is not None and entry[0] == username and self.clock.now() < entry[1]

    # -- sessions ------------------------------------------------------------------------------------

    def _new_session(self, username: str, now: datetime) -> str:
        if self.policy.single_session:
            for token in [t for t, s in self._sessions.items() if s.username == username]:
                del self._sessions[token]
        session_token = secrets.token_urlsafe(32)
        self._sessions[session_token] = Session(username, now, now)
        return session_token

    def start_session(self, username: str) -> str:
        """A session without a second factor (MFA kind none, or a remembered device)."""
        with self._lock:
            return self._new_session(username, self.clock.now())

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie value, touched; None when missing, unknown, idle too long, past its
        absolute lifetime or revoked."""
        if not token:
            return None
        now = self.clock.now()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if (
                now - session.last_seen > self.policy.idle_timeout
                or now - session.created > self.policy.absolute_lifetime
            ):
                del self._sessions[token]
                return None
            session.last_seen = max(session.last_seen, now)
            return session

    def session_expiry(self, session: Session) -> dict[str, str]:
        return {"idle_expires_at": format_instant(session.last_seen + self.policy.idle_timeout),
                "expires_at": format_instant(session.created + self.policy.absolute_lifetime)}  # fmt: skip

    def rotate(self, token: str | None) -> str | None:
        """A new token for a live session; the old one stops working at once (cookie rotation)."""
        if self.session(token) is None:
            return None
        assert token is not None
        with self._lock:
            session = self._sessions.pop(token)
            new = secrets.token_urlsafe(32)
            self._sessions[new] = session
            return new

    def revoke(self, username: str | None = None) -> int:
        """End every session (of one user, when given); the number ended."""
        with self._lock:
            doomed = [t for t, s in self._sessions.items() if username is None or s.username == username]
            for token in doomed:
                del self._sessions[token]
            return len(doomed)

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)

    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)
