"""Portal sessions within a run: signing in through a flow that declares `session:` (restoring the account's
stored session when the portal still knows it), noticing that the portal ended the session, signing in again
once and resuming the step, and keeping the session's newest cookies at the end."""

from __future__ import annotations

import functools
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from robots.errors import CredentialsRejected, RobotsError, TechnicalError
from robots.flow.model import Flow, StepCall
from robots.flow.vars import resolve_vars
from robots.records.model import StepRecord
from robots.run.state import RunState, Session, render, session_call
from robots.steps import REGISTRY

if TYPE_CHECKING:
    from robots.browser.page import Browser

log = logging.getLogger("robots.engine")


class SessionLost(TechnicalError):
    """The portal ended the session during a step and it could not be resumed."""


def browser_of(st: RunState) -> Browser:
    """The run's browser, started on first use."""
    if st.browser is None:
        st.browser = st.browser_factory()
        st.browser_info = st.browser.versions
        # A step waiting for an element notices at once that the portal sent the browser to its sign-in page.
        st.browser.page_check = functools.partial(check_session, st)
    return st.browser


def run_sub(st: RunState, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """Run a called flow's steps in this run, with its own vars, step outputs, outputs and selectors."""
    saved = (st.flow, st.vars, st.step_outputs, st.outputs, st.loop, st.prefix)
    st.flow, st.vars, st.step_outputs, st.outputs, st.loop = sub, resolve_vars(sub, given), {}, {}, {}
    st.prefix = f"{st.prefix}{sub.name}: "
    try:
        for child in sub.steps:
            st.execute(child, st)
        return st.outputs
    finally:
        st.flow, st.vars, st.step_outputs, st.outputs, st.loop, st.prefix = saved


def call_flow(st: RunState, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """A `call` of `sub`: a sign-in flow (one that declares `session:`) signs in once per run and account, with
    the stored session when there is a store; any other flow just runs."""
    if sub.session is None or st.portal is None or st.portal.session is None:
        return run_sub(st, sub, given)
    if not st.portal.sandbox and st.session_store() is not None:  # (the embedded sandbox dies with the run)
        return sign_in(st, sub, given)
    # No session store (--fresh-login, no SQL store, the embedded sandbox): a sign-in this run already made
    # with the same vars (a loop of writes that each call sign_in.yaml) holds; the portal would answer its
    # login page with the signed-in app.
    signed = (str(sub.path), repr(sorted(given.items())))
    if signed in st.signed_in:
        return {}
    outputs = sign_in_afresh(st, sub, given)
    st.signed_in.add(signed)
    return outputs


def _account(st: RunState, sub: Flow, given: dict[str, Any]) -> tuple[str, str | None]:
    """The account and password of `sub`'s `session:`, rendered with the called flow's vars."""
    assert sub.session is not None
    spec = sub.session
    saved_vars = st.vars
    st.vars = resolve_vars(sub, given)
    try:
        account = str(render(spec.account, st, session_call(sub)))
        password = render(spec.password, st, session_call(sub)) if spec.password else None
    finally:
        st.vars = saved_vars
    return account, str(password) if password is not None else None


def sign_in(st: RunState, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """A `call` of a sign-in flow (one that declares `session:`): reuse the stored session of the account
    when the portal still knows it, else run the flow and store the session it leaves. Workers on one
    account take turns (a lease) and reuse each other's session; a rejected password is not tried again
    within the portal's lockout window."""

    assert st.portal is not None and st.portal.session is not None and sub.session is not None
    profile, store = st.portal.session, st.session_store()
    account, password = _account(st, sub, given)
    key = store.key(st.portal.name, st.portal.url, account)
    st.session = Session(key, sub, dict(given), password, relogins=st.session.relogins if st.session else 0)

    def refuse_a_blocked_password() -> None:
        block = store.blocked(key, password, profile.lockout_window) if password is not None else None
        if block is not None:
            raise CredentialsRejected(
                f"not signing in: the portal rejected this password at "
                f"{block.blocked_at:%Y-%m-%d %H:%M:%S} UTC ({block.message}); robots will not try it "
                f"again for {profile.lockout_window / 60:g} minutes. Set the right password "
                f"(robots secrets set) or clear the block: robots sessions clear")

    refuse_a_blocked_password()  # before a Chrome is started for nothing
    # The browser (its slot in the pool) before the account's lease: every run takes them in that order, so a
    # run holding the lease never waits for a slot that a run waiting for the lease holds.
    browser_of(st)
    with store.lease(key, st.run_id):
        refuse_a_blocked_password()  # (another worker may have been refused while this one waited)
        restored = _restore(st, store, key)
        if restored is not None:
            st.session.cookies = restored
            st.listener.progress(st.pages, st.rows)
            return {}
        st.in_login = True
        try:
            outputs = run_sub(st, sub, given)
        except CredentialsRejected as e:
            if password is not None:
                store.block(key, password, str(e))
            raise
        finally:
            st.in_login = False
        cookies = st.browser.cookies() if st.browser is not None else []
        store.save(key, cookies, _portal_storage(st))
        st.session.cookies = cookies
        return outputs


def sign_in_afresh(st: RunState, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """A `call` of a sign-in flow without a session store: run the flow, nothing restored or stored. The run
    still keeps the session it signed in with, so that losing it mid-run is noticed and signed in again like
    a stored one (--fresh-login skips only the stored session)."""
    st.session = Session("", sub, dict(given), None, relogins=st.session.relogins if st.session else 0)
    st.in_login = True
    try:
        return run_sub(st, sub, given)
    finally:
        st.in_login = False


def check_session(st: RunState) -> None:
    """Called by the browser while a step waits for an element: when the portal has sent the browser to its
    sign-in page (the portal profile's `login_path`) outside a sign-in, the session is gone and no element
    of the step will show up: SessionLost now (the signed-in top-level step signs in again, or ends the run
    with it), not the element's timeout later."""
    if st.in_login or not session_lost(st):
        return
    assert st.browser is not None
    raise SessionLost(f"the portal ended the session: the browser was sent to its sign-in page "
                      f"({urlsplit(st.browser.url).path})")


def _portal_storage(st: RunState) -> dict[str, str] | None:
    """The portal's local-storage entries that its profile keeps with the session, read from the page the
    browser is on (None: not on the portal's origin, so nothing to read; the stored entries stay)."""
    assert st.portal is not None and st.portal.session is not None
    keys = st.portal.session.local_storage
    if not keys:
        return {}
    if st.browser is None or urlsplit(st.browser.url).netloc != urlsplit(st.portal.url).netloc:
        return None
    return st.browser.local_storage(keys)


def _restore(st: RunState, store: Any, key: str) -> list[dict[str, Any]] | None:
    """Put the account's stored session into the browser if the portal still knows it; its cookies."""
    from robots.auth import sessions as sess

    assert st.portal is not None and st.portal.session is not None
    profile = st.portal.session
    saved = store.load(key)
    if saved is None:
        return None
    cookies = saved.cookies
    if st.session is not None and st.session.relogins and cookies == st.session.cookies:
        store.forget(key)  # the session that just ended: no use trying it
        return None
    browser = browser_of(st)
    t0 = time.perf_counter()
    if profile.refresh and (datetime.now(UTC) - saved.saved_at).total_seconds() > profile.refresh_after:
        renewed = sess.refresh(st.portal.url, profile.refresh, cookies)
        if renewed is None:
            store.forget(key)
            return None
        cookies = renewed
        store.save(key, cookies)  # the newest cookies: the old values stopped working
    elif not sess.probe(st.portal.url, profile.probe, profile.login_path, cookies):
        store.forget(key)
        return None
    browser.set_cookies(cookies, st.portal.url)
    if saved.local_storage:
        browser.restore_local_storage(st.portal.url, saved.local_storage)
    rec = StepRecord(index=st.next_index(), name=f"{st.prefix}session restored", status="passed",
                     started_at=datetime.now(UTC), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                     output_summary=f"reused the stored session (saved {saved.saved_at:%Y-%m-%d %H:%M:%S} UTC)")
    st.steps.append(rec)
    st.listener.step_finished(rec)
    log.info("restored the stored portal session (no sign-in needed)")
    return cookies


def session_lost(st: RunState) -> bool:
    """Whether the browser was sent to the portal's sign-in page (the session ended)."""
    if st.session is None or st.browser is None or st.portal is None or st.portal.session is None:
        return False
    path = urlsplit(st.browser.url).path.rstrip("/")
    return path.endswith(st.portal.session.login_path.rstrip("/"))


def resume(st: RunState, call: StepCall, start_url: str, error: BaseException | None, writes: list[str]) -> None:
    """The session ended during `call`: sign in again (once per run) and go back to where the step began.
    `writes`: the write steps not marked idempotent that began inside `call` (a block) before the end."""
    assert st.session is not None
    what = f"{call.where}.{call.kind}"
    sdef = REGISTRY[call.kind]
    if st.session.relogins >= 1:
        raise SessionLost(f"the portal ended the session again during {what}; a run signs in again only once")
    if sdef.unrepeatable(call.args):
        raise SessionLost(f"the portal ended the session during write step {what}; it was not repeated "
                          f"because it is not marked `idempotent: true` (check in the portal whether it "
                          f"went through)")
    if writes and not call.args.idempotent:
        raise SessionLost(f"the portal ended the session during {what}, after its write step {writes[-1]} had "
                          f"begun; the block was not repeated because it is not marked `idempotent: true` "
                          f"(mark it so when its steps check whether the write went through before repeating "
                          f"it; check in the portal whether it did)")
    log.warning("%s: the portal ended the session%s; signing in again and resuming the step", what,
                f" ({type(error).__name__})" if error else "")
    st.session.relogins += 1
    session = st.session
    saved_prefix, st.prefix = st.prefix, "re-login: "
    try:
        if session.key:  # a stored session (robots.auth.sessions)
            sign_in(st, session.flow, session.given)
        else:
            sign_in_afresh(st, session.flow, session.given)
    finally:
        st.prefix = saved_prefix
    if not sdef.reopens and st.browser is not None and start_url:
        st.browser.open(start_url)


def keep_newest_cookies(st: RunState) -> None:
    """At the end of a run, store the session's cookies as they are now (the portal may have rotated them)."""
    if st.session is None or st.session.cookies is None or st.browser is None:
        return
    store = st.session_store()
    if store is None:
        return
    try:
        if session_lost(st):
            return
        cookies = st.browser.cookies()
        if cookies and cookies != st.session.cookies:
            store.save(st.session.key, cookies, _portal_storage(st))
    except RobotsError as e:
        log.warning("could not keep the session's newest cookies: %s", type(e).__name__)


__all__ = ["SessionLost", "browser_of", "call_flow", "check_session", "keep_newest_cookies", "resume", "run_sub",
           "session_lost", "sign_in", "sign_in_afresh"]
