"""The portal's own 429 within a run: seeing its throttled page in the browser, the back-off for one step, and
waiting what the portal asked with a line in the run record (the waiting itself: robots.throttle)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from robots.errors import RobotsError
from robots.flow.model import StepCall
from robots.records.model import StepRecord
from robots.run.state import RunState
from robots.steps import REGISTRY
from robots.throttle import DEFAULT_WAIT, Backoff, ThrottleProfile, wait_in_text


def throttled(state: RunState, call: StepCall) -> float | None:
    """When the browser shows the portal's throttled page (its profile's `throttle.page`): the seconds it asks
    to wait (its words, since a browser reads no headers; DEFAULT_WAIT when it names none); else None."""
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


def backoff(state: RunState, call: StepCall) -> Backoff:
    """The back-off for the throttled answers met by one step (or one page of a walk: `what`)."""
    guard = state.guard
    remaining = None
    if guard is not None and guard.max_runtime is not None:
        remaining = guard.max_runtime - (time.monotonic() - guard.started)
    profile = state.portal.throttle if state.portal is not None else ThrottleProfile()
    return Backoff(f"{state.flow.path.name} {call.where}.{call.kind}", profile, remaining)


def throttle_wait(state: RunState, made: Any, asked: float | None) -> float:
    """Wait what the portal asked (robots.throttle.Backoff: bounded, or PortalThrottled), and record it: one
    line in the run record per wait."""
    t0 = time.perf_counter()
    waited = float(made.wait(asked))
    rec = StepRecord(index=state.next_index(), name=f"{state.prefix}{made.what} throttled", status="retried",
                     started_at=datetime.now(UTC), duration_ms=round((time.perf_counter() - t0) * 1000, 3),
                     output_summary=state.masker(f"the portal answered 429 Too many requests; waited {waited:g} s "
                                                 f"(its Retry-After), then tried again"))
    state.steps.append(rec)
    state.listener.step_finished(rec)
    return waited


__all__ = ["backoff", "throttle_wait", "throttled"]
