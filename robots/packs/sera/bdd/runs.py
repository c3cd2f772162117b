"""When steps (runs and page interactions) and Then steps about the run record."""

from __future__ import annotations

from pathlib import Path

from robots.packs.sera.bdd.world import World, _pairs, _step
from robots.records.model import RunRecord

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
    assert record.status == "passed", f"expected the run to pass, but {_status_line(record)}"


@_step("then", 'the run failed with "{message}"', 'Then the run failed with "login rejected: Invalid username or '
       'password."')
def _failed_with(robots_bdd: World, message: str) -> None:
    """A business failure (the portal said no) with exactly this message."""
    record = robots_bdd.last()
    assert (record.status, record.failure_kind, record.error_message) == ("failed", "business", message), \
        f'expected the run to fail with "{message}", but {_status_line(record)}'


@_step("then", 'the run errored with "{message}"', 'Then the run errored with "the portal ended the session again '
       'during steps[3].open; a run signs in again only once"')
def _errored_with(robots_bdd: World, message: str) -> None:
    """A technical failure (timeout, drift, lost session) with exactly this message."""
    record = robots_bdd.last()
    assert (record.status, record.failure_kind, record.error_message) == ("errored", "technical", message), \
        f'expected the run to error with "{message}", but {_status_line(record)}'


@_step("then", 'the run status is "{status}"', 'Then the run status is "failed"')
def _status(robots_bdd: World, status: str) -> None:
    """passed, failed, errored, interrupted, skipped or canceled."""
    record = robots_bdd.last()
    assert record.status == status, f'expected the run status "{status}", but {_status_line(record)}'


@_step("then", 'the failure class is "{name}"', 'Then the failure class is "CredentialsRejected"')
def _failure_class(robots_bdd: World, name: str) -> None:
    """The error class the run recorded (from robots/errors.py)."""
    record = robots_bdd.last()
    assert record.error_class == name, f'expected the failure class "{name}", but {_status_line(record)}'


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
    assert found == kind, f'expected the second factor "{kind}", but it was "{found}" (steps: {names})'


@_step("then", "the stored session was restored", "Then the stored session was restored")
def _restored(robots_bdd: World) -> None:
    """The run skipped the sign-in: the session an earlier run stored was alive and put into Chrome."""
    names = [s.name for s in robots_bdd.last().steps]
    assert "session restored" in names, f"expected a 'session restored' step; the run's steps: {names}"


@_step("then", "the run signed in again mid-flow", "Then the run signed in again mid-flow")
def _relogin(robots_bdd: World) -> None:
    """The portal ended the session during the run; it signed in again (`re-login: ...` steps) and went on."""
    names = [s.name for s in robots_bdd.last().steps]
    assert any(n.startswith("re-login: ") for n in names), f"expected 're-login: ' steps; the run's steps: {names}"


@_step("then", "the run recorded selector drift", "Then the run recorded selector drift")
def _drift(robots_bdd: World) -> None:
    """At least one step needed a fallback selector candidate (recorded per step)."""
    record = robots_bdd.last()
    assert [s for s in record.steps if s.drift], "expected selector drift; no step recorded drift"


@_step("then", 'the run recorded selector drift for "{selector}"', 'Then the run recorded selector drift for '
       '"customers.table"')
def _drift_for(robots_bdd: World, selector: str) -> None:
    """Some step's drift names this catalog entry."""
    drifts = [s.drift for s in robots_bdd.last().steps if s.drift]
    assert any(selector in d for d in drifts), f'expected drift for "{selector}"; the run recorded: {drifts or "none"}'


@_step("then", "no selector drift was recorded", "Then no selector drift was recorded")
def _no_drift(robots_bdd: World) -> None:
    """Every selector matched its first candidate."""
    drifts = [(s.name, s.drift) for s in robots_bdd.last().steps if s.drift]
    assert not drifts, f"expected no selector drift; the run recorded: {drifts}"


@_step("then", 'the portal saw {count:d} requests to "{method} {path}"',
       'Then the portal saw 1 requests to "POST /login"')
def _requests(robots_bdd: World, count: int, method: str, path: str) -> None:
    """Counts the sandbox's request log since the scenario's reset (exact path)."""
    seen = [r for r in robots_bdd.control("GET", "requests") if (r["method"], r["path"]) == (method, path)]
    assert len(seen) == count, f"expected {count} requests to {method} {path}, the portal saw {len(seen)}"


@_step("then", 'the portal recorded {count:d} writes of {entity}', 'Then the portal recorded 1 writes of invoices')
def _writes(robots_bdd: World, count: int, entity: str) -> None:
    """The sandbox's write counter for an entity (customers, work_orders, invoices, ...) in the scenario's
    tenant: a retried or repeated write that the portal saw twice shows here."""
    got = robots_bdd.control("GET", "writes")["writes"].get(robots_bdd.tenant, {}).get(entity, 0)
    assert got == count, f"expected {count} writes of {entity}, the portal recorded {got}"


__all__ = [name for name in list(globals()) if name.startswith("pytestbdd_")]
