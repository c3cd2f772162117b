"""The Runner: executes a Flow in one Chrome, times and records every step, saves evidence on failure,
and always ends the browser (also on an exception, SIGINT or SIGTERM)."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.launch import BrowserOptions
from robots.browser.settings import BrowserOverrides, resolve_options
from robots.browser.start import start_browser
from robots.errors import BusinessFailure, InputError, InternalError, Interrupted, RobotsError, TechnicalError
from robots.flow.model import Flow, StepCall
from robots.flow.vars import resolve_vars, step_range
from robots.masking import Masker
from robots.portals import Portal
from robots.records.model import RunRecord, RunStatus, StepRecord
from robots.run import lifecycle, selection
from robots.run import record as _record
from robots.run.dryrun import DryRun
from robots.run.sessions import keep_newest_cookies
from robots.run.state import Listener, RunState, located, new_run_id
from robots.scrape import contracts

log = logging.getLogger("robots.engine")


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


def _then(then: Callable[[Any], None] | None, state: RunState, status: RunStatus,
          error: RobotsError | None) -> tuple[RunStatus, RobotsError | None]:
    """Run.run's `then`: the caller's look at the browser of a run that passed."""
    if then is None or status != "passed" or state.browser is None:
        return status, error
    try:
        then(state.browser)
    except RobotsError as e:
        return ("failed" if isinstance(e, BusinessFailure) else "errored"), e
    return status, error


def _internal(e: Exception, when: str, state: RunState) -> InternalError:
    """An exception that is no RobotsError, outside any step: an internal error of the run, located at its flow;
    the traceback is logged (shown with -v)."""
    log.info("internal error %s:\n%s", when, state.masker(traceback.format_exc()))
    error = InternalError(f"internal error {when}: {type(e).__name__}: {state.masker(str(e))}")
    located(error, state)
    return error


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
            max_runtime: float | None = None, then: Callable[[Any], None] | None = None) -> RunRecord:
        """Execute `flow`; return its final record. Raises InputError (nothing started) for bad vars.

        dry_run: nothing is submitted: the writes and the steps that depend on them are recorded as skipped, what
        the writes would have submitted is in the record's `dry_run` (robots.run.dryrun).
        from_step / to_step: run only the top-level steps between these (an index as in `steps[N]`, or a
        step id), both included, and before them the sign-in and the steps marked `setup: true`
        (robots.run.selection); the others are recorded as skipped.
        max_runtime: seconds; a run still going then is stopped and recorded errored (RunTimedOut).
        then: called with the browser after a run that passed, before it is quit (`robots selectors check
        --sign-in` looks at a page in the signed-in browser); a RobotsError it raises ends the run errored.
        A cancel request in the store (`store.request_cancel`) stops the run as `canceled`."""
        # A `record:` names a pack's model; a project's own (models/<pack>.yaml) is found from the flow's folder.
        with contracts.models_near(flow.path.parent.resolve()):
            return self._run(flow, vars, secrets, portal, run_id, dry_run, from_step, to_step, max_runtime, then)

    def _run(self, flow: Flow, vars: dict[str, Any] | None, secrets: dict[str, str] | None, portal: Portal | None,
             run_id: str | None, dry_run: bool, from_step: str | None, to_step: str | None,
             max_runtime: float | None, then: Callable[[Any], None] | None = None) -> RunRecord:
        values = resolve_vars(flow, vars or {})
        first, last = step_range(flow, from_step, to_step)
        state = self._start(flow, values, secrets, portal, run_id, dry_run)
        # Stopping from outside (robots.run.guard) and one browser slot of the shared pool (robots.pool).
        from robots import pool
        from robots.run.guard import RunGuard

        state.guard = RunGuard(state.run_id, self.store, max_runtime)
        lease = pool.Lease(self.home, check=state.guard.check)
        state.browser_factory = lease.wrap(state.browser_factory)
        state.guard.end_browser = lambda: state.browser.kill() if state.browser else None  # (a Grid session too)
        _record.save(state, "running")
        partial = (first, last) != (0, len(flow.steps) - 1)
        with state.guard.watching():
            status, error = self._steps(flow.steps, state, check_outputs=not partial, only=(first, last))
        got: list[int] = []
        try:
            status, error = self._finally(flow, state, status, error)
            status, error = _then(then, state, status, error)
            self._pause_if_asked(state, status, error)
        except Exception as e:  # a bug past the steps: the record still ends, errored
            status, error = "errored", _internal(e, "while ending the run", state)
        finally:
            try:
                got = self._close(state, lease)
            except Exception as e:
                if error is None or status == "passed":
                    status, error = "errored", _internal(e, "while ending the run", state)
        if got and status != "interrupted":
            status, error = "interrupted", Interrupted("interrupted during cleanup")
        record = _record.save(state, status, error)
        (state.run_dir / "owner.json").unlink(missing_ok=True)
        return record

    @staticmethod
    def _close(state: RunState, lease: Any) -> list[int]:
        """Quit the browser (its newest cookies kept) and free its slot, with SIGINT/SIGTERM held meanwhile; the
        signals that arrived."""
        with _shielded() as got:
            try:
                if state.browser is not None:
                    keep_newest_cookies(state)
                    state.browser.quit()
            finally:
                lease.release()
        return got

    def _start(self, flow: Flow, values: dict[str, Any], secrets: dict[str, str] | None,
               portal: Portal | None, run_id: str | None, dry_run: bool) -> RunState:
        """The state of a new run: its secrets checked, its folder made, its browser not yet started."""
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
        if self.browser_options is not None and portal is not None:
            opts = BrowserOptions(**{**opts.__dict__, "page_load_timeout": flow.timeouts.page_load})
        return RunState(flow=flow, portal=portal, vars=values, secrets=secret_values,
                        masker=Masker(secret_values.values()), run_id=run_id, run_dir=run_dir,
                        started_at=datetime.now(UTC), listener=self.listener,
                        browser_factory=lambda: start_browser(opts, run_dir), dry_run=dry_run,
                        dry=DryRun() if dry_run else None,
                        execute=lifecycle.execute, session_store=lambda: self.sessions, store=self.store,
                        trigger=self.trigger)

    def _finally(self, flow: Flow, state: RunState, status: RunStatus,
                 error: RobotsError | None) -> tuple[RunStatus, RobotsError | None]:
        """`finally` always runs; its own failure counts only when the run had none before it."""
        if flow.finally_steps and status not in ("interrupted", "canceled"):
            after, after_error = self._steps(flow.finally_steps, state, check_outputs=False)
            if status == "passed" and after != "passed":
                return after, after_error
            if after_error is not None:
                log.warning("a `finally` step failed too: %s", state.masker(str(after_error)))
        return status, error

    def _pause_if_asked(self, state: RunState, status: RunStatus, error: BaseException | None) -> None:
        if self.pause_on_failure and status in ("failed", "errored") and state.browser is not None:
            try:
                self.listener.paused(state.browser.url, state.masker(str(error)))
            except (KeyboardInterrupt, EOFError):
                pass

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

    @property
    def sessions(self) -> Any:
        """The session store beside the run store (None without a SQL store or with keep_sessions=False)."""
        if self._sessions is None and self.keep_sessions and self.store is not None:
            from robots.auth.sessions import SessionStore

            self._sessions = SessionStore.beside(self.store, self.home) or False
        return self._sessions or None

    # ------------------------------------------------------------------ the loop
    def _steps(self, calls: tuple[StepCall, ...], state: RunState, *, check_outputs: bool,
               only: tuple[int, int] | None = None) -> tuple[RunStatus, RobotsError | None]:
        """Run top-level steps (those in `only`, an inclusive index range); the run's status and error so far."""
        try:
            for n, call in enumerate(calls):
                if not selection.runs(n, call, state.flow, only):
                    self._skip(call, state, "outside --from-step/--to-step")
                    continue
                lifecycle.execute(call, state)
                if state.browser is not None:
                    state.browser.matches.clear()
                    state.browser.drain_network()
            unset = [name for name in state.flow.outputs if name not in state.outputs] if check_outputs else []
            if unset and state.dry is not None:  # a dry run cannot set what depends on the writes it skipped
                unset = state.dry.excuses(unset)
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
            return "errored", located(e, state)
        except Exception as e:  # a bug between the steps (each step's own is an InternalError of the step)
            return "errored", _internal(e, "between the steps", state)
        return "passed", None

    def _skip(self, call: StepCall, state: RunState, why: str) -> None:
        name = f"{state.prefix}{call.where} {call.label}"
        state.steps.append(StepRecord(index=state.next_index(), step_id=call.args.id, name=name, status="skipped",
                                      started_at=datetime.now(UTC), duration_ms=0.0, output_summary=f"skipped: {why}"))


__all__ = ["Runner"]
