"""The state of one run (what its steps read and leave behind) and the rendering of templates against it."""

from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from robots.errors import Interrupted, Location, RobotsError, TechnicalError
from robots.flow import templating
from robots.flow.model import Flow, StepCall
from robots.masking import Masker
from robots.portals import Portal
from robots.records.model import Evidence, RunRecord, StepRecord

if TYPE_CHECKING:
    from robots.browser.page import Browser


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + _secrets.token_hex(3)


def exit_code(record: RunRecord) -> int:
    """The README's table: 0 passed, 1 failed (business), 2 invalid input (a step found it), 3 errored, 130
    interrupted or canceled."""
    if record.status == "errored" and record.failure_kind == "input":
        return 2
    return {"passed": 0, "failed": 1, "interrupted": 130, "canceled": 130}.get(record.status, 3)


class Listener:
    """Progress callbacks for front ends; the default does nothing."""

    def step_started(self, call: StepCall, index: int) -> None: ...
    def step_finished(self, record: StepRecord) -> None: ...
    def progress(self, pages: int, rows: int) -> None: ...
    def paused(self, url: str, error: str) -> None:
        """With pause_on_failure: the run failed and the browser is still open; return to close it."""


@dataclass
class Session:
    """A signed-in session the runner keeps alive for the rest of the run."""

    key: str
    flow: Flow
    given: dict[str, Any]
    password: str | None
    cookies: list[dict[str, Any]] | None = None  # as restored or saved last
    relogins: int = 0


def _no_step(call: StepCall, state: RunState) -> None:
    raise NotImplementedError("the runner sets how a step is run")


@dataclass
class RunState:
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
    #: how one step is run (robots.run.lifecycle: every nested step too)
    execute: Callable[[StepCall, RunState], None] = _no_step
    #: the session store beside the run store, or None (robots.auth.sessions; made when first asked for)
    session_store: Callable[[], Any] = lambda: None
    store: Any = None  # receives the record at start, after steps and at the end
    trigger: str = "cli"
    browser: Browser | None = None
    browser_info: dict[str, str] | None = None
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    loop: dict[str, Any] = field(default_factory=dict)
    prefix: str = ""  # "login: " while the steps of a called flow run
    dry_run: bool = False
    dry: Any = None  # robots.run.dryrun.DryRun with --dry-run: what it did not submit and what depends on it
    guard: Any = None  # robots.run.guard.RunGuard: cancel requests and max_runtime
    counter: int = 0
    pages: int = 0
    rows: int = 0
    #: what sign-in steps tell each other (when the password was submitted, for code sources)
    auth_state: dict[str, Any] = field(default_factory=dict)
    #: the session this run signed in with (a `call` of a flow that declares `session:`)
    session: Session | None = None
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

    def next_index(self) -> int:
        """The index of the next line of the run record."""
        index = self.counter
        self.counter += 1
        return index


def render(value: Any, state: RunState, call: StepCall) -> Any:
    """`value` with its templates rendered against the run's state; a template that fails is a technical error
    of `call`."""
    try:
        return templating.render(value, state.context())
    except Interrupted:  # SIGTERM (or a cancel) while a template ran: the run ends as interrupted
        raise
    except Exception as e:  # jinja2 raises UndefinedError, TypeError, SecurityError...
        raise TechnicalError(f"{call.where}.{call.kind}: template failed: {state.masker(str(e))}") from None


def shown_path(path: Path) -> str:
    """A flow file as messages show it: relative to the working folder when it is inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


_E = TypeVar("_E", bound=BaseException)


def located(error: _E, state: RunState, call: StepCall | None = None) -> _E:
    """`error` with its Location (the flow file running now, and `call`'s line and path), unless an inner step
    located it already; returns it."""
    if isinstance(error, RobotsError) and error.location is None and not isinstance(error, Interrupted):
        file = shown_path(state.flow.path)
        error.location = Location(file, call.line, call.where + "." + call.kind) if call else Location(file)
    return error


def session_call(flow: Flow) -> StepCall:
    """A stand-in step for templates and the browser rendered on behalf of a flow's `session:`."""
    from robots.steps.base import StepArgs

    return StepCall(kind="call", args=StepArgs(), blocks={}, where=f"{flow.path.name}: session", line=None,
                    column=None)


__all__ = ["Listener", "RunState", "Session", "exit_code", "located", "new_run_id", "render", "session_call",
           "shown_path"]
