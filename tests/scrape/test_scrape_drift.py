"""Scrape drift is its own failure kind: the portal answered, but a record no longer fits the flow's model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from robots import load_flow
from robots.engine import Runner
from robots.records import MemoryStore
from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
name: drift
outputs: [payment]
steps:
  - conform:
      id: payment
      record: sera.payment
      value: {id: "1", kind: payment, method: card, amount_cents: 1250, payment_method_ref: "4111 1111 1111 1111",
              source_url: "https://acme.sera.tech/payments", scraped_at: "2026-03-10T12:00:00Z"}
  - set_output: {payment: "{{ steps.payment.output }}"}
"""


def test_a_record_that_does_not_fit_its_model_is_recorded_as_scrape_drift(tmp_path):
    flow = tmp_path / "drift.yaml"
    flow.write_text(FLOW)
    record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(load_flow(flow))
    assert (record.status, record.failure_kind, record.error_class) == ("errored", "scrape_drift", "ContractError")
    assert record.error_message.startswith("scrape drift: record 1 does not fit 'sera.payment': field "
                                           "'payment_method_ref' string should match pattern")


def test_the_run_command_exits_3_and_robots_runs_show_names_the_kind(tmp_path):
    flow = tmp_path / "drift.yaml"
    flow.write_text(FLOW)
    env = cli_env(tmp_path)
    run = subprocess.run([sys.executable, "-m", "robots.cli", "run", str(flow), "--report", "json"], env=env,
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 3, run.stderr
    [report] = (tmp_path / "runs").glob("*/report.json")
    data = json.loads(report.read_text())
    assert data["failure_kind"] == "scrape_drift"
    shown = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "show", data["run_id"]], env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "error (scrape drift): scrape drift: record 1 does not fit 'sera.payment'" in shown.stdout
