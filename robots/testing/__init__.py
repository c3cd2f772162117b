"""Helpers for testing flows: a sandbox portal fixture, running flows and inspecting their processes.

Use them in your own suite with `pytest_plugins = ["robots.testing.fixtures"]`."""

from robots.testing.helpers import FlowRun, run_flow_cli, tracked_pids_alive, wait_for_chrome

__all__ = ["FlowRun", "run_flow_cli", "tracked_pids_alive", "wait_for_chrome"]
