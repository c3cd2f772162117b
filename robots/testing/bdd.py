"""The Gherkin step library for QA: pytest-bdd steps that run Sera flows against the sandbox and check what came out.

Use it from `.feature` files alone: bind them with `scenarios("features/")` in a test module and load the steps
with `from robots.testing.bdd import *` in a conftest (or `pytest_plugins = ["robots.testing.bdd"]` in the root
conftest). `robots bdd` does both for you; `robots bdd steps` lists every step with an example.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pytest_bdd import given, parsers, then, when
from pytest_bdd.exceptions import StepDefinitionNotFoundError

from robots import load_flow
from robots.flow.model import StepCall
from robots.portals import Portal
from robots.records import SqlStore
from robots.records.model import RunRecord, StepRecord
from robots.run import Listener
from robots.run.launch import prepare_run
from robots.settings import settings
from robots.steps.signin import forget_accepted_codes

pytest_plugins = ["robots.testing.fixtures"]

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
        # stacklevel 2: the step fixture goes into this module's namespace, not into deco's locals
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
        p = Path(name)
        return p if p.is_absolute() else self.base / p

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
                             listener=listener) as launch:
                record = launch.run(vars={**self.vars, **(vars or {})})
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
        from robots.sandbox import TENANTS

        return replace(portal, tenant=self.tenant, time_zone=TENANTS[self.tenant].time_zone)

    def run_actions(self) -> RunRecord:
        """Runs the page interactions gathered so far as one flow: the sign-in, the interactions, then a
        read of every element a later Then step of the scenario looks at."""
        for text in self.scenario_steps:
            m = _ELEMENT_THEN.search(text)
            if m and m.group(1) not in self.reads:
                self.reads[m.group(1)] = f"read_{len(self.reads)}"
        sign_in = self.base / "flows" / "sera" / ("sign_in_sso.yaml" if self.sso else "sign_in.yaml")
        steps: list[dict[str, Any]] = [{"call": str(sign_in)}, *self.actions]
        steps += [{"read_text": {"id": sid, "target": target}} for target, sid in self.reads.items()]
        if self.reads:
            steps.append({"set_output": {sid: "{{ steps." + sid + ".output }}" for sid in self.reads.values()}})
        doc = {"name": "bdd_page_steps", "portal": "sera", "selectors": str(self.base / "selectors" / "sera"),
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
    from robots.sandbox.accounts import TENANT_USERS

    users = TENANT_USERS.get(tenant)
    if users is None:
        raise AssertionError(f"unknown tenant '{tenant}'; the sandbox has {', '.join(TENANT_USERS)}")
    if username not in users:
        raise AssertionError(f"no account '{username}' in tenant '{tenant}'; it has {', '.join(users)}")
    u = users[username]
    return {"sera_username": u.username, "sera_password": u.password, "sera_totp": u.totp_secret,
            "sera_mfa_to": u.phone or u.email or "", "sera_sso_email": u.email or "",
            "sera_sso_password": u.password}


# -- Given: portal and account -----------------------------------------------------------------------------


@_step("given", "the sandbox Sera portal", "Given the sandbox Sera portal")
def _portal(robots_bdd: World) -> None:
    """The portal under test (the sandbox, or `--portal-url`); runs use the demo account (TOTP) unless a later
    step names another."""


@_step("given", "the sandbox Sera portal with its seeded customers",
       "Given the sandbox Sera portal with its seeded customers")
def _portal_seeded(robots_bdd: World) -> None:
    """The sandbox with its seeded data (every scenario starts from it; one that changed it resets it)."""


@_step("given", 'I am logged in to tenant "{tenant}" as the {role}',
       'Given I am logged in to tenant "acme" as the dispatcher')
def _logged_in_as_role(robots_bdd: World, tenant: str, role: str) -> None:
    """Runs sign in as the tenant's first account with that role (admin, dispatcher, csr, technician; password
    sign-in, whatever its second factor); a session stored by an earlier run is restored instead."""
    from robots.sandbox.accounts import TENANT_USERS

    users = [u for u in TENANT_USERS.get(tenant, {}).values()
             if u.role == role and not u.sso and not u.password_expired]
    if not users:
        raise AssertionError(f"tenant '{tenant}' has no {role} account that signs in with a password")
    robots_bdd.tenant, robots_bdd.sso = tenant, False
    robots_bdd.secrets = _account_secrets(tenant, users[0].username)


@_step("given", 'I am logged in to tenant "{tenant}" as "{username}"',
       'Given I am logged in to tenant "acme" as "casey"')
def _logged_in_as_user(robots_bdd: World, tenant: str, username: str) -> None:
    """Signs in as that account of the tenant (the sandbox's users: demo, dina, casey, tom, pat, sage)."""
    robots_bdd.tenant, robots_bdd.sso = tenant, False
    robots_bdd.secrets = _account_secrets(tenant, username)


@_step("given", 'I sign in with SSO as "{username}"', 'Given I sign in with SSO as "sage"')
def _sso(robots_bdd: World, username: str) -> None:
    """Page steps sign in through the identity provider (flows/sera/sign_in_sso.yaml) as this account."""
    robots_bdd.sso = True
    robots_bdd.secrets = _account_secrets(robots_bdd.tenant, username)


@_step("given", "no session is stored for me", "Given no session is stored for me")
def _afresh(robots_bdd: World) -> None:
    """Later runs use a robots home of their own: nothing to restore, so they sign in (and store nothing for
    the other scenarios)."""
    fresh = robots_bdd.home / "fresh"
    fresh.mkdir(exist_ok=True)
    robots_bdd.home = fresh / str(len(list(fresh.iterdir())))
    robots_bdd.home.mkdir()


@_step("given", 'the account\'s {secret} is "{value}"', 'Given the account\'s sera_password is "not-the-password"')
def _secret(robots_bdd: World, secret: str, value: str) -> None:
    """Overrides one secret of the account (a wrong password, another TOTP secret, an SSO password)."""
    if secret not in robots_bdd.secrets:
        raise AssertionError(f"unknown secret '{secret}'; the account has {', '.join(robots_bdd.secrets)}")
    robots_bdd.secrets[secret] = value


@_step("given", "the flow vars:", "Given the flow vars:\n  | q | smith |")
def _vars(robots_bdd: World, datatable: list[list[str]]) -> None:
    """Vars for every later run of the scenario, one `| name | value |` row each."""
    robots_bdd.vars.update(_pairs(datatable))


# -- Given: sandbox faults, clock and sessions ------------------------------------------------------------


@_step("given", "the portal answers {percent:d}% of requests with errors",
       "Given the portal answers 10% of requests with errors")
def _errors(robots_bdd: World, percent: int) -> None:
    """The sandbox's `server_error` fault on every page (its HTML 500), for that share of requests."""
    robots_bdd.control("POST", "faults", {"name": "server_error", "percent": percent})


@_step("given", 'the portal answers {percent:d}% of requests to "{path}" with errors',
       'Given the portal answers 30% of requests to "/customers" with errors')
def _errors_on(robots_bdd: World, percent: int, path: str) -> None:
    """The `server_error` fault on pages under one path prefix."""
    robots_bdd.control("POST", "faults", {"name": "server_error", "percent": percent, "paths": [path]})


@_step("given", 'the portal has the fault "{name}"', 'Given the portal has the fault "whats_new"')
def _fault(robots_bdd: World, name: str) -> None:
    """Any sandbox fault by name (latency, server_error, rate_limit, session_revocation, whats_new,
    cookie_banner, maintenance, layout_b, slow_commit) with its default parameters."""
    robots_bdd.control("POST", "faults", {"name": name})


@_step("given", 'the portal has the fault "{name}" with:', 'Given the portal has the fault "latency" with:\n'
       "  | ms    | 300          |\n  | paths | /customers |")
def _fault_with(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """A sandbox fault with parameters, one `| name | value |` row each (`paths` comma-separated)."""
    body: dict[str, Any] = {"name": name}
    for key, value in _pairs(datatable).items():
        body[key] = [p.strip() for p in value.split(",")] if key == "paths" else float(value)
    robots_bdd.control("POST", "faults", body)


@_step("given", "the portal shows layout variant B", "Given the portal shows layout variant B")
def _layout_b(robots_bdd: World) -> None:
    """Every first-choice selector of selectors/sera renamed or moved: flows must pass through fallbacks."""
    robots_bdd.control("POST", "faults", {"name": "layout_b"})


@_step("given", "the portal's clock moves on {minutes:d} minutes", "Given the portal's clock moves on 31 minutes")
def _clock(robots_bdd: World, minutes: int) -> None:
    """Moves the sandbox clock now (sessions idle out after 30, codes expire after 5) instead of waiting."""
    robots_bdd.control("POST", "clock", {"advance": minutes * 60})


@_step("given", 'the portal\'s clock moves on {minutes:d} minutes before step "{where}"',
       'Given the portal\'s clock moves on 31 minutes before step "steps[3]"')
def _clock_mid_flow(robots_bdd: World, minutes: int, where: str) -> None:
    """Moves the clock while the next run is going, just before its top-level step `where` starts (the
    session idles out mid-flow). Sign in with an SMS or e-mail account then: the robot's TOTP codes follow
    real time, not the moved clock."""
    robots_bdd.listeners.append(_Revisit(where, lambda: robots_bdd.control("POST", "clock", {"advance": minutes * 60})))


@_step("given", 'the portal ends my session before step "{where}"',
       'Given the portal ends my session before step "steps[3]"')
def _revoke_mid_flow(robots_bdd: World, where: str) -> None:
    """Revokes every session while the next run is going, just before its top-level step `where`."""
    robots_bdd.listeners.append(_Revisit(where, lambda: robots_bdd.control("POST", "sessions/revoke", {})))


@_step("given", "the portal has ended every session", "Given the portal has ended every session")
def _revoke(robots_bdd: World) -> None:
    """Revokes every session now (stored sessions are dead: the next run signs in again)."""
    robots_bdd.control("POST", "sessions/revoke", {})


# -- When: runs and page interactions --------------------------------------------------------------------


@_step("when", 'I run the flow "{flow}"', 'When I run the flow "flows/sera/list_customers.yaml"')
def _run(robots_bdd: World, flow: str) -> None:
    """Runs a flow (its path from the project's root) with the account and vars set so far."""
    robots_bdd.run(robots_bdd.path(flow))


@_step("when", 'I run the flow "{flow}" with:', 'When I run the flow "flows/sera/get_customer.yaml" with:\n'
       "  | id | 1003 |")
def _run_with(robots_bdd: World, flow: str, datatable: list[list[str]]) -> None:
    """Runs a flow with vars from a table, one `| name | value |` row each."""
    robots_bdd.run(robots_bdd.path(flow), _pairs(datatable))


@_step("when", 'I run the flow "{flow}" again', 'When I run the flow "flows/sera/list_customers.yaml" again')
def _run_again(robots_bdd: World, flow: str) -> None:
    """Runs the flow once more with the vars of its last run (in the same robots home: the stored session is
    restored)."""
    earlier = [r for r in robots_bdd.records if Path(r.flow_path).resolve() == robots_bdd.path(flow).resolve()]
    robots_bdd.run(robots_bdd.path(flow), robots_bdd.last_vars if earlier else None)


@_step("when", 'I open "{path}"', 'When I open "/customers?q=smith"')
def _open(robots_bdd: World, path: str) -> None:
    """Page steps: open a portal page (a path under the tenant's URL). Page steps run as one flow, signed in,
    when the first Then step needs their result."""
    robots_bdd.actions.append({"open": "{{ portal.url }}" + path})


@_step("when", 'I fill "{target}" with "{value}"', 'When I fill "customers.search" with "smith"')
def _fill(robots_bdd: World, target: str, value: str) -> None:
    """Page steps: type into the element a catalog names (`page.name` from selectors/sera)."""
    robots_bdd.actions.append({"fill": {"target": target, "value": value}})


@_step("when", 'I press "{key}" in "{target}"', 'When I press "Enter" in "customers.search"')
def _press(robots_bdd: World, key: str, target: str) -> None:
    """Page steps: press a key (Enter, Tab, ...) in an element."""
    robots_bdd.actions.append({"press": {"target": target, "key": key}})


@_step("when", 'I click "{target}"', 'When I click "customers.next_page"')
def _click(robots_bdd: World, target: str) -> None:
    """Page steps: click the element a catalog names."""
    robots_bdd.actions.append({"click": target})


@_step("when", 'I select "{option}" in "{target}"', 'When I select "Commercial" in "customers.type"')
def _select(robots_bdd: World, option: str, target: str) -> None:
    """Page steps: choose an option (by its text) of a select element."""
    robots_bdd.actions.append({"select": {"target": target, "option": option}})


@_step("when", 'I wait until "{target}" shows "{text}"', 'When I wait until "customers.summary" shows "Showing"')
def _wait_text(robots_bdd: World, target: str, text: str) -> None:
    """Page steps: wait (up to the step timeout) until the element's text contains `text`."""
    robots_bdd.actions.append({"wait_for": {"target": target, "text": text}})


# -- Then: the run record ---------------------------------------------------------------------------------


def _status_line(record: RunRecord) -> str:
    steps = ", ".join(f"{s.name}: {s.status}" for s in record.steps if s.status != "passed")
    return f"the run {record.status}: {record.error_class}: {record.error_message} ({steps or 'every step passed'})"


@_step("then", "the run passed", "Then the run passed")
def _passed(robots_bdd: World) -> None:
    """The last run's status is `passed`."""
    record = robots_bdd.last()
    assert record.status == "passed", _status_line(record)


@_step("then", 'the run failed with "{message}"', 'Then the run failed with "login rejected: Invalid username or '
       'password."')
def _failed_with(robots_bdd: World, message: str) -> None:
    """A business failure (the portal said no) with exactly this message."""
    record = robots_bdd.last()
    assert (record.status, record.failure_kind, record.error_message) == ("failed", "business", message), \
        _status_line(record)


@_step("then", 'the run errored with "{message}"', 'Then the run errored with "the portal ended the session again '
       'during steps[3].open; a run signs in again only once"')
def _errored_with(robots_bdd: World, message: str) -> None:
    """A technical failure (timeout, drift, lost session) with exactly this message."""
    record = robots_bdd.last()
    assert (record.status, record.failure_kind, record.error_message) == ("errored", "technical", message), \
        _status_line(record)


@_step("then", 'the run status is "{status}"', 'Then the run status is "failed"')
def _status(robots_bdd: World, status: str) -> None:
    """passed, failed, errored, interrupted, skipped or canceled."""
    record = robots_bdd.last()
    assert record.status == status, _status_line(record)


@_step("then", 'the failure class is "{name}"', 'Then the failure class is "CredentialsRejected"')
def _failure_class(robots_bdd: World, name: str) -> None:
    """The error class the run recorded (from robots/errors.py)."""
    record = robots_bdd.last()
    assert record.error_class == name, _status_line(record)


@_step("then", "a screenshot of the failing page was saved", "Then a screenshot of the failing page was saved")
def _screenshot(robots_bdd: World) -> None:
    """The failed step left a PNG screenshot in the run's folder."""
    record = robots_bdd.last()
    shots = [e.screenshot for e in record.evidence if e.screenshot]
    assert shots, f"the run saved no screenshot ({_status_line(record)})"
    assert (Path(record.run_dir or ".") / shots[0]).read_bytes()[:4] == b"\x89PNG"


@_step("then", 'the second factor was "{kind}"', 'Then the second factor was "totp"')
def _second_factor(robots_bdd: World, kind: str) -> None:
    """How the sign-in passed MFA: `totp`, `code` (SMS or e-mail, from the outbox), `none`, or `restored` (a
    stored session was restored: no sign-in at all)."""
    record = robots_bdd.last()
    names = [s.name for s in record.steps]
    if "session restored" in names:
        found = "restored"
    else:
        mfa = [s for s in record.steps if s.name.endswith(" mfa") and s.status == "passed"]
        found = (mfa[0].output_summary or "") if mfa else "no mfa step"
    assert found == kind, f"second factor: {found} (steps: {names})"


@_step("then", "the stored session was restored", "Then the stored session was restored")
def _restored(robots_bdd: World) -> None:
    """The run skipped the sign-in: the session an earlier run stored was alive and put into Chrome."""
    names = [s.name for s in robots_bdd.last().steps]
    assert "session restored" in names, names


@_step("then", "the run signed in again mid-flow", "Then the run signed in again mid-flow")
def _relogin(robots_bdd: World) -> None:
    """The portal ended the session during the run; it signed in again (`re-login: ...` steps) and went on."""
    names = [s.name for s in robots_bdd.last().steps]
    assert any(n.startswith("re-login: ") for n in names), names


@_step("then", "the run recorded selector drift", "Then the run recorded selector drift")
def _drift(robots_bdd: World) -> None:
    """At least one step needed a fallback selector candidate (recorded per step)."""
    record = robots_bdd.last()
    assert [s for s in record.steps if s.drift], "no step recorded drift"


@_step("then", 'the run recorded selector drift for "{selector}"', 'Then the run recorded selector drift for '
       '"customers.table"')
def _drift_for(robots_bdd: World, selector: str) -> None:
    """Some step's drift names this catalog entry."""
    drifts = [s.drift for s in robots_bdd.last().steps if s.drift]
    assert any(selector in d for d in drifts), f"drift recorded: {drifts}"


@_step("then", "no selector drift was recorded", "Then no selector drift was recorded")
def _no_drift(robots_bdd: World) -> None:
    """Every selector matched its first candidate."""
    drifts = [(s.name, s.drift) for s in robots_bdd.last().steps if s.drift]
    assert not drifts, drifts


@_step("then", 'the portal saw {count:d} requests to "{method} {path}"',
       'Then the portal saw 1 requests to "POST /login"')
def _requests(robots_bdd: World, count: int, method: str, path: str) -> None:
    """Counts the sandbox's request log since the scenario's reset (exact path)."""
    seen = [r for r in robots_bdd.control("GET", "requests") if (r["method"], r["path"]) == (method, path)]
    assert len(seen) == count, f"{len(seen)} requests to {method} {path}"


@_step("then", 'the portal recorded {count:d} writes of {entity}', 'Then the portal recorded 1 writes of invoices')
def _writes(robots_bdd: World, count: int, entity: str) -> None:
    """The sandbox's write counter for an entity (customers, work_orders, invoices, ...) in the scenario's
    tenant: a retried or repeated write that the portal saw twice shows here."""
    got = robots_bdd.control("GET", "writes")["writes"].get(robots_bdd.tenant, {}).get(entity, 0)
    assert got == count, f"{got} writes of {entity}"


# -- Then: outputs -----------------------------------------------------------------------------------------


@_step("then", "the output has {count:d} {name}", "Then the output has 2500 customers")
def _output_count(robots_bdd: World, count: int, name: str) -> None:
    """The length of a list output (`customers`, `work_orders`, ...)."""
    items = robots_bdd.output(name)
    assert len(items) == count, f"{len(items)} {name}"


@_step("then", "the run either errored with the failing page as evidence or returned all {count:d} {name}",
       "Then the run either errored with the failing page as evidence or returned all 896 customers")
def _never_short(robots_bdd: World, count: int, name: str) -> None:
    """A walk that met error pages is never silently short: it ended errored with a screenshot of the page it
    failed on, or (a page read again by opening it answered) it passed with the whole list, no record twice."""
    record = robots_bdd.record
    assert record is not None, "no flow was run"
    if record.status == "passed":
        items = robots_bdd.output(name)
        ids = [r["id"] for r in items]
        assert (len(items), len(set(ids))) == (count, count), f"{len(items)} {name}, {len(set(ids))} distinct"
        return
    assert record.status == "errored", f"the run {record.status}: {record.error_message}"
    assert [e for e in record.evidence if e.screenshot], "no screenshot of the failing page"


@_step("then", "the output has as many customers as the portal holds",
       "Then the output has as many customers as the portal holds")
def _as_many(robots_bdd: World) -> None:
    """The customer count the sandbox reports for the tenant (`/_sandbox/stats`)."""
    holds = robots_bdd.control("GET", f"stats?tenant={robots_bdd.tenant}")["customers"]
    assert len(robots_bdd.output("customers")) == holds


@_step("then", "no {item} appears twice", "Then no customer appears twice")
def _no_duplicates(robots_bdd: World, item: str) -> None:
    """No two records of the list output share an `id`."""
    ids = [r["id"] for r in _items(robots_bdd, item)]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    assert not dupes, f"{item}s listed more than once: {dupes[:10]}"


@_step("then", "every {item} has a {what} in cents", "Then every customer has a balance in cents")
def _in_cents(robots_bdd: World, item: str, what: str) -> None:
    """The field `<what>_cents` is a whole number in every record."""
    name = what.replace(" ", "_") + "_cents"
    bad = [r.get("id") for r in _items(robots_bdd, item) if type(r.get(name)) is not int]
    assert not bad, f"{len(bad)} {item}s without an integer {name}, e.g. {bad[:5]}"


@_step("then", 'every {item} has a "{field}" from "{values}"',
       'Then every customer has a "status" from "active, inactive, on_hold"')
def _closed_list(robots_bdd: World, item: str, field: str, values: str) -> None:
    """The field holds one of a comma-separated closed list in every record."""
    allowed = {v.strip() for v in values.split(",")}
    bad = sorted({str(_get(r, field)) for r in _items(robots_bdd, item)} - allowed)
    assert not bad, f"{field} values outside the list: {bad}"


@_step("then", 'every {item} has a "{field}"', 'Then every customer has a "source_url"')
def _has_field(robots_bdd: World, item: str, field: str) -> None:
    """The field (dotted for nested ones: `address.city`) is not null in any record."""
    bad = [r.get("id") for r in _items(robots_bdd, item) if _get(r, field) is None]
    assert not bad, f"{len(bad)} {item}s without {field}, e.g. {bad[:5]}"


@_step("then", 'every {item} in the {name} output has a "{field}"',
       'Then every assignment in the work_order output has a "completed_at"')
def _nested_has_field(robots_bdd: World, item: str, name: str, field: str) -> None:
    """The same for a list inside a record (`assignments`, `line_items`, ...); the list must not be empty."""
    records = robots_bdd.output(name)
    key = next((k for k in (item + "s", item) if isinstance(_get(records, k), list)), None)
    if key is None:
        raise AssertionError(f"the {name} output has no list of {item}s")
    items = _get(records, key)
    assert items, f"the {name} output's {key} is empty"
    bad = [i for i, r in enumerate(items) if _get(r, field) is None]
    assert not bad, f"{key} {bad} have no {field}"


@_step("then", 'every {item} matches "{field}" = "{value}"', 'Then every customer matches "type" = "commercial"')
def _every_equals(robots_bdd: World, item: str, field: str, value: str) -> None:
    """Every record's field, as text, equals the value (a filter's effect)."""
    bad = [r.get("id") for r in _items(robots_bdd, item) if _text(_get(r, field)) != value]
    assert not bad, f"{len(bad)} {item}s whose {field} is not {value!r}, e.g. {bad[:5]}"


@_step("then", 'the {name} output includes:', "Then the customers output includes:\n"
       "  | id   | name         |\n  | 1003 | Smith Heating |")
def _includes(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Subset, any order: each table row matches some record on the table's columns."""
    _compare(robots_bdd.output(name), datatable, exact=False, ordered=False)


@_step("then", 'the {name} output includes, in order:', "Then the customers output includes, in order:\n"
       "  | number  |\n  | C-10001 |\n  | C-10002 |")
def _includes_ordered(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Subset, order-aware: the rows match records in this order (others may come between)."""
    _compare(robots_bdd.output(name), datatable, exact=False, ordered=True)


@_step("then", 'the {name} output is exactly:', "Then the customers output is exactly:\n"
       "  | id   | city   |\n  | 1003 | Austin |")
def _exactly(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Exact, order-aware: the records, in order, are the table's rows (on the table's columns)."""
    _compare(robots_bdd.output(name), datatable, exact=True, ordered=True)


@_step("then", 'the {name} output is exactly, in any order:', "Then the customers output is exactly, in any order:\n"
       "  | id   |\n  | 1004 |\n  | 1003 |")
def _exactly_any_order(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """Exact, any order: the same rows as the records, as a multiset."""
    _compare(robots_bdd.output(name), datatable, exact=True, ordered=False)


@_step("then", 'the {name} output has "{field}" = "{value}"', 'Then the customer output has "address.city" = "Austin"')
def _field_equals(robots_bdd: World, name: str, field: str, value: str) -> None:
    """One field of a mapping output (dotted for nested: `locations.0.address.city`), as text."""
    got = _get(robots_bdd.output(name), field)
    assert _text(got) == value, f"{name}.{field} is {got!r}"


@_step("then", 'the output "{name}" is "{value}"', 'Then the output "voided_now" is "true"')
def _output_is(robots_bdd: World, name: str, value: str) -> None:
    """A scalar output, as text (true/false for flags, empty for null)."""
    got = robots_bdd.output(name)
    assert _text(got) == value, f"{name} is {got!r}"


@_step("then", '"{target}" shows "{text}"', 'Then "customers.summary" shows "Showing 1–50 of 2,500 customers"')
def _element_shows(robots_bdd: World, target: str, text: str) -> None:
    """Page steps: the element's text is exactly this (read after the page steps ran)."""
    assert _element(robots_bdd, target) == text


@_step("then", '"{target}" contains "{text}"', 'Then "customers.summary" contains "customers"')
def _element_contains(robots_bdd: World, target: str, text: str) -> None:
    """Page steps: the element's text contains this."""
    got = _element(robots_bdd, target)
    assert text in got, f"{target} reads {got!r}"


def _element(world: World, target: str) -> str:
    record = world.last()
    assert record.status == "passed", _status_line(record)
    return str(record.outputs[world.reads[target]])


# -- Given/Then: list vars, vars from outputs, secrets, timestamps, leaks ------------------------------------


@_step("given", 'the flow var "{name}" is the list:', 'Given the flow var "lines" is the list:\n'
       "  | code    | quantity | price  |\n  | DIA-100 | 1        |        |\n  | PAR-118 | 2        | 199.50 |")
def _list_var(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """A var that is a list of mappings (create_work_order's `lines`): the header names the keys, one row per
    item; an empty cell leaves that key out of its item."""
    header, rows = datatable[0], datatable[1:]
    robots_bdd.vars[name] = [{k: v for k, v in zip(header, row, strict=True) if v != ""} for row in rows]


@_step("given", 'the flow var "{name}" is the {output} output\'s "{field}"',
       'Given the flow var "id" is the membership output\'s "id"')
def _var_from_output(robots_bdd: World, name: str, output: str, field: str) -> None:
    """A var for later runs taken from the last run's output (a dotted field: `work_order.id`), so that a
    scenario can renew what it created."""
    value = _get(robots_bdd.output(output), field)
    if value is None:
        raise AssertionError(f"the {output} output has no '{field}'")
    robots_bdd.vars[name] = value


@_step("given", 'the secret "{name}" is "{value}"', 'Given the secret "sera_payment_method" is "pm_W2secretTok9Qx7"')
def _secret_value(robots_bdd: World, name: str, value: str) -> None:
    """A secret for later runs besides the account's (a payment method token): masked like every secret."""
    robots_bdd.secrets[name] = value


@_step("then", 'the {name} output\'s "{field}" is a time during the run',
       'Then the assignment output\'s "assigned_at" is a time during the run')
def _time_during_run(robots_bdd: World, name: str, field: str) -> None:
    """A timestamp the portal wrote during the last run: between the sandbox clock's minute before the run and
    its minute after it (the moved clock, not the wall clock)."""
    got = _get(robots_bdd.output(name), field)
    start, end = robots_bdd.clock_span
    if not start:
        raise AssertionError("this step needs the sandbox portal's clock")
    assert isinstance(got, str) and start <= got <= end, f"{name}.{field} is {got!r}; the run went from {start} " \
                                                         f"to {end} by the portal's clock"


@_step("then", '"{text}" appears in no output, record or file of the runs',
       'Then "pm_W2secretTok9Qx7" appears in no output, record or file of the runs')
def _nowhere(robots_bdd: World, text: str) -> None:
    """A secret leaked nowhere: not in any output of the scenario's runs, not in the run database, not in any
    file of their run folders (logs, reports, screenshots' sidecars), in any of its encodings."""
    from robots.masking import encodings

    forms = encodings(text)
    places: list[tuple[str, str]] = [(f"outputs of {r.run_id}", json.dumps(r.outputs, default=str))
                                     for r in robots_bdd.records]
    files = [robots_bdd.home / n for n in ("robots.db", "robots.db-wal")]
    files += [p for r in robots_bdd.records if r.run_dir for p in Path(r.run_dir).rglob("*")]
    places += [(str(p), p.read_bytes().decode("utf-8", "replace")) for p in files if p.is_file()]
    leaks = sorted({where for where, content in places for form in forms if form in content})
    assert not leaks, f"found in: {', '.join(leaks)}"


@_step("then", 'the {name} output\'s "{field}" are exactly:',
       "Then the work_order output's \"line_items\" are exactly:\n"
       "  | code    | quantity | unit_price_cents |\n  | DIA-100 | 1.0      | 20099            |")
def _nested_exactly(robots_bdd: World, name: str, field: str, datatable: list[list[str]]) -> None:
    """Exact, order-aware, on a list inside an output (a work order's `line_items`, `assignments`): the records,
    in order, are the table's rows (on the table's columns)."""
    _compare(_get(robots_bdd.output(name), field) or [], datatable, exact=True, ordered=True)


@_step("then", 'the {name} output has no "{field}"', 'Then the previous output has no "next_billing_date"')
def _output_lacks(robots_bdd: World, name: str, field: str) -> None:
    """A field of a mapping output is null, empty or missing (dotted: `billing.next_charge`)."""
    got = _get(robots_bdd.output(name), field)
    assert got in (None, "", []), f"{name}.{field} is {got!r}"


# -- scheduled robots ---------------------------------------------------------------------------------------


@_step("given", "the schedule:", 'Given the schedule:\n  """\n  - name: holder\n'
       "    flow: tests/bdd/flows/hold_briefly.yaml\n    trigger: {interval: 2}\n  \"\"\"")
def _schedule(robots_bdd: World, docstring: str) -> None:
    """A schedule file (robots, their flows and triggers) given as a docstring; flow paths from the project's
    root. `When the scheduler runs ...` runs it."""
    robots = yaml.safe_load(docstring)
    if not isinstance(robots, list):
        raise AssertionError("a schedule is a YAML list of robots")
    for robot in robots:
        if isinstance(robot, dict) and isinstance(robot.get("flow"), str):
            robot["flow"] = str(robots_bdd.path(robot["flow"]))
    n = 0
    while (robots_bdd.home / "schedules" / str(n)).exists():
        n += 1
    folder = robots_bdd.home / "schedules" / str(n)
    folder.mkdir(parents=True)
    (folder / "robots.yaml").write_text(yaml.safe_dump(robots, sort_keys=False))
    robots_bdd.extra["schedule"] = folder / "robots.yaml"


@_step("when", 'the scheduler runs until robot "{robot}" has finished {count:d} runs',
       'When the scheduler runs until robot "holder" has finished 2 runs')
def _scheduler_runs(robots_bdd: World, robot: str, count: int) -> None:
    """Runs `robots schedule run` on the schedule (a process of its own, with its own robots home and the
    scenario's account), waits (at most 4 minutes) until the robot has that many runs that ran to their end,
    then stops the scheduler with SIGTERM (a run still going finishes in its grace period)."""
    import signal
    import subprocess
    import sys
    import time

    from robots.auth.vault import env_name
    from robots.scheduler.state import Registry
    from robots.testing.helpers import cli_env

    schedule = robots_bdd.extra.get("schedule")
    if schedule is None:
        raise AssertionError("no schedule yet (add a `Given the schedule:` step)")
    home = schedule.parent / "home"
    env = cli_env(home, ROBOTS_PORTAL_URL=robots_bdd.tenant_url,
                  **{env_name(k): v for k, v in robots_bdd.secrets.items()})
    log = schedule.parent / "scheduler.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "schedule", "run", str(schedule), "--grace",
                                 "60"], stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True)

    def runs() -> list[RunRecord]:
        if not (home / "robots.db").exists():
            return []
        store = SqlStore(f"sqlite:///{home / 'robots.db'}")
        try:
            out = []
            for row in Registry(store.engine).runs(robot):
                try:
                    out.append(store.get(row.run_id))
                except LookupError:  # its process has not written the first record yet
                    pass
            return out
        finally:
            store.close()

    try:
        deadline = time.monotonic() + 240
        while len([r for r in runs() if r.status not in ("running", "skipped")]) < count:
            if proc.poll() is not None:
                raise AssertionError(f"the scheduler ended (exit {proc.returncode}): {log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after 240 s waiting for {count} runs of robot {robot}")
            time.sleep(0.2)  # back-off: the poll of a wait with a deadline
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    robots_bdd.extra[f"robot:{robot}"] = runs()
    robots_bdd.extra["scheduler_log"] = log.read_text()


def _robot_runs(world: World, robot: str) -> list[RunRecord]:
    if f"robot:{robot}" not in world.extra:
        raise AssertionError(f"robot {robot} has not been scheduled in this scenario")
    return list(world.extra[f"robot:{robot}"])


@_step("then", 'a fire of robot "{robot}" while it ran was recorded "{message}"',
       'Then a fire of robot "holder" while it ran was recorded "skipped (still running)"')
def _fire_skipped(robots_bdd: World, robot: str, message: str) -> None:
    """A fire that came while a run of the robot was going is a `skipped` record with exactly this message
    (and every fire skipped then says so)."""
    records = _robot_runs(robots_bdd, robot)
    ran = [r for r in records if r.status not in ("skipped", "running") and r.ended_at is not None]
    during = [r for r in records if r.status == "skipped"
              and any(x.started_at < r.started_at < x.ended_at for x in ran if x.ended_at)]
    assert during, f"no fire was recorded while a run went ({len(ran)} runs, " \
                   f"{len([r for r in records if r.status == 'skipped'])} skipped)"
    assert {r.error_message for r in during} == {message}, sorted({str(r.error_message) for r in during})


@_step("then", 'no two runs of robot "{robot}" overlap', 'Then no two runs of robot "holder" overlap')
def _no_overlap(robots_bdd: World, robot: str) -> None:
    """The runs that ran (not the skipped fires) follow each other: each starts after the one before ended."""
    ran = sorted((r for r in _robot_runs(robots_bdd, robot) if r.status != "skipped"), key=lambda r: r.started_at)
    for before, after in zip(ran, ran[1:], strict=False):
        assert before.ended_at is not None and before.ended_at <= after.started_at, \
            f"{after.run_id} started at {after.started_at} while {before.run_id} ran ({before.started_at} to " \
            f"{before.ended_at})"


@_step("then", 'every run of robot "{robot}" passed', 'Then every run of robot "holder" passed')
def _robot_passed(robots_bdd: World, robot: str) -> None:
    """Every run of the robot that ran (not the skipped fires) passed."""
    ran = [r for r in _robot_runs(robots_bdd, robot) if r.status != "skipped"]
    assert ran and all(r.status == "passed" for r in ran), [(r.run_id, r.status, r.error_message) for r in ran]


# -- the Sera API -----------------------------------------------------------------------------------------


@_step("given", "the Sera API is served", "Given the Sera API is served")
def _api_served(robots_bdd: World) -> None:
    """The Sera API (robots.api) served by uvicorn on a loopback port for this scenario, with a run store and
    robots home of its own; stopped when the scenario ends."""
    import socket
    import threading
    import time

    import uvicorn

    from robots.api import ApiSettings, create_app

    n = 0
    while (robots_bdd.home / "api" / str(n)).exists():
        n += 1
    folder = robots_bdd.home / "api" / str(n)
    folder.mkdir(parents=True)
    app = create_app(ApiSettings(database_url=f"sqlite:///{folder}/api.db", home=folder / "home",
                                 portal_url=robots_bdd.tenant_url, portal_tenant=robots_bdd.tenant))

    class _Server(uvicorn.Server):
        def capture_signals(self) -> Any:  # the test process keeps its own signal handlers
            import contextlib

            return contextlib.nullcontext()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bdd-api", daemon=True)
    thread.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=300)

    def stop() -> None:
        client.close()
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()

    robots_bdd.cleanups.append(stop)
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the API did not start")
        time.sleep(0.01)  # back-off while polling uvicorn's started flag
    robots_bdd.extra["api"] = client
    robots_bdd.extra["api_app"] = app
    robots_bdd.extra["api_answers"] = []


def _api(world: World) -> httpx.Client:
    if "api" not in world.extra:
        raise AssertionError("the API is not served in this scenario (add `Given the Sera API is served`)")
    client: httpx.Client = world.extra["api"]
    return client


@_step("given", "I have an API session for my account", "Given I have an API session for my account")
def _api_session(robots_bdd: World) -> None:
    """POST /sessions signs the scenario's account in to the portal (its TOTP secret as the second factor); the
    token it answers is sent with every later API request."""
    s = robots_bdd.secrets
    if not s.get("sera_totp"):
        raise AssertionError("an API session needs an account with a TOTP second factor (like demo)")
    body = {"portal_url": robots_bdd.tenant_url, "tenant": robots_bdd.tenant, "username": s["sera_username"],
            "password": s["sera_password"], "mfa": {"method": "totp", "totp_secret": s["sera_totp"]}}
    client = _api(robots_bdd)
    # The operator's token (as `robots api token create --scope admin` mints it): POST /sessions needs a caller.
    tokens = robots_bdd.extra["api_app"].state.tokens
    bootstrap, _ = tokens.create(["admin"], label="bdd", ttl=timedelta(hours=1))
    r = client.post("/sessions", json=body, headers={"Authorization": f"Bearer {bootstrap}"})
    assert r.status_code == 201, f"POST /sessions answered {r.status_code}: {r.text}"
    robots_bdd.extra["api_token"] = r.json()["token"]


@_step("when", 'I send "{method} {path}" with the Idempotency-Key "{key}":',
       'When I send "POST /customers" with the Idempotency-Key "create-ada":\n  """\n'
       '  {"name": "Ada Api", "city": "Austin", "state": "TX"}\n  """')
def _api_send(robots_bdd: World, method: str, path: str, key: str, docstring: str) -> None:
    """An API request with a JSON body (the docstring), the session's token and an Idempotency-Key."""
    headers = {"Idempotency-Key": key}
    if "api_token" in robots_bdd.extra:
        headers["Authorization"] = f"Bearer {robots_bdd.extra['api_token']}"
    answer = _api(robots_bdd).request(method, path, headers=headers, json=json.loads(docstring))
    robots_bdd.extra["api_answers"].append((key, answer))


def _answer(world: World) -> httpx.Response:
    answers = world.extra.get("api_answers") or []
    if not answers:
        raise AssertionError("no API request has been sent in this scenario")
    response: httpx.Response = answers[-1][1]
    return response


@_step("then", "the API answered {status:d}", "Then the API answered 201")
def _api_status(robots_bdd: World, status: int) -> None:
    """The last API answer's HTTP status."""
    r = _answer(robots_bdd)
    assert r.status_code == status, f"{r.status_code}: {r.text}"


@_step("then", 'the API answer has "{field}" = "{value}"', 'Then the API answer has "customer.city" = "Austin"')
def _api_field(robots_bdd: World, field: str, value: str) -> None:
    """A field of the last API answer's JSON body (dotted), as text."""
    got = _get(_answer(robots_bdd).json(), field)
    assert _text(got) == value, f"{field} is {got!r}"


@_step("then", "the API answer is the first one replayed", "Then the API answer is the first one replayed")
def _api_replayed(robots_bdd: World) -> None:
    """The last answer is the first answer to its Idempotency-Key again (status and body), marked
    `Idempotent-Replayed: true`."""
    _answer(robots_bdd)  # at least one
    key, last = robots_bdd.extra["api_answers"][-1]
    first = next(a for k, a in robots_bdd.extra["api_answers"] if k == key)
    assert first is not last, "only one request was sent with this Idempotency-Key"
    assert (last.status_code, last.json()) == (first.status_code, first.json()), last.text
    assert last.headers.get("Idempotent-Replayed") == "true", dict(last.headers)


@_step("then", 'the API answered {status:d} with the error "{kind}": "{message}"',
       'Then the API answered 409 with the error "idempotency_conflict": "this Idempotency-Key was used with a '
       'different request"')
def _api_error(robots_bdd: World, status: int, kind: str, message: str) -> None:
    """The error envelope: `{"error": {type, message, details, request_id}}` with this status, type and exact
    message, its request_id the answer's X-Request-Id."""
    r = _answer(robots_bdd)
    body = r.json()
    assert r.status_code == status, f"{r.status_code}: {r.text}"
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "details", "request_id"}, body
    assert (body["error"]["type"], body["error"]["message"]) == (kind, message), body
    assert body["error"]["request_id"] == r.headers["X-Request-Id"]


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


# -- hooks: the unknown-step message and the report's events ------------------------------------------------


def pytest_bdd_before_scenario(request: Any, feature: Any, scenario: Any) -> None:
    _STATE["scenario_steps"] = [s.name for s in scenario.steps]  # the world fixture is made by the first step
    _event({"event": "scenario", "feature": feature.name, "file": _where(feature), "scenario": scenario.name,
            "line": scenario.line_number, "tags": sorted(scenario.tags), "nodeid": request.node.nodeid,
            "steps": [[step.keyword, step.name] for step in scenario.steps]})


def pytest_bdd_after_step(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any) -> None:
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "status": "passed", "table": _table(step)})


def pytest_bdd_step_error(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any, exception: Exception) -> None:
    world = _STATE.get("world")
    shot: str | None = None
    if world is not None and world.record is not None and world.record.run_dir:
        shots = [e.screenshot for e in world.record.evidence if e.screenshot]
        shot = str(Path(world.record.run_dir) / shots[0]) if shots else None
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "status": "failed", "table": _table(step),
            "error": f"{type(exception).__name__}: {exception}", "screenshot": shot,
            "run_id": world.record.run_id if world is not None and world.record is not None else None})


def pytest_bdd_step_func_lookup_error(request: Any, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    near = closest_steps(step.name, step.type)
    listing = "".join(f"\n  {line}" for line in near) or " (none close; `robots bdd steps` lists them all)"
    message = (f'unknown step: {step.keyword} {step.name} ({_where(feature)}:{step.line_number}, scenario '
               f'"{scenario.name}"); the closest known steps:{listing}')
    _event({"event": "step", "keyword": step.keyword, "text": step.name, "status": "undefined", "error": message})
    raise UnknownStep(message)


def pytest_bdd_apply_tag(tag: str, function: Any) -> None:
    """Registers a feature's tag as a pytest marker first, so that `--strict-markers` suites accept any tag
    (`robots bdd --tags` selects by them); pytest-bdd's own hook then applies it."""
    from pytest_bdd.utils import CONFIG_STACK

    if CONFIG_STACK:
        config = CONFIG_STACK[-1]
        if tag not in {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}:
            config.addinivalue_line("markers", f"{tag}: a Gherkin tag")


def _table(step: Any) -> list[list[str]] | None:
    return step.datatable.raw() if step.datatable is not None else None


def _where(feature: Any) -> str:
    """A feature file's path as the user wrote it: relative to the working folder when inside it."""
    path = Path(feature.filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _event(data: dict[str, Any]) -> None:
    target = settings().bdd_events
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps(data) + "\n")


__all__ = ["STEPS", "StepDoc", "UnknownStep", "World", "closest_steps", "robots_bdd", "robots_bdd_home",
           "robots_bdd_portal", "pytest_bdd_before_scenario", "pytest_bdd_after_step", "pytest_bdd_step_error",
           "pytest_bdd_step_func_lookup_error", "pytest_bdd_apply_tag",
           *[name for name in list(globals()) if name.startswith("pytestbdd_")]]
