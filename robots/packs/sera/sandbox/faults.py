"""Fault injection: switchable at runtime over `/_sandbox/faults`, each scoped to path prefixes (docs/CONTRACTS.md C6).

A fault is `{"name": ..., "paths": ["/customers"], ...parameters}`; `paths` are matched as prefixes against
the tenant-relative path (`/customers`) and the raw one (`/t/summit/customers`). Percentages draw from a
random stream seeded per fault (`seed`), so a 30 % fault fails the same requests in every run. Nothing is
on by default, control endpoints (`/_sandbox/*`) are never affected, and a reset switches everything off.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

# name -> (description, default parameters). Every fault also takes `paths` (default ["/"]).
FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "latency": ("every matching response is delayed by ms ± jitter_ms", {"ms": 500, "jitter_ms": 0}),
    "server_error": ("percent of matching requests get the portal's HTML 500 page", {"percent": 100, "seed": 0}),
    "rate_limit": ("percent of matching requests get HTTP 429 with Retry-After",
                   {"percent": 100, "retry_after": 30, "seed": 0}),
    "session_revocation": ("percent of matching requests lose their session before they are served",
                           {"percent": 100, "seed": 0}),
    "whats_new": ("a 'What's new' modal covers every signed-in page until dismissed", {}),
    "cookie_banner": ("a cookie-consent banner covers the bottom of every page until accepted", {}),
    "maintenance": ("every matching page is the HTTP 503 maintenance page", {"retry_after": 3600}),
    "layout_b": ("layout variant B: every first-choice selector of selectors/sera renamed or moved", {}),
    "slow_commit": ("percent of matching POSTs are committed, then answered only after ms",
                    {"ms": 5000, "percent": 100, "seed": 0}),
    "corrupt_upload": ("matching attachment uploads are stored one byte short (a proxy that cut the file)", {}),
}  # fmt: skip


class FaultError(ValueError):
    pass


@dataclass
class Fault:
    name: str
    paths: tuple[str, ...]
    params: dict[str, Any]
    rng: random.Random = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "paths": list(self.paths), **self.params}

    def matches(self, *paths: str) -> bool:
        return any(p.startswith(prefix) for p in paths for prefix in self.paths)

    def roll(self) -> bool:
        """True for `percent` of calls, deterministically per seed."""
        return self.rng.random() * 100 < float(self.params["percent"])


def parse_fault(body: Any) -> Fault:
    """A fault from its JSON; FaultError with a readable reason when it is not one."""
    if not isinstance(body, dict):
        raise FaultError('a fault is a JSON object like {"name": "latency", "ms": 300, "paths": ["/customers"]}')
    name = body.get("name")
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; expected one of {', '.join(FAULTS)}")
    defaults = FAULTS[name][1]
    unknown = set(body) - {"name", "paths", *defaults}
    if unknown:
        raise FaultError(f"fault {name!r} takes {', '.join(['paths', *defaults]) or 'paths'}; "
                         f"got {', '.join(sorted(unknown))}")  # fmt: skip
    paths = body.get("paths", ["/"])
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        raise FaultError("paths must be a list of path prefixes starting with '/'")
    params: dict[str, Any] = {}
    for key, default in defaults.items():
        value = body.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise FaultError(f"{name}.{key} must be a number >= 0; got {value!r}")
        if key == "percent" and value > 100:
            raise FaultError(f"{name}.percent must be between 0 and 100; got {value!r}")
        params[key] = value
    return Fault(name, tuple(paths), params, random.Random(f"fault-{name}-{params.get('seed', 0)}"))


class FaultState:
    """The faults switched on, at most one of each name (switching one on again replaces it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}

    def set(self, fault: Fault) -> None:
        with self._lock:
            self._faults[fault.name] = fault

    def remove(self, name: str) -> bool:
        with self._lock:
            return self._faults.pop(name, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults.values())

    def matching(self, *paths: str) -> dict[str, Fault]:
        with self._lock:
            return {name: f for name, f in self._faults.items() if f.matches(*paths)}
