"""Unattended robots (issue 8): schedule files (config.py), the APScheduler 3 scheduler with its SQL job store
and the one path every robot run takes (service.py), what is kept in the database (state.py), notifications
(notify.py). The CLI is robots/cli/schedule.py (`robots schedule ...`), which imports these modules inside its
commands; nothing here is imported eagerly either, so importing one of them stays cheap."""

from __future__ import annotations

from typing import Any

_EXPORTS = {"Robot": "config", "load_schedule": "config", "load_schedules": "config",
            "RobotRunner": "service", "RobotScheduler": "service"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'robots.scheduler' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"robots.scheduler.{_EXPORTS[name]}"), name)
