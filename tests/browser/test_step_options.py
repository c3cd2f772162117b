"""Options every step takes: `optional` and `when` (real Chromium against the sandbox, in-process Runner)."""

from __future__ import annotations

from pathlib import Path

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
