"""Helpers for testing flows: a sandbox portal fixture, running flows and inspecting their processes.

Use them in your own suite with `pytest_plugins = ["robots.testing.fixtures"]`."""

from __future__ import annotations

from typing import Any

__all__ = ["FlowRun", "run_flow_cli", "tracked_pids_alive", "wait_for_chrome"]


def __getattr__(name: str) -> Any:
    # Lazy: the helpers load the browser modules; importing robots.testing or another of its modules need not.
    if name in __all__:
        from robots.testing import helpers

        return getattr(helpers, name)
    raise AttributeError(f"module 'robots.testing' has no attribute {name!r}")
