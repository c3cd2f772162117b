"""Options every step takes: `optional` and `when` (real Chromium against the sandbox, in-process Runner)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from robots import load_flow
from robots.engine import Runner
from robots.portals import open_portal
from robots.records import MemoryStore

FLOW = Path(__file__).resolve().parent / "flows" / "optional_when.yaml"

pytestmark = pytest.mark.browser


def _run(sandbox, tmp_path, **vars):
    flow = load_flow(FLOW)
    with open_portal(flow.portal, url=sandbox.url) as portal:
        return Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, vars=vars, portal=portal)


def test_optional_failure_is_skipped_and_false_when_skips(sandbox, tmp_path):
    record = _run(sandbox, tmp_path)
    assert record.status == "passed", record.error_message
    steps = [(s.name, s.status, s.error_class, s.output_summary) for s in record.steps]
    assert steps == [
        ("steps[0] open", "passed", None, f"{sandbox.url}/login"),
        ("steps[1] click", "skipped", "ElementNotFound", "optional step did not succeed (ElementNotFound)"),
        ("steps[2] wait_for", "skipped", None, "skipped: its `when` condition was false"),
        ("steps[3] assert_text", "skipped", None, "skipped: its `when` condition was false"),
        ("steps[4] assert_text", "passed", None, None),
        ("finally[0] log", "passed", None, f"done with {sandbox.url}"),
    ]
    assert record.evidence == ()  # an optional step that did not succeed leaves no failure evidence


def test_true_when_runs_the_step(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, strict="true")
    assert (record.status, record.failure_kind) == ("failed", "business")
    assert record.error_message.startswith("expected the page to contain 'Never on this page', found ")
    # `finally` runs after the failure too, and does not hide it
    assert [(s.name, s.status) for s in record.steps] == [
        ("steps[0] open", "passed"), ("steps[1] click", "skipped"), ("steps[2] wait_for", "passed"),
        ("steps[3] assert_text", "failed"), ("finally[0] log", "passed")]


def _run_file(sandbox, tmp_path, name, **kwargs):
    flow = load_flow(FLOW.parent / name)
    with open_portal(flow.portal, url=sandbox.url) as portal:
        return Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, portal=portal, **kwargs)


def test_dry_run_skips_writes_and_on_error_retry_retries(sandbox, tmp_path):
    wet = _run_file(sandbox, tmp_path, "write_steps.yaml")
    # the click was submitted: the portal answered with its error; the last step failed after 3 attempts
    assert [(s.name, s.status, s.attempts) for s in wet.steps] == [
        ("steps[0] open", "passed", 1), ("steps[1] fill", "passed", 1), ("steps[2] fill", "passed", 1),
        ("steps[3] click", "passed", 1), ("steps[4] wait_for", "passed", 1), ("steps[5] wait_for", "errored", 3)]
    assert wet.status == "errored"
    dry = _run_file(sandbox, tmp_path, "write_steps.yaml", dry_run=True, to_step="3")
    assert [(s.name, s.status, s.output_summary) for s in dry.steps] == [
        ("steps[0] open", "passed", f"{sandbox.url}/login"), ("steps[1] fill", "passed", None),
        ("steps[2] fill", "passed", None), ("steps[3] click", "skipped", "dry run: not submitted"),
        ("steps[4] wait_for", "skipped", "skipped: outside --from-step/--to-step"),
        ("steps[5] wait_for", "skipped", "skipped: outside --from-step/--to-step")]
    assert [r["method"] for r in httpx.get(f"{sandbox.url}/_sandbox/requests").json()
            if r["path"] == "/login"].count("POST") == 1  # only the wet run's click posted
    assert dry.status == "passed"


def test_on_error_continue_goes_on(sandbox, tmp_path):
    record = _run_file(sandbox, tmp_path, "continue_steps.yaml")
    assert record.status == "passed"
    assert [(s.status, s.error_class) for s in record.steps] == [
        ("passed", None), ("skipped", "ElementNotFound"), ("passed", None)]


def test_a_bad_step_range_is_an_input_error(sandbox, tmp_path):
    from robots.errors import InputError

    with pytest.raises(InputError) as caught:
        _run_file(sandbox, tmp_path, "write_steps.yaml", from_step="aftr")
    assert str(caught.value) == ("--from-step 'aftr' is neither a step number (0 to 5) nor a top-level step id "
                                 "(did you mean 'after'?) (ids: start, after)")


def test_the_flows_retry_policy_retries_technical_failures_only(sandbox, tmp_path):
    flow = load_flow(FLOW.parent / "retry_policy.yaml")
    with open_portal(flow.portal, url=sandbox.url) as portal:
        record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(flow, portal=portal)
    assert record.status == "passed", record.error_message
    assert [(s.name, s.attempts, s.error_class) for s in record.steps] == [
        ("steps[0] open", 1, None),
        ("steps[1] click", 3, "ElementNotFound"),  # the policy: 2 more attempts
        ("steps[2] click", 1, "ElementNotFound"),  # its own on_error wins
        ("steps[3] click", 1, "ElementNotFound"),  # a write not marked idempotent is never repeated
        ("steps[4] assert_text", 1, "BusinessFailure"),  # business failures are never retried
    ]
