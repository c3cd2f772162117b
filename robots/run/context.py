"""The runner's side of what a step function sees (the Protocol robots.steps.context.StepContext): the browser,
selectors, templating and the run's counters, over the run's state."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robots.flow.model import StepCall
from robots.masking import shorten
from robots.portals import Portal
from robots.run import sessions as _sessions
from robots.run import throttling as _throttling
from robots.run.state import RunState, render

if TYPE_CHECKING:
    from robots.browser.page import Browser
    from robots.locators import Selector


class RunContext:
    """What a step function sees: the browser, selectors, templating and the run's counters (one per step run;
    robots.engine.StepContext is this class)."""

    def __init__(self, state: RunState, call: StepCall):
        self._state = state
        self.call = call
        self.timeout = call.args.timeout or state.flow.timeouts.step

    @property
    def browser(self) -> Browser:
        return _sessions.browser_of(self._state)

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
        return render(value, self._state, self.call)

    def shorten(self, text: str, limit: int) -> str:
        """`text` masked (the run's secrets), then cut to `limit` characters (robots.masking.shorten)."""
        return shorten(text, limit, self._state.masker)

    def run_children(self, block: str = "steps") -> None:
        """Run a nested block of steps (`steps`, or another block such as `else`)."""
        for child in self.call.blocks.get(block, ()):
            self._state.execute(child, self._state)

    def evaluate(self, condition: str) -> Any:
        """A condition (a template) rendered now: its native value."""
        return render(condition, self._state, self.call)

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
        return _sessions.call_flow(st, st.flow.subflows[str(resolve_call(st.flow.path, target))], given)

    def backoff(self, what: str) -> Any:
        """A back-off for the portal's 429 answers to one request `what` (robots.throttle.Backoff)."""
        made = _throttling.backoff(self._state, self.call)
        made.what = what
        return made

    def throttle_wait(self, backoff: Any, asked: float | None) -> float:
        """Wait what the portal's 429 asked (bounded; PortalThrottled after its attempts) and record the wait."""
        return _throttling.throttle_wait(self._state, backoff, asked)

    def output_of(self, step_id: str) -> Any:
        return self._state.step_outputs.get(step_id, {}).get("output")

    def set_output(self, name: str, value: Any) -> None:
        self._state.outputs[name] = value

    def count(self, *, pages: int = 0, rows: int = 0) -> None:
        self._state.pages += pages
        self._state.rows += rows
        self._state.listener.progress(self._state.pages, self._state.rows)


__all__ = ["RunContext"]
