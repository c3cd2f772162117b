"""Run records: what one run of a flow leaves behind, frozen and versioned (docs/CONTRACTS.md C3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 4
# 2: RunRecord.browser; StepRecord.attempts, selector, drift; Evidence.console, network (all optional, so a
#    version-1 record reads as version 2 with their defaults).
# 3: RunRecord.dry_run (optional: older records read as version 3 without it).
# 4: RunRecord.error_location; failure_kind `input` (optional: older records read as version 4 without them).

RunStatus = Literal["running", "passed", "failed", "errored", "interrupted", "skipped", "canceled"]
StepStatus = Literal["passed", "failed", "errored", "skipped", "retried"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepRecord(_Frozen):
    """One executed step (a step inside a `paginate` block is recorded once per page)."""

    index: int = Field(description="0-based position in execution order")
    step_id: str | None = None
    name: str = Field(description="the step's kind, e.g. 'fill', with its display name if given")
    status: StepStatus
    started_at: datetime
    duration_ms: float
    error_class: str | None = None
    error_message: str | None = None
    output_summary: str | None = None
    attempts: int = 1
    selector: str | None = Field(None, description="the selector candidate that matched last, e.g. 'css:#q'")
    drift: str | None = Field(None, description="selectors that needed a fallback candidate in this step")


class ErrorLocation(_Frozen):
    """Where the run's error came from (robots.errors.Location): the flow file, the step's line and path."""

    file: str
    line: int | None = None
    step: str | None = Field(None, description="the step's path, e.g. steps[2].for_each.steps[0].click")


class Evidence(_Frozen):
    """Files saved for a failed step; paths are relative to the run's folder."""

    step_index: int
    screenshot: str | None = None
    html: str | None = None
    url: str | None = None
    console: str | None = Field(None, description="JSON list of the browser console's messages")
    network: str | None = Field(None, description="JSON list of the last network requests")


class EnteredValue(_Frozen):
    """A value a step entered into a form control (fill, select, check, uncheck, clear, upload)."""

    target: str = Field(description="the form control's selector, e.g. 'customer_form.name'")
    value: Any = Field(description="what was entered (secrets masked); check: true, uncheck: false")


class NotSubmitted(_Frozen):
    """A write a dry run did not submit, with what its form was given."""

    step: str = Field(description="where the write is in its flow, e.g. 'steps[2].repeat_until.steps[3].if.steps[2]"
                                  ".click' (a called flow's steps start with its name)")
    name: str | None = Field(None, description="the step's `name`")
    target: str | None = Field(None, description="the control it would have clicked (or filled)")
    url: str | None = Field(None, description="the page it was on")
    fields: tuple[EnteredValue, ...] = Field((), description="the values entered since the page was opened (or the "
                                                             "previous write), in order")


class SkippedByDryRun(_Frozen):
    step: str
    why: str


class DryRunReport(_Frozen):
    """What a dry run (`robots run --dry-run`) did not do."""

    not_submitted: tuple[NotSubmitted, ...] = ()
    skipped: tuple[SkippedByDryRun, ...] = Field((), description="steps skipped because they depend on a write "
                                                                 "not submitted (a read-back, a probe, ...)")
    outputs_not_set: tuple[str, ...] = Field((), description="declared outputs no step could set without the writes")


class RunRecord(_Frozen):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    flow_name: str
    flow_path: str
    flow_sha256: str
    trigger: Literal["cli", "schedule", "api", "bdd", "test"] = "cli"
    portal_url: str | None = None
    browser: dict[str, str] | None = Field(None, description="kind, version and driver_version")
    inputs: dict[str, Any] = Field(default_factory=dict, description="vars; secrets are never stored")
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None = None
    steps: tuple[StepRecord, ...] = ()
    outputs: dict[str, Any] = Field(default_factory=dict)
    error_class: str | None = None
    error_message: str | None = None
    failure_kind: Literal["business", "technical", "input", "scrape_drift", "portal_throttled"] | None = None
    error_location: ErrorLocation | None = Field(None, description="the flow file, line and step the error came from")
    evidence: tuple[Evidence, ...] = ()
    run_dir: str | None = Field(default=None, description="folder holding evidence and process files")
    pages: int = 0
    rows: int = 0
    dry_run: DryRunReport | None = Field(None, description="set for a dry run: what it did not submit")

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()
