"""The world a scenario's steps share (World, the `robots_bdd` fixture), the `_step` decorator that registers
and documents a step, and the helpers the steps use (tables, dotted fields, comparisons)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pytest_bdd import given, parsers, then, when
from pytest_bdd.exceptions import StepDefinitionNotFoundError

from robots import load_flow
from robots.flow.model import StepCall
from robots.packs.sera import DATA
from robots.portals import Portal
from robots.records import SqlStore
from robots.records.model import RunRecord, StepRecord
from robots.run import Listener
from robots.run.launch import prepare_run
from robots.settings import settings
from robots.steps.signin import forget_accepted_codes

#: environment: run against this portal instead of starting the sandbox (set by `robots bdd --portal-url`)
PORTAL_URL_ENV = "ROBOTS_BDD_PORTAL_URL"
#: environment: flows, selectors and relative paths in features are found from here (default: pytest's rootdir)
BASE_ENV = "ROBOTS_BDD_BASE"
#: environment: a JSON-lines file that receives one event per scenario and step (the HTML report reads it)
EVENTS_ENV = "ROBOTS_BDD_EVENTS"


@dataclass(frozen=True)
class StepDoc:
    kind: str  # given | when | then
    pattern: str
    example: str
    doc: str

    def line(self) -> str:
        return f"{self.kind.capitalize()} {self.pattern}"


#: every step of the library, in the order defined (what `robots bdd steps` prints)
STEPS: list[StepDoc] = []

_DECORATORS = {"given": given, "when": when, "then": then}


def _step(kind: str, pattern: str, example: str, *, target_fixture: str | None = None) -> Callable[..., Any]:
    """Registers a pytest-bdd step (parsed when the pattern has {fields}) and documents it with an example."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        STEPS.append(StepDoc(kind, pattern, example, " ".join((fn.__doc__ or "").split())))
        matcher: Any = parsers.parse(pattern) if "{" in pattern else pattern
        # stacklevel 2: the step fixture goes into the namespace of the module defining the step, not deco's locals
        return _DECORATORS[kind](matcher, target_fixture=target_fixture, stacklevel=2)(fn)

    return deco


# -- the world: one per scenario ---------------------------------------------------------------------------


@dataclass
class _Revisit(Listener):
    """Calls `action` once, just before the top-level step `where` (e.g. "steps[3]") starts."""

    where: str
    action: Callable[[], None]
    done: bool = False
    #: the top-level steps of the flow being run (World.run sets them): a called flow's steps, and those of a
    #: sign-in run again mid-flow, have `where`s of their own ("steps[3]" of sign_in.yaml is not the run's)
    top: tuple[StepCall, ...] = ()

    def step_started(self, call: StepCall, index: int) -> None:
        if not self.done and call.where == self.where and any(call is c for c in self.top):
            self.done = True
            self.action()


@dataclass
class World:
    """What a scenario has set up and what its runs produced. Steps share it through the `robots_bdd` fixture."""

    portal_url: str  # the base URL (tenant "acme"); other tenants live under /t/<tenant>
    is_sandbox: bool
    home: Path  # shared by every scenario of the session: its store keeps the signed-in sessions
    base: Path
    tenant: str = "acme"
    secrets: dict[str, str] = field(default_factory=dict)
    sso: bool = False
    vars: dict[str, Any] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)  # page interactions not run yet
    reads: dict[str, str] = field(default_factory=dict)  # selector -> step id of its read_text
    record: RunRecord | None = None
    last_vars: dict[str, Any] = field(default_factory=dict)
    records: list[RunRecord] = field(default_factory=list)
    scenario_steps: list[str] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  # run when the scenario ends, last first
    clock_span: tuple[str, str] = ("", "")  # the sandbox clock's minutes (UTC ISO) before and after the last run
    extra: dict[str, Any] = field(default_factory=dict)  # what the schedule and API steps keep between steps

    # -- the portal ---------------------------------------------------------------------------------
    @property
    def tenant_url(self) -> str:
        return self.portal_url if self.tenant == "acme" else f"{self.portal_url}/t/{self.tenant}"

    def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A sandbox control endpoint (`/_sandbox/...`); changes to the sandbox make the next scenario reset it."""
        if not self.is_sandbox:
            raise AssertionError(f"this step needs the sandbox portal's control endpoints; {self.portal_url} "
                                 "is not the sandbox")
        if method != "GET":
            _STATE["dirty"] = True
        response = httpx.request(method, f"{self.portal_url}/_sandbox/{path}", json=body, timeout=30)
        if response.status_code >= 400:
            raise AssertionError(f"sandbox {method} /_sandbox/{path}: {response.text}")
        return response.json()

    def path(self, name: str) -> Path:
        """A path a feature names: as it is when absolute, else from the base folder (where `robots bdd` runs), else
        from the pack's data (DATA: its flows/sera/, selectors/sera/), so that an installed pack's features run
        from any folder."""
        p = Path(name)
        if p.is_absolute():
            return p
        return self.base / p if (self.base / p).exists() or not (DATA / p).exists() else DATA / p

    # -- runs -----------------------------------------------------------------------------------------
    def run(self, flow_path: Path, vars: dict[str, Any] | None = None) -> RunRecord:
        flow = load_flow(flow_path)
        self.last_vars = dict(vars or {})
        for each in self.listeners:
            if isinstance(each, _Revisit):
                each.top = flow.steps
        listener = _Fanout(self.listeners)
        store = SqlStore(f"sqlite:///{self.home / 'robots.db'}")
        before = self._clock_minute()
        try:
            with prepare_run(flow, trigger="bdd", home=self.home, store=store, portal_url=self.tenant_url,
                             adapt_portal=self._for_tenant, secrets=lambda portal: dict(self.secrets or {}),
                             listener=listener, vars={**self.vars, **(vars or {})}) as launch:
                record = launch.run()
        finally:
            store.close()
        self.record = record
        self.records.append(record)
        self.clock_span = (before, self._clock_minute())
        if self.is_sandbox and not _STATE["dirty"] and any(self.control("GET", "writes")["writes"].values()):
            _STATE["dirty"] = True  # a write flow changed the data: the next scenario starts from the snapshot
        return record

    def _clock_minute(self) -> str:
        """The sandbox clock to the minute, as the portal's pages show times ('' when not the sandbox)."""
        if not self.is_sandbox:
            return ""
        from datetime import UTC, datetime

        now = datetime.fromisoformat(httpx.get(f"{self.portal_url}/_sandbox/clock", timeout=30).json()["now"])
        return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")

    def _for_tenant(self, portal: Portal) -> Portal:
        if not self.is_sandbox or self.tenant == portal.tenant:
            return portal
        from robots.packs.sera.sandbox import TENANTS

        return replace(portal, tenant=self.tenant, time_zone=TENANTS[self.tenant].time_zone)

    def run_actions(self) -> RunRecord:
        """Runs the page interactions gathered so far as one flow: the sign-in, the interactions, then a
        read of every element a later Then step of the scenario looks at."""
        for text in self.scenario_steps:
            m = _ELEMENT_THEN.search(text)
            if m and m.group(1) not in self.reads:
                self.reads[m.group(1)] = f"read_{len(self.reads)}"
        sign_in = self.path(f"flows/sera/{'sign_in_sso' if self.sso else 'sign_in'}.yaml")
        steps: list[dict[str, Any]] = [{"call": str(sign_in)}, *self.actions]
        steps += [{"read_text": {"id": sid, "target": target}} for target, sid in self.reads.items()]
        if self.reads:
            steps.append({"set_output": {sid: "{{ steps." + sid + ".output }}" for sid in self.reads.values()}})
        doc = {"name": "bdd_page_steps", "portal": "sera", "selectors": str(self.path("selectors/sera")),
               "outputs": list(self.reads.values()), "steps": steps}
        folder = self.home / "generated"
        folder.mkdir(exist_ok=True)
        target = folder / f"page_steps_{len(self.records)}.yaml"
        target.write_text(yaml.safe_dump(doc, sort_keys=False))
        self.actions = []
        return self.run(target)

    def last(self) -> RunRecord:
        if self.actions:
            self.run_actions()
        if self.record is None:
            raise AssertionError("no flow has run in this scenario yet (add a `When I run the flow ...` step)")
        return self.record

    def output(self, name: str) -> Any:
        outputs = self.last().outputs
        if name not in outputs:
            singular = name[:-1] if name.endswith("s") else name
            name = next((k for k in outputs if k in (singular, name + "s")), name)
        if name not in outputs:
            raise AssertionError(f"the run has no output '{name}'; it has {', '.join(outputs) or 'none'}")
        return outputs[name]


class _Fanout(Listener):
    def __init__(self, listeners: list[Listener]):
        self.listeners = listeners

    def step_started(self, call: StepCall, index: int) -> None:
        for listener in self.listeners:
            listener.step_started(call, index)

    def step_finished(self, record: StepRecord) -> None:
        for listener in self.listeners:
            listener.step_finished(record)


_ELEMENT_THEN = re.compile(r'^"([\w.]+)" (?:shows|contains) "')
_STATE: dict[str, Any] = {"dirty": True, "world": None}


@pytest.fixture(scope="session")
def robots_bdd_portal(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """(base URL, is it the sandbox): ROBOTS_BDD_PORTAL_URL, else the session's sandbox (started here)."""
    url = settings().bdd_portal_url
    if url:
        try:
            is_sandbox = httpx.get(f"{url.rstrip('/')}/_sandbox/clock", timeout=10).status_code == 200
        except httpx.HTTPError:
            is_sandbox = False
        return url.rstrip("/"), is_sandbox
    return request.getfixturevalue("sandbox_server").url, True


@pytest.fixture(scope="session")
def robots_bdd_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One robots home (store, run folders) for the whole session, so runs restore each other's sessions."""
    return tmp_path_factory.mktemp("robots-bdd")


@pytest.fixture
def robots_bdd(robots_bdd_portal: tuple[str, bool], robots_bdd_home: Path, request: pytest.FixtureRequest
               ) -> Iterator[World]:
    """The scenario's world. The sandbox is reset first when an earlier scenario changed it (faults, clock,
    revoked sessions, data), so that scenarios which only read keep their stored sessions."""
    url, is_sandbox = robots_bdd_portal
    base = settings().bdd_base or Path(request.config.rootpath)
    if is_sandbox and _STATE["dirty"]:
        httpx.post(f"{url}/_sandbox/reset", timeout=60).raise_for_status()
        forget_accepted_codes()  # the portal forgot the codes it accepted: the next sign-in need not wait them out
        _STATE["dirty"] = False
    world = World(portal_url=url, is_sandbox=is_sandbox, home=robots_bdd_home, base=base,
                  scenario_steps=list(_STATE.get("scenario_steps") or ()))
    world.secrets = _account_secrets("acme", "demo") if is_sandbox else {}
    _STATE["world"] = world
    try:
        yield world
    finally:
        _STATE["world"] = None
        for cleanup in reversed(world.cleanups):
            cleanup()


def _account_secrets(tenant: str, username: str) -> dict[str, str]:
    from robots.packs.sera.sandbox.accounts import TENANT_USERS

    users = TENANT_USERS.get(tenant)
    if users is None:
        raise AssertionError(f"unknown tenant '{tenant}'; the sandbox has {', '.join(TENANT_USERS)}")
    if username not in users:
        raise AssertionError(f"no account '{username}' in tenant '{tenant}'; it has {', '.join(users)}")
    u = users[username]
    return {"sera_username": u.username, "sera_password": u.password, "sera_totp": u.totp_secret,
            "sera_mfa_to": u.phone or u.email or "", "sera_sso_email": u.email or "",
            "sera_sso_password": u.password}



# -- helpers ------------------------------------------------------------------------------------------------


def _pairs(table: list[list[str]]) -> dict[str, str]:
    rows = table[1:] if table and [c.lower() for c in table[0]] in (["name", "value"], ["var", "value"]) else table
    if any(len(r) != 2 for r in rows):
        raise AssertionError("expected a table of | name | value | rows")
    return {k: v for k, v in rows}


def _items(world: World, item: str) -> list[dict[str, Any]]:
    out = world.last().outputs
    for key in (item, item + "s", item.replace(" ", "_") + "s", item[:-1] + "ies" if item.endswith("y") else item):
        if key in out:
            value = out[key]
            return value if isinstance(value, list) else [value]
    raise AssertionError(f"the run has no output of {item}s; it has {', '.join(out) or 'none'}")


def _get(record: Any, dotted: str) -> Any:
    value = record
    for part in dotted.split("."):
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _text(value: Any) -> str:
    """How a table cell spells a value: null is empty, booleans lower-case, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _compare(records: Any, table: list[list[str]], *, exact: bool, ordered: bool) -> None:
    """Compares records to a Gherkin table on the table's columns, in the four ways the Then steps offer."""
    records = records if isinstance(records, list) else [records]
    header, rows = table[0], table[1:]
    got = [[_text(_get(r, col)) for col in header] for r in records]

    def show(rs: list[list[str]]) -> str:
        return "\n".join("  | " + " | ".join(r) + " |" for r in rs[:20]) or "  (none)"

    problem = None
    if exact and ordered and got != rows:
        problem = "the records differ"
    elif exact and not ordered and sorted(got) != sorted(rows):
        problem = "the records differ (order ignored)"
    elif not exact and ordered:
        it = iter(got)
        missing = [r for r in rows if not any(g == r for g in it)]  # consumes `it`: order-aware
        problem = f"not found in this order: {missing[0]}" if missing else None
    elif not exact:
        missing = [r for r in rows if r not in got]
        problem = f"{len(missing)} rows not found, first {missing[0]}" if missing else None
    if problem:
        raise AssertionError(f"{problem}\nexpected:\n  | {' | '.join(header)} |\n{show(rows)}\n"
                             f"got ({len(got)} records):\n{show(got)}")


def closest_steps(text: str, kind: str | None = None, n: int = 3) -> list[str]:
    """The library's steps nearest to a step text, as `Given pattern` lines (for the unknown-step error):
    compared with each step's pattern and its example, quoted values blanked; steps of the same kind
    (Given/When/Then) first among equals."""

    def plain(t: str) -> str:
        return re.sub(r'"[^"]*"', '""', re.sub(r"\{[^}]*\}", "", t)).lower()

    wanted = plain(text)
    scores: dict[str, float] = {}
    for doc in STEPS:
        example = doc.example.split("\n")[0].split(" ", 1)[1]
        score = max(difflib.SequenceMatcher(None, wanted, plain(t)).ratio() for t in (doc.pattern, example))
        score += 0.05 if kind and doc.kind == kind.lower() else 0
        scores[doc.line()] = max(score, scores.get(doc.line(), 0))
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    return [line for line, score in ranked[:n] if score >= 0.4]


class UnknownStep(StepDefinitionNotFoundError):
    """A step text that no step of the library (or of the suite) matches."""
