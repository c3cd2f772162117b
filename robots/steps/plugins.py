"""Flow steps from outside robots/steps/: an installed distribution adds steps through an entry point of group
`robots.steps` (naming a module that registers its steps with `@step` when imported, or a callable that does),
and a portal pack through its `steps` hook (robots.packs). Both are loaded once per process, before the first
flow is validated. A step whose name is taken is an error naming both origins (robots.steps.base.step)."""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from types import ModuleType

from robots.errors import ConfigError
from robots.steps.base import registering

#: the entry-point group a distribution declares its flow steps in
GROUP = "robots.steps"

_lock = threading.Lock()
# None: not loaded yet; True: loaded; a ConfigError: loading failed, raised again on every later call (the steps
# it registered before failing stay registered, so loading again would only report them as collisions).
_state: bool | ConfigError | None = None


def load_plugins() -> None:
    """Register the steps of every `robots.steps` entry point and every installed pack's `steps` hook, once."""
    global _state
    with _lock:
        if _state is None:
            try:
                _load()
                _state = True
            except ConfigError as e:
                _state = e
        if isinstance(_state, ConfigError):
            raise _state


def _load() -> None:
    from robots import packs

    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        origin = f"entry point '{ep.name}' ({ep.value}) of group {GROUP}"
        with registering(origin):
            try:
                target = ep.load()
                if callable(target) and not isinstance(target, ModuleType):
                    target()
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001 - whatever a third party's import raises, named by its origin
                raise ConfigError(f"the flow steps of {origin} could not be loaded: {type(e).__name__}: {e}") from e
    for name in packs.available():
        pack = packs.get(name)
        if pack.steps is None:
            continue
        origin = f"portal pack '{name}' ({pack.origin or 'its steps hook'})"
        with registering(origin):
            try:
                pack.steps()
            except ConfigError:
                raise
            except Exception as e:  # noqa: BLE001
                raise ConfigError(f"the flow steps of {origin} could not be loaded: {type(e).__name__}: {e}") from e
