"""The session store: portal sessions (cookies) kept encrypted per portal and account, so that later runs
restore them instead of signing in again; sign-in leases, so that workers sharing an account sign in one at
a time and reuse each other's session; and login blocks, so that a password the portal rejected is not tried
again automatically (lockout safety).

Rows live in the run-record database (`ROBOTS_DATABASE_URL`); cookie values are Fernet-encrypted with the
vault key (C4) and never logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from robots.browser.http import PortalHttp
from robots.errors import ConfigError, TechnicalError
from robots.records.schema import BlockRow, LeaseRow, SessionRow

log = logging.getLogger("robots.auth.sessions")


@dataclass(frozen=True)
class Saved:
    cookies: list[dict[str, Any]]
    saved_at: datetime
    #: the portal's local-storage entries kept with the session (its profile's `local_storage` keys)
    local_storage: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Block:
    blocked_at: datetime
    message: str




def _now() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    """Sessions, leases and login blocks in SQL. `key` names a portal and an account (`key()`)."""

    def __init__(self, engine: Engine, key: bytes):
        from cryptography.fernet import Fernet

        self._engine = engine
        self._writer = engine.execution_options(robots_write=True)  # SQLite: BEGIN IMMEDIATE (see SqlStore)
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise ConfigError("the vault key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from None
        self._mac_key = hashlib.sha256(b"robots login block|" + key).digest()

    @classmethod
    def beside(cls, run_store: Any, home: Any = None) -> SessionStore | None:
        """The session store in the same database as a run store (None for a store without SQL)."""
        engine = getattr(run_store, "engine", None)
        if engine is None:
            return None
        from robots.auth.vault import Vault

        key = Vault.default(home).key(create=True)
        assert key is not None
        return cls(engine, key)

    def key(self, portal_name: str, portal_url: str, account: str) -> str:
        """The row key of an account's session: the account itself is stored only as a keyed hash (an
        account name may be one of the run's secrets)."""
        digest = hmac.new(self._mac_key, b"account|" + account.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{portal_name}|{portal_url.rstrip('/')}|{digest}"

    # ----- sessions
    def load(self, key: str) -> Saved | None:
        from cryptography.fernet import InvalidToken

        with self._engine.connect() as c:
            row = c.execute(select(SessionRow.data, SessionRow.saved_at).where(SessionRow.key == key)).first()
        if row is None:
            return None
        try:
            data = json.loads(self._fernet.decrypt(row.data.encode()))
        except InvalidToken:
            log.warning("a stored session could not be decrypted with the current vault key; signing in again")
            return None
        if isinstance(data, list):  # saved before local storage was kept: the cookies alone
            return Saved(data, row.saved_at)
        return Saved(data["cookies"], row.saved_at, data.get("local_storage") or {})

    def save(self, key: str, cookies: list[dict[str, Any]], local_storage: dict[str, str] | None = None) -> None:
        """Store the session (encrypted); `local_storage` None keeps the entries stored before (a cookie
        rotation does not touch them)."""
        if local_storage is None:
            before = self.load(key)
            local_storage = before.local_storage if before is not None else {}
        payload = {"cookies": cookies, "local_storage": local_storage}
        data = self._fernet.encrypt(json.dumps(payload).encode()).decode()
        now = _now()
        with self._writer.begin() as c:
            done = c.execute(update(SessionRow).where(SessionRow.key == key).values(data=data, saved_at=now))
            if not done.rowcount:
                c.execute(insert(SessionRow).values(key=key, data=data, saved_at=now))

    def forget(self, key: str | None = None) -> int:
        with self._writer.begin() as c:
            query = delete(SessionRow) if key is None else delete(SessionRow).where(SessionRow.key == key)
            return int(c.execute(query).rowcount or 0)

    def keys(self) -> list[tuple[str, datetime]]:
        with self._engine.connect() as c:
            return [(r.key, r.saved_at) for r in c.execute(select(SessionRow.key, SessionRow.saved_at)
                                                           .order_by(SessionRow.key))]

    # ----- leases
    def _try_lease(self, key: str, holder: str, ttl: float) -> bool:
        now = _now()
        until = now + timedelta(seconds=ttl)
        with self._writer.begin() as c:
            taken = c.execute(update(LeaseRow).where(LeaseRow.key == key)
                              .where((LeaseRow.expires_at <= now) | (LeaseRow.holder == holder))
                              .values(holder=holder, expires_at=until))  # fmt: skip
            if taken.rowcount:
                return True
            if c.execute(select(LeaseRow.key).where(LeaseRow.key == key)).first() is not None:
                return False
            try:
                with c.begin_nested():
                    c.execute(insert(LeaseRow).values(key=key, holder=holder, expires_at=until))
            except IntegrityError:  # another worker inserted it first
                return False
            return True

    @contextlib.contextmanager
    def lease(self, key: str, holder: str, *, ttl: float = 180.0, wait: float = 300.0) -> Iterator[None]:
        """Hold the sign-in lease of `key` for the block: other holders wait (up to `wait` seconds). A lease
        whose holder died expires after `ttl` seconds."""
        deadline = time.monotonic() + wait
        waited = False
        while not self._try_lease(key, holder, ttl):
            if not waited:
                log.info("another worker is signing in to the same account; waiting for its session")
                waited = True
            if time.monotonic() > deadline:
                raise TechnicalError(f"another worker held the sign-in lease for {wait:g} s; gave up waiting")
            time.sleep(0.2)  # back-off: polling the lease row
        try:
            yield
        finally:
            with self._writer.begin() as c:
                c.execute(delete(LeaseRow).where(LeaseRow.key == key).where(LeaseRow.holder == holder))

    # ----- login blocks (lockout safety)
    def _mac(self, password: str) -> str:
        return hmac.new(self._mac_key, password.encode(), hashlib.sha256).hexdigest()

    def blocked(self, key: str, password: str, window: float) -> Block | None:
        """The block on this password of this account, if the portal rejected it less than `window` ago."""
        with self._engine.connect() as c:
            row = c.execute(select(BlockRow).where(BlockRow.key == key)).first()
        if row is None or not hmac.compare_digest(row.password_mac, self._mac(password)):
            return None
        if _now() - row.blocked_at > timedelta(seconds=window):
            return None
        return Block(row.blocked_at, row.message)

    def block(self, key: str, password: str, message: str) -> None:
        values = {"password_mac": self._mac(password), "blocked_at": _now(), "message": message}
        with self._writer.begin() as c:
            if not c.execute(update(BlockRow).where(BlockRow.key == key).values(**values)).rowcount:
                c.execute(insert(BlockRow).values(key=key, **values))

    def unblock(self, key: str | None = None) -> int:
        with self._writer.begin() as c:
            query = delete(BlockRow) if key is None else delete(BlockRow).where(BlockRow.key == key)
            return int(c.execute(query).rowcount or 0)


# ----------------------------------------------------------------------------------------------- HTTP side
def probe(portal_url: str, path: str, login_path: str, cookies: list[dict[str, Any]], timeout: float = 10.0) -> bool:
    """Whether the portal still knows this session: its probe page answers without sending us to sign in."""
    try:
        with PortalHttp.from_stored(cookies, timeout=timeout) as http:
            r = http.get(portal_url.rstrip("/") + path)
    except httpx.HTTPError as e:
        log.warning("the session probe of %s failed: %s", portal_url, type(e).__name__)
        return False
    if r.status_code in (401, 403) or r.status_code >= 500:
        return False
    return not (r.is_redirect and login_path in r.headers.get("location", ""))


def refresh(portal_url: str, path: str, cookies: list[dict[str, Any]], timeout: float = 10.0) -> list[dict] | None:
    """Renew the session (POST `path`); the cookies with the rotated values, or None when it is over."""
    try:
        with PortalHttp.from_stored(cookies, timeout=timeout) as http:
            r = http.post(portal_url.rstrip("/") + path)
    except httpx.HTTPError as e:
        log.warning("the session refresh at %s failed: %s", portal_url, type(e).__name__)
        return None
    if r.status_code >= 300:
        return None
    fresh = {c.name: c.value for c in r.cookies.jar}
    return [{**c, "value": fresh.get(c["name"], c["value"])} for c in cookies]
