from __future__ import annotations

import pytest

pytest_plugins = ["robots.testing.fixtures"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules holding a test marked `long` (a minute or more) run first, each module's tests still together
    and in their order: with two workers (scripts/test), a multi-minute test started last would leave the other
    worker idle while it runs; started first, the short tests fill in around it."""
    first = {item.path for item in items if item.get_closest_marker("long")}
    items.sort(key=lambda item: item.path not in first)  # stable: the order within each group is kept
