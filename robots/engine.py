"""The Runner: executes a Flow in one Chrome, times and records every step, saves evidence on failure,
and always ends the browser (also on an exception, SIGINT or SIGTERM)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import secrets as _secrets
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.drivers import Browser, BrowserOptions, start_browser
from robots.browser.locators import Selector
from robots.browser.settings import BrowserOverrides, resolve_options
from robots.errors import (
    BusinessFailure,
    CredentialsRejected,
    InputError,
    Interrupted,
    PortalThrottled,
    RobotsError,
    TechnicalError,
)
from robots.flow import templating
from robots.flow.model import Flow, StepCall, VarSpec
from robots.masking import Masker, shorten
from robots.portals import Portal
from robots.records.model import Evidence, RunRecord, RunStatus, StepRecord, StepStatus
from robots.steps import REGISTRY

log = logging.getLogger("robots.engine")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + _secrets.token_hex(3)


class Listener:
    """Progress callbacks for front ends; the default does nothing."""

    def step_started(self, call: StepCall, index: int) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...
    def progress(self, pages: int, rows: int) -> None: ...
    def paused(self, url: str, error: str) -> None:
        """With pause_on_failure: the run failed and the browser is still open; return to close it."""


@dataclass
class _State:
    flow: Flow
    portal: Portal | None
    vars: dict[str, Any]
    secrets: dict[str, str]
    masker: Masker
    run_id: str
    run_dir: Path
    started_at: datetime
    listener: Listener
    browser_factory: Callable[[], Browser]
    browser: Browser | None = None
    browser_info: dict[str, str] | None = None
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    loop: dict[str, Any] = field(default_factory=dict)
    prefix: str = ""  # "login: " while the steps of a called flow run
    dry_run: bool = False
    guard: Any = None  # robots.control.RunGuard: cancel requests and max_runtime
    counter: int = 0
    pages: int = 0
    rows: int = 0
    #: what sign-in steps tell each other (when the password was submitted, for code sources)
    auth_state: dict[str, Any] = field(default_factory=dict)
    #: the session this run signed in with (a `call` of a flow that declares `session:`)
    session: _Session | None = None
    #: write steps not marked idempotent that began, in order (where.kind): a block they ran in is not repeated
    #: after a mid-flow sign-in unless the block is marked idempotent
    writes_begun: list[str] = field(default_factory=list)
    idempotent_blocks: int = 0  # how many blocks marked `idempotent: true` the running step is inside
    #: sign-in calls made in this run without a session store: (flow path, vars given)
    signed_in: set[tuple[str, str]] = field(default_factory=set)
    depth: int = 0  # nesting of the step running now (0: a top-level step of the run's flow)
    in_login: bool = False
    saved_at: float = 0.0  # time.monotonic() of the last save of the running record

    def context(self) -> dict[str, Any]:
        return {
            "vars": self.vars,
            "secrets": self.secrets,
            "steps": self.step_outputs,
            "portal": self.portal.template_context() if self.portal else {},
            "loop": self.loop,
            "env": {name: os.environ.get(name) for name in self.flow.env},
            "now": datetime.now(UTC),
            "run": {"id": self.run_id, "dir": str(self.run_dir), "started_at": self.started_at.isoformat()},
        }


@dataclass
class _Session:
    """A signed-in session the runner keeps alive for the rest of the run."""

    key: str
    flow: Flow
    given: dict[str, Any]
    password: str | None
    cookies: list[dict[str, Any]] | None = None  # as restored or saved last
    relogins: int = 0


class SessionLost(TechnicalError):
    """The portal ended the session during a step and it could not be resumed."""


class StepContext:
    """What a step function sees: the browser, selectors, templating and the run's counters."""

    def __init__(self, state: _State, runner: Runner, call: StepCall):
        self._state = state
        self._runner = runner
        self.call = call
        self.timeout = call.args.timeout or state.flow.timeouts.step

    @property
    def browser(self) -> Browser:
        if self._state.browser is None:
            self._state.browser = self._state.browser_factory()
            self._state.browser_info = self._state.browser.versions
            # A step waiting for an element notices at once that the portal sent the browser to its sign-in page.
            self._state.browser.page_check = functools.partial(self._runner._check_session, self._state)
        return self._state.browser

    @property
    def run_dir(self) -> Path:
        return self._state.run_dir

    @property
    def portal(self) -> Portal | None:
        return self._state.portal

    @property
    def time_zone(self) -> str:
        return self._state.portal.time_zone if self._state.portal else "UTC"

    def selector(self, ref: str) -> Selector:
        return self._state.flow.catalog.resolve(ref)

    def render(self, value: Any) -> Any:
        return self._runner._render(value, self._state, self.call)

    def shorten(self, text: str, limit: int) -> str:
        """`text` masked (the run's secrets), then cut to `limit` characters (robots.masking.shorten)."""
        return shorten(text, limit, self._state.masker)

    def run_children(self, block: str = "steps") -> None:
        """Run a nested block of steps (`steps`, or another block such as `else`)."""
        for child in self.call.blocks.get(block, ()):
            self._runner._execute(child, self._state)

    def evaluate(self, condition: str) -> Any:
        """A condition (a template) rendered now: its native value."""
        return self._runner._render(condition, self._state, self.call)

    @property
    def auth_state(self) -> dict[str, Any]:
        return self._state.auth_state

    def set_var(self, name: str, value: Any) -> None:
        self._state.vars[name] = value

    @contextlib.contextmanager
    def loop_item(self, item: Any, index: int) -> Iterator[None]:
        """`loop.item` and `loop.index` (1-based) for the steps run inside; restored afterwards."""
        saved = self._state.loop
        self._state.loop = {"item": item, "index": index}
        try:
            yield
        finally:
            self._state.loop = saved

    @property
    def steps_recorded(self) -> int:
        return len(self._state.steps)

    def mark_retried(self, since: int) -> None:
        """Step records made since `since` that failed technically were retried: say so."""
        steps = self._state.steps
        for i in range(since, len(steps)):
            if steps[i].status == "errored":
                steps[i] = steps[i].model_copy(update={"status": "retried"})

    def save_screenshot(self, name: str) -> str | None:
        """A PNG of the page into the run's folder (screenshots/NAME.png). Output: its path in the run folder."""
        png = self.browser.screenshot_png(self._state.masker.values)
        if png is None:
            return None
        folder = self._state.run_dir / "screenshots"
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.png").write_bytes(png)
        return f"screenshots/{name}.png"

    def call_flow(self, target: str, given: dict[str, Any]) -> dict[str, Any]:
        """Run a called flow's steps in this run, with its own vars, step outputs, outputs and selectors."""
        from robots.flow.loader import resolve_call

        st = self._state
        sub = st.flow.subflows[str(resolve_call(st.flow.path, target))]
        if sub.session is not None and st.portal is not None and st.portal.session is not None:
            if not st.portal.sandbox and self._runner.sessions is not None:  # (the embedded sandbox dies with the run)
                return self._runner._sign_in(st, sub, given)
            # No session store (--fresh-login, no SQL store, the embedded sandbox): a sign-in this run already made
            # with the same vars (a loop of writes that each call sign_in.yaml) holds; the portal would answer its
            # login page with the signed-in app.
            signed = (str(sub.path), repr(sorted(given.items())))
            if signed in st.signed_in:
                return {}
            outputs = self._runner._sign_in_afresh(st, sub, given)
            st.signed_in.add(signed)
            return outputs
        return self._runner._run_sub(st, sub, given)

    def backoff(self, what: str) -> Any:
        """A back-off for the portal's 429 answers to one request `what` (robots.throttle.Backoff)."""
        made = self._runner._backoff(self._state, self.call)
        made.what = what
        return made

    def throttle_wait(self, backoff: Any, asked: float | None) -> float:
        """Wait what the portal's 429 asked (bounded; PortalThrottled after its attempts) and record the wait."""
        return self._runner._throttle_wait(self._state, backoff, asked)

    def output_of(self, step_id: str) -> Any:
        return self._state.step_outputs.get(step_id, {}).get("output")

    def set_output(self, name: str, value: Any) -> None:
        self._state.outputs[name] = value

    def count(self, *, pages: int = 0, rows: int = 0) -> None:
        self._state.pages += pages
        self._state.rows += rows
        self._state.listener.progress(self._state.pages, self._state.rows)


@contextlib.contextmanager
def _shielded() -> Iterator[list[int]]:
    """Hold SIGINT/SIGTERM while cleanup runs, so that a second Ctrl-C cannot leave Chrome behind.
    Yields a list that receives the signals that arrived meanwhile."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda signum, frame: got.append(signum))
    try:
        yield got
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class Runner:
    """Runs flows. `store` receives the record at start, after each top-level step and at the end."""

    def __init__(self, *, store: Any = None, home: Path | str = ".robots", trigger: str = "cli",
                 browser_options: BrowserOptions | None = None, listener: Listener | None = None,
                 pause_on_failure: bool = False, keep_sessions: bool = True,
                 browser: BrowserOverrides | None = None):
        self.pause_on_failure = pause_on_failure
        self.keep_sessions = keep_sessions
        self._sessions: Any = None
        self.store = store
        self.home = Path(home)
        self.trigger = trigger
        #: exact options for every run (the flows' `browser:` sections ignored); None: resolve per flow from
        #: its section, the environment and `browser` (robots.browser.settings)
        self.browser_options = browser_options
        self.browser = browser
        self.listener = listener or Listener()

    # ------------------------------------------------------------------ public
    def run(self, flow: Flow, *, vars: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
            portal: Portal | None = None, run_id: str | None = None, dry_run: bool = False,
            from_step: str | None = None, to_step: str | None = None,
            max_runtime: float | None = None) -> RunRecord:
        """Execute `flow`; return its final record. Raises InputError (nothing started) for bad vars.

        dry_run: steps marked `write: true` (and write steps) are recorded as skipped, nothing is submitted.
        from_step / to_step: run only the top-level steps between these (an index as in `steps[N]`, or a
        step id), both included; the others are recorded as skipped.
        max_runtime: seconds; a run still going then is stopped and recorded errored (RunTimedOut).
        A cancel request in the store (`store.request_cancel`) stops the run as `canceled`."""
        values = resolve_vars(flow, vars or {})
        first, last = step_range(flow, from_step, to_step)
        secret_values = dict(secrets or {})
        for name in flow.all_optional_secrets():
            secret_values.setdefault(name, "")
        missing = [s for s in flow.all_secrets() if s not in secret_values]
        if missing:
            raise InputError(f"secret {', '.join(repr(m) for m in missing)} was not given to the runner")
        opts = self.browser_options or resolve_options(flow.browser, overrides=self.browser,
                                                       page_load=flow.timeouts.page_load)
        run_id = run_id or new_run_id()
        run_dir = (self.home / "runs" / run_id).resolve()  # absolute: prune and export work from any folder
        run_dir.mkdir(parents=True, exist_ok=True)
        processes.write_owner(run_dir)
        masker = Masker(secret_values.values())
        if self.browser_options is not None and portal is not None:
            opts = BrowserOptions(**{**opts.__dict__, "page_load_timeout": flow.timeouts.page_load})
        state = _State(flow=flow, portal=portal, vars=values, secrets=secret_values, masker=masker,
                       run_id=run_id, run_dir=run_dir, started_at=datetime.now(UTC), listener=self.listener,
                       browser_factory=lambda: start_browser(opts, run_dir), dry_run=dry_run)
        # Stopping from outside (robots.control) and one browser slot of the shared pool (robots.pool).
        from robots import control, pool

        state.guard = control.RunGuard(run_id, self.store, max_runtime)
        lease = pool.Lease(self.home, check=state.guard.check)
        state.browser_factory = lease.wrap(state.browser_factory)
        state.guard.end_browser = lambda: state.browser.kill() if state.browser else None  # (a Grid session too)
        self._save(state, "running")
        partial = (first, last) != (0, len(flow.steps) - 1)
        with state.guard.watching():
            status, error = self._steps(flow.steps, state, check_outputs=not partial, only=(first, last))
        try:
            if flow.finally_steps and status not in ("interrupted", "canceled"):
                # `finally` always runs; its own failure counts only when the run had none before it.
                after, after_error = self._steps(flow.finally_steps, state, check_outputs=False)
                if status == "passed" and after != "passed":
                    status, error = after, after_error
                elif after_error is not None:
                    log.warning("a `finally` step failed too: %s", state.masker(str(after_error)))
        finally:
            if self.pause_on_failure and status in ("failed", "errored") and state.browser is not None:
                try:
                    self.listener.paused(state.browser.url, state.masker(str(error)))
                except (KeyboardInterrupt, EOFError):
                    pass
            with _shielded() as got:
                if state.browser is not None:
                    self._keep_newest_cookies(state)
                    state.browser.quit()
                lease.release()
            if got and status != "interrupted":
                status, error = "interrupted", Interrupted("interrupted during cleanup")
        record = self._save(state, status, error)
        (run_dir / "owner.json").unlink(missing_ok=True)
        return record

    def sweep(self) -> list[str]:
        """End the browsers of runs whose runner died (kill -9, crash) and mark their records interrupted.
        Returns the run ids swept. Runs at the start of `robots run`; `robots runs sweep` runs it alone."""
        swept = []
        for run_id, ended in processes.sweep(self.home / "runs"):
            swept.append(run_id)
            if ended:
                log.warning("run %s: its runner is gone; ended %d browser processes it left", run_id, len(ended))
            if self.store is None:
                continue
            try:
                record = self.store.get(run_id)
            except LookupError:
                continue
            if record.status == "running":
                last = max((s for s in record.steps if s.status == "passed"), key=lambda s: s.index, default=None)
                where = f" after step {last.index} ({last.name})" if last else " before its first step ended"
                self.store.save(record.model_copy(update={
                    "status": "interrupted", "ended_at": datetime.now(UTC), "error_class": "Interrupted",
                    "error_message": f"the runner process ended without finishing the run{where}"}))
        return swept

    # ------------------------------------------------------------------ sessions
    @property
    def sessions(self) -> Any:
        """The session store beside the run store (None without a SQL store or with keep_sessions=False)."""
        if self._sessions is None and self.keep_sessions and self.store is not None:
            from robots.auth.sessions import SessionStore

            self._sessions = SessionStore.beside(self.store, self.home) or False
        return self._sessions or None

    def _run_sub(self, st: _State, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
        """Run a called flow's steps in this run, with its own vars, step outputs, outputs and selectors."""
        saved = (st.flow, st.vars, st.step_outputs, st.outputs, st.loop, st.prefix)
        st.flow, st.vars, st.step_outputs, st.outputs, st.loop = sub, resolve_vars(sub, given), {}, {}, {}
        st.prefix = f"{st.prefix}{sub.name}: "
        try:
            for child in sub.steps:
                self._execute(child, st)
            return st.outputs
        finally:
            st.flow, st.vars, st.step_outputs, st.outputs, st.loop, st.prefix = saved

    def _sign_in(self, st: _State, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
        """A `call` of a sign-in flow (one that declares `session:`): reuse the stored session of the account
        when the portal still knows it, else run the flow and store the session it leaves. Workers on one
        account take turns (a lease) and reuse each other's session; a rejected password is not tried again
        within the portal's lockout window."""

        assert st.portal is not None and st.portal.session is not None and sub.session is not None
        profile, store = st.portal.session, self.sessions
        spec = sub.session
        saved_vars = st.vars
        st.vars = resolve_vars(sub, given)
        try:
            account = str(self._render(spec.account, st, _session_call(sub)))
            password = self._render(spec.password, st, _session_call(sub)) if spec.password else None
        finally:
            st.vars = saved_vars
        key = store.key(st.portal.name, st.portal.url, account)
        st.session = _Session(key, sub, dict(given), str(password) if password is not None else None,
                              relogins=st.session.relogins if st.session else 0)
        def refuse_a_blocked_password() -> None:
            block = store.blocked(key, str(password), profile.lockout_window) if password is not None else None
            if block is not None:
                raise CredentialsRejected(
                    f"not signing in: the portal rejected this password at "
                    f"{block.blocked_at:%Y-%m-%d %H:%M:%S} UTC ({block.message}); robots will not try it "
                    f"again for {profile.lockout_window / 60:g} minutes. Set the right password "
                    f"(robots secrets set) or clear the block: robots sessions clear")

        refuse_a_blocked_password()  # before a Chrome is started for nothing
        # The browser (its slot in the pool) before the account's lease: every run takes them in that order, so a
        # run holding the lease never waits for a slot that a run waiting for the lease holds.
        StepContext(st, self, _session_call(sub)).browser  # noqa: B018 - started for its side effect
        with store.lease(key, st.run_id):
            refuse_a_blocked_password()  # (another worker may have been refused while this one waited)
            restored = self._restore(st, store, key)
            if restored is not None:
                st.session.cookies = restored
                self.listener.progress(st.pages, st.rows)
                return {}
            st.in_login = True
            try:
                outputs = self._run_sub(st, sub, given)
            except CredentialsRejected as e:
                if password is not None:
                    store.block(key, str(password), str(e))
                raise
            finally:
                st.in_login = False
            cookies = st.browser.cookies() if st.browser is not None else []
            store.save(key, cookies, self._portal_storage(st))
            st.session.cookies = cookies
            return outputs

    def _sign_in_afresh(self, st: _State, sub: Flow, given: dict[str, Any]) -> dict[str, Any]:
        """A `call` of a sign-in flow without a session store: run the flow, nothing restored or stored. The run
        still keeps the session it signed in with, so that losing it mid-run is noticed and signed in again like
        a stored one (--fresh-login skips only the stored session)."""
        st.session = _Session("", sub, dict(given), None, relogins=st.session.relogins if st.session else 0)
        st.in_login = True
        try:
            return self._run_sub(st, sub, given)
        finally:
            st.in_login = False

    def _check_session(self, st: _State) -> None:
        """Called by the browser while a step waits for an element: when the portal has sent the browser to its
        sign-in page (the portal profile's `login_path`) outside a sign-in, the session is gone and no element
        of the step will show up: SessionLost now (the signed-in top-level step signs in again, or ends the run
        with it), not the element's timeout later."""
        if st.in_login or not self._session_lost(st):
            return
        from urllib.parse import urlsplit

        assert st.browser is not None
        raise SessionLost(f"the portal ended the session: the browser was sent to its sign-in page "
                          f"({urlsplit(st.browser.url).path})")

    def _portal_storage(self, st: _State) -> dict[str, str] | None:
        """The portal's local-storage entries that its profile keeps with the session, read from the page the
        browser is on (None: not on the portal's origin, so nothing to read; the stored entries stay)."""
        from urllib.parse import urlsplit

        assert st.portal is not None and st.portal.session is not None
        keys = st.portal.session.local_storage
        if not keys:
            return {}
        if st.browser is None or urlsplit(st.browser.url).netloc != urlsplit(st.portal.url).netloc:
            return None
        return st.browser.local_storage(keys)

    def _restore(self, st: _State, store: Any, key: str) -> list[dict[str, Any]] | None:
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
        browser = StepContext(st, self, _session_call(st.session.flow if st.session else st.flow)).browser
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
        index = st.counter
        st.counter += 1
        rec = StepRecord(index=index, name=f"{st.prefix}session restored", status="passed",
                         started_at=datetime.now(UTC), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                         output_summary=f"reused the stored session (saved {saved.saved_at:%Y-%m-%d %H:%M:%S} UTC)")
        st.steps.append(rec)
        self.listener.step_finished(rec)
        log.info("restored the stored portal session (no sign-in needed)")
        return cookies

    def _session_lost(self, st: _State) -> bool:
        """Whether the browser was sent to the portal's sign-in page (the session ended)."""
        from urllib.parse import urlsplit

        if st.session is None or st.browser is None or st.portal is None or st.portal.session is None:
            return False
        path = urlsplit(st.browser.url).path.rstrip("/")
        return path.endswith(st.portal.session.login_path.rstrip("/"))

    def _resume(self, st: _State, call: StepCall, start_url: str, error: BaseException | None,
                writes: list[str]) -> None:
        """The session ended during `call`: sign in again (once per run) and go back to where the step began.
        `writes`: the write steps not marked idempotent that began inside `call` (a block) before the end."""
        assert st.session is not None
        what = f"{call.where}.{call.kind}"
        if st.session.relogins >= 1:
            raise SessionLost(f"the portal ended the session again during {what}; a run signs in again only once")
        if _unrepeatable_write(call):
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
                self._sign_in(st, session.flow, session.given)
            else:
                self._sign_in_afresh(st, session.flow, session.given)
        finally:
            st.prefix = saved_prefix
        if call.kind != "open" and st.browser is not None and start_url:
            st.browser.open(start_url)

    def _keep_newest_cookies(self, st: _State) -> None:
        """At the end of a run, store the session's cookies as they are now (the portal may have rotated them)."""
        if st.session is None or st.session.cookies is None or self.sessions is None or st.browser is None:
            return
        try:
            if self._session_lost(st):
                return
            cookies = st.browser.cookies()
            if cookies and cookies != st.session.cookies:
                self.sessions.save(st.session.key, cookies, self._portal_storage(st))
        except RobotsError as e:
            log.warning("could not keep the session's newest cookies: %s", type(e).__name__)

    # ------------------------------------------------------------------ internals
    def _steps(self, calls: tuple[StepCall, ...], state: _State, *, check_outputs: bool,
               only: tuple[int, int] | None = None) -> tuple[RunStatus, RobotsError | None]:
        """Run top-level steps (those in `only`, an inclusive index range); the run's status and error so far."""
        try:
            for n, call in enumerate(calls):
                if only is not None and not only[0] <= n <= only[1]:
                    self._skip(call, state, "outside --from-step/--to-step")
                    continue
                self._execute(call, state)
                if state.browser is not None:
                    state.browser.matches.clear()
                    state.browser.drain_network()
            unset = [name for name in state.flow.outputs if name not in state.outputs] if check_outputs else []
            if unset:
                raise TechnicalError(f"the flow declares output {', '.join(repr(u) for u in unset)} "
                                     f"but no step set it (add a set_output step)")
        except BusinessFailure as e:
            return "failed", e
        except Interrupted as e:
            return e.run_status, e  # type: ignore[return-value]
        except KeyboardInterrupt:
            return "interrupted", Interrupted("interrupted by SIGINT")
        except RobotsError as e:
            stopped = state.guard.reason if state.guard is not None else None
            if stopped is not None:  # the guard ended the browser under a waiting step (a run off the main thread)
                return stopped.run_status, stopped  # type: ignore[return-value]
            return "errored", e
        return "passed", None

    def _skip(self, call: StepCall, state: _State, why: str) -> None:
        index = state.counter
        state.counter += 1
        name = f"{state.prefix}{call.where} {call.label}"
        state.steps.append(StepRecord(index=index, step_id=call.args.id, name=name, status="skipped",
                                      started_at=datetime.now(UTC), duration_ms=0.0, output_summary=f"skipped: {why}"))

    def _render(self, value: Any, state: _State, call: StepCall) -> Any:
        try:
            return templating.render(value, state.context())
        except Interrupted:  # SIGTERM (or a cancel) while a template ran: the run ends as interrupted
            raise
        except Exception as e:  # jinja2 raises UndefinedError, TypeError, SecurityError...
            raise TechnicalError(f"{call.where}.{call.kind}: template failed: {state.masker(str(e))}") from None

    def _execute(self, call: StepCall, state: _State) -> None:
        sdef = REGISTRY[call.kind]
        if state.guard is not None:
            state.guard.check()  # canceled or over max_runtime: no further step starts
        index = state.counter
        state.counter += 1
        self.listener.step_started(call, index)
        started = datetime.now(UTC)
        first_match = len(state.browser.matches) if state.browser else 0
        t0 = time.perf_counter()
        status: StepStatus = "passed"
        err: BaseException | None = None
        summary: str | None = None
        attempts = 1
        try:
            if call.args.when is not None and not self._render(call.args.when, state, call):
                status, summary = "skipped", "skipped: its `when` condition was false"
                return
            model = type(call.args)
            block_fields = {n: f.alias or n for n, f in model.model_fields.items() if (f.alias or n) in call.blocks}
            kept = {**block_fields, **{n: n for n in model.expressions if n != "when"}}
            raw = call.args.model_dump(exclude_unset=True, exclude={"when", *kept}, by_alias=True, warnings=False)
            rendered = self._render(raw, state, call)
            for name, key in kept.items():  # nested steps and expressions: the step itself evaluates them
                rendered[key] = getattr(call.args, name)
            args = _rendered_args(model, rendered, call)
            if state.dry_run and (call.args.write or sdef.writes):
                status, summary = "skipped", "dry run: not submitted"
                return
            if _unrepeatable_write(call) and not state.idempotent_blocks:
                state.writes_begun.append(f"{call.where}.{call.kind}")
            retries, backoff = _retries(call, state.flow)
            attempt, invoke, throttled = 1, True, None
            counted = state.pages, state.rows  # a step run again counts its pages and rows again: once only
            while True:
                failed = False
                if invoke:
                    state.pages, state.rows = counted
                    try:
                        result = self._invoke(sdef.func, call, state, args)
                    except (PortalThrottled, SessionLost):  # (repeating a step does not bring a session back)
                        raise
                    except TechnicalError as e:
                        failed = True
                        wait = self._throttled(state, call)
                        if wait is None:  # an ordinary technical failure: the step's or the flow's retry policy
                            if attempt > retries:
                                raise
                            attempt = attempts = attempt + 1
                            pause = backoff * 2 ** (attempt - 2)
                            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", call.where, attempt - 1,
                                        state.masker(str(e)), pause)
                            time.sleep(pause)  # back-off between attempts (on_error: retry, or the retry policy)
                            continue
                if not failed:  # a navigation that landed on the portal's throttled page (or its reload did)
                    wait = self._throttled(state, call) if call.kind in _NAVIGATING or not invoke else None
                    if wait is None:
                        break
                throttled = throttled or self._backoff(state, call)
                if _unrepeatable_write(call):  # (429 should mean "not done"; still, only writes marked so repeat)
                    raise PortalThrottled(f"the portal answered 429 Too many requests to write step {throttled.what}; "
                                          f"it was not repeated because it is not marked `idempotent: true` (check "
                                          f"in the portal whether it went through)", retry_after=wait or 1.0)
                self._throttle_wait(state, throttled, wait)
                attempts += 1
                # Repeat: `open` opens its URL again; another step's page (the one that answered 429) is reloaded,
                # and a step that failed on it runs again on the page the portal now serves.
                if call.kind != "open":
                    assert state.browser is not None
                    state.browser.refresh()
                invoke = failed or call.kind == "open"
            if call.args.id is not None:
                state.step_outputs[call.args.id] = {"output": result}
            summary = _summary(result, state.masker)
        except KeyboardInterrupt:
            status, err = "errored", Interrupted("interrupted by SIGINT")
            raise
        except Interrupted as e:
            status, err = "errored", e
            raise
        except RobotsError as e:
            status, err = ("failed" if isinstance(e, BusinessFailure) else "errored"), e
            if not (call.args.optional or call.args.on_error == "continue"):
                raise
            # An optional step's failure is recorded and the run goes on (no evidence: it was allowed to fail).
            status, summary = "skipped", f"optional step did not succeed ({type(e).__name__})"
            e._robots_evidence = True  # type: ignore[attr-defined]
        except Exception as e:
            log.error("internal error in step %s: %s", call.where, state.masker(traceback.format_exc()))
            internal = TechnicalError(f"internal error in step '{call.kind}': {type(e).__name__}: {e}")
            status, err = "errored", internal
            raise internal from e
        finally:
            if (err is not None and (not isinstance(err, Interrupted) or err.keep_evidence)
                    and not getattr(err, "_robots_evidence", False)):
                self._evidence(state, index)
                with contextlib.suppress(AttributeError):
                    err._robots_evidence = True  # type: ignore[attr-defined]
            matches = state.browser.matches[first_match:] if state.browser else []
            rec = StepRecord(
                index=index, step_id=call.args.id, name=f"{state.prefix}{call.where} {call.label}", status=status,
                started_at=started, duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                error_class=type(err).__name__ if err else None,
                error_message=state.masker(str(err)) if err else None,
                output_summary=state.masker(summary) if summary else None,
                selector=str(matches[-1][0].candidates[matches[-1][1]]) if matches else None, attempts=attempts,
                drift=_drift(matches),
            )
            state.steps.append(rec)
            self.listener.step_finished(rec)
            # Crash safety: a killed runner leaves the steps it finished. Every top-level step, write and failure
            # is saved at once; the many small steps inside blocks at most every _SAVE_EVERY seconds (saving the
            # whole record after each of them cost a quarter of a long run's time).
            if (state.depth == 0 or status != "passed" or call.args.write or sdef.writes
                    or time.monotonic() - state.saved_at >= _SAVE_EVERY):
                self._save(state, "running")

    def _invoke(self, func: Callable[..., Any], call: StepCall, state: _State, args: Any) -> Any:
        """Run a step function. For a top-level step of a signed-in run: when the portal ended the session
        during the step, sign in again and run the step once more from where it began."""
        guarded = state.depth == 0 and not state.in_login and state.session is not None and state.browser is not None
        start_url = state.browser.url if guarded and state.browser is not None else ""
        writes_before = len(state.writes_begun)
        counted = state.pages, state.rows
        state.depth += 1
        state.idempotent_blocks += call.args.idempotent  # a block marked idempotent checks its writes itself
        try:
            try:
                result = func(StepContext(state, self, call), args)
            except (Interrupted, KeyboardInterrupt, BusinessFailure):
                raise
            except RobotsError as e:
                if not (guarded and self._session_lost(state)):
                    raise
                self._resume(state, call, start_url, e, state.writes_begun[writes_before:])
            else:
                if not (guarded and self._session_lost(state)):
                    return result
                self._resume(state, call, start_url, None, state.writes_begun[writes_before:])
            state.pages, state.rows = counted  # the pages read before the session ended are read again
            try:
                result = func(StepContext(state, self, call), args)
            except (Interrupted, KeyboardInterrupt, BusinessFailure):
                raise
            except RobotsError:
                if not self._session_lost(state):
                    raise
            else:
                if not self._session_lost(state):
                    return result
            raise SessionLost(f"the portal ended the session again during {call.where}.{call.kind}; "
                              f"a run signs in again only once")
        finally:
            state.depth -= 1
            state.idempotent_blocks -= call.args.idempotent

    # ------------------------------------------------------------------ the portal's own 429 (robots.throttle)
    def _throttled(self, state: _State, call: StepCall) -> float | None:
        """When the browser shows the portal's throttled page (its profile's `throttle.page`): the seconds it asks
        to wait (its words, since a browser reads no headers; DEFAULT_WAIT when it names none); else None."""
        from robots.throttle import DEFAULT_WAIT, wait_in_text

        portal, browser = state.portal, state.browser
        if portal is None or portal.throttle.page is None or browser is None or REGISTRY[call.kind].container:
            return None
        try:
            page = state.flow.catalog.resolve(portal.throttle.page)
            if not browser.exists(page):
                return None
            wait = state.flow.catalog.resolve(portal.throttle.wait) if portal.throttle.wait else page
            text = browser.text(wait, 1.0)
        except (KeyError, ValueError, RobotsError):  # a flow without the portal's catalog, or no page to read
            return None
        asked = wait_in_text(text)
        return DEFAULT_WAIT if asked is None else asked

    def _backoff(self, state: _State, call: StepCall) -> Any:
        """The back-off for the throttled answers met by one step (or one page of a walk: `what`)."""
        from robots.throttle import Backoff, ThrottleProfile

        guard = state.guard
        remaining = None
        if guard is not None and guard.max_runtime is not None:
            remaining = guard.max_runtime - (time.monotonic() - guard.started)
        profile = state.portal.throttle if state.portal is not None else ThrottleProfile()
        return Backoff(f"{state.flow.path.name} {call.where}.{call.kind}", profile, remaining)

    def _throttle_wait(self, state: _State, backoff: Any, asked: float | None) -> float:
        """Wait what the portal asked (robots.throttle.Backoff: bounded, or PortalThrottled), and record it: one
        line in the run record per wait."""
        t0 = time.perf_counter()
        waited = float(backoff.wait(asked))
        index = state.counter
        state.counter += 1
        rec = StepRecord(index=index, name=f"{state.prefix}{backoff.what} throttled", status="retried",
                         started_at=datetime.now(UTC), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                         output_summary=state.masker(f"the portal answered 429 Too many requests; waited {waited:g} s "
                                                     f"(its Retry-After), then tried again"))
        state.steps.append(rec)
        self.listener.step_finished(rec)
        return waited

    def _evidence(self, state: _State, index: int) -> None:
        browser = state.browser
        if browser is None:
            return
        ev_dir = state.run_dir / "evidence"
        ev_dir.mkdir(exist_ok=True)
        stem = f"step-{index:03d}"
        png = browser.screenshot_png(state.masker.values)
        shot = html = None
        if png:
            (ev_dir / f"{stem}.png").write_bytes(png)
            shot = f"evidence/{stem}.png"
        source = browser.page_source()
        if source is not None:
            (ev_dir / f"{stem}.html").write_text(state.masker(source), encoding="utf-8")
            html = f"evidence/{stem}.html"
        logs: dict[str, str | None] = {}
        for kind, entries in (("console", browser.console_log()), ("network", browser.network_log())):
            path = ev_dir / f"{stem}.{kind}.json"
            path.write_text(state.masker(json.dumps(entries, indent=1, ensure_ascii=False)), encoding="utf-8")
            logs[kind] = f"evidence/{path.name}"
        state.evidence.append(Evidence(step_index=index, screenshot=shot, html=html,
                                       url=state.masker(browser.url) or None, **logs))

    def _save(self, state: _State, status: RunStatus, error: BaseException | None = None) -> RunRecord:
        ended = None if status == "running" else datetime.now(UTC)
        m = state.masker
        record = RunRecord(
            run_id=state.run_id, flow_name=state.flow.name, flow_path=str(state.flow.path),
            flow_sha256=state.flow.sha256, trigger=self.trigger,  # type: ignore[arg-type]
            portal_url=state.portal.url if state.portal else None, browser=state.browser_info,
            inputs=m.deep(state.vars),
            status=status,
            started_at=state.started_at, ended_at=ended,
            steps=tuple(sorted(state.steps, key=lambda s: s.index)),
            outputs=m.deep(state.outputs) if status != "running" else {},
            error_class=type(error).__name__ if error else None,
            error_message=m(str(error)) if error else None,
            failure_kind=getattr(error, "failure_kind", None) if error else None,
            evidence=tuple(state.evidence), run_dir=str(state.run_dir), pages=state.pages, rows=state.rows,
        )
        if self.store is not None:
            self.store.save(record)
        state.saved_at = time.monotonic()
        return record


#: at most this many seconds between saves of a running record while steps inside blocks finish
_SAVE_EVERY = 1.0

#: steps after which the runner looks whether the page they landed on is the portal's throttled page
_NAVIGATING = frozenset({"open", "click", "refresh", "back", "press"})


def _retries(call: StepCall, flow: Flow) -> tuple[int, float]:
    """How many more attempts a technical failure of this step gets, and the first pause: the step's own
    `on_error: retry`, else the flow's `retry` policy, which leaves out containers (their steps retry
    themselves), steps that said `on_error` themselves, and writes not marked idempotent."""
    if call.args.on_error == "retry":
        return call.args.retries, 0.5
    policy = flow.retry
    if policy is None or not policy.attempts or "on_error" in call.args.model_fields_set:
        return 0, 0.0
    sdef = REGISTRY[call.kind]
    if sdef.container or _unrepeatable_write(call):
        return 0, 0.0
    return policy.attempts, policy.backoff


def _unrepeatable_write(call: StepCall) -> bool:
    """A step that submits to the portal (`write: true` or a write step) and is not marked idempotent."""
    return (call.args.write or REGISTRY[call.kind].writes) and not call.args.idempotent


def _rendered_args(model: type[Any], rendered: dict[str, Any], call: StepCall) -> Any:
    """A step's arguments after templating, validated; a template that gave a value of the wrong kind (a
    number argument rendered to text) is an input error naming the step and the argument."""
    from pydantic import ValidationError

    try:
        return model.model_validate(rendered)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join([call.where, call.kind, *(str(p) for p in err["loc"])])
            if err["type"] == "value_error" and not err["loc"]:  # a rule across the arguments: its own words
                problems.append(f"{where}: {err['ctx']['error']}")
            else:
                problems.append(f"{where}: {err['msg'].lower()}, got {err['input']!r} from its template")
        raise InputError("; ".join(problems)) from None


def _session_call(flow: Flow) -> StepCall:
    """A stand-in step for templates and the browser rendered on behalf of a flow's `session:`."""
    from robots.steps.base import StepArgs

    return StepCall(kind="call", args=StepArgs(), blocks={}, where=f"{flow.path.name}: session", line=None,
                    column=None)


def _drift(matches: list[tuple[Selector, int]]) -> str | None:
    """'name: matched fallback C after A, B failed' for each selector that needed a fallback."""
    seen: dict[str, str] = {}
    for sel, idx in matches:
        if idx and sel.name not in seen:
            failed = ", ".join(str(c) for c in sel.candidates[:idx])
            seen[sel.name] = f"{sel.name}: matched fallback {sel.candidates[idx]} after {failed} failed"
    return "; ".join(seen.values()) or None


def _summary(result: Any, masker: Masker) -> str | None:
    """A step's output in a few words for its record: masked, then cut (never the other way round)."""
    if result is None:
        return None
    if isinstance(result, list):
        return f"{len(result)} items"
    if isinstance(result, dict):
        return f"{len(result)} fields"
    return shorten(str(result), 80, masker)


def step_range(flow: Flow, from_step: str | None, to_step: str | None) -> tuple[int, int]:
    """The inclusive range of top-level step indices that --from-step/--to-step select."""
    ids = {c.args.id: n for n, c in enumerate(flow.steps) if c.args.id}

    def index(ref: str | None, default: int, option: str) -> int:
        if ref is None:
            return default
        if ref.isdigit() and int(ref) < len(flow.steps):
            return int(ref)
        if ref in ids:
            return ids[ref]
        from robots.steps.base import suggest

        raise InputError(f"{option} {ref!r} is neither a step number (0 to {len(flow.steps) - 1}) nor a top-level "
                         f"step id{suggest(ref, list(ids))}" + (f" (ids: {', '.join(ids)})" if ids else ""))

    first = index(from_step, 0, "--from-step")
    last = index(to_step, len(flow.steps) - 1, "--to-step")
    if first > last:
        raise InputError(f"--from-step ({first}) comes after --to-step ({last})")
    return first, last


def resolve_vars(flow: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """The flow's vars: given values (coerced to the declared type) over defaults; unknown or missing
    required ones are input errors."""
    unknown = [k for k in given if k not in flow.vars]
    if unknown:
        from robots.steps.base import suggest

        k = unknown[0]
        raise InputError(f"{flow.path}: unknown var '{k}'{suggest(k, list(flow.vars))}; "
                         f"the flow declares: {', '.join(flow.vars) or 'none'}")
    out: dict[str, Any] = {}
    for name, spec in flow.vars.items():
        if name in given:
            out[name] = _coerce(name, given[name], spec.type or _type_of(spec.default), flow)
            if spec.choices is not None:
                _check_choice(name, out[name], spec, flow)
        elif spec.required:
            raise InputError(f"{flow.path}: var '{name}' is required; pass --var {name}=VALUE")
        else:
            out[name] = spec.default
    return out


def _check_choice(name: str, value: Any, spec: VarSpec, flow: Flow) -> None:
    """A given value of a var with `choices`: one of them, or its default."""
    assert spec.choices is not None
    allowed = [*spec.choices, *([] if spec.default is None else [spec.default])]
    if any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in allowed):
        return
    from robots.steps.base import suggest

    shown = ", ".join(str(c) for c in spec.choices)
    default = f" (or the default {spec.default!r})" if spec.default is not None and spec.default not in spec.choices \
        else ""
    hint = suggest(value, [str(c) for c in spec.choices]) if isinstance(value, str) else ""
    raise InputError(f"{flow.path}: var '{name}' must be one of {shown}{default}; got {value!r}{hint}")


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return None


def _coerce(name: str, value: Any, kind: str | None, flow: Flow) -> Any:
    if not isinstance(value, str) or kind in (None, "string"):
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            if value.lower() in ("true", "yes", "1", "on"):
                return True
            if value.lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError
    except ValueError:
        raise InputError(f"{flow.path}: var '{name}' must be {'an' if kind == 'integer' else 'a'} {kind}, "
                         f"got {value!r}") from None
    return value


def exit_code(record: RunRecord) -> int:
    return {"passed": 0, "failed": 1, "interrupted": 130, "canceled": 130}.get(record.status, 3)


__all__ = ["Listener", "Runner", "StepContext", "exit_code", "new_run_id", "resolve_vars"]
