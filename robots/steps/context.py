"""What a step function sees: the `ctx` of `func(ctx, args)`. Steps depend on this Protocol only, never on the
runner that implements it (robots.run.context.RunContext), so the step library imports nothing of the runner."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from robots.browser.page import Browser
    from robots.locators import Selector
    from robots.portals import Portal


class CalledStep(Protocol):
    """The step being run, as written in the flow (robots.flow.model.StepCall)."""

    @property
    def kind(self) -> str: ...
    @property
    def where(self) -> str: ...
    @property
    def blocks(self) -> Mapping[str, tuple[Any, ...]]: ...


class StepContext(Protocol):
    """The browser, selectors, templating and the run's counters, as one step sees them."""

    #: seconds the step may wait (its own `timeout`, else the flow's)
    timeout: float

    @property
    def call(self) -> CalledStep: ...
    @property
    def browser(self) -> Browser:
        """The run's browser (started on first use)."""
    @property
    def run_dir(self) -> Path: ...
    @property
    def portal(self) -> Portal | None: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def auth_state(self) -> dict[str, Any]:
        """What sign-in steps tell each other during the run."""
    @property
    def steps_recorded(self) -> int: ...

    def selector(self, ref: str) -> Selector: ...
    def render(self, value: Any) -> Any: ...
    def shorten(self, text: str, limit: int) -> str:
        """`text` masked (the run's secrets), then cut to `limit` characters."""
    def run_children(self, block: str = "steps") -> None:
        """Run a nested block of steps (`steps`, or another block such as `else`)."""
    def evaluate(self, condition: str) -> Any:
        """A condition (a template) rendered now: its native value."""
    def set_var(self, name: str, value: Any) -> None: ...
    def loop_item(self, item: Any, index: int) -> contextlib.AbstractContextManager[None]:
        """`loop.item` and `loop.index` (1-based) for the steps run inside; restored afterwards."""
    def mark_retried(self, since: int) -> None:
        """Step records made since `since` that failed technically were retried: say so."""
    def save_screenshot(self, name: str) -> str | None: ...
    def call_flow(self, target: str, given: dict[str, Any]) -> dict[str, Any]:
        """Run a called flow's steps in this run; its outputs."""
    def backoff(self, what: str) -> Any:
        """A back-off for the portal's 429 answers to one request `what` (robots.throttle.Backoff)."""
    def throttle_wait(self, backoff: Any, asked: float | None) -> float: ...
    def output_of(self, step_id: str) -> Any: ...
    def set_output(self, name: str, value: Any) -> None: ...
    def count(self, *, pages: int = 0, rows: int = 0) -> None: ...


__all__ = ["CalledStep", "StepContext"]
