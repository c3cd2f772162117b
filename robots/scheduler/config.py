"""Schedule files: `schedules/*.yaml`, a list of robots (a flow, its vars and secrets, a trigger and the rules
for unattended runs), validated like flows: every problem with file:line:column, and every referenced
flow validated too."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from robots.errors import FlowError, FlowIssue
from robots.flow.yamlsrc import Located, load_located, read_source

SCHEDULE_FILE = "a schedule file"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> Any:
    """90, '90s', '15m', '2h', '1d' -> seconds (float). Other values are left for pydantic to reject."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value)
        if not m:
            raise ValueError(f"expected a duration such as 30, '90s', '15m', '2h' or '1d', got {value!r}")
        return float(m.group(1)) * _UNITS[m.group(2) or "s"]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Trigger(_Model):
    """Exactly one of `cron` (crontab, with `time_zone`), `interval` (a duration) or `date` (once)."""

    cron: str | None = None
    interval: Duration | None = None
    date: datetime | None = None
    time_zone: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("unknown time zone (use an IANA name such as America/Chicago)") from None
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        kinds = [k for k in ("cron", "interval", "date") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a trigger needs exactly one of cron, interval or date"
                             + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.cron is not None:
            if self.time_zone is None:
                raise ValueError("a cron trigger needs a time_zone (e.g. America/Chicago): 02:00 where?")
            try:
                self.build()
            except ValueError as e:
                raise ValueError(f"invalid cron expression {self.cron!r}: {e}") from None
        if self.date is not None and self.date.tzinfo is None and self.time_zone is None:
            raise ValueError("a date trigger needs a time_zone, or an offset in the date")
        return self

    def build(self) -> Any:
        """The APScheduler trigger."""
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.date import DateTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.cron is not None:
            fields = self.cron.split()
            if len(fields) != 5:
                raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
            minute, hour, day, month, weekday = fields
            return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=crontab_weekdays(weekday),
                               timezone=self.time_zone)
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval, timezone=self.time_zone or "UTC")
        return DateTrigger(self.date, timezone=self.time_zone or "UTC")

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron} ({self.time_zone})"
        if self.interval is not None:
            return f"every {_human(self.interval)}"
        assert self.date is not None
        return f"once at {self.date.isoformat()}" + (f" ({self.time_zone})" if self.time_zone else "")


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field (0 and 7 are Sunday) as APScheduler 3 reads it (where 0 is Monday: its
    `from_crontab` keeps that historical mismatch), by naming the days: '1-5' -> 'mon,tue,wed,thu,fri'."""
    if not any(c.isdigit() for c in field):
        return field  # '*', names and name ranges mean the same to both
    days: list[str] = []
    for token in field.split(","):
        m = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", token)
        if not m:
            raise ValueError(f"weekday {token!r}: use numbers 0-7 (0 and 7 are Sunday) or names, not both")
        start, end, step = m.groups()
        low = 0 if start == "*" else int(start)
        high = 6 if start == "*" else int(end) if end is not None else (7 if step else low)
        if high > 7 or low > high:
            raise ValueError(f"weekday {token!r}: use 0-7 (0 and 7 are Sunday)")
        days += [_WEEKDAYS[d % 7] for d in range(low, high + 1, int(step or 1))]
    return ",".join(dict.fromkeys(days))


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


class Retry(_Model):
    """Technical failures only: `attempts` runs at most, waiting `backoff` before the second and twice as long
    before each one after it."""

    attempts: int = Field(1, ge=1, le=20)
    backoff: Duration = 60.0


NotifyOn = Literal["failure", "recovery", "drift"]
NOTIFY_ON: tuple[NotifyOn, ...] = ("failure", "recovery", "drift")


class Notify(_Model):
    """Where failure, recovery and drift go (once per change of state, not on every failed run)."""

    webhooks: list[str] = Field(default_factory=list)
    command: str | None = None
    events: list[NotifyOn] = Field(default_factory=lambda: list(NOTIFY_ON))

    @field_validator("webhooks")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.match(r"https?://[^/\s]+", url):
                raise ValueError(f"a webhook must be an http:// or https:// URL, got {url!r}")
        return value

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                words = shlex.split(value)
            except ValueError as e:
                raise ValueError(f"the command cannot be split into words: {e}") from None
            if not words:
                raise ValueError("the command is empty")
        return value


class RobotDoc(_Model):
    """One robot as written in a schedule file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    flow: str
    vars: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] | list[str] = Field(default_factory=dict)
    trigger: Trigger
    max_runtime: Duration | None = 3600.0
    retry: Retry = Field(default_factory=Retry)
    misfire_grace: Duration | None = 60.0
    coalesce: bool = True
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    notify: Notify = Field(default_factory=Notify)
    description: str | None = None


class Robot(_Model):
    """A validated robot: its document plus where it came from and what its flow is."""

    doc: RobotDoc
    source: str  # the schedule file
    flow_path: str  # absolute
    flow_name: str
    flow_sha256: str

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def secret_map(self) -> dict[str, str]:
        """The flow's secret name -> the name it is stored under (the same when the robot lists names)."""
        s = self.doc.secrets
        return {n: n for n in s} if isinstance(s, list) else dict(s)

    @property
    def schedule_sha256(self) -> str:
        """What the scheduler's job depends on: a change replaces the job (other fields are read at each run)."""
        d = self.doc
        key = {"trigger": d.trigger.model_dump(mode="json"), "misfire_grace": d.misfire_grace,
               "coalesce": d.coalesce, "enabled": d.enabled}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Robot:
        return cls.model_validate_json(text)


def _issues(located: Located, e: ValidationError, base: tuple, wh: str) -> list[FlowIssue]:
    from robots.flow.issues import pydantic_issues

    issues = pydantic_issues(located, e, base, wh, RobotDoc, "key")
    # Our validators' messages already say what was found: drop the generic ", got ..." pydantic_issues adds.
    for n, err in enumerate(e.errors()):
        if err["type"] == "value_error" and "error" in err.get("ctx", {}):
            issue = issues[n]
            issues[n] = FlowIssue(issue.file, issue.line, issue.column, issue.where, str(err["ctx"]["error"]))
    return issues


def load_schedule(path: str | Path) -> list[Robot]:
    """The robots of one schedule file. Raises FlowError listing every problem (its flows' problems too)."""
    return load_schedules([path])


def schedule_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    return files


def load_schedules(paths: Iterable[str | Path]) -> list[Robot]:
    """The robots of several schedule files (or folders of them); names must be unique across all of them, and what
    their notifications need must resolve now (_Targets): `robots schedule validate` and the scheduler's start both
    load them here, so a schedule that validates starts."""
    issues: list[FlowIssue] = []
    robots: list[Robot] = []
    seen: dict[str, str] = {}
    flows_checked: dict[Path, Any] = {}
    targets = _Targets()
    for file in schedule_files(paths):
        located = _read_schedule(file, issues)
        if located is None:
            continue
        for i, item in enumerate(located.data):
            robot = _robot(located, file, i, item, seen, flows_checked, issues)
            if robot is not None:
                robots.append(robot)
                issues += targets.check(located, i, robot)
    if issues:
        raise FlowError(issues)
    return robots


def _read_schedule(file: Path, issues: list[FlowIssue]) -> Located | None:
    """The located list of robots of one schedule file, else None (its problems added to `issues`)."""
    shown = str(file)
    try:
        text = read_source(file, shown, SCHEDULE_FILE)
    except FlowError as e:  # over the size limit
        issues += e.issues
        return None
    except FileNotFoundError:
        issues.append(FlowIssue(shown, None, None, "", "no such schedule file"))
        return None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
        issues.append(FlowIssue(shown, None, None, "", f"cannot read the schedule file: {e}"))
        return None
    located, found = load_located(text, shown, SCHEDULE_FILE)
    issues += found
    if located is None:
        return None
    if not isinstance(located.data, list):
        issues.append(located.issue((), "", "a schedule file must be a list of robots (- name: ...)"))
        return None
    return located


def _robot(located: Located, file: Path, i: int, item: Any, seen: dict[str, str], flows_checked: dict[Path, Any],
           issues: list[FlowIssue]) -> Robot | None:
    """The robot at item `i` of a schedule file, else None (its problems, and its flow's, added to `issues`)."""
    wh = f"[{i}]"
    if not isinstance(item, dict):
        issues.append(located.issue((i,), wh, "a robot must be a mapping with name, flow and trigger"))
        return None
    name = item.get("name")
    if isinstance(name, str) and name in seen:
        issues.append(located.issue((i, "name"), f"{wh}.name",
                                    f"robot '{name}' is defined twice (first in {seen[name]})"))
    elif isinstance(name, str):
        line = located.pos((i,))[0]
        seen[name] = f"{located.file}:{line}" if line else located.file
    doc: RobotDoc | None = None
    try:
        doc = RobotDoc.model_validate(item)
    except ValidationError as e:
        issues += _issues(located, e, (i,), wh)
    raw_flow = item.get("flow")
    if not isinstance(raw_flow, str):
        return None
    flow_path = (file.parent / raw_flow).resolve()
    flow = _checked_flow(located, i, raw_flow, flow_path, flows_checked, issues)
    if flow is None or doc is None:
        return None
    problems = len(issues)
    _check_inputs(located, i, flow, doc, issues)
    if len(issues) != problems:
        return None
    return Robot(doc=doc, source=str(file.resolve()), flow_path=str(flow_path), flow_name=flow.name,
                 flow_sha256=flow.sha256)


def _checked_flow(located: Located, i: int, raw_flow: str, flow_path: Path, flows_checked: dict[Path, Any],
                  issues: list[FlowIssue]) -> Any:
    """The robot's flow, loaded once per schedule pass; None when invalid (its problems added once)."""
    from robots.flow.loader import load_flow

    if flow_path not in flows_checked:
        try:
            flows_checked[flow_path] = load_flow(flow_path)
        except FlowError as e:
            flows_checked[flow_path] = None
            n = len(e.issues)
            issues.append(located.issue((i, "flow"), f"[{i}].flow", f"the flow {raw_flow} is invalid "
                                        f"({n} problem{'s' if n != 1 else ''}, listed below)"))
            issues += e.issues
    return flows_checked[flow_path]


def _check_inputs(located: Located, i: int, flow: Any, doc: RobotDoc, issues: list[FlowIssue]) -> None:
    """The robot's vars resolve against its flow's, and every secret it gives is one the flow uses."""
    from robots.errors import VarsError, suggest
    from robots.flow.vars import resolve_vars

    wh = f"[{i}]"
    try:
        resolve_vars(flow, doc.vars)
    except VarsError as e:  # each problem where it is: a given value at its own place, the others at `vars:`
        for p in e.problems:
            at = (i, "vars", p.var) if p.var in doc.vars and p.var in flow.vars else (i, "vars")
            issues.append(located.issue(at, f"{wh}.vars" + (f".{p.var}" if len(at) == 3 else ""), p.message))
    declared = set(flow.all_secrets())
    given = doc.secrets if isinstance(doc.secrets, list) else list(doc.secrets)
    for j, name in enumerate(given):
        if name not in declared:
            key = (i, "secrets", j) if isinstance(doc.secrets, list) else (i, "secrets", name)
            issues.append(located.issue(key, f"{wh}.secrets", f"the flow does not use a secret '{name}'"
                                        f"{suggest(name, sorted(declared))}; it uses: "
                                        f"{', '.join(sorted(declared)) or 'none'}",
                                        key=not isinstance(doc.secrets, list)))


class _Targets:
    """What a robot's notifications need, checked when its schedule is loaded: the webhook signing secret (once, for
    the first robot with webhooks), each webhook URL (robots.netguard: its host resolves to an address the outbound
    allow-list lets through, as a delivery checks again), and each notify command's program."""

    def __init__(self) -> None:
        self.secret_checked = False
        self._guard: Any = None

    def check(self, located: Located, i: int, robot: Robot) -> list[FlowIssue]:
        from robots.errors import SecretNotFound
        from robots.netguard import NetGuard, TargetRefused
        from robots.outbox import signing_secret

        notify, wh = robot.doc.notify, f"[{i}].notify"
        issues: list[FlowIssue] = []
        if notify.webhooks and not self.secret_checked:
            self.secret_checked = True
            try:
                signing_secret(required=True)
            except SecretNotFound as e:
                issues.append(located.issue((i, "notify", "webhooks"), f"{wh}.webhooks", str(e)))
        for j, url in enumerate(notify.webhooks):
            self._guard = self._guard or NetGuard.from_env()
            try:
                self._guard.check_url(url)
            except TargetRefused as e:
                issues.append(located.issue((i, "notify", "webhooks", j), f"{wh}.webhooks.{j}", str(e)))
        if notify.command:
            problem = _program_problem(shlex.split(notify.command)[0], Path(robot.source).parent)
            if problem:
                issues.append(located.issue((i, "notify", "command"), f"{wh}.command", problem))
        return issues


def _program_problem(program: str, folder: Path) -> str | None:
    """Why a notify command's program cannot be started (it runs in the schedule file's folder), else None."""
    import os
    import shutil

    if "/" not in program:
        if shutil.which(program) is None:
            return f"the notify command's program '{program}' is not in any folder of PATH"
        return None
    path = folder / program
    if not path.is_file() or not os.access(path, os.X_OK):
        return f"the notify command's program {program} is not an executable file (looked for {path})"
    return None
