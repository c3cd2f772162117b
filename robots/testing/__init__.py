"""Helpers for testing flows: running flows and inspecting their processes. A portal pack brings its own pytest
fixtures (a sandbox portal per session: `pytest_plugins = ["robots.packs.<name>.fixtures"]`)."""

from __future__ import annotations

from typing import Any

__all__ = ["FlowRun", "run_flow_cli", "tracked_pids_alive", "wait_for_chrome"]


def __getattr__(name: str) -> Any:
    # Lazy: the helpers load the browser modules; importing robots.testing or another of its modules need not.
    if name in __all__:
        from robots.testing import helpers

        return getattr(helpers, name)
    raise AttributeError(f"module 'robots.testing' has no attribute {name!r}")
