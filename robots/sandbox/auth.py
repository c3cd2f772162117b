"""Sign-in state of the sandbox: sessions, pending MFA, one-use TOTP codes, throttles and lockout.

Behaves like a real portal (DOMAIN.md, "How real logins behave"): a TOTP code is accepted once, failed codes
add a growing delay during which even a correct code fails, too many failures end the attempt, and repeated
wrong passwords lock the account for a while. Every time is read from the sandbox clock, so tests advance it
instead of waiting. All state is in memory and `clear()` (the sandbox reset) forgets it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

import pyotp

from .accounts import USERS, User
from .clock import SandboxClock


class Outcome(Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    EXHAUSTED = "exhausted"  # too many wrong codes: the pending sign-in is over


@dataclass
class Session:
    username: str
    last_seen: datetime


@dataclass
class PendingLogin:
    username: str
    started: datetime
    next_path: str | None
    failures: int = 0
    last_failure: datetime | None = None


@dataclass
class _PasswordFailures:
    count: int = 0
    locked_until: datetime | None = None


@dataclass
class AuthPolicy:
    idle_timeout: timedelta = timedelta(minutes=30)
    pending_ttl: timedelta = timedelta(minutes=10)
    max_code_failures: int = 5
    # After the n-th wrong code, any code is refused for 2**(n-1) seconds (capped): a robot that retries
    # at once fails again, one that waits for the next 30 s window succeeds.
    max_code_delay: timedelta = timedelta(seconds=30)
    lockout_after: int = 10
    lockout_for: timedelta = timedelta(minutes=15)


@dataclass
class AuthState:
    clock: SandboxClock
    users: dict[str, User] = field(default_factory=lambda: dict(USERS))
    policy: AuthPolicy = field(default_factory=AuthPolicy)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._pending: dict[str, PendingLogin] = {}
        self._used_steps: set[tuple[str, int]] = set()
        self._password_failures: dict[str, _PasswordFailures] = {}

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()
            self._pending.clear()
            self._used_steps.clear()
            self._password_failures.clear()

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

    def start_pending(self, user: User, next_path: str | None) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._pending[token] = PendingLogin(user.username, self.clock.now(), next_path)
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
            step = self._matching_step(user, code, now)
            if step is not None and not self._throttled(pending, now) and (user.username, step) not in self._used_steps:
                self._used_steps.add((user.username, step))
                del self._pending[token]
                session_token = secrets.token_urlsafe(32)
                self._sessions[session_token] = Session(user.username, now)
                return Outcome.OK, session_token, pending.next_path
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

    # -- sessions ------------------------------------------------------------------------------------

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie value, touched; None when missing, unknown or idle too long."""
        if not token:
            return None
        now = self.clock.now()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen > self.policy.idle_timeout:
                del self._sessions[token]
                return None
            session.last_seen = max(session.last_seen, now)
            return session

    def end_session(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token, None)
