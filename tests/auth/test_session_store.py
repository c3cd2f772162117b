"""The session store (no browser): encrypted sessions, sign-in leases between workers, login blocks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from robots.auth.sessions import SessionStore
from robots.errors import TechnicalError
from robots.records import SqlStore
from robots.records.schema import BlockRow

COOKIES = [{"name": "sera_session", "value": "s3cr3t-cookie-value", "domain": "127.0.0.1", "path": "/"}]


@pytest.fixture
def stores(tmp_path):
    runs = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    key = Fernet.generate_key()
    yield SessionStore(runs.engine, key), runs, tmp_path / "robots.db", key
    runs.close()


def test_sessions_are_encrypted_at_rest_and_come_back(stores):
    store, _, db, key = stores
    k = store.key("sera", "http://127.0.0.1:8000/", "demo")
    assert k.startswith("sera|http://127.0.0.1:8000|") and "demo" not in k
    assert k == store.key("sera", "http://127.0.0.1:8000", "demo") != store.key("sera", "http://127.0.0.1:8000", "dina")
    store.save(k, COOKIES)
    assert b"s3cr3t-cookie-value" not in db.read_bytes()
    assert store.load(k).cookies == COOKIES
    store.save(k, [{**COOKIES[0], "value": "rotated"}])  # the newest replaces the old
    assert store.load(k).cookies[0]["value"] == "rotated"
    assert store.load("sera|elsewhere|demo") is None
    assert store.forget(k) == 1 and store.load(k) is None


def test_local_storage_is_kept_with_the_cookies_and_a_cookie_rotation_leaves_it(stores):
    store, runs, db, _ = stores
    k = store.key("sera", "http://127.0.0.1:8000", "demo")
    store.save(k, COOKIES, {"sera.apiToken": "t0k3n-in-local-storage"})
    assert b"t0k3n-in-local-storage" not in db.read_bytes()
    store.save(k, [{**COOKIES[0], "value": "rotated"}])  # a refresh: new cookies, the same local storage
    saved = store.load(k)
    assert (saved.cookies[0]["value"], saved.local_storage) == ("rotated", {"sera.apiToken": "t0k3n-in-local-storage"})
    store.save(k, COOKIES, {})  # a new sign-in that left nothing there
    assert store.load(k).local_storage == {}


def test_a_session_stored_as_cookies_alone_still_loads(stores):
    """Sessions stored before local storage was kept: the encrypted payload is the list of cookies."""
    import json

    from cryptography.fernet import Fernet as F

    from robots.records.schema import SessionRow

    store, runs, _, key = stores
    k = store.key("sera", "http://127.0.0.1:8000", "demo")
    store.save(k, COOKIES)
    old_format = F(key).encrypt(json.dumps(COOKIES).encode()).decode()
    with runs.engine.begin() as c:
        c.execute(update(SessionRow).where(SessionRow.key == k).values(data=old_format))
    saved = store.load(k)
    assert (saved.cookies, saved.local_storage) == (COOKIES, {})


def test_a_session_saved_under_another_key_is_ignored_not_an_error(stores):
    store, runs, _, _ = stores
    store.save("k", COOKIES)
    other = SessionStore(runs.engine, Fernet.generate_key())
    assert other.load("k") is None


def test_the_lease_serializes_sign_ins_between_workers(stores):
    store, _, _, _ = stores
    order: list[str] = []

    def worker(name: str) -> None:
        with store.lease("acct", name, wait=10):
            order.append(f"{name} in")
            time.sleep(0.3)  # holding the lease while "signing in"
            order.append(f"{name} out")

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


def test_a_held_lease_makes_others_give_up_after_their_wait(stores):
    store, _, _, _ = stores
    with store.lease("acct", "first"), pytest.raises(TechnicalError) as e:
        with store.lease("acct", "second", wait=0.3):
            pass
    assert str(e.value) == "another worker held the sign-in lease for 0.3 s; gave up waiting"
    with store.lease("acct", "second", wait=0.3):  # released: free again
        pass


def test_an_expired_lease_of_a_dead_worker_is_taken_over(stores):
    store, _, _, _ = stores
    assert store._try_lease("acct", "dead", ttl=0.01)
    time.sleep(0.05)
    with store.lease("acct", "alive", wait=0.5):
        pass


def test_a_blocked_password_stays_blocked_for_the_window_only_and_only_that_password(stores):
    store, runs, db, _ = stores
    store.block("acct", "wrong password", "login rejected: Invalid username or password.")
    assert b"wrong password" not in db.read_bytes()
    block = store.blocked("acct", "wrong password", window=3600)
    assert block is not None and block.message == "login rejected: Invalid username or password."
    assert store.blocked("acct", "a new password", window=3600) is None
    with runs.engine.begin() as c:
        c.execute(update(BlockRow).values(blocked_at=datetime.now(UTC) - timedelta(hours=2)))
    assert store.blocked("acct", "wrong password", window=3600) is None
    assert store.unblock() == 1
