"""Stopping runs from outside (docs/CONTRACTS.md C8): cancel requests and `max_runtime`, watched while a run goes.

A cancel request is a row in the store (`store.request_cancel`), so any process can ask: the CLI
(`robots runs cancel ID`), the scheduler, the API. The runner's `RunGuard` checks it before every step
(also the steps inside `paginate` and `for_each`) and, from a watcher thread, inside long waits: on the main
thread by a signal (SIGUSR1) that raises in the waiting step, elsewhere by ending the run's browser.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from robots.errors import Canceled, Interrupted, RunTimedOut

log = logging.getLogger("robots.run.guard")

POLL_S = 0.25  # how often the watcher looks at the store and the clock
_SIGNAL = signal.SIGUSR1


class RunGuard:
    """Watches one run: a cancel request for it in `store`, and its `max_runtime` (seconds, from the start)."""

    def __init__(self, run_id: str, store: Any, max_runtime: float | None = None) -> None:
        self.run_id = run_id
        self.store = store
        self.max_runtime = max_runtime
        self.started = time.monotonic()
        self.reason: Interrupted | None = None
        self._armed = False
        self._watching = False
        self._done = threading.Event()
        #: ends the run's browser; used when the run is not on the main thread (no signal can reach it)
        self.end_browser: Callable[[], None] | None = None

    def _look(self) -> Interrupted | None:
        if self.reason is not None:
            return self.reason
        if self.max_runtime is not None and time.monotonic() - self.started > self.max_runtime:
            self.reason = RunTimedOut(f"the run went over its max_runtime of {self.max_runtime:g} s and was stopped")
        else:
            asked = getattr(self.store, "cancel_requested", None)
            try:
                by = asked(self.run_id) if asked is not None else None
            except Exception as e:  # noqa: BLE001 - a store hiccup must not end the run; the next poll retries
                log.debug("could not read cancel requests: %s", e)
                by = None
            if by:
                self.reason = Canceled(f"canceled by {by}")
        return self.reason

    def check(self) -> None:
        """Raise Canceled or RunTimedOut if the run must stop (called between steps and while waiting). Only
        while `watching()`: a run's `finally` steps, after it, still run."""
        if not self._watching:
            return
        reason = self._look()
        if reason is not None:
            raise reason

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """While the block runs, a watcher thread stops the run as soon as it must stop."""
        on_main = threading.current_thread() is threading.main_thread()
        previous = None
        if on_main:
            previous = signal.signal(_SIGNAL, self._on_signal)
        self._armed = self._watching = True
        self._done.clear()
        watcher = threading.Thread(target=self._watch, args=(threading.main_thread().ident if on_main else None,),
                                   name=f"guard-{self.run_id}", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            self._armed = self._watching = False
            self._done.set()
            watcher.join()
            if on_main:
                signal.signal(_SIGNAL, previous)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._armed and self.reason is not None:
            self._armed = False  # raise once; later steps see it in check()
            raise self.reason

    def _watch(self, main_ident: int | None) -> None:
        while not self._done.wait(POLL_S):
            if self._look() is None:
                continue
            log.info("run %s: %s", self.run_id, self.reason)
            if main_ident is not None:
                signal.pthread_kill(main_ident, _SIGNAL)
            else:
                # No signal reaches another thread: give the step a moment to notice between steps, then end
                # the browser so that a step stuck in a wait fails at once.
                if not self._done.wait(2.0) and self.end_browser is not None:
                    self.end_browser()
            return
